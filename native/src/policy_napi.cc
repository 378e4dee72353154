// Node-API binding of siri::Policy: argument conversion (typed arrays in, typed arrays out), one
// AsyncProgressQueueWorker per long call so it runs on a libuv worker thread and answers with a Promise,
// and an optional progress callback delivered on the JS thread. Every failure — bad input, libtorch
// errors, a throwing progress callback — rejects the Promise with an Error; nothing here aborts Node.
// The typed wrapper with the documented API is native/index.ts.
#include "policy_napi.h"

#include <napi.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <cmath>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "errors.h"
#include "fused_ops.h"
#include "policy.h"

namespace siri {
namespace {

// ---------- argument helpers ----------

Napi::Object RequireObject(const Napi::Value& v, const std::string& what) {
  if (v.IsUndefined() || v.IsNull()) return Napi::Object::New(v.Env());
  if (!v.IsObject()) throw std::invalid_argument(what + " must be an object");
  return v.As<Napi::Object>();
}

bool Has(const Napi::Object& o, const char* key) {
  if (!o.Has(key)) return false;
  const Napi::Value v = o.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}

double GetNumber(const Napi::Object& o, const char* key, double fallback) {
  if (!Has(o, key)) return fallback;
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw std::invalid_argument(std::string(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw std::invalid_argument(std::string(key) + " must be finite");
  return d;
}

double RequireNumber(const Napi::Object& o, const char* key) {
  if (!Has(o, key)) throw std::invalid_argument(std::string(key) + " is required");
  return GetNumber(o, key, 0);
}

int64_t GetInt(const Napi::Object& o, const char* key, int64_t fallback) {
  const double d = GetNumber(o, key, static_cast<double>(fallback));
  if (std::floor(d) != d || std::fabs(d) > 9007199254740991.0) throw std::invalid_argument(std::string(key) + " must be an integer");
  return static_cast<int64_t>(d);
}

std::string GetString(const Napi::Object& o, const char* key, const std::string& fallback) {
  if (!Has(o, key)) return fallback;
  const Napi::Value v = o.Get(key);
  if (!v.IsString()) throw std::invalid_argument(std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

bool GetBool(const Napi::Object& o, const char* key, bool fallback) {
  if (!Has(o, key)) return fallback;
  const Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) throw std::invalid_argument(std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

template <typename T, napi_typedarray_type kType>
std::vector<T> CopyTypedArray(const Napi::Value& v, const std::string& what, bool optional) {
  if (optional && (v.IsUndefined() || v.IsNull())) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != kType) {
    throw std::invalid_argument(what + " has the wrong type (internal: expected a typed array)");
  }
  const auto arr = v.As<Napi::TypedArrayOf<T>>();
  return std::vector<T>(arr.Data(), arr.Data() + arr.ElementLength());
}

TokenBatch ReadBatch(const Napi::Value& ids, const Napi::Value& offsets, const std::string& what) {
  TokenBatch batch;
  batch.ids = CopyTypedArray<int32_t, napi_int32_array>(ids, what + " ids", false);
  const std::vector<int32_t> off = CopyTypedArray<int32_t, napi_int32_array>(offsets, what + " offsets", false);
  batch.offsets.assign(off.begin(), off.end());
  return batch;
}

template <typename T>
Napi::Value ToTypedArray(Napi::Env env, const std::vector<T>& values) {
  auto arr = Napi::TypedArrayOf<T>::New(env, values.size());
  if (!values.empty()) std::memcpy(arr.Data(), values.data(), values.size() * sizeof(T));
  return arr;
}

std::string ErrorMessage(const std::exception& e) {
  if (const auto* c10e = dynamic_cast<const c10::Error*>(&e)) return "siri native: " + ShortTorchMessage(*c10e);
  return std::string("siri native: ") + e.what();
}

// ---------- async worker ----------

// Runs `work` off the JS thread; `to_js` turns its result into a JS value on the JS thread.
template <typename Result>
class PolicyWorker : public Napi::AsyncProgressQueueWorker<Progress> {
 public:
  using Work = std::function<Result(Policy*, const ProgressFn&)>;  // Policy* is null for load/init
  using ToJs = std::function<Napi::Value(Napi::Env, Result&)>;

  PolicyWorker(Napi::Env env, std::shared_ptr<Policy> policy, Work work, ToJs to_js, const Napi::Value& on_progress)
      : Napi::AsyncProgressQueueWorker<Progress>(env, "siri:policy"),
        deferred_(Napi::Promise::Deferred::New(env)),
        policy_(std::move(policy)),
        work_(std::move(work)),
        to_js_(std::move(to_js)) {
    if (on_progress.IsFunction()) {
      progress_cb_ = Napi::Persistent(on_progress.As<Napi::Function>());
    } else if (!on_progress.IsUndefined() && !on_progress.IsNull()) {
      throw std::invalid_argument("onProgress must be a function");
    }
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute(const ExecutionProgress& progress) override {
    try {
      ProgressFn report;
      if (!progress_cb_.IsEmpty()) {
        report = [this, &progress](const Progress& p) {
          if (callback_failed_.load()) {
            std::lock_guard<std::mutex> lock(callback_error_mu_);
            throw std::runtime_error("stopped because onProgress threw: " + callback_error_);
          }
          progress.Send(&p, 1);
        };
      }
      result_ = work_(policy_.get(), report);
    } catch (const c10::Error& e) {
      SetError("siri native: " + ShortTorchMessage(e));
    } catch (const std::exception& e) {
      SetError(std::string("siri native: ") + e.what());
    } catch (...) {
      SetError("siri native: unknown C++ exception");
    }
  }

  void OnProgress(const Progress* data, size_t count) override {
    if (progress_cb_.IsEmpty() || callback_failed_.load()) return;
    Napi::Env env = Env();
    for (size_t i = 0; i < count; ++i) {
      Napi::Object event = Napi::Object::New(env);
      event.Set("phase", data[i].phase);
      event.Set("current", static_cast<double>(data[i].current));
      event.Set("total", static_cast<double>(data[i].total));
      event.Set("active", static_cast<double>(data[i].active));
      if (data[i].admitted >= 0) event.Set("admitted", static_cast<double>(data[i].admitted));
      try {
        progress_cb_.Call({event});
      } catch (const Napi::Error& e) {
        std::lock_guard<std::mutex> lock(callback_error_mu_);
        callback_error_ = e.Message();
        callback_failed_.store(true);
        return;
      }
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (callback_failed_.load()) {
      // The work finished before it could notice; still report the callback's failure.
      std::lock_guard<std::mutex> lock(callback_error_mu_);
      deferred_.Reject(Napi::Error::New(env, "siri native: stopped because onProgress threw: " + callback_error_).Value());
      return;
    }
    try {
      deferred_.Resolve(to_js_(env, result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(env, ErrorMessage(e)).Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Policy> policy_;
  Work work_;
  ToJs to_js_;
  Result result_{};
  Napi::FunctionReference progress_cb_;
  std::atomic<bool> callback_failed_{false};
  std::mutex callback_error_mu_;
  std::string callback_error_;
};

template <typename Result>
Napi::Value Queue(Napi::Env env, std::shared_ptr<Policy> policy, typename PolicyWorker<Result>::Work work,
                  typename PolicyWorker<Result>::ToJs to_js, const Napi::Value& on_progress = Napi::Value()) {
  auto* worker = new PolicyWorker<Result>(env, std::move(policy), std::move(work), std::move(to_js), on_progress);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// ---------- the wrapped object ----------

struct AddonData {
  Napi::FunctionReference policy_constructor;
};

class NativePolicy : public Napi::ObjectWrap<NativePolicy> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativePolicy",
                       {InstanceMethod("save", &NativePolicy::Save), InstanceMethod("generate", &NativePolicy::Generate),
                        InstanceMethod("logprobs", &NativePolicy::Logprobs),
                        InstanceMethod("trainStep", &NativePolicy::TrainStep),
                        InstanceMethod("forwardLogits", &NativePolicy::ForwardLogits),
                        InstanceMethod("configJson", &NativePolicy::ConfigJson),
                        InstanceMethod("numParameters", &NativePolicy::NumParameters),
                        InstanceMethod("step", &NativePolicy::StepCount), InstanceMethod("device", &NativePolicy::Device),
                        InstanceMethod("computeDtype", &NativePolicy::ComputeDtype),
                        InstanceMethod("hasOptimizerState", &NativePolicy::HasOptimizerState),
                        InstanceMethod("dispose", &NativePolicy::Dispose)});
  }

  // Called only from Wrap(): info[0] is an External holding the policy.
  explicit NativePolicy(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativePolicy>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "NativePolicy cannot be constructed directly; use loadPolicy/initPolicy");
    }
    policy_ = *info[0].As<Napi::External<std::shared_ptr<Policy>>>().Data();
  }

  static Napi::Value Wrap(Napi::Env env, std::shared_ptr<Policy> policy) {
    auto* data = env.GetInstanceData<AddonData>();
    std::shared_ptr<Policy> holder = std::move(policy);
    auto external = Napi::External<std::shared_ptr<Policy>>::New(env, &holder);
    return data->policy_constructor.New({external});
  }

 private:
  std::shared_ptr<Policy> Live(const char* method) const {
    if (!policy_) throw std::invalid_argument(std::string("policy.") + method + "(): the policy was disposed");
    return policy_;
  }

  Napi::Value Save(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value {
      auto policy = Live("save");
      if (info.Length() < 1 || !info[0].IsString()) throw std::invalid_argument("save(dir): dir must be a string");
      const std::string dir = info[0].As<Napi::String>().Utf8Value();
      const Napi::Object o = RequireObject(info.Length() > 1 ? info[1] : info.Env().Undefined(), "save options");
      SaveOptions opts;
      opts.optimizer = GetBool(o, "optimizer", true);
      opts.weights_dtype = GetString(o, "weightsDtype", "original");
      opts.max_shard_bytes = static_cast<uint64_t>(GetNumber(o, "maxShardBytes", static_cast<double>(opts.max_shard_bytes)));
      return Queue<std::vector<std::string>>(
          info.Env(), policy, [dir, opts](Policy* p, const ProgressFn&) { return p->Save(dir, opts); },
          [](Napi::Env env, std::vector<std::string>& files) -> Napi::Value {
            Napi::Array arr = Napi::Array::New(env, files.size());
            for (size_t i = 0; i < files.size(); ++i) arr.Set(static_cast<uint32_t>(i), files[i]);
            return arr;
          });
    });
  }

  Napi::Value Generate(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value {
      auto policy = Live("generate");
      if (info.Length() < 3) throw std::invalid_argument("generate(ids, offsets, options, onProgress?)");
      TokenBatch prompts = ReadBatch(info[0], info[1], "promptIds");
      const Napi::Object o = RequireObject(info[2], "generate options");
      GenerateOptions opts;
      opts.samples_per_prompt = GetInt(o, "samplesPerPrompt", 1);
      opts.max_new_tokens = GetInt(o, "maxNewTokens", -1);
      if (opts.max_new_tokens < 0) throw std::invalid_argument("maxNewTokens is required and must be >= 0");
      opts.temperature = GetNumber(o, "temperature", 1.0);
      opts.top_p = GetNumber(o, "topP", 1.0);
      if (Has(o, "seed")) {
        const int64_t seed = GetInt(o, "seed", 0);
        if (seed < 0) throw std::invalid_argument("seed must be a non-negative integer");
        opts.seed = static_cast<uint64_t>(seed);
      }
      if (Has(o, "stopTokenIds")) {
        for (int32_t id : CopyTypedArray<int32_t, napi_int32_array>(o.Get("stopTokenIds"), "stopTokenIds", false)) {
          opts.stop_token_ids.push_back(id);
        }
      }
      opts.max_batch = GetInt(o, "maxBatch", 0);
      opts.kv_cache_bytes = GetInt(o, "kvCacheBytes", opts.kv_cache_bytes);
      if (opts.kv_cache_bytes < 1) throw std::invalid_argument("kvCacheBytes must be >= 1");
      opts.continuous_batching = GetBool(o, "continuousBatching", true);
      opts.kv_cache_dtype = GetString(o, "kvCacheDtype", "float32");
      const Napi::Value cb = info.Length() > 3 ? info[3] : info.Env().Undefined();
      return Queue<GenerateOutput>(
          info.Env(), policy,
          [prompts = std::move(prompts), opts](Policy* p, const ProgressFn& progress) {
            GenerateOptions o2 = opts;
            o2.progress = progress;
            return p->Generate(prompts, o2);
          },
          [](Napi::Env env, GenerateOutput& out) -> Napi::Value {
            Napi::Object r = Napi::Object::New(env);
            r.Set("ids", ToTypedArray(env, out.tokens.ids));
            std::vector<int32_t> offsets(out.tokens.offsets.begin(), out.tokens.offsets.end());
            r.Set("offsets", ToTypedArray(env, offsets));
            r.Set("logprobs", ToTypedArray(env, out.logprobs));
            r.Set("samplingLogprobs", ToTypedArray(env, out.sampling_logprobs));
            r.Set("stopped", ToTypedArray(env, out.stopped));
            return r;
          },
          cb);
    });
  }

  Napi::Value Logprobs(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value {
      auto policy = Live("logprobs");
      if (info.Length() < 4) throw std::invalid_argument("logprobs(ids, offsets, mask, options, onProgress?)");
      TokenBatch seqs = ReadBatch(info[0], info[1], "sequences");
      std::vector<uint8_t> mask = CopyTypedArray<uint8_t, napi_uint8_array>(info[2], "responseMask", false);
      const Napi::Object o = RequireObject(info[3], "logprobs options");
      LogprobsOptions opts;
      opts.temperature = GetNumber(o, "temperature", 1.0);
      opts.micro_batch_tokens = GetInt(o, "microBatchTokens", opts.micro_batch_tokens);
      const Napi::Value cb = info.Length() > 4 ? info[4] : info.Env().Undefined();
      return Queue<LogprobsOutput>(
          info.Env(), policy,
          [seqs = std::move(seqs), mask = std::move(mask), opts](Policy* p, const ProgressFn& progress) {
            LogprobsOptions o2 = opts;
            o2.progress = progress;
            return p->Logprobs(seqs, mask, o2);
          },
          [](Napi::Env env, LogprobsOutput& out) -> Napi::Value {
            Napi::Object r = Napi::Object::New(env);
            r.Set("logprobs", ToTypedArray(env, out.logprobs));
            r.Set("entropies", ToTypedArray(env, out.entropies));
            return r;
          },
          cb);
    });
  }

  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value {
      auto policy = Live("trainStep");
      if (info.Length() < 7) {
        throw std::invalid_argument("trainStep(ids, offsets, mask, advantages, oldLogprobs, refLogprobs, options, onProgress?)");
      }
      TrainBatch batch;
      batch.sequences = ReadBatch(info[0], info[1], "sequences");
      batch.response_mask = CopyTypedArray<uint8_t, napi_uint8_array>(info[2], "responseMask", false);
      batch.advantages = CopyTypedArray<float, napi_float32_array>(info[3], "advantages", true);
      batch.old_logprobs = CopyTypedArray<float, napi_float32_array>(info[4], "oldLogprobs", true);
      batch.ref_logprobs = CopyTypedArray<float, napi_float32_array>(info[5], "refLogprobs", true);
      const Napi::Object o = RequireObject(info[6], "trainStep options");
      TrainOptions opts;
      opts.loss = GetString(o, "loss", "grpo");
      opts.clip_low = GetNumber(o, "clipLow", opts.clip_low);
      opts.clip_high = GetNumber(o, "clipHigh", opts.clip_high);
      if (Has(o, "clipC")) opts.clip_c = GetNumber(o, "clipC", 0);
      opts.loss_aggregation = GetString(o, "lossAggregation", opts.loss_aggregation);
      opts.kl_coef = GetNumber(o, "klCoef", 0);
      opts.entropy_coef = GetNumber(o, "entropyCoef", 0);
      opts.temperature = GetNumber(o, "temperature", 1.0);
      opts.lr = RequireNumber(o, "lr");
      opts.beta1 = GetNumber(o, "beta1", opts.beta1);
      opts.beta2 = GetNumber(o, "beta2", opts.beta2);
      opts.eps = GetNumber(o, "eps", opts.eps);
      opts.weight_decay = GetNumber(o, "weightDecay", opts.weight_decay);
      opts.grad_clip = GetNumber(o, "gradClip", opts.grad_clip);
      opts.micro_batch_tokens = GetInt(o, "microBatchTokens", opts.micro_batch_tokens);
      opts.activation_checkpointing = GetBool(o, "activationCheckpointing", false);
      const Napi::Value cb = info.Length() > 7 ? info[7] : info.Env().Undefined();
      return Queue<TrainResult>(
          info.Env(), policy,
          [batch = std::move(batch), opts](Policy* p, const ProgressFn& progress) {
            TrainOptions o2 = opts;
            o2.progress = progress;
            return p->TrainStep(batch, o2);
          },
          [](Napi::Env env, TrainResult& r) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("loss", r.loss);
            o.Set("clipFracLow", r.clip_frac_low);
            o.Set("clipFracHigh", r.clip_frac_high);
            o.Set("approxKl", r.approx_kl);
            o.Set("refKl", r.ref_kl);
            o.Set("entropy", r.entropy);
            o.Set("gradNorm", r.grad_norm);
            o.Set("tokens", static_cast<double>(r.tokens));
            o.Set("microBatches", static_cast<double>(r.micro_batches));
            o.Set("step", static_cast<double>(r.step));
            return o;
          },
          cb);
    });
  }

  Napi::Value ForwardLogits(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value {
      auto policy = Live("forwardLogits");
      if (info.Length() < 2) throw std::invalid_argument("forwardLogits(ids, offsets)");
      TokenBatch seqs = ReadBatch(info[0], info[1], "sequences");
      return Queue<std::vector<float>>(
          info.Env(), policy, [seqs = std::move(seqs)](Policy* p, const ProgressFn&) { return p->ForwardLogits(seqs); },
          [](Napi::Env env, std::vector<float>& v) -> Napi::Value { return ToTypedArray(env, v); });
    });
  }

  Napi::Value ConfigJson(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value { return Napi::String::New(info.Env(), Live("config")->ConfigJson()); });
  }
  Napi::Value NumParameters(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value {
      return Napi::Number::New(info.Env(), static_cast<double>(Live("numParameters")->NumParameters()));
    });
  }
  Napi::Value StepCount(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value { return Napi::Number::New(info.Env(), static_cast<double>(Live("step")->Step())); });
  }
  Napi::Value Device(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value { return Napi::String::New(info.Env(), Live("device")->Device()); });
  }
  Napi::Value ComputeDtype(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value { return Napi::String::New(info.Env(), Live("computeDtype")->ComputeDtype()); });
  }
  Napi::Value HasOptimizerState(const Napi::CallbackInfo& info) {
    return GuardJs(info, [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), Live("hasOptimizerState")->HasOptimizerState()); });
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    // Running calls keep their own reference; the memory goes when the last one finishes.
    policy_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<Policy> policy_;
};

PolicyOptions ReadPolicyOptions(const Napi::Object& o) {
  PolicyOptions opts;
  opts.device = GetString(o, "device", "cpu");
  opts.threads = static_cast<int>(GetInt(o, "threads", 0));
  if (opts.threads < 0) throw std::invalid_argument("threads must be >= 0");
  opts.load_optimizer = GetBool(o, "optimizer", true);
  opts.compute_dtype = GetString(o, "computeDtype", "float32");
  return opts;
}

Napi::Value WrapPolicy(Napi::Env env, std::shared_ptr<Policy>& policy) { return NativePolicy::Wrap(env, policy); }

Napi::Value LoadPolicy(const Napi::CallbackInfo& info) {
  return GuardJs(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) throw std::invalid_argument("loadPolicy(dir, options): dir must be a string");
    const std::string dir = info[0].As<Napi::String>().Utf8Value();
    const PolicyOptions opts = ReadPolicyOptions(RequireObject(info.Length() > 1 ? info[1] : info.Env().Undefined(), "options"));
    return Queue<std::shared_ptr<Policy>>(
        info.Env(), nullptr, [dir, opts](Policy*, const ProgressFn&) { return std::shared_ptr<Policy>(Policy::Load(dir, opts)); },
        WrapPolicy);
  });
}

Napi::Value InitPolicy(const Napi::CallbackInfo& info) {
  return GuardJs(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) throw std::invalid_argument("initPolicy(configJson, options): configJson must be a string");
    const std::string config = info[0].As<Napi::String>().Utf8Value();
    const Napi::Object o = RequireObject(info.Length() > 1 ? info[1] : info.Env().Undefined(), "options");
    const PolicyOptions opts = ReadPolicyOptions(o);
    const int64_t seed = GetInt(o, "seed", 0);
    if (seed < 0) throw std::invalid_argument("seed must be a non-negative integer");
    const std::string dtype = GetString(o, "dtype", "float32");
    return Queue<std::shared_ptr<Policy>>(
        info.Env(), nullptr,
        [config, opts, seed, dtype](Policy*, const ProgressFn&) {
          return std::shared_ptr<Policy>(Policy::Init(config, static_cast<uint64_t>(seed), dtype, opts));
        },
        WrapPolicy);
  });
}

// Test hook: fused CPU kernels vs their ATen compositions (see FusedOpsSelfCheck).
Napi::Value FusedOpsCheck(const Napi::CallbackInfo& info) {
  return GuardJs(info, [&]() -> Napi::Value {
    const uint64_t seed = info.Length() > 0 && info[0].IsNumber() ? static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()) : 0;
    Napi::Object out = Napi::Object::New(info.Env());
    for (const auto& [name, err] : FusedOpsSelfCheck(seed)) out.Set(name, err);
    return out;
  });
}

}  // namespace

void RegisterPolicy(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->policy_constructor = Napi::Persistent(NativePolicy::Define(env));
  env.SetInstanceData<AddonData>(data);
  exports.Set("loadPolicy", Napi::Function::New(env, LoadPolicy, "loadPolicy"));
  exports.Set("initPolicy", Napi::Function::New(env, InitPolicy, "initPolicy"));
  exports.Set("fusedOpsSelfCheck", Napi::Function::New(env, FusedOpsCheck, "fusedOpsSelfCheck"));
}

}  // namespace siri
