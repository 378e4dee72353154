// Fused elementwise ops of the Qwen2 trunk with hand-written CPU kernels and analytic backward passes
// (one pass over memory instead of a chain of ATen ops, which dominates the CPU training profile).
// Each op works on any device: CPU float32 tensors take the fused kernels; anything else (CUDA, other
// dtypes) takes an equivalent composition of ATen ops, so the math is the same everywhere.
// Implemented in fused_ops.cc (RMSNorm, SwiGLU, q|k|v + RoPE, the self-check) and fused_ops_attention_head.cc
// (decode attention, softmax statistics).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace siri {

// RMSNorm over the last dim (transformers' Qwen2RMSNorm):  y = w * (x / sqrt(mean(x^2) + eps)).
at::Tensor FusedRmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);

// SwiGLU on the output of the fused gate|up projection gu [..., 2I]:  y = silu(gu[..., :I]) * gu[..., I:].
at::Tensor FusedSwiGlu(const at::Tensor& gate_up);

// Splits the fused q|k|v projection qkv [B, L, (nh + 2 kvh) * hd] into attention layout
// q [B, nh, L, hd], k [B, kvh, L, hd], v [B, kvh, L, hd] (contiguous), applying RoPE to q and k at
// positions 0..L-1 with tables cos/sin [>= L, hd/2]:  (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin).
std::vector<at::Tensor> FusedQkvRope(const at::Tensor& qkv, const at::Tensor& cos, const at::Tensor& sin,
                                     int64_t num_heads, int64_t num_kv_heads, int64_t head_dim);

// One decode step of grouped-query attention over a static KV cache:
//   q [B, nh, hd]; k_cache, v_cache [B, kvh, capacity, hd] (columns [0, length) read, all finite);
//   key_bias [B, 1, 1, capacity] additive (0, or -inf for a key the row must not see: padding, or a column
//   of a row that is shorter than `length` — rows may have different lengths).
//   out[b, h] = sum_j softmax_j(scale q[b,h].k[c,h/g,j] + bias[c,j]) v[c,h/g,j]  ->  [B, nh * hd]
//   with c = rows[b] when `rows` (int64 [B], the cache row of each query row) is given, else c = b.
// The CPU kernel reads each K/V row once for all g = nh/kvh query heads that share it (memory-bound by
// design), skips masked keys (bitwise the same result: their weight is exactly 0) and has no per-length
// GEMM set-up cost; other devices use matmul + softmax (over a gathered copy of the `rows`' cache).
at::Tensor DecodeAttention(const at::Tensor& q, const at::Tensor& k_cache, const at::Tensor& v_cache, int64_t length,
                           const at::Tensor& key_bias, double scale, const at::Tensor& rows = at::Tensor());

// Per row of logits [n, V] scaled by inv_temperature (z = logits / T): with p = softmax(z),
//   lse = log sum_k exp z_k,  logp = z_target - lse,  entropy = -sum_k p_k log p_k      (each [n])
struct SoftmaxStats {
  at::Tensor lse, logp, entropy;
};
SoftmaxStats ComputeSoftmaxStats(const at::Tensor& logits, const at::Tensor& targets, double inv_temperature);

// Backward of ComputeSoftmaxStats for upstream gradients g_logp [n] and g_entropy [n] (undefined = 0),
// written over `logits` (which must be the same values the stats came from):
//   dL/dlogits_k = (g_logp (1[k = target] - p_k) - g_entropy p_k (log p_k + H)) / T
void SoftmaxStatsBackwardInPlace(at::Tensor& logits, const at::Tensor& targets, const SoftmaxStats& stats,
                                 const at::Tensor& g_logp, const at::Tensor& g_entropy, double inv_temperature);

// Test hook: runs each fused CPU kernel and its ATen composition on random inputs (odd sizes included) and
// returns the largest relative error of every output and gradient, by name.
std::vector<std::pair<std::string, double>> FusedOpsSelfCheck(uint64_t seed);

}  // namespace siri
