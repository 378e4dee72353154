// siri::cuda — ATen entry points to siri's CUDA kernels (the raw kernels are in lm_head.cuh, grpo_loss.cuh,
// sampling.cuh). kernels.cu, which defines these, is compiled into the addon only when SIRI_WITH_CUDA is on
// (nvcc + a CUDA-enabled libtorch); callers guard their use with `#ifdef SIRI_WITH_CUDA` and
// `tensor.is_cuda()`. No autograd: forward and backward are separate calls that return plain tensors.
// Every function takes tensors on one CUDA device, runs on that device's current stream and never
// synchronizes with the host. Shape / dtype / device errors are c10::Errors naming the argument.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>

#include "../loss.h"

namespace siri::cuda {

// Device count visible to the CUDA runtime (0 without a driver or device); never throws.
int DeviceCount();

// ---- 1. LM head + log-softmax + gather + entropy -----------------------------------------------------
// z = hidden · weightᵀ / T per token; logp = z[target] − logsumexp(z); entropy = −Σ p log p.
// hidden [N, H] and weight [V, H]: one dtype, bf16 / fp16 / fp32; targets [N] int64 in [0, V) (an
// out-of-range target gives logp = NaN). The [N, V] logits are never materialized: at most one
// [token_chunk, vocab_chunk] fp32 tile (+ its compute-dtype gradient in backward) lives at a time.
struct LmHeadOptions {
  double temperature = 1.0;
  int64_t token_chunk = 0;                  // 0: as many tokens as fit in workspace_bytes
  int64_t vocab_chunk = 0;                  // 0: min(V, 16384)
  size_t workspace_bytes = size_t(256) << 20;
  bool allow_tf32 = false;                  // fp32 inputs only: TF32 tensor cores for the products
};

struct LmHeadForwardResult {
  at::Tensor logprobs;  // [N] fp32
  at::Tensor entropy;   // [N] fp32
  at::Tensor lse;       // [N] fp32, log Σ exp z (what the backward needs)
};

LmHeadForwardResult LmHeadForward(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                  const LmHeadOptions& options = {});

// Backward of LmHeadForward for g1 = dL/dlogp [N] and g2 = dL/dentropy [N] (undefined: 0), both fp32:
//   dL/dz_k = g1 (1[k = y] − p_k) − g2 p_k (log p_k + H)
// Returns dL/dhidden [N, H] in hidden's dtype and ADDS dL/dweight into weight_grad ([V, H], fp32 or
// weight's dtype, contiguous, on the same device) — as autograd accumulates into .grad.
at::Tensor LmHeadBackward(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                          const LmHeadForwardResult& forward, const at::Tensor& grad_logprobs,
                          const at::Tensor& grad_entropy, at::Tensor& weight_grad, const LmHeadOptions& options = {});

// ---- 2. GRPO / DAPO clipped token loss ------------------------------------------------------------------
// Same inputs, options and math as siri::GrpoTokenLoss (loss.h): logprobs, oldLogprobs, mask [B, T];
// advantages [B] or [B, T]; options.refLogprobs / options.entropy [B, T] when klCoef / entropyCoef ≠ 0.
// Inputs of other float dtypes are converted to fp32. The result's fields are 0-dim fp32 views of one
// device buffer; `loss` carries no autograd history.
struct GrpoLossForwardResult {
  GrpoLossOutput stats;
  at::Tensor saved;  // [11 + B] fp32: the outputs, the normaliser used and Σ_t mask per sequence
};

GrpoLossForwardResult GrpoTokenLossForward(const at::Tensor& logprobs, const at::Tensor& old_logprobs,
                                           const at::Tensor& advantages, const at::Tensor& mask,
                                           const GrpoLossOptions& options);

struct GrpoLossGrads {
  at::Tensor grad_logprobs;  // [B, T] fp32: dL/dlogp (0 on masked-out tokens)
  at::Tensor grad_entropy;   // [B, T] fp32: dL/dentropy; undefined when entropyCoef == 0
};

// grad_loss: dL_total/dloss, a 0-dim (or 1-element) tensor on the device (1.0 for loss.backward()).
GrpoLossGrads GrpoTokenLossBackward(const at::Tensor& grad_loss, const at::Tensor& logprobs,
                                    const at::Tensor& old_logprobs, const at::Tensor& advantages,
                                    const at::Tensor& mask, const GrpoLossOptions& options,
                                    const GrpoLossForwardResult& forward);

// ---- 3. sampling ----------------------------------------------------------------------------------------------
// One token per row of logits [B, V] (fp32 / bf16 / fp16, rows may be strided): q = softmax(logits / T)
// on the top-p nucleus, drawn with Philox keyed by `seed` and counted by (sequence_index[b], step[b])
// — the same seed, sequence and step give the same token on any batch layout. temperature ≤ 0: greedy.
struct SampleResult {
  at::Tensor tokens;             // [B] int64
  at::Tensor policy_logprobs;    // [B] fp32: log softmax(logits)[token] (T = 1)
  at::Tensor sampling_logprobs;  // [B] fp32: log q(token); 0 for greedy (the engine's conventions)
};

SampleResult SampleTokens(const at::Tensor& logits, double temperature, double top_p, uint64_t seed,
                          const at::Tensor& sequence_index, const at::Tensor& step);

}  // namespace siri::cuda
