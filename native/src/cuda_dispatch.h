// When the engine calls siri's own CUDA kernels (native/src/cuda/kernels.h) instead of its device-agnostic
// ATen code: in a CUDA build (SIRI_WITH_CUDA), on CUDA tensors, unless SIRI_CUDA_KERNELS=0 — the switch a
// benchmark uses to run both paths on one GPU. CPU builds compile the ATen path only.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdlib>
#include <cstring>

namespace siri {

inline bool UseSiriCudaKernels(const at::Tensor& t) {
#ifdef SIRI_WITH_CUDA
  if (!t.is_cuda()) return false;
  const char* flag = std::getenv("SIRI_CUDA_KERNELS");
  return flag == nullptr || std::strcmp(flag, "0") != 0;
#else
  (void)t;
  return false;
#endif
}

}  // namespace siri
