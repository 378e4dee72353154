// The LM head's three matrix products on cuBLAS (tensor cores, fp32 accumulation): the Gemm policy of
// lm_head.cuh used by the addon (kernels.cu) and, where cuBLAS is found, by the standalone tests.
// Row-major tensors are read as column-major transposes, so every product is one cublasGemmEx call with
// no copies; the fp32 (or compute-dtype) gradient buffers accumulate in place through beta = 1.
#pragma once

#include <cublas_v2.h>

#include <climits>

#include "lm_head.cuh"

namespace siri::cuda::raw {

inline void CheckCublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cuBLAS error in ") + what + ": " + cublasGetStatusString(status));
  }
}

template <typename T>
struct CudaDataType;
template <>
struct CudaDataType<float> {
  static constexpr cudaDataType_t value = CUDA_R_32F;
};
template <>
struct CudaDataType<__nv_bfloat16> {
  static constexpr cudaDataType_t value = CUDA_R_16BF;
};
template <>
struct CudaDataType<__half> {
  static constexpr cudaDataType_t value = CUDA_R_16F;
};

// h [N, H] and W [V, H] in the compute dtype (Scalar), row-major and contiguous; dW [V, H] of GradT
// (float or Scalar), accumulated into; may be null for forward-only use.
template <typename Scalar, typename GradT = float>
struct CublasLmHeadGemm {
  cublasHandle_t handle;
  cudaStream_t stream;
  const Scalar* h;
  const Scalar* w;
  GradT* dw;
  int64_t hidden;
  bool allow_tf32 = false;  // fp32 inputs only: TF32 tensor cores (≈ 3e-4 relative) instead of full fp32

  cublasComputeType_t Compute() const {
    if (std::is_same<Scalar, float>::value) return allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    return CUBLAS_COMPUTE_32F;
  }

  static int AsInt(int64_t v, const char* what) {
    if (v < 0 || v > INT_MAX) throw std::invalid_argument(std::string("LM head: ") + what + " does not fit cuBLAS's int");
    return static_cast<int>(v);
  }

  // Column-major C[m×n] = alpha·op(A)·op(B) + beta·C.
  template <typename CT>
  void Gemm(cublasOperation_t ta, cublasOperation_t tb, int64_t m, int64_t n, int64_t k, const Scalar* a, int64_t lda,
            const Scalar* b, int64_t ldb, float beta, CT* c, int64_t ldc, const char* what) const {
    const float alpha = 1.f;
    CheckCublas(cublasSetStream(handle, stream), "cublasSetStream");
    CheckCublas(cublasGemmEx(handle, ta, tb, AsInt(m, "m"), AsInt(n, "n"), AsInt(k, "k"), &alpha, a, CudaDataType<Scalar>::value,
                             AsInt(lda, "lda"), b, CudaDataType<Scalar>::value, AsInt(ldb, "ldb"), &beta, c,
                             CudaDataType<CT>::value, AsInt(ldc, "ldc"), Compute(), CUBLAS_GEMM_DEFAULT),
                what);
  }

  // z [n, w] = h[t0:t0+n] · W[v0:v0+w]ᵀ   ⇔ column-major zᵀ (w×n) = op_T(W_c) (w×H) · h_cᵀ (H×n)
  void Logits(int64_t t0, int64_t n, int64_t v0, int64_t w_cols, float* z) const {
    Gemm(CUBLAS_OP_T, CUBLAS_OP_N, w_cols, n, hidden, w + v0 * hidden, hidden, h + t0 * hidden, hidden, 0.f, z, w_cols,
         "LM head logits");
  }

  // dh [n, H] (+)= dz [n, w] · W[v0:v0+w]   ⇔ dhᵀ (H×n) = W_cᵀ (H×w) · dzᵀ (w×n)
  void HiddenGrad(int64_t t0, int64_t n, int64_t v0, int64_t w_cols, const Scalar* dz, float* dh, bool accumulate) const {
    (void)t0;
    Gemm(CUBLAS_OP_N, CUBLAS_OP_N, hidden, n, w_cols, w + v0 * hidden, hidden, dz, w_cols, accumulate ? 1.f : 0.f, dh, hidden,
         "LM head dL/dh");
  }

  // dW[v0:v0+w] += dzᵀ [w, n] · h[t0:t0+n]   ⇔ dW_cᵀ (H×w) += h_cᵀ (H×n) · op_T(dzᵀ) (n×w)
  void WeightGrad(int64_t t0, int64_t n, int64_t v0, int64_t w_cols, const Scalar* dz) const {
    if (!dw) throw std::logic_error("LM head: no weight gradient buffer");
    Gemm(CUBLAS_OP_N, CUBLAS_OP_T, hidden, w_cols, n, h + t0 * hidden, hidden, dz, w_cols, 1.f, dw + v0 * hidden, hidden,
         "LM head dL/dW");
  }
};

}  // namespace siri::cuda::raw
