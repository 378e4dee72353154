// ATen wrappers of siri's CUDA kernels (kernels.h): checks shapes / dtypes / devices, makes inputs
// contiguous, allocates outputs and workspaces through the caching allocator, and launches the raw kernels
// of lm_head.cuh / grpo_loss.cuh / sampling.cuh on the current stream. Compiled into the addon only when
// SIRI_WITH_CUDA is on (native/CMakeLists.txt globs src/cuda/*.cu then).
#include "kernels.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <unordered_map>

#include "cublas_gemm.cuh"
#include "grpo_loss.cuh"
#include "lm_head.cuh"
#include "sampling.cuh"

namespace siri::cuda {
namespace {

// One cuBLAS handle per (thread, device): handles are not thread-safe, creating one is not free.
cublasHandle_t BlasHandle(int device) {
  thread_local std::unordered_map<int, cublasHandle_t> handles;
  auto it = handles.find(device);
  if (it != handles.end()) return it->second;
  cublasHandle_t handle = nullptr;
  raw::CheckCublas(cublasCreate(&handle), "cublasCreate");
  handles.emplace(device, handle);
  return handle;
}

int SmCount(int device) {
  int sms = 0;
  raw::CheckCuda(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
  return sms;
}

cudaStream_t CurrentStream(const at::Device& device) { return c10::cuda::getCurrentCUDAStream(device.index()).stream(); }

void CheckOn(const at::Tensor& t, const char* name, const at::Device& device) {
  TORCH_CHECK(t.defined(), name, " is missing");
  TORCH_CHECK(t.is_cuda(), name, " must be a CUDA tensor, got one on ", t.device());
  TORCH_CHECK(t.device() == device, name, " is on ", t.device(), " but the other inputs are on ", device);
}

at::Tensor FloatContiguous(const at::Tensor& t) { return t.to(at::kFloat).contiguous(); }

template <typename T>
T* Ptr(const at::Tensor& t) {
  return static_cast<T*>(t.data_ptr());
}

// Calls f(S{}) with S the CUDA element type of `type`.
template <typename F>
void DispatchFloating(at::ScalarType type, const char* what, F&& f) {
  switch (type) {
    case at::kFloat:
      return f(float{});
    case at::kBFloat16:
      return f(__nv_bfloat16{});
    case at::kHalf:
      return f(__half{});
    default:
      TORCH_CHECK(false, what, " must be fp32, bf16 or fp16, got ", type);
  }
}

raw::LmHeadShape CheckLmHead(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets) {
  TORCH_CHECK(hidden.defined() && hidden.dim() == 2, "hidden must be [N, H]");
  CheckOn(weight, "weight", hidden.device());
  CheckOn(hidden, "hidden", hidden.device());
  CheckOn(targets, "targets", hidden.device());
  TORCH_CHECK(weight.dim() == 2 && weight.size(1) == hidden.size(1), "weight must be [V, H] with H = ", hidden.size(1),
              ", got ", weight.sizes());
  TORCH_CHECK(weight.scalar_type() == hidden.scalar_type(), "weight (", weight.scalar_type(), ") and hidden (",
              hidden.scalar_type(), ") must have one dtype");
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == hidden.size(0), "targets must be [N] with N = ", hidden.size(0),
              ", got ", targets.sizes());
  TORCH_CHECK(!at::isFloatingType(targets.scalar_type()), "targets must be integer token ids");
  return raw::LmHeadShape{hidden.size(0), hidden.size(1), weight.size(0)};
}

raw::LmHeadPlan Plan(const raw::LmHeadShape& shape, const LmHeadOptions& o, size_t scalar_bytes) {
  TORCH_CHECK(o.temperature > 0, "temperature must be > 0, got ", o.temperature);
  return raw::PlanLmHead(shape, o.token_chunk, o.vocab_chunk, o.workspace_bytes, scalar_bytes);
}

at::Tensor Workspace(size_t bytes, const at::Tensor& like) {
  return at::empty({static_cast<int64_t>(std::max<size_t>(bytes, 1))}, like.options().dtype(at::kByte));
}

raw::GrpoInputs GrpoTensors(const at::Tensor& logprobs, const at::Tensor& old_logprobs, const at::Tensor& advantages,
                            const at::Tensor& mask, const GrpoLossOptions& o, std::vector<at::Tensor>& keep) {
  TORCH_CHECK(logprobs.defined() && logprobs.dim() == 2, "logprobs must be a [B,T] tensor");
  const at::Device device = logprobs.device();
  CheckOn(logprobs, "logprobs", device);
  auto same_shape = [&](const at::Tensor& t, const char* name) {
    CheckOn(t, name, device);
    TORCH_CHECK(t.sizes() == logprobs.sizes(), name, " must have the shape of logprobs ", logprobs.sizes(), ", got ", t.sizes());
  };
  same_shape(old_logprobs, "oldLogprobs");
  same_shape(mask, "mask");
  CheckOn(advantages, "advantages", device);
  const int64_t batch = logprobs.size(0), length = logprobs.size(1);
  const bool per_token = advantages.dim() == 2;
  if (per_token) {
    TORCH_CHECK(advantages.sizes() == logprobs.sizes(), "advantages must be [B] or [B,T] = ", logprobs.sizes(), ", got ",
                advantages.sizes());
  } else {
    TORCH_CHECK(advantages.dim() == 1 && advantages.size(0) == batch, "advantages [B] must have B = ", batch, " entries, got ",
                advantages.sizes());
  }
  TORCH_CHECK(o.clipLow >= 0 && o.clipLow < 1, "clipLow must be in [0, 1), got ", o.clipLow);
  TORCH_CHECK(o.clipHigh >= 0, "clipHigh must be >= 0, got ", o.clipHigh);
  TORCH_CHECK(!o.clipC.has_value() || *o.clipC > 1, "clipC (dual clip) must be > 1, got ", o.clipC.value_or(0.0));
  TORCH_CHECK(!o.normaliser.has_value() || *o.normaliser > 0, "loss normaliser must be > 0, got ", o.normaliser.value_or(0.0));
  raw::GrpoInputs in;
  keep = {FloatContiguous(logprobs), FloatContiguous(old_logprobs), FloatContiguous(advantages), FloatContiguous(mask)};
  in.logprobs = Ptr<float>(keep[0]);
  in.old_logprobs = Ptr<float>(keep[1]);
  in.advantages = Ptr<float>(keep[2]);
  in.advantages_per_token = per_token;
  in.mask = Ptr<float>(keep[3]);
  if (o.klCoef != 0.0) {
    same_shape(o.refLogprobs, "refLogprobs (needed when klCoef != 0)");
    keep.push_back(FloatContiguous(o.refLogprobs));
    in.ref_logprobs = Ptr<float>(keep.back());
  }
  if (o.entropyCoef != 0.0) {
    same_shape(o.entropy, "entropy (needed when entropyCoef != 0)");
    keep.push_back(FloatContiguous(o.entropy));
    in.entropy = Ptr<float>(keep.back());
  }
  in.batch = batch;
  in.length = length;
  return in;
}

raw::GrpoParams GrpoParamsOf(const GrpoLossOptions& o) {
  raw::GrpoParams p;
  // What ATen does with loss.cc's double scalars on an fp32 tensor: compute in double, round to fp32.
  p.ratio_low = static_cast<float>(1.0 - o.clipLow);
  p.ratio_high = static_cast<float>(1.0 + o.clipHigh);
  p.dual_clip = o.clipC.has_value();
  p.clip_c = static_cast<float>(o.clipC.value_or(3.0));
  p.kl_coef = static_cast<float>(o.klCoef);
  p.entropy_coef = static_cast<float>(o.entropyCoef);
  p.aggregation = static_cast<raw::GrpoAggregation>(static_cast<int>(o.aggregation));
  p.normaliser = o.normaliser.value_or(0.0);
  return p;
}

}  // namespace

int DeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

LmHeadForwardResult LmHeadForward(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                  const LmHeadOptions& options) {
  const raw::LmHeadShape shape = CheckLmHead(hidden, weight, targets);
  const c10::cuda::CUDAGuard guard(hidden.device());
  LmHeadForwardResult out;
  const at::TensorOptions f32 = hidden.options().dtype(at::kFloat);
  out.logprobs = at::empty({shape.tokens}, f32);
  out.entropy = at::empty({shape.tokens}, f32);
  out.lse = at::empty({shape.tokens}, f32);
  if (shape.tokens == 0) return out;
  TORCH_CHECK(shape.vocab > 0 && shape.hidden > 0, "LM head: empty weight ", weight.sizes());
  const at::Tensor h = hidden.contiguous(), w = weight.contiguous(), y = targets.to(at::kLong).contiguous();
  const raw::LmHeadPlan plan = Plan(shape, options, h.element_size());
  const at::Tensor workspace = Workspace(raw::LmHeadWorkspaceBytes(plan, shape, h.element_size(), false), h);
  const int device = hidden.device().index();
  const cudaStream_t stream = CurrentStream(hidden.device());
  DispatchFloating(h.scalar_type(), "hidden", [&](auto tag) {
    using S = decltype(tag);
    raw::CublasLmHeadGemm<S, float> gemm{BlasHandle(device), stream, Ptr<S>(h), Ptr<S>(w), nullptr, shape.hidden, options.allow_tf32};
    raw::LmHeadForward<S>(shape, plan, static_cast<float>(options.temperature), Ptr<int64_t>(y), gemm, workspace.data_ptr(),
                          Ptr<float>(out.logprobs), Ptr<float>(out.entropy), Ptr<float>(out.lse), stream);
  });
  return out;
}

at::Tensor LmHeadBackward(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                          const LmHeadForwardResult& forward, const at::Tensor& grad_logprobs, const at::Tensor& grad_entropy,
                          at::Tensor& weight_grad, const LmHeadOptions& options) {
  const raw::LmHeadShape shape = CheckLmHead(hidden, weight, targets);
  const at::Device device = hidden.device();
  const c10::cuda::CUDAGuard guard(device);
  auto per_token = [&](const at::Tensor& t, const char* name) {
    CheckOn(t, name, device);
    TORCH_CHECK(t.dim() == 1 && t.size(0) == shape.tokens, name, " must be [N] with N = ", shape.tokens, ", got ", t.sizes());
    return FloatContiguous(t);
  };
  const at::Tensor lse = per_token(forward.lse, "forward.lse"), entropy = per_token(forward.entropy, "forward.entropy");
  const at::Tensor g1 = per_token(grad_logprobs, "grad_logprobs");
  const at::Tensor g2 = grad_entropy.defined() ? per_token(grad_entropy, "grad_entropy") : at::Tensor();
  CheckOn(weight_grad, "weight_grad", device);
  TORCH_CHECK(weight_grad.sizes() == weight.sizes(), "weight_grad must be ", weight.sizes(), ", got ", weight_grad.sizes());
  TORCH_CHECK(weight_grad.is_contiguous(), "weight_grad must be contiguous (it is accumulated into in place)");
  TORCH_CHECK(weight_grad.scalar_type() == at::kFloat || weight_grad.scalar_type() == weight.scalar_type(),
              "weight_grad must be fp32 or weight's dtype, got ", weight_grad.scalar_type());
  at::Tensor dh = at::empty(hidden.sizes(), hidden.options().memory_format(at::MemoryFormat::Contiguous));
  if (shape.tokens == 0) return dh;
  const at::Tensor h = hidden.contiguous(), w = weight.contiguous(), y = targets.to(at::kLong).contiguous();
  const raw::LmHeadPlan plan = Plan(shape, options, h.element_size());
  const at::Tensor workspace = Workspace(raw::LmHeadWorkspaceBytes(plan, shape, h.element_size(), true), h);
  const int device_index = device.index();
  const cudaStream_t stream = CurrentStream(device);
  DispatchFloating(h.scalar_type(), "hidden", [&](auto tag) {
    using S = decltype(tag);
    auto run = [&](auto grad_tag) {
      using G = decltype(grad_tag);
      raw::CublasLmHeadGemm<S, G> gemm{BlasHandle(device_index), stream, Ptr<S>(h), Ptr<S>(w), Ptr<G>(weight_grad), shape.hidden,
                                       options.allow_tf32};
      raw::LmHeadBackward<S>(shape, plan, static_cast<float>(options.temperature), Ptr<int64_t>(y), Ptr<float>(lse),
                             Ptr<float>(entropy), Ptr<float>(g1), g2.defined() ? Ptr<float>(g2) : nullptr, gemm,
                             workspace.data_ptr(), Ptr<S>(dh), stream);
    };
    if (weight_grad.scalar_type() == at::kFloat) {
      run(float{});
    } else {
      run(S{});
    }
  });
  return dh;
}

GrpoLossForwardResult GrpoTokenLossForward(const at::Tensor& logprobs, const at::Tensor& old_logprobs,
                                           const at::Tensor& advantages, const at::Tensor& mask,
                                           const GrpoLossOptions& options) {
  std::vector<at::Tensor> keep;
  const raw::GrpoInputs in = GrpoTensors(logprobs, old_logprobs, advantages, mask, options, keep);
  const c10::cuda::CUDAGuard guard(logprobs.device());
  GrpoLossForwardResult out;
  out.saved = at::empty({raw::kGrpoOutputs + in.batch}, logprobs.options().dtype(at::kFloat));
  if (in.batch == 0 || in.length == 0) {
    out.saved.zero_();
  } else {
    const at::Tensor workspace = Workspace(raw::GrpoWorkspaceBytes(in.batch, in.length), out.saved);
    raw::GrpoLossForward(in, GrpoParamsOf(options), workspace.data_ptr(), Ptr<float>(out.saved),
                         Ptr<float>(out.saved) + raw::kGrpoOutputs, CurrentStream(logprobs.device()));
  }
  auto field = [&](int k) { return out.saved.select(0, k); };
  out.stats.loss = field(raw::kGrpoLoss);
  out.stats.tokens = field(raw::kGrpoTokens);
  out.stats.clipLowTokens = field(raw::kGrpoClipLowTokens);
  out.stats.clipHighTokens = field(raw::kGrpoClipHighTokens);
  out.stats.approxKlSum = field(raw::kGrpoApproxKlSum);
  out.stats.clipFracLow = field(raw::kGrpoClipFracLow);
  out.stats.clipFracHigh = field(raw::kGrpoClipFracHigh);
  out.stats.approxKl = field(raw::kGrpoApproxKl);
  if (options.klCoef != 0.0) out.stats.refKl = field(raw::kGrpoRefKl);
  return out;
}

GrpoLossGrads GrpoTokenLossBackward(const at::Tensor& grad_loss, const at::Tensor& logprobs, const at::Tensor& old_logprobs,
                                    const at::Tensor& advantages, const at::Tensor& mask, const GrpoLossOptions& options,
                                    const GrpoLossForwardResult& forward) {
  std::vector<at::Tensor> keep;
  const raw::GrpoInputs in = GrpoTensors(logprobs, old_logprobs, advantages, mask, options, keep);
  const at::Device device = logprobs.device();
  const c10::cuda::CUDAGuard guard(device);
  CheckOn(grad_loss, "grad_loss", device);
  TORCH_CHECK(grad_loss.numel() == 1, "grad_loss must hold one value, got ", grad_loss.sizes());
  CheckOn(forward.saved, "forward.saved", device);
  TORCH_CHECK(forward.saved.numel() == raw::kGrpoOutputs + in.batch && forward.saved.scalar_type() == at::kFloat &&
                  forward.saved.is_contiguous(),
              "forward.saved does not come from GrpoTokenLossForward on these inputs");
  const at::Tensor g = FloatContiguous(grad_loss);
  GrpoLossGrads out;
  const at::TensorOptions f32 = logprobs.options().dtype(at::kFloat);
  out.grad_logprobs = at::empty(logprobs.sizes(), f32);
  if (options.entropyCoef != 0.0) out.grad_entropy = at::empty(logprobs.sizes(), f32);
  if (in.batch == 0 || in.length == 0) return out;
  raw::GrpoLossBackward(in, GrpoParamsOf(options), Ptr<float>(forward.saved), Ptr<float>(forward.saved) + raw::kGrpoOutputs,
                        Ptr<float>(g), Ptr<float>(out.grad_logprobs),
                        out.grad_entropy.defined() ? Ptr<float>(out.grad_entropy) : nullptr, SmCount(device.index()),
                        CurrentStream(device));
  return out;
}

SampleResult SampleTokens(const at::Tensor& logits, double temperature, double top_p, uint64_t seed,
                          const at::Tensor& sequence_index, const at::Tensor& step) {
  TORCH_CHECK(logits.defined() && logits.dim() == 2, "logits must be [B, V]");
  const at::Device device = logits.device();
  CheckOn(logits, "logits", device);
  CheckOn(sequence_index, "sequence_index", device);
  CheckOn(step, "step", device);
  const int64_t batch = logits.size(0), vocab = logits.size(1);
  TORCH_CHECK(sequence_index.dim() == 1 && sequence_index.size(0) == batch, "sequence_index must be [B] with B = ", batch);
  TORCH_CHECK(step.dim() == 1 && step.size(0) == batch, "step must be [B] with B = ", batch);
  TORCH_CHECK(top_p > 0.0 && top_p <= 1.0, "topP must be in (0, 1], got ", top_p);
  TORCH_CHECK(temperature >= 0.0, "temperature must be >= 0, got ", temperature);
  const c10::cuda::CUDAGuard guard(device);
  SampleResult out;
  out.tokens = at::empty({batch}, logits.options().dtype(at::kLong));
  out.policy_logprobs = at::empty({batch}, logits.options().dtype(at::kFloat));
  out.sampling_logprobs = at::empty({batch}, logits.options().dtype(at::kFloat));
  if (batch == 0) return out;
  TORCH_CHECK(vocab > 0, "logits has an empty vocabulary");
  const at::Tensor x = logits.stride(1) == 1 ? logits : logits.contiguous();
  const at::Tensor seq = sequence_index.to(at::kLong).contiguous(), st = step.to(at::kLong).contiguous();
  raw::SampleParams p;
  p.temperature = static_cast<float>(temperature);
  p.top_p = top_p;
  p.seed = seed;
  DispatchFloating(x.scalar_type(), "logits", [&](auto tag) {
    using T = decltype(tag);
    raw::SampleTokens<T>(Ptr<T>(x), batch, vocab, x.stride(0), p, Ptr<int64_t>(seq), Ptr<int64_t>(st), Ptr<int64_t>(out.tokens),
                         Ptr<float>(out.policy_logprobs), Ptr<float>(out.sampling_logprobs), CurrentStream(device));
  });
  return out;
}

}  // namespace siri::cuda
