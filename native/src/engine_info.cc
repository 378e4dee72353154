// engineInfo(): reports the libtorch version the addon was compiled against, whether this build has our
// CUDA kernels, whether CUDA devices are visible, how many, and the intra-op thread count.
// Also the test hooks throwNative(kind) and setNumThreads(n).
#include "engine_info.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <stdexcept>

#include "errors.h"

namespace siri {
namespace {

Napi::Value EngineInfo(const Napi::CallbackInfo& info) {
  return GuardJs(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("torchVersion", TORCH_VERSION);
#ifdef SIRI_WITH_CUDA
    out.Set("builtWithCuda", true);
#else
    out.Set("builtWithCuda", false);
#endif
    const bool cuda = torch::cuda::is_available();
    out.Set("cudaAvailable", cuda);
    out.Set("cudaDeviceCount", static_cast<double>(cuda ? torch::cuda::device_count() : 0));
    out.Set("threads", static_cast<double>(at::get_num_threads()));
    out.Set("parallelInfo", at::get_parallel_info());
    return out;
  });
}

// Test hook: raises a C++ exception of the given kind so tests can check it surfaces as a JS Error.
Napi::Value ThrowNative(const Napi::CallbackInfo& info) {
  return GuardJs(info, [&]() -> Napi::Value {
    const std::string kind = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "std";
    if (kind == "torch") {
      // A genuine libtorch error: shape mismatch in matmul.
      auto a = at::ones({2, 3});
      auto b = at::ones({2, 3});
      (void)at::matmul(a, b);
    }
    throw std::runtime_error("requested failure (" + kind + ")");
  });
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return GuardJs(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsNumber()) {
      throw std::invalid_argument("setNumThreads(n): n must be a positive integer");
    }
    const int n = info[0].As<Napi::Number>().Int32Value();
    if (n < 1) throw std::invalid_argument("setNumThreads(n): n must be >= 1, got " + std::to_string(n));
    at::set_num_threads(n);
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterEngineInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("engineInfo", Napi::Function::New(env, EngineInfo, "engineInfo"));
  exports.Set("throwNative", Napi::Function::New(env, ThrowNative, "throwNative"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
}

}  // namespace siri
