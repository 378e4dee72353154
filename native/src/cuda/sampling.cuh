// Sampling one token per row of logits [B, V] (temperature, top-p), seeded per sequence with Philox, and
// the token's log-probs — one block per row, the vocabulary streamed from memory, no sort.
//
// q = softmax(x / T) restricted to the top-p nucleus and renormalised; T = 0 is greedy (argmax, lowest
// index on ties). Returned per row: the token, log π(token) at T = 1 (the policy's log-prob; what the
// engine's Generate calls policy_logprobs) and log q(token) (the distribution actually sampled from).
//
// Sampling is the exponential race (equivalently Gumbel-max): with independent E_v ~ Exp(1),
//   argmin_v E_v / q_v = argmax_v (x_v / T − log E_v)  is distributed as q,
// so one pass with a per-vocabulary-entry random number does it, and the winner does not depend on the
// order of the pass (ties to the lower index). E_v = −log U_v with U_v from Philox4x32-10 keyed by the
// seed and counted by (v / 4, step, sequence index): same (seed, sequence, step) ⇒ same token on any
// batch layout (philox.h).
//
// Top-p nucleus = every token whose probability is ≥ the probability p* of the last token of the shortest
// prefix, in descending probability, whose mass reaches top_p·(total mass). p* is found by a radix select
// on the order-preserving key of x (12 + 12 + 8 bits, three passes) with a mass histogram per level. Masses
// are fixed-point integers (p·2^40, exact for p ≥ 2^-17), so the sums, and the nucleus, are bitwise
// reproducible whatever the order of the atomic additions. The engine's CPU sampler keeps only as many of
// several tokens tied at p* as it needs; here all of them are kept (ties of this kind need equal logits).
#pragma once

#include "common.cuh"

namespace siri::cuda::raw {

struct SampleParams {
  float temperature = 1.f;  // ≤ 0: greedy
  double top_p = 1.0;       // in (0, 1]
  uint64_t seed = 0;
};

constexpr int kSampleThreads = 512;
constexpr double kMassScale = 1099511627776.0;  // 2^40

// Running max and two sums, at T = 1 and at temperature T:  s1 = Σ e^(x − m),  sT = Σ e^((x − m)/T).
struct DualSoftmax {
  float m;
  float s1;
  float st;
};

__device__ __forceinline__ void DualAdd(DualSoftmax& d, float x, float inv_t) {
  if (x == -INFINITY) return;
  if (x > d.m) {
    d.s1 = d.s1 * expf(d.m - x) + 1.f;
    d.st = d.st * expf((d.m - x) * inv_t) + 1.f;
    d.m = x;
  } else {
    d.s1 += expf(x - d.m);
    d.st += expf((x - d.m) * inv_t);
  }
}

__device__ __forceinline__ DualSoftmax DualMerge(const DualSoftmax& a, const DualSoftmax& b, float inv_t) {
  const float m = fmaxf(a.m, b.m);
  return {m, a.s1 * expf(a.m - m) + b.s1 * expf(b.m - m), a.st * expf((a.m - m) * inv_t) + b.st * expf((b.m - m) * inv_t)};
}

__device__ __forceinline__ DualSoftmax BlockReduceDual(DualSoftmax d, float inv_t, DualSoftmax* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  auto warp_reduce = [&](DualSoftmax v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
      DualSoftmax o{__shfl_down_sync(0xffffffffu, v.m, offset), __shfl_down_sync(0xffffffffu, v.s1, offset),
                    __shfl_down_sync(0xffffffffu, v.st, offset)};
      v = DualMerge(v, o, inv_t);
    }
    return v;
  };
  d = warp_reduce(d);
  if (lane == 0) scratch[warp] = d;
  __syncthreads();
  if (warp == 0) d = warp_reduce(lane < warps ? scratch[lane] : DualSoftmax{kEmptyMax, 0.f, 0.f});
  __syncthreads();
  return d;
}

// Exclusive prefix sum over the block in thread order; `total` gets the block's sum (all threads).
__device__ __forceinline__ unsigned long long BlockExclusiveScan(unsigned long long value, unsigned long long* warp_sums,
                                                                 unsigned long long& total) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  unsigned long long x = value;
#pragma unroll
  for (int offset = 1; offset < 32; offset <<= 1) {
    const unsigned long long y = __shfl_up_sync(0xffffffffu, x, offset);
    if (lane >= offset) x += y;
  }
  if (lane == 31) warp_sums[warp] = x;
  __syncthreads();
  if (warp == 0) {
    unsigned long long s = lane < warps ? warp_sums[lane] : 0ull;
#pragma unroll
    for (int offset = 1; offset < 32; offset <<= 1) {
      const unsigned long long y = __shfl_up_sync(0xffffffffu, s, offset);
      if (lane >= offset) s += y;
    }
    warp_sums[lane] = s;
  }
  __syncthreads();
  const unsigned long long before_warp = warp > 0 ? warp_sums[warp - 1] : 0ull;
  total = warp_sums[warps - 1];
  __syncthreads();
  return before_warp + x - value;
}

// Four consecutive logits of group g (entries past the vocabulary read as −inf and are skipped).
template <typename T, bool kVectorized>
__device__ __forceinline__ void LoadGroup(const T* __restrict__ row, int64_t g, int64_t vocab, float (&x)[4]) {
  if (kVectorized) {
    const Vec4<T> q = reinterpret_cast<const Vec4<T>*>(row)[g];
#pragma unroll
    for (int j = 0; j < 4; ++j) x[j] = ToFloat(q.v[j]);
  } else {
#pragma unroll
    for (int j = 0; j < 4; ++j) x[j] = g * 4 + j < vocab ? ToFloat(row[g * 4 + j]) : -INFINITY;
  }
}

// The race score x/T − log E with E = −log U.
__device__ __forceinline__ float RaceScore(float x, float inv_t, uint32_t bits) {
  const float e = -logf(UniformOpen(bits));
  return x * inv_t - logf(e);
}

__device__ __forceinline__ unsigned long long FixedPointMass(float x, float m, float inv_t, float inv_sum) {
  return static_cast<unsigned long long>(expf((x - m) * inv_t) * inv_sum * static_cast<float>(kMassScale));
}

template <typename T, bool kVectorized>
__global__ void __launch_bounds__(kSampleThreads) SampleRows(const T* __restrict__ logits, int64_t row_stride, int64_t vocab,
                                                             SampleParams p, const int64_t* __restrict__ sequence_index,
                                                             const int64_t* __restrict__ step, int64_t* __restrict__ tokens,
                                                             float* __restrict__ policy_logprobs,
                                                             float* __restrict__ sampling_logprobs) {
  constexpr int kBins = 4096;
  __shared__ unsigned long long hist[kBins];
  __shared__ unsigned long long warp_sums[32];
  __shared__ DualSoftmax dual_scratch[32];
  __shared__ ArgMax arg_scratch[32];
  __shared__ float row_m, row_s1, row_st;
  __shared__ unsigned long long sel_above, sel_mass;
  __shared__ uint32_t sel_bin;

  const int64_t r = blockIdx.x;
  const T* row = logits + r * row_stride;
  const int64_t groups = CeilDiv(vocab, 4);
  const bool greedy = !(p.temperature > 0.f);
  const bool nucleus = !greedy && p.top_p < 1.0;
  const float inv_t = greedy ? 1.f : 1.f / p.temperature;
  const int64_t seq = sequence_index[r], st = step[r];

  // Pass 1: max and both sums; the race too when there is no nucleus to find (one pass in all).
  DualSoftmax dual{kEmptyMax, 0.f, 0.f};
  ArgMax best = ArgMaxNone();
  for (int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
    float x[4];
    LoadGroup<T, kVectorized>(row, g, vocab, x);
#pragma unroll
    for (int j = 0; j < 4; ++j) DualAdd(dual, x[j], inv_t);
    if (greedy) {
#pragma unroll
      for (int j = 0; j < 4; ++j)
        if (g * 4 + j < vocab) best = ArgMaxBetter(best, ArgMax{x[j], g * 4 + j});
    } else if (!nucleus) {
      const Philox4 u = SamplingDraws(p.seed, seq, st, g);
#pragma unroll
      for (int j = 0; j < 4; ++j)
        if (x[j] != -INFINITY) best = ArgMaxBetter(best, ArgMax{RaceScore(x[j], inv_t, u.x[j]), g * 4 + j});
    }
  }
  dual = BlockReduceDual(dual, inv_t, dual_scratch);
  if (threadIdx.x == 0) {
    row_m = dual.m;
    row_s1 = dual.s1;
    row_st = dual.st;
  }
  __syncthreads();
  const float m = row_m, inv_sum = 1.f / row_st;

  double log_nucleus_mass = 0.0;
  if (nucleus) {
    // Radix select of the key K* of p*: mass(keys ≥ K*) ≥ target > mass(keys > K*).
    // Levels over the 32-bit key: bits 31..20, 19..8, 7..0.
    uint32_t prefix = 0;
    unsigned long long above = 0, target = 0;
    for (int level = 0; level < 3; ++level) {
      const int level_bits = level < 2 ? 12 : 8;
      const int shift = level == 0 ? 20 : level == 1 ? 8 : 0;
      const int bins = 1 << level_bits;
      for (int i = threadIdx.x; i < bins; i += blockDim.x) hist[i] = 0ull;
      __syncthreads();
      for (int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
        float x[4];
        LoadGroup<T, kVectorized>(row, g, vocab, x);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          if (x[j] == -INFINITY) continue;
          const uint32_t key = OrderedKey(x[j]);
          if (level > 0 && (key >> (shift + level_bits)) != prefix) continue;
          const unsigned long long mass = FixedPointMass(x[j], m, inv_t, inv_sum);
          if (mass != 0) atomicAdd(&hist[(key >> shift) & (bins - 1)], mass);  // most of a real vocabulary is 0
        }
      }
      __syncthreads();
      // Thread j owns bins_per_thread consecutive bins counted from the top bin down.
      const int per_thread = (bins + blockDim.x - 1) / blockDim.x;
      unsigned long long local = 0;
      for (int i = 0; i < per_thread; ++i) {
        const int bin = bins - 1 - (threadIdx.x * per_thread + i);
        if (bin >= 0) local += hist[bin];
      }
      unsigned long long total = 0;
      const unsigned long long before = BlockExclusiveScan(local, warp_sums, total);
      if (level == 0) {
        // target = ⌈top_p · Σ mass⌉, at least one unit, at most all of it.
        const double t = ceil(p.top_p * static_cast<double>(total));
        target = static_cast<unsigned long long>(t);
        if (target < 1) target = 1;
        if (target > total) target = total;
      }
      const unsigned long long start = above + before;
      if (local > 0 && start < target && target <= start + local) {
        unsigned long long run = start;
        for (int i = 0; i < per_thread; ++i) {
          const int bin = bins - 1 - (threadIdx.x * per_thread + i);
          if (bin < 0) break;
          if (run + hist[bin] >= target) {
            sel_bin = static_cast<uint32_t>(bin);
            sel_above = run;
            sel_mass = hist[bin];
            break;
          }
          run += hist[bin];
        }
      }
      __syncthreads();
      prefix = (prefix << level_bits) | sel_bin;
      above = sel_above;
      __syncthreads();  // everyone has read sel_* before the next level rewrites them
    }
    const uint32_t threshold = prefix;
    log_nucleus_mass = log(static_cast<double>(above + sel_mass) / kMassScale);
    // Pass 5: the race among keys ≥ K*.
    for (int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
      float x[4];
      LoadGroup<T, kVectorized>(row, g, vocab, x);
      bool any = false;
#pragma unroll
      for (int j = 0; j < 4; ++j) any |= x[j] != -INFINITY && OrderedKey(x[j]) >= threshold;
      if (!any) continue;
      const Philox4 u = SamplingDraws(p.seed, seq, st, g);
#pragma unroll
      for (int j = 0; j < 4; ++j)
        if (x[j] != -INFINITY && OrderedKey(x[j]) >= threshold) best = ArgMaxBetter(best, ArgMax{RaceScore(x[j], inv_t, u.x[j]), g * 4 + j});
    }
  }
  best = BlockReduceArgMax(best, arg_scratch);
  if (threadIdx.x != 0) return;
  const int64_t token = best.index;
  tokens[r] = token;
  if (token < 0 || token >= vocab) {  // every logit was −inf (or NaN): nothing can be sampled
    policy_logprobs[r] = NAN;
    sampling_logprobs[r] = NAN;
    return;
  }
  const float x = ToFloat(row[token]);
  policy_logprobs[r] = (x - m) - logf(row_s1);  // log softmax(x)_token at T = 1
  if (greedy) {
    sampling_logprobs[r] = 0.f;  // the engine's convention for greedy decoding
  } else {
    // log q = (x − m)/T − log sT − log(nucleus mass)
    sampling_logprobs[r] = static_cast<float>(static_cast<double>((x - m) * inv_t) - log(static_cast<double>(row_st)) - log_nucleus_mass);
  }
}

// logits: [B, V] with row stride `row_stride` (elements). sequence_index, step: [B] int64 (device).
// tokens: [B] int64; policy_logprobs, sampling_logprobs: [B] fp32.
template <typename T>
void SampleTokens(const T* logits, int64_t batch, int64_t vocab, int64_t row_stride, const SampleParams& p,
                  const int64_t* sequence_index, const int64_t* step, int64_t* tokens, float* policy_logprobs,
                  float* sampling_logprobs, cudaStream_t stream) {
  if (batch <= 0 || vocab <= 0) throw std::invalid_argument("sampling: empty logits");
  if (vocab > (int64_t(1) << 32) * 4) throw std::invalid_argument("sampling: vocabulary too large for the Philox counter");
  if (!(p.top_p > 0.0 && p.top_p <= 1.0)) throw std::invalid_argument("sampling: topP must be in (0, 1]");
  const bool aligned = (vocab & 3) == 0 && (row_stride & 3) == 0 && (reinterpret_cast<uintptr_t>(logits) % (4 * sizeof(T))) == 0;
  auto kernel = aligned ? SampleRows<T, true> : SampleRows<T, false>;
  kernel<<<static_cast<unsigned>(batch), kSampleThreads, 0, stream>>>(logits, row_stride, vocab, p, sequence_index, step, tokens,
                                                                      policy_logprobs, sampling_logprobs);
  SIRI_CUDA_CHECK_LAUNCH("SampleRows");
}

}  // namespace siri::cuda::raw
