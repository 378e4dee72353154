// A plain CUDA matrix product as the LM head's Gemm policy in the standalone tests: one thread per output,
// fp32 accumulation over products of the compute-dtype values. Slow and obviously right, so a test failure
// points at the fused kernels and the tiling, not at the product. (The addon uses cuBLAS: cublas_gemm.cuh,
// which the tests also run where cuBLAS is found.)
#pragma once

#include "lm_head.cuh"

namespace siri::cuda::testing {

// c[i·ldc + j] = beta·c[i·ldc + j] + Σ_k a[i·a_rs + k·a_cs] · b[k·b_rs + j·b_cs]
template <typename In, typename Out>
__global__ void NaiveGemmKernel(int64_t rows, int64_t cols, int64_t depth, const In* a, int64_t a_rs, int64_t a_cs, const In* b,
                                int64_t b_rs, int64_t b_cs, Out* c, int64_t ldc, float beta) {
  const int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (index >= rows * cols) return;
  const int64_t i = index / cols, j = index % cols;
  float acc = 0.f;
  for (int64_t k = 0; k < depth; ++k) acc += raw::ToFloat(a[i * a_rs + k * a_cs]) * raw::ToFloat(b[k * b_rs + j * b_cs]);
  Out* out = c + i * ldc + j;
  *out = raw::FromFloat<Out>(beta != 0.f ? beta * raw::ToFloat(*out) + acc : acc);
}

template <typename In, typename Out>
void NaiveGemm(int64_t rows, int64_t cols, int64_t depth, const In* a, int64_t a_rs, int64_t a_cs, const In* b, int64_t b_rs,
               int64_t b_cs, Out* c, int64_t ldc, float beta, cudaStream_t stream) {
  const int64_t count = rows * cols;
  NaiveGemmKernel<In, Out><<<static_cast<unsigned>(raw::CeilDiv(count, 256)), 256, 0, stream>>>(rows, cols, depth, a, a_rs, a_cs, b,
                                                                                                b_rs, b_cs, c, ldc, beta);
  SIRI_CUDA_CHECK_LAUNCH("NaiveGemmKernel");
}

// The Gemm policy of lm_head.cuh on row-major h [N, H], W [V, H], dW [V, H].
template <typename Scalar, typename GradT = float>
struct NaiveLmHeadGemm {
  const Scalar* h;
  const Scalar* w;
  GradT* dw;
  int64_t hidden;
  cudaStream_t stream;

  // z[i][j] = Σ_k h[t0+i][k] W[v0+j][k]
  void Logits(int64_t t0, int64_t n, int64_t v0, int64_t cols, float* z) const {
    NaiveGemm<Scalar, float>(n, cols, hidden, h + t0 * hidden, hidden, 1, w + v0 * hidden, 1, hidden, z, cols, 0.f, stream);
  }
  // dh[i][k] (+)= Σ_j dz[i][j] W[v0+j][k]
  void HiddenGrad(int64_t, int64_t n, int64_t v0, int64_t cols, const Scalar* dz, float* dh, bool accumulate) const {
    NaiveGemm<Scalar, float>(n, hidden, cols, dz, cols, 1, w + v0 * hidden, hidden, 1, dh, hidden, accumulate ? 1.f : 0.f, stream);
  }
  // dW[v0+j][k] += Σ_i dz[i][j] h[t0+i][k]
  void WeightGrad(int64_t t0, int64_t n, int64_t v0, int64_t cols, const Scalar* dz) const {
    NaiveGemm<Scalar, GradT>(cols, hidden, n, dz, 1, cols, h + t0 * hidden, hidden, 1, dw + v0 * hidden, hidden, 1.f, stream);
  }
};

}  // namespace siri::cuda::testing
