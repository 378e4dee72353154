// Shared device helpers for siri's CUDA kernels: error checks, element conversions, the online-softmax
// state with an entropy accumulator, block reductions, and the Philox4x32-10 counter-based generator.
// Raw pointers only (no libtorch), so the standalone test project (native/cuda-tests) builds with nvcc alone.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "philox.h"

namespace siri::cuda::raw {

// ---- errors ---------------------------------------------------------------------------------------------

inline void CheckCuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
  }
}
#define SIRI_CUDA_CHECK(expr) ::siri::cuda::raw::CheckCuda((expr), #expr)
// After every launch: a bad configuration surfaces here, not at the next unrelated call.
#define SIRI_CUDA_CHECK_LAUNCH(kernel_name) ::siri::cuda::raw::CheckCuda(cudaGetLastError(), kernel_name)

__host__ __device__ inline int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- element types --------------------------------------------------------------------------------------

__device__ __forceinline__ float ToFloat(float x) { return x; }
__device__ __forceinline__ float ToFloat(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float ToFloat(__half x) { return __half2float(x); }

template <typename T>
__device__ __forceinline__ T FromFloat(float x);
template <>
__device__ __forceinline__ float FromFloat<float>(float x) { return x; }
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
template <>
__device__ __forceinline__ __half FromFloat<__half>(float x) { return __float2half_rn(x); }

// Four consecutive elements in one load when the address allows it (16 bytes of fp32, 8 of bf16/fp16).
template <typename T>
struct alignas(4 * sizeof(T)) Vec4 {
  T v[4];
};

// ---- online softmax with entropy ------------------------------------------------------------------------
// For logits z_1..z_n seen so far, with running maximum m:
//   s = Σ_k exp(z_k − m),   t = Σ_k exp(z_k − m)·(z_k − m)
// so that  lse = m + log s,  E_p[z] − m = t / s,  and the entropy
//   H = −Σ p log p = lse − E_p[z] = log s − t / s.
// Keeping t relative to m (not Σ e·z) avoids cancelling two numbers of the size of the largest logit.
// Rebasing from m to m' ≥ m multiplies by c = exp(m − m'):  s' = c·s,  t' = c·(t + (m − m')·s).
// The empty state uses a large finite m so (m − z)·0 stays 0 (−inf·0 would be NaN).
constexpr float kEmptyMax = -1e30f;

struct SoftmaxState {
  float m;
  float s;
  float t;
};

__device__ __forceinline__ SoftmaxState EmptySoftmax() { return {kEmptyMax, 0.f, 0.f}; }

// Adds one logit; −inf (zero probability) contributes nothing.
__device__ __forceinline__ void SoftmaxAdd(SoftmaxState& st, float z) {
  if (z == -INFINITY) return;
  if (z > st.m) {
    const float c = expf(st.m - z);
    st.t = c * (st.t + (st.m - z) * st.s);
    st.s = c * st.s + 1.f;  // the new maximum contributes exp(0) = 1 and (z − m') = 0
    st.m = z;
  } else {
    const float e = expf(z - st.m);
    st.s += e;
    st.t += e * (z - st.m);
  }
}

__device__ __forceinline__ SoftmaxState SoftmaxMerge(const SoftmaxState& a, const SoftmaxState& b) {
  const float m = fmaxf(a.m, b.m);
  const float ca = expf(a.m - m), cb = expf(b.m - m);
  SoftmaxState out;
  out.m = m;
  out.s = ca * a.s + cb * b.s;
  out.t = ca * (a.t + (a.m - m) * a.s) + cb * (b.t + (b.m - m) * b.s);
  return out;
}

// ---- block reductions (fixed order: results are bitwise reproducible run to run) ---------------------

template <typename T, typename Op>
__device__ __forceinline__ T WarpReduce(T value, Op op) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) value = op(value, __shfl_down_sync(0xffffffffu, value, offset));
  return value;
}

__device__ __forceinline__ SoftmaxState WarpReduceSoftmax(SoftmaxState st) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    SoftmaxState other;
    other.m = __shfl_down_sync(0xffffffffu, st.m, offset);
    other.s = __shfl_down_sync(0xffffffffu, st.s, offset);
    other.t = __shfl_down_sync(0xffffffffu, st.t, offset);
    st = SoftmaxMerge(st, other);
  }
  return st;
}

// Reduces over the whole block; the result is valid in thread 0. `scratch` holds ≥ 32 states.
__device__ __forceinline__ SoftmaxState BlockReduceSoftmax(SoftmaxState st, SoftmaxState* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  st = WarpReduceSoftmax(st);
  if (lane == 0) scratch[warp] = st;
  __syncthreads();
  if (warp == 0) {
    st = lane < warps ? scratch[lane] : EmptySoftmax();
    st = WarpReduceSoftmax(st);
  }
  __syncthreads();  // scratch may be reused right after
  return st;
}

// Sum of doubles over the block; valid in thread 0. `scratch` holds ≥ 32 doubles.
__device__ __forceinline__ double BlockReduceSum(double value, double* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  auto add = [](double a, double b) { return a + b; };
  value = WarpReduce(value, add);
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = lane < warps ? scratch[lane] : 0.0;
    value = WarpReduce(value, add);
  }
  __syncthreads();
  return value;
}

// (score, index) argmax; ties go to the lower index so the winner does not depend on the thread layout.
struct ArgMax {
  float score;
  int64_t index;
};

__device__ __forceinline__ ArgMax ArgMaxNone() { return {-INFINITY, INT64_MAX}; }

__device__ __forceinline__ ArgMax ArgMaxBetter(const ArgMax& a, const ArgMax& b) {
  if (a.score > b.score) return a;
  if (b.score > a.score) return b;
  return a.index <= b.index ? a : b;
}

__device__ __forceinline__ ArgMax BlockReduceArgMax(ArgMax best, ArgMax* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    ArgMax other;
    other.score = __shfl_down_sync(0xffffffffu, best.score, offset);
    other.index = __shfl_down_sync(0xffffffffu, best.index, offset);
    best = ArgMaxBetter(best, other);
  }
  if (lane == 0) scratch[warp] = best;
  __syncthreads();
  if (warp == 0) {
    best = lane < warps ? scratch[lane] : ArgMaxNone();
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
      ArgMax other;
      other.score = __shfl_down_sync(0xffffffffu, best.score, offset);
      other.index = __shfl_down_sync(0xffffffffu, best.index, offset);
      best = ArgMaxBetter(best, other);
    }
  }
  __syncthreads();
  return best;
}

}  // namespace siri::cuda::raw
