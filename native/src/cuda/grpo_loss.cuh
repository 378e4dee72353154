// Fused GRPO/DAPO clipped token loss, forward (loss + statistics in one pass over the tokens) and backward
// (dL/dlogp and dL/dH per token in one pass), with exactly the math and autograd conventions of
// native/src/loss.cc (GrpoTokenLoss), in fp32 like it:
//   log r = clamp(logp − old, −20, 20),  r = exp(log r)
//   ℓ = max(−A·r, −A·clip(r, 1 − ε_low, 1 + ε_high))                 (PPO eq. 7 as a loss; DAPO eq. 8)
//   dual clip, A < 0:  ℓ = min(ℓ, −A·c)                                (Ye et al. 2020)
//   + β·k3(π_ref‖π_θ) = β·(exp(ref − logp) − (ref − logp) − 1),  − c_H·H
// Aggregation over mask m (N = the normaliser passed in, or this batch's own count as loss.cc does):
//   token-mean: Σ m·ℓ / N;  seq-mean-token-sum: Σ_b Σ_t m·ℓ / N;  seq-mean-token-mean: Σ_b (Σ_t m·ℓ / max(Σ_t m, 1)) / N
// Gradients follow autograd's rules for the ops loss.cc uses, so the two agree on every token:
// clamp passes the gradient on the closed interval [lo, hi]; maximum/minimum split it ½/½ on a tie (so
// inside the clip range, where −A·r = −A·clip(r), the token gets the full −A·r).
// Reductions are two-stage in fixed order (partials per (sequence, chunk), then one block): bitwise
// reproducible, no atomics.
#pragma once

#include "common.cuh"

namespace siri::cuda::raw {

// Same order as siri::LossAggregation (native/src/loss.h).
enum class GrpoAggregation : int { kTokenMean = 0, kSeqMeanTokenSum = 1, kSeqMeanTokenMean = 2 };

struct GrpoParams {
  // Clip bounds as fp32, computed on the host as float(1 − clipLow) and float(1 + clipHigh), which is
  // what ATen does with loss.cc's double scalars on an fp32 tensor.
  float ratio_low = 0.8f;
  float ratio_high = 1.28f;
  bool dual_clip = false;
  float clip_c = 3.f;
  float kl_coef = 0.f;       // β; ref_logprobs needed when ≠ 0
  float entropy_coef = 0.f;  // c_H; entropy needed when ≠ 0
  GrpoAggregation aggregation = GrpoAggregation::kTokenMean;
  double normaliser = 0.0;  // > 0: the global N; ≤ 0: this batch's own (Σ m for token-mean, B otherwise)
};

// Contiguous [B, T] fp32 tensors (advantages [B] or [B, T]).
struct GrpoInputs {
  const float* logprobs = nullptr;
  const float* old_logprobs = nullptr;
  const float* advantages = nullptr;
  bool advantages_per_token = false;
  const float* mask = nullptr;
  const float* ref_logprobs = nullptr;  // may be null when kl_coef == 0
  const float* entropy = nullptr;       // may be null when entropy_coef == 0
  int64_t batch = 0;
  int64_t length = 0;
};

// Forward outputs, fp32 [kGrpoOutputs]: the fields of siri::GrpoLossOutput plus the normaliser used.
enum GrpoOutput : int {
  kGrpoLoss = 0,
  kGrpoTokens,
  kGrpoClipLowTokens,
  kGrpoClipHighTokens,
  kGrpoApproxKlSum,
  kGrpoRefKlSum,
  kGrpoClipFracLow,
  kGrpoClipFracHigh,
  kGrpoApproxKl,
  kGrpoRefKl,
  kGrpoNormaliser,
  kGrpoOutputs
};

constexpr float kMaxLogRatio = 20.f;
constexpr int kGrpoThreads = 256;
constexpr int64_t kGrpoChunk = 1024;  // tokens of one sequence per forward block (≥ 1024 blocks at 1M tokens)
constexpr int kGrpoPartials = 6;      // Σ m·ℓ, Σ m, clip-low, clip-high, Σ m·k3(old), Σ m·k3(ref)

struct GrpoToken {
  float loss;        // ℓ (before the mask)
  float dloss_dlogp;  // ∂ℓ/∂logp
  bool clipped_low;   // A < 0 and r < 1 − ε_low
  bool clipped_high;  // A > 0 and r > 1 + ε_high
  float approx_kl;    // k3(π_old‖π_θ) = exp(log r) − log r − 1
  float ref_kl;       // k3(π_ref‖π_θ), 0 without a reference
};

__device__ __forceinline__ GrpoToken GrpoTokenMath(float logp, float old, float adv, float ref, float entropy, const GrpoParams& p) {
  GrpoToken out;
  const float raw = logp - old;
  const float log_ratio = fminf(fmaxf(raw, -kMaxLogRatio), kMaxLogRatio);
  const float dlog_ratio = (raw >= -kMaxLogRatio && raw <= kMaxLogRatio) ? 1.f : 0.f;  // clamp's gradient
  const float r = expf(log_ratio);
  const float unclipped = -adv * r;
  const float clipped = -adv * fminf(fmaxf(r, p.ratio_low), p.ratio_high);
  const float d_unclipped = -adv;                                                // ∂(−A·r)/∂r
  const float d_clipped = (r >= p.ratio_low && r <= p.ratio_high) ? -adv : 0.f;  // ∂(−A·clip(r))/∂r
  float loss, dloss_dr;
  if (unclipped > clipped) {
    loss = unclipped;
    dloss_dr = d_unclipped;
  } else if (unclipped < clipped) {
    loss = clipped;
    dloss_dr = d_clipped;
  } else {
    loss = unclipped;
    dloss_dr = 0.5f * (d_unclipped + d_clipped);
  }
  if (p.dual_clip && adv < 0.f) {
    const float cap = -adv * p.clip_c;
    if (loss > cap) {
      loss = cap;
      dloss_dr = 0.f;
    } else if (loss == cap) {
      dloss_dr *= 0.5f;
    }
  }
  float dloss_dlogp = dloss_dr * r * dlog_ratio;  // dr/dlogp = r inside the log-ratio clamp
  out.ref_kl = 0.f;
  if (p.kl_coef != 0.f) {
    const float x = ref - logp;  // k3 = e^x − x − 1,  ∂k3/∂logp = 1 − e^x
    const float ex = expf(x);
    out.ref_kl = ex - x - 1.f;
    loss += p.kl_coef * out.ref_kl;
    dloss_dlogp += p.kl_coef * (1.f - ex);
  }
  if (p.entropy_coef != 0.f) loss -= p.entropy_coef * entropy;
  out.loss = loss;
  out.dloss_dlogp = dloss_dlogp;
  out.clipped_low = adv < 0.f && r < p.ratio_low;
  out.clipped_high = adv > 0.f && r > p.ratio_high;
  out.approx_kl = expf(log_ratio) - log_ratio - 1.f;
  return out;
}

__device__ __forceinline__ float GrpoAdvantage(const GrpoInputs& in, int64_t b, int64_t index) {
  return in.advantages_per_token ? in.advantages[index] : in.advantages[b];
}

// Block (b, chunk) → partials[(b·chunks + chunk)·6 + k] (doubles).
static __global__ void __launch_bounds__(kGrpoThreads) GrpoForwardPartials(GrpoInputs in, GrpoParams p, int64_t chunks,
                                                                    double* __restrict__ partials) {
  __shared__ double scratch[32];
  const int64_t b = blockIdx.x / chunks, chunk = blockIdx.x % chunks;
  const int64_t begin = chunk * kGrpoChunk, end = min(in.length, begin + kGrpoChunk);
  double acc[kGrpoPartials] = {0, 0, 0, 0, 0, 0};
  for (int64_t t = begin + threadIdx.x; t < end; t += blockDim.x) {
    const int64_t i = b * in.length + t;
    const float m = in.mask[i];
    const float ref = p.kl_coef != 0.f ? in.ref_logprobs[i] : 0.f;
    const float ent = p.entropy_coef != 0.f ? in.entropy[i] : 0.f;
    const GrpoToken tok = GrpoTokenMath(in.logprobs[i], in.old_logprobs[i], GrpoAdvantage(in, b, i), ref, ent, p);
    acc[0] += static_cast<double>(tok.loss * m);  // ℓ·m in fp32 as loss.cc, summed in fp64
    acc[1] += m;
    acc[2] += tok.clipped_low ? m : 0.f;
    acc[3] += tok.clipped_high ? m : 0.f;
    acc[4] += static_cast<double>(tok.approx_kl * m);
    acc[5] += static_cast<double>(tok.ref_kl * m);
  }
#pragma unroll
  for (int k = 0; k < kGrpoPartials; ++k) {
    const double total = BlockReduceSum(acc[k], scratch);
    if (threadIdx.x == 0) partials[blockIdx.x * kGrpoPartials + k] = total;
  }
}

// One block: per sequence (fixed order over chunks), then over sequences. Writes out[kGrpoOutputs] and
// row_tokens[b] = Σ_t m (kept for the backward of seq-mean-token-mean).
static __global__ void __launch_bounds__(kGrpoThreads) GrpoForwardFinalize(int64_t batch, int64_t chunks, GrpoParams p,
                                                                    const double* __restrict__ partials,
                                                                    float* __restrict__ out, float* __restrict__ row_tokens) {
  __shared__ double scratch[32];
  double acc[kGrpoPartials] = {0, 0, 0, 0, 0, 0};
  for (int64_t b = threadIdx.x; b < batch; b += blockDim.x) {
    double row[kGrpoPartials] = {0, 0, 0, 0, 0, 0};
    for (int64_t c = 0; c < chunks; ++c) {
#pragma unroll
      for (int k = 0; k < kGrpoPartials; ++k) row[k] += partials[(b * chunks + c) * kGrpoPartials + k];
    }
    row_tokens[b] = static_cast<float>(row[1]);
    // seq-mean-token-mean: the sequence's mean first (an empty response adds 0 but still counts in N_seq).
    acc[0] += p.aggregation == GrpoAggregation::kSeqMeanTokenMean ? row[0] / fmax(row[1], 1.0) : row[0];
#pragma unroll
    for (int k = 1; k < kGrpoPartials; ++k) acc[k] += row[k];
  }
  double total[kGrpoPartials];
#pragma unroll
  for (int k = 0; k < kGrpoPartials; ++k) total[k] = BlockReduceSum(acc[k], scratch);
  if (threadIdx.x != 0) return;
  const double tokens = total[1];
  double normaliser = p.normaliser;
  if (!(normaliser > 0.0)) normaliser = p.aggregation == GrpoAggregation::kTokenMean ? fmax(tokens, 1.0) : static_cast<double>(batch);
  const double denom = fmax(tokens, 1.0);
  out[kGrpoLoss] = static_cast<float>(total[0] / normaliser);
  out[kGrpoTokens] = static_cast<float>(tokens);
  out[kGrpoClipLowTokens] = static_cast<float>(total[2]);
  out[kGrpoClipHighTokens] = static_cast<float>(total[3]);
  out[kGrpoApproxKlSum] = static_cast<float>(total[4]);
  out[kGrpoRefKlSum] = static_cast<float>(total[5]);
  out[kGrpoClipFracLow] = static_cast<float>(total[2] / denom);
  out[kGrpoClipFracHigh] = static_cast<float>(total[3] / denom);
  out[kGrpoApproxKl] = static_cast<float>(total[4] / denom);
  out[kGrpoRefKl] = static_cast<float>(total[5] / denom);
  out[kGrpoNormaliser] = static_cast<float>(normaliser);
}

// dL/dlogp and dL/dH (may be null) per token: g·w_bt·∂ℓ/∂logp and g·w_bt·(−c_H), with the aggregation
// weight w_bt = m / N, or m / (max(Σ_t m, 1)·N) for seq-mean-token-mean. g = *grad_loss (device scalar).
static __global__ void __launch_bounds__(kGrpoThreads) GrpoBackwardTokens(GrpoInputs in, GrpoParams p, const float* __restrict__ forward_out,
                                                                   const float* __restrict__ row_tokens,
                                                                   const float* __restrict__ grad_loss, float* __restrict__ dlogprobs,
                                                                   float* __restrict__ dentropy) {
  const int64_t count = in.batch * in.length;
  const float g = *grad_loss / forward_out[kGrpoNormaliser];
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = i / in.length;
    float weight = g * in.mask[i];
    if (p.aggregation == GrpoAggregation::kSeqMeanTokenMean) weight /= fmaxf(row_tokens[b], 1.f);
    const float ref = p.kl_coef != 0.f ? in.ref_logprobs[i] : 0.f;
    const GrpoToken tok = GrpoTokenMath(in.logprobs[i], in.old_logprobs[i], GrpoAdvantage(in, b, i), ref, 0.f, p);
    dlogprobs[i] = weight * tok.dloss_dlogp;
    if (dentropy) dentropy[i] = weight * -p.entropy_coef;
  }
}

inline int64_t GrpoChunks(int64_t length) { return std::max<int64_t>(1, CeilDiv(length, kGrpoChunk)); }
inline size_t GrpoWorkspaceBytes(int64_t batch, int64_t length) {
  return static_cast<size_t>(batch * GrpoChunks(length) * kGrpoPartials) * sizeof(double);
}

inline void CheckGrpo(const GrpoInputs& in, const GrpoParams& p) {
  if (in.batch <= 0 || in.length <= 0) throw std::invalid_argument("GRPO loss: empty [B, T]");
  if (!in.logprobs || !in.old_logprobs || !in.advantages || !in.mask) throw std::invalid_argument("GRPO loss: missing input");
  if (p.kl_coef != 0.f && !in.ref_logprobs) throw std::invalid_argument("GRPO loss: klCoef != 0 needs refLogprobs");
  if (p.entropy_coef != 0.f && !in.entropy) throw std::invalid_argument("GRPO loss: entropyCoef != 0 needs entropy");
}

// out: [kGrpoOutputs] fp32, row_tokens: [B] fp32, workspace: GrpoWorkspaceBytes(B, T).
inline void GrpoLossForward(const GrpoInputs& in, const GrpoParams& p, void* workspace, float* out, float* row_tokens,
                            cudaStream_t stream) {
  CheckGrpo(in, p);
  const int64_t chunks = GrpoChunks(in.length);
  double* partials = static_cast<double*>(workspace);
  GrpoForwardPartials<<<static_cast<unsigned>(in.batch * chunks), kGrpoThreads, 0, stream>>>(in, p, chunks, partials);
  SIRI_CUDA_CHECK_LAUNCH("GrpoForwardPartials");
  GrpoForwardFinalize<<<1, kGrpoThreads, 0, stream>>>(in.batch, chunks, p, partials, out, row_tokens);
  SIRI_CUDA_CHECK_LAUNCH("GrpoForwardFinalize");
}

// forward_out, row_tokens: from GrpoLossForward on the same inputs. grad_loss: device fp32 scalar.
// dlogprobs: [B, T]; dentropy: [B, T] or null.
inline void GrpoLossBackward(const GrpoInputs& in, const GrpoParams& p, const float* forward_out, const float* row_tokens,
                             const float* grad_loss, float* dlogprobs, float* dentropy, int sm_count, cudaStream_t stream) {
  CheckGrpo(in, p);
  const int64_t count = in.batch * in.length;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(CeilDiv(count, kGrpoThreads), int64_t(std::max(sm_count, 1)) * 8));
  GrpoBackwardTokens<<<blocks, kGrpoThreads, 0, stream>>>(in, p, forward_out, row_tokens, grad_loss, dlogprobs, dentropy);
  SIRI_CUDA_CHECK_LAUNCH("GrpoBackwardTokens");
}

}  // namespace siri::cuda::raw
