// Shared by the fused-op translation units (fused_ops.cc: the trunk's layer ops; fused_ops_attention_head.cc:
// decode attention and the LM head's softmax statistics): the multiversioning attribute, a libm-free exp,
// the CPU-kernel test, and the self-check's error measure. Not part of the engine's interface.
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace siri {
namespace fused_detail {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SIRI_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SIRI_MULTIVERSION
#endif

constexpr int64_t kRowGrain = 16;

// exp(x) for float without a libm call, so loops that use it vectorize (Cephes expf: range reduction
// x = n ln2 + r, |r| <= ln2/2, a degree-6 polynomial for e^r, 2^n from the exponent bits; ~1 ulp).
// Inputs are clamped to [-87.3, 88.7] (results below ~1e-38 come out as ~1e-38 instead of 0).
__attribute__((always_inline)) inline float FastExp(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.7f ? 88.7f : x;
  // n = round(x / ln2) via the 1.5 * 2^23 trick (exact for |x / ln2| < 2^22; no floor call)
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float r2 = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r2 + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return y * scale;
}

inline bool UseCpuKernel(const at::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == at::kFloat; }

// Largest absolute difference relative to the largest magnitude of b (self-check).
inline double RelErr(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1e-12, b.abs().max().item<double>());
}

// Appends the decode-attention and softmax-statistics checks to FusedOpsSelfCheck's list.
void SelfCheckAttentionAndHead(at::Generator& gen, std::vector<std::pair<std::string, double>>& out);

}  // namespace fused_detail
}  // namespace siri
