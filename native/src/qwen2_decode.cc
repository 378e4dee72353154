// The generation half of Qwen2Model (qwen2.h): the static KV cache with per-row lengths, the prefill of
// left-padded prompts into it and the one-token decode step. Rows decode at their own positions, so
// sequences of different lengths share a batch and a finished row's slot can take a new prompt
// (continuous batching, generate.cc). Same math as the full forward in qwen2.cc.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "fused_ops.h"
#include "qwen2.h"

namespace siri {
namespace {

at::Tensor IndexTensor(const std::vector<int64_t>& values, const c10::Device& device) {
  return at::tensor(at::ArrayRef<int64_t>(values), at::kLong).to(device);
}

// RoPE on x [..., hd] with cos/sin broadcastable to [..., hd/2] (transformers' rotate_half convention):
//   out = [x1*cos - x2*sin, x2*cos + x1*sin],  x1 = x[..., :hd/2], x2 = x[..., hd/2:]
// (Prefill/decode: per-row positions; the training path uses FusedQkvRope.)
at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor x1 = x.narrow(-1, 0, half);
  const at::Tensor x2 = x.narrow(-1, half, half);
  return at::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

}  // namespace

void KVCache::SelectRows(const std::vector<int64_t>& rows) {
  const at::Tensor index = IndexTensor(rows, key_bias.device());
  for (auto& t : k) t = t.index_select(0, index);
  for (auto& t : v) t = t.index_select(0, index);
  key_bias = key_bias.index_select(0, index);
  std::vector<int64_t> lengths;
  std::vector<uint8_t> parks;
  for (int64_t r : rows) {
    lengths.push_back(row_length[static_cast<size_t>(r)]);
    parks.push_back(parked[static_cast<size_t>(r)]);
  }
  row_length = std::move(lengths);
  parked = std::move(parks);
}

void KVCache::AdmitRows(const KVCache& src, const std::vector<int64_t>& src_rows, const std::vector<int64_t>& dst_rows) {
  TORCH_CHECK(src_rows.size() == dst_rows.size(), "AdmitRows: row lists differ in length");
  TORCH_CHECK(src.capacity <= capacity, "AdmitRows: source rows longer than the cache");
  const c10::Device device = key_bias.device();
  const at::Tensor from = IndexTensor(src_rows, device);
  const at::Tensor to = IndexTensor(dst_rows, device);
  const int64_t n = src.capacity;
  for (size_t l = 0; l < k.size(); ++l) {
    k[l].narrow(2, 0, n).index_copy_(0, to, src.k[l].index_select(0, from));
    v[l].narrow(2, 0, n).index_copy_(0, to, src.v[l].index_select(0, from));
  }
  at::Tensor bias = at::full({static_cast<int64_t>(dst_rows.size()), 1, 1, capacity},
                             -std::numeric_limits<float>::infinity(), key_bias.options());
  bias.narrow(3, 0, n).copy_(src.key_bias.index_select(0, from));
  key_bias.index_copy_(0, to, bias);
  for (size_t i = 0; i < dst_rows.size(); ++i) {
    row_length[static_cast<size_t>(dst_rows[i])] = src.row_length[static_cast<size_t>(src_rows[i])];
    parked[static_cast<size_t>(dst_rows[i])] = 0;
  }
}

void KVCache::ParkRows(const std::vector<int64_t>& rows) {
  if (rows.empty()) return;
  const at::Tensor index = IndexTensor(rows, key_bias.device());
  // Only column 0 stays visible, so the row's (ignored) attention stays finite.
  at::Tensor bias = at::full({static_cast<int64_t>(rows.size()), 1, 1, capacity}, -std::numeric_limits<float>::infinity(),
                             key_bias.options());
  bias.narrow(3, 0, 1).zero_();
  key_bias.index_copy_(0, index, bias);
  for (int64_t r : rows) {
    row_length[static_cast<size_t>(r)] = 0;
    parked[static_cast<size_t>(r)] = 1;
  }
}

KVCache Qwen2Model::NewCache(int64_t batch, int64_t capacity, at::ScalarType dtype) const {
  KVCache cache;
  const auto opts = at::TensorOptions().dtype(at::kFloat).device(device_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    cache.k.push_back(at::zeros({batch, config_.num_key_value_heads, capacity, config_.head_dim}, opts.dtype(dtype)));
    cache.v.push_back(at::zeros({batch, config_.num_key_value_heads, capacity, config_.head_dim}, opts.dtype(dtype)));
  }
  cache.key_bias = at::full({batch, 1, 1, capacity}, -std::numeric_limits<float>::infinity(), opts);
  cache.capacity = capacity;
  cache.row_length.assign(static_cast<size_t>(batch), 0);
  cache.parked.assign(static_cast<size_t>(batch), 0);
  return cache;
}

at::Tensor Qwen2Model::Prefill(const at::Tensor& ids, const at::Tensor& pad, bool padded, int64_t row_offset,
                               KVCache& cache) {
  c10::NoGradGuard no_grad;
  EnsureFused();
  const int64_t B = ids.size(0), P = ids.size(1);
  const int64_t nh = config_.num_attention_heads, kvh = config_.num_key_value_heads, hd = config_.head_dim;
  TORCH_CHECK(P <= cache.capacity, "prompt longer than the KV cache");
  TORCH_CHECK(row_offset + B <= cache.k[0].size(0), "prefill rows outside the KV cache");
  EnsureRope(cache.capacity);
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  const auto long_opts = at::TensorOptions().dtype(at::kLong).device(device_);
  at::Tensor key_bias = cache.key_bias.narrow(0, row_offset, B);
  key_bias.fill_(-std::numeric_limits<float>::infinity());
  key_bias.narrow(3, 0, P).zero_();
  // Left padding: rope positions count real tokens only (the first real token is position 0, as
  // transformers' position_ids = cumsum(attention_mask) - 1), and an explicit mask hides padding keys.
  at::Tensor cos, sin, allowed;
  if (padded) {
    const at::Tensor col = at::arange(P, long_opts).unsqueeze(0);  // [1, P]
    const at::Tensor pad_col = pad.unsqueeze(1);                    // [B, 1]
    const at::Tensor positions = (col - pad_col).clamp_min(0);      // [B, P]
    cos = rope_cos_.index_select(0, positions.reshape(-1)).view({B, 1, P, hd / 2});
    sin = rope_sin_.index_select(0, positions.reshape(-1)).view({B, 1, P, hd / 2});
    // Query i sees key j when j <= i and j is a real token; padding queries see themselves (keeps rows finite).
    const at::Tensor causal = col.transpose(0, 1) >= col;             // [P, P] (i, j)
    const at::Tensor key_real = (col >= pad_col).view({B, 1, 1, P});  // [B,1,1,P]
    const at::Tensor diag = at::eye(P, at::TensorOptions().dtype(at::kBool).device(device_));
    allowed = (causal.view({1, 1, P, P}) & key_real) | diag.view({1, 1, P, P});
    key_bias.narrow(3, 0, P).masked_fill_(~key_real, -std::numeric_limits<float>::infinity());
  }
  at::Tensor x = at::embedding(embed_, ids);
  for (size_t li = 0; li < layers_.size(); ++li) {
    const Qwen2Layer& layer = layers_[li];
    const at::Tensor qkv = Gemm(RmsNorm(x, layer.input_norm), fused_qkv_w_[li], fused_qkv_b_[li]);
    at::Tensor q, k, v;
    if (padded) {
      q = ApplyRope(qkv.narrow(-1, 0, nh * hd).view({B, P, nh, hd}).transpose(1, 2), cos, sin);
      k = ApplyRope(qkv.narrow(-1, nh * hd, kvh * hd).view({B, P, kvh, hd}).transpose(1, 2), cos, sin);
      v = qkv.narrow(-1, (nh + kvh) * hd, kvh * hd).view({B, P, kvh, hd}).transpose(1, 2);
    } else {
      const std::vector<at::Tensor> heads = FusedQkvRope(qkv, rope_cos_, rope_sin_, nh, kvh, hd);
      q = heads[0];
      k = heads[1];
      v = heads[2];
    }
    cache.k[li].narrow(0, row_offset, B).narrow(2, 0, P).copy_(k);
    cache.v[li].narrow(0, row_offset, B).narrow(2, 0, P).copy_(v);
    const at::Tensor attn = padded ? Attention(q, k, v, allowed, /*causal=*/false, scale)
                                   : Attention(q, k, v, at::Tensor(), /*causal=*/true, scale);
    x = x + Gemm(attn.transpose(1, 2).reshape({B, P, nh * hd}), fused_o_w_[li]);
    const at::Tensor gu = Gemm(RmsNorm(x, layer.post_norm), fused_gate_up_w_[li]);
    x = x + Gemm(FusedSwiGlu(gu), fused_down_w_[li]);
  }
  for (int64_t r = row_offset; r < row_offset + B; ++r) {
    cache.row_length[static_cast<size_t>(r)] = P;
    cache.parked[static_cast<size_t>(r)] = 0;
  }
  return RmsNorm(x.select(1, P - 1), final_norm_);
}

at::Tensor Qwen2Model::DecodeStep(const at::Tensor& tokens, const at::Tensor& positions, KVCache& cache,
                                  const std::vector<int64_t>& rows) {
  c10::NoGradGuard no_grad;
  EnsureFused();
  const int64_t n = tokens.size(0);
  const int64_t nh = config_.num_attention_heads, kvh = config_.num_key_value_heads, hd = config_.head_dim;
  const bool every_row = rows.empty();
  TORCH_CHECK(every_row ? n == cache.rows() : n == static_cast<int64_t>(rows.size()), "DecodeStep: ", n,
              " tokens for ", every_row ? cache.rows() : static_cast<int64_t>(rows.size()), " cache rows");
  // The column each token is written to; when every row writes the same one (one prefill group, no parked
  // row) a slice copy does, otherwise an indexed write.
  std::vector<int64_t> row(static_cast<size_t>(n)), column(static_cast<size_t>(n));
  bool uniform = every_row;
  int64_t span = 0;  // columns the attention reads: [0, span)
  for (int64_t i = 0; i < n; ++i) {
    const size_t r = static_cast<size_t>(every_row ? i : rows[static_cast<size_t>(i)]);
    TORCH_CHECK(r < cache.row_length.size(), "DecodeStep: cache row ", r, " out of range");
    row[static_cast<size_t>(i)] = static_cast<int64_t>(r);
    column[static_cast<size_t>(i)] = cache.parked[r] ? 0 : cache.row_length[r];
    TORCH_CHECK(column[static_cast<size_t>(i)] < cache.capacity, "KV cache full");
    uniform = uniform && column[static_cast<size_t>(i)] == column[0];
    span = std::max(span, column[static_cast<size_t>(i)] + 1);
  }
  at::Tensor row_index, column_index;
  if (!uniform) {
    row_index = IndexTensor(row, device_);
    column_index = IndexTensor(column, device_);
  }
  const at::Tensor attend_rows = every_row ? at::Tensor() : row_index;
  EnsureRope(cache.capacity);
  const at::Tensor cos = rope_cos_.index_select(0, positions).view({n, 1, hd / 2});
  const at::Tensor sin = rope_sin_.index_select(0, positions).view({n, 1, hd / 2});
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  using at::indexing::Slice;
  if (uniform) {
    cache.key_bias.select(3, column[0]).zero_();
  } else {
    cache.key_bias.index_put_({row_index, 0, 0, column_index}, 0.0);
  }
  at::Tensor x = at::embedding(embed_, tokens);  // [n, H]
  for (size_t li = 0; li < layers_.size(); ++li) {
    const Qwen2Layer& layer = layers_[li];
    const at::Tensor h = RmsNorm(x, layer.input_norm);
    const at::Tensor qkv = Gemm(h, fused_qkv_w_[li], fused_qkv_b_[li]);  // [n, (nh+2kvh)*hd]
    const at::Tensor q = ApplyRope(qkv.narrow(-1, 0, nh * hd).view({n, nh, hd}), cos, sin);
    const at::Tensor k = ApplyRope(qkv.narrow(-1, nh * hd, kvh * hd).view({n, kvh, hd}), cos, sin);
    const at::Tensor v = qkv.narrow(-1, (nh + kvh) * hd, kvh * hd).view({n, kvh, hd});
    if (uniform) {
      cache.k[li].select(2, column[0]).copy_(k);
      cache.v[li].select(2, column[0]).copy_(v);
    } else {  // element (row_index[i], :, column_index[i], :) = k[i]
      cache.k[li].index_put_({row_index, Slice(), column_index}, k.to(cache.k[li].scalar_type()));
      cache.v[li].index_put_({row_index, Slice(), column_index}, v.to(cache.v[li].scalar_type()));
    }
    const at::Tensor attn =
        DecodeAttention(q, cache.k[li], cache.v[li], span, cache.key_bias, scale, attend_rows);  // [n, nh*hd]
    x = x + Gemm(attn, fused_o_w_[li]);
    const at::Tensor gu = Gemm(RmsNorm(x, layer.post_norm), fused_gate_up_w_[li]);
    x = x + Gemm(FusedSwiGlu(gu), fused_down_w_[li]);
  }
  for (int64_t r : row) {
    if (!cache.parked[static_cast<size_t>(r)]) ++cache.row_length[static_cast<size_t>(r)];
  }
  return RmsNorm(x, final_norm_);
}

}  // namespace siri
