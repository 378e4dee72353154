// Fused LM head + log-softmax + gather + entropy, forward and backward, chunked over tokens and vocabulary
// so the [tokens × vocab] logits never exist beyond one [token_chunk × vocab_chunk] tile.
//
// For hidden rows h_i (i < N), weight W [V, H], targets y_i and temperature T:
//   z_ik = (W h_i)_k / T,  lse_i = log Σ_k exp z_ik,  logp_i = z_iy − lse_i,  H_i = −Σ_k p_ik log p_ik
// Forward: for each tile the matrix product writes W h (fp32) into a workspace tile; LmHeadTileStats scales
// it by 1/T as it reads (no extra pass) and folds
// the tile into a per-token online-softmax state (running max m, s = Σ e^(z−m), t = Σ e^(z−m)(z−m), see
// common.cuh) and picks up z_iy when y_i falls in the tile; the last vocabulary tile writes logp, H, lse.
// Backward (given g1 = dL/dlogp_i, g2 = dL/dH_i): each tile's z is recomputed, and LmHeadTileGrad writes
//   dL/dz_ik = g1 (1[k = y_i] − p_ik) − g2 p_ik (log p_ik + H_i)      (scaled by 1/T for dL/d(Wh))
// in the compute dtype; two more products give dL/dh_i += Σ_k dz_ik W_k and dL/dW_k += Σ_i dz_ik h_i.
// (dH/dz_k = −p_k (log p_k + H): from H = lse − Σ p z and dp_j/dz_k = p_j (δ_jk − p_k).)
//
// The matrix products are not written here: the orchestration is templated on a Gemm policy (cuBLAS
// through ATen in the addon, kernels.cu; a plain CUDA product in the standalone tests), because at
// hidden 1536 the head is bound by matrix throughput, and the library's tensor-core GEMMs are the
// fastest way to do that part. What the fusion saves is memory: per tile n·w fp32, instead of N·V.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "common.cuh"

namespace siri::cuda::raw {

struct LmHeadShape {
  int64_t tokens;  // N
  int64_t hidden;  // H
  int64_t vocab;   // V
};

// Tile sizes. Tiles are contiguous [n, w] (row stride w), so the matrix library sees plain matrices.
struct LmHeadPlan {
  int64_t token_chunk;
  int64_t vocab_chunk;
};

constexpr size_t kDefaultLmHeadWorkspaceBytes = size_t(256) << 20;

// Picks tile sizes: a requested size (> 0) wins; otherwise vocab tiles of up to 16,384 columns (a
// multiple of 8) and as many tokens as fit in `budget_bytes` of fp32 logits + compute-dtype gradients.
inline LmHeadPlan PlanLmHead(const LmHeadShape& shape, int64_t token_chunk, int64_t vocab_chunk,
                             size_t budget_bytes, size_t scalar_bytes) {
  if (shape.tokens <= 0 || shape.hidden <= 0 || shape.vocab <= 0) throw std::invalid_argument("LM head: empty shape");
  LmHeadPlan plan{};
  plan.vocab_chunk = vocab_chunk > 0 ? std::min(vocab_chunk, shape.vocab) : std::min<int64_t>(shape.vocab, 16384);
  if (token_chunk > 0) {
    plan.token_chunk = std::min(token_chunk, shape.tokens);
  } else {
    const size_t per_token = static_cast<size_t>(plan.vocab_chunk) * (4 + scalar_bytes) + static_cast<size_t>(shape.hidden) * 4;
    const int64_t fit = static_cast<int64_t>(std::max<size_t>(budget_bytes / per_token, 64));
    plan.token_chunk = std::min(shape.tokens, fit);
  }
  return plan;
}

inline size_t AlignUp256(size_t bytes) { return (bytes + 255) & ~size_t(255); }

// Workspace layout (each part 256-byte aligned): z tile fp32 [n_c·v_c]; per-token state float4 [n_c];
// for backward also the dz tile [n_c·v_c] in the compute dtype and an fp32 dh accumulator [n_c·H].
struct LmHeadWorkspace {
  float* z = nullptr;
  float4* state = nullptr;
  void* dz = nullptr;
  float* dh = nullptr;
};

inline size_t LmHeadWorkspaceBytes(const LmHeadPlan& plan, const LmHeadShape& shape, size_t scalar_bytes, bool backward) {
  const size_t tile = static_cast<size_t>(plan.token_chunk) * static_cast<size_t>(plan.vocab_chunk);
  size_t bytes = AlignUp256(tile * 4) + AlignUp256(static_cast<size_t>(plan.token_chunk) * sizeof(float4));
  if (backward) bytes += AlignUp256(tile * scalar_bytes) + AlignUp256(static_cast<size_t>(plan.token_chunk * shape.hidden) * 4);
  return bytes;
}

inline LmHeadWorkspace CarveLmHeadWorkspace(void* base, const LmHeadPlan& plan, const LmHeadShape& shape,
                                            size_t scalar_bytes, bool backward) {
  char* p = static_cast<char*>(base);
  const size_t tile = static_cast<size_t>(plan.token_chunk) * static_cast<size_t>(plan.vocab_chunk);
  LmHeadWorkspace ws;
  ws.z = reinterpret_cast<float*>(p);
  p += AlignUp256(tile * 4);
  ws.state = reinterpret_cast<float4*>(p);
  p += AlignUp256(static_cast<size_t>(plan.token_chunk) * sizeof(float4));
  if (backward) {
    ws.dz = p;
    p += AlignUp256(tile * scalar_bytes);
    ws.dh = reinterpret_cast<float*>(p);
  }
  return ws;
}

constexpr int kLmHeadThreads = 256;

// One block per token row of the tile. state[row] = (m, s, t, z_iy) carries the row across vocab tiles;
// z_iy stays NaN unless the target is in [0, V), so a bad target yields logp = NaN, never a wrong number.
template <bool kVectorized>
__global__ void __launch_bounds__(kLmHeadThreads) LmHeadTileStats(const float* __restrict__ z, int64_t width, int64_t v0,
                                                                  float scale, const int64_t* __restrict__ targets,
                                                                  float4* __restrict__ state, bool first, bool last,
                                                                  float* __restrict__ logprobs,
                                                                  float* __restrict__ entropy, float* __restrict__ lse) {
  __shared__ SoftmaxState scratch[32];
  const int64_t row = blockIdx.x;
  const float* zr = z + row * width;
  SoftmaxState st = EmptySoftmax();
  if (kVectorized) {
    const float4* z4 = reinterpret_cast<const float4*>(zr);
    const int64_t groups = width >> 2;
    for (int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
      const float4 v = z4[g];
      SoftmaxAdd(st, v.x * scale);
      SoftmaxAdd(st, v.y * scale);
      SoftmaxAdd(st, v.z * scale);
      SoftmaxAdd(st, v.w * scale);
    }
  } else {
    for (int64_t j = threadIdx.x; j < width; j += blockDim.x) SoftmaxAdd(st, zr[j] * scale);
  }
  st = BlockReduceSoftmax(st, scratch);
  if (threadIdx.x != 0) return;
  float target_logit = first ? NAN : state[row].w;
  if (!first) {
    const float4 prev = state[row];
    st = SoftmaxMerge(SoftmaxState{prev.x, prev.y, prev.z}, st);
  }
  const int64_t y = targets[row];
  if (y >= v0 && y < v0 + width) target_logit = zr[y - v0] * scale;
  if (!last) {
    state[row] = make_float4(st.m, st.s, st.t, target_logit);
    return;
  }
  const float log_s = logf(st.s);
  const float row_lse = st.m + log_s;
  lse[row] = row_lse;
  entropy[row] = log_s - st.t / st.s;  // H = log s − t/s
  logprobs[row] = target_logit - row_lse;
}

// dz for one tile, one block per token row: dz_ik = (g1 (1[k=y] − p) − g2 p (log p + H)) / T, with the
// tile holding W h unscaled (z = scale · tile, scale = 1/T).
template <typename Scalar, bool kVectorized>
__global__ void __launch_bounds__(kLmHeadThreads) LmHeadTileGrad(const float* __restrict__ z, int64_t width, int64_t v0,
                                                                 const int64_t* __restrict__ targets,
                                                                 const float* __restrict__ lse, const float* __restrict__ entropy,
                                                                 const float* __restrict__ grad_logprobs,
                                                                 const float* __restrict__ grad_entropy, float scale,
                                                                 Scalar* __restrict__ dz) {
  const int64_t row = blockIdx.x;
  const float* zr = z + row * width;
  Scalar* dr = dz + row * width;
  const float row_lse = lse[row], row_h = entropy[row], g1 = grad_logprobs[row];
  const float g2 = grad_entropy ? grad_entropy[row] : 0.f;
  const int64_t y = targets[row] - v0;  // target column inside this tile (may be outside it)
  auto grad = [&](float zk, int64_t k) {
    const float logp = zk * scale - row_lse;
    const float p = expf(logp);
    float d = -p * (g1 + g2 * (logp + row_h));
    if (k == y) d += g1;
    return d * scale;
  };
  if (kVectorized) {
    const float4* z4 = reinterpret_cast<const float4*>(zr);
    Vec4<Scalar>* d4 = reinterpret_cast<Vec4<Scalar>*>(dr);
    const int64_t groups = width >> 2;
    for (int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
      const float4 v = z4[g];
      const int64_t k = g << 2;
      Vec4<Scalar> out;
      out.v[0] = FromFloat<Scalar>(grad(v.x, k));
      out.v[1] = FromFloat<Scalar>(grad(v.y, k + 1));
      out.v[2] = FromFloat<Scalar>(grad(v.z, k + 2));
      out.v[3] = FromFloat<Scalar>(grad(v.w, k + 3));
      d4[g] = out;
    }
  } else {
    for (int64_t k = threadIdx.x; k < width; k += blockDim.x) dr[k] = FromFloat<Scalar>(grad(zr[k], k));
  }
}

// dh rows (compute dtype) from the fp32 accumulator.
template <typename Scalar>
__global__ void ConvertRows(const float* __restrict__ src, Scalar* __restrict__ dst, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    dst[i] = FromFloat<Scalar>(src[i]);
  }
}

// ---- orchestration ----------------------------------------------------------------------------------------
// Gemm policy (row-major, fp32 accumulation, all on `stream`):
//   void Logits(int64_t t0, int64_t n, int64_t v0, int64_t w, float* z)
//        z[i][j] = Σ_k h[t0+i][k] · W[v0+j][k]                              (z contiguous [n, w])
//   void HiddenGrad(int64_t t0, int64_t n, int64_t v0, int64_t w, const Scalar* dz, float* dh, bool accumulate)
//        dh[i][k] = (accumulate ? dh[i][k] : 0) + Σ_j dz[i][j] · W[v0+j][k]  (dz [n, w], dh [n, H])
//   void WeightGrad(int64_t t0, int64_t n, int64_t v0, int64_t w, const Scalar* dz)
//        dW[v0+j][k] += Σ_i dz[i][j] · h[t0+i][k]                           (the policy owns dW)

inline bool TileVectorizable(int64_t width) { return (width & 3) == 0; }

// logprobs, entropy, lse: [N] fp32 outputs. targets: [N] int64. workspace: LmHeadWorkspaceBytes(..., false).
template <typename Scalar, typename Gemm>
void LmHeadForward(const LmHeadShape& shape, const LmHeadPlan& plan, float temperature, const int64_t* targets, Gemm& gemm,
                   void* workspace, float* logprobs, float* entropy, float* lse, cudaStream_t stream) {
  if (!(temperature > 0.f)) throw std::invalid_argument("LM head: temperature must be > 0");
  const LmHeadWorkspace ws = CarveLmHeadWorkspace(workspace, plan, shape, sizeof(Scalar), false);
  for (int64_t t0 = 0; t0 < shape.tokens; t0 += plan.token_chunk) {
    const int64_t n = std::min(plan.token_chunk, shape.tokens - t0);
    for (int64_t v0 = 0; v0 < shape.vocab; v0 += plan.vocab_chunk) {
      const int64_t w = std::min(plan.vocab_chunk, shape.vocab - v0);
      gemm.Logits(t0, n, v0, w, ws.z);
      const bool first = v0 == 0, last = v0 + w == shape.vocab;
      auto kernel = TileVectorizable(w) ? LmHeadTileStats<true> : LmHeadTileStats<false>;
      kernel<<<static_cast<unsigned>(n), kLmHeadThreads, 0, stream>>>(ws.z, w, v0, 1.f / temperature, targets + t0, ws.state, first, last,
                                                                     logprobs + t0, entropy + t0, lse + t0);
      SIRI_CUDA_CHECK_LAUNCH("LmHeadTileStats");
    }
  }
}

// dh: [N, H] in the compute dtype (output). grad_entropy may be null (g2 = 0). The policy accumulates dW.
// workspace: LmHeadWorkspaceBytes(..., true).
template <typename Scalar, typename Gemm>
void LmHeadBackward(const LmHeadShape& shape, const LmHeadPlan& plan, float temperature, const int64_t* targets,
                    const float* lse, const float* entropy, const float* grad_logprobs, const float* grad_entropy, Gemm& gemm,
                    void* workspace, Scalar* dh, cudaStream_t stream) {
  if (!(temperature > 0.f)) throw std::invalid_argument("LM head: temperature must be > 0");
  const LmHeadWorkspace ws = CarveLmHeadWorkspace(workspace, plan, shape, sizeof(Scalar), true);
  Scalar* dz = static_cast<Scalar*>(ws.dz);
  const float inv_t = 1.f / temperature;
  for (int64_t t0 = 0; t0 < shape.tokens; t0 += plan.token_chunk) {
    const int64_t n = std::min(plan.token_chunk, shape.tokens - t0);
    // fp32 outputs accumulate in place; other dtypes go through the fp32 accumulator.
    float* dh_acc = std::is_same<Scalar, float>::value ? reinterpret_cast<float*>(dh) + t0 * shape.hidden : ws.dh;
    for (int64_t v0 = 0; v0 < shape.vocab; v0 += plan.vocab_chunk) {
      const int64_t w = std::min(plan.vocab_chunk, shape.vocab - v0);
      gemm.Logits(t0, n, v0, w, ws.z);
      auto kernel = TileVectorizable(w) ? LmHeadTileGrad<Scalar, true> : LmHeadTileGrad<Scalar, false>;
      kernel<<<static_cast<unsigned>(n), kLmHeadThreads, 0, stream>>>(ws.z, w, v0, targets + t0, lse + t0, entropy + t0,
                                                                     grad_logprobs + t0, grad_entropy ? grad_entropy + t0 : nullptr,
                                                                     inv_t, dz);
      SIRI_CUDA_CHECK_LAUNCH("LmHeadTileGrad");
      gemm.HiddenGrad(t0, n, v0, w, dz, dh_acc, /*accumulate=*/v0 > 0);
      gemm.WeightGrad(t0, n, v0, w, dz);
    }
    if (!std::is_same<Scalar, float>::value) {
      const int64_t count = n * shape.hidden;
      const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(CeilDiv(count, 256), 4096));
      ConvertRows<Scalar><<<blocks, 256, 0, stream>>>(ws.dh, dh + t0 * shape.hidden, count);
      SIRI_CUDA_CHECK_LAUNCH("ConvertRows");
    }
  }
}

}  // namespace siri::cuda::raw
