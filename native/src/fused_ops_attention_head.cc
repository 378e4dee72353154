// Fused ops at the two ends of generation and scoring (see fused_ops.h): grouped-query attention of one
// decode step over the static KV cache (rows of different lengths, optional row map) and the LM head's
// softmax statistics (lse, log p(target), entropy) with their backward, each a CPU kernel plus the ATen
// composition other devices use, and their part of the self-check. Conventions as in fused_ops.cc.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "fused_ops.h"
#include "fused_ops_internal.h"

namespace siri {
namespace {

using namespace fused_detail;  // NOLINT

// ---------- softmax statistics of the LM head ----------

// With d_k = m - z_k >= 0 (m = max z), e_k = exp(-d_k), s = sum e_k:  lse = m + log s,
// H = sum_k (e_k / s)(d_k + log s) = (sum e_k d_k) / s + log s   (all terms >= 0: no cancellation).
SIRI_MULTIVERSION void SoftmaxStatsRows(const float* logits, const int64_t* targets, float* lse, float* logp, float* entropy,
                                        int64_t V, float inv_t, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* __restrict z = logits + r * V;
    float mx[16];
    for (int j = 0; j < 16; ++j) mx[j] = -INFINITY;
    int64_t k = 0;
    for (; k + 16 <= V; k += 16) {
      for (int j = 0; j < 16; ++j) mx[j] = z[k + j] > mx[j] ? z[k + j] : mx[j];
    }
    float m = -INFINITY;
    for (int j = 0; j < 16; ++j) m = mx[j] > m ? mx[j] : m;
    for (; k < V; ++k) m = z[k] > m ? z[k] : m;
    m *= inv_t;
    float se[16] = {0}, sd[16] = {0};
    k = 0;
    for (; k + 16 <= V; k += 16) {
      for (int j = 0; j < 16; ++j) {
        const float d = m - z[k + j] * inv_t;
        const float e = FastExp(-d);
        se[j] += e;
        sd[j] += e * d;
      }
    }
    float s = 0, sdd = 0;
    for (int j = 0; j < 16; ++j) {
      s += se[j];
      sdd += sd[j];
    }
    for (; k < V; ++k) {
      const float d = m - z[k] * inv_t;
      const float e = FastExp(-d);
      s += e;
      sdd += e * d;
    }
    const float log_s = std::log(s);
    lse[r] = m + log_s;
    entropy[r] = sdd / s + log_s;
    logp[r] = z[targets[r]] * inv_t - lse[r];
  }
}

SIRI_MULTIVERSION void SoftmaxStatsBackwardRows(float* logits, const int64_t* targets, const float* lse, const float* entropy,
                                                const float* g1, const float* g2, int64_t V, float inv_t, int64_t begin,
                                                int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    float* __restrict z = logits + r * V;
    const float l = lse[r], h = entropy[r], a = g1[r], b = g2 ? g2[r] : 0.0f;
    for (int64_t k = 0; k < V; ++k) {
      const float logp = z[k] * inv_t - l;
      const float p = FastExp(logp);
      z[k] = -p * (a + b * (logp + h)) * inv_t;
    }
    z[targets[r]] += a * inv_t;
  }
}

// ---------- decode attention ----------

// Rows are (b, kv head) pairs; scratch holds g x length scores.
SIRI_MULTIVERSION void DecodeAttentionRows(const float* q, const float* k, const float* v, const float* bias,
                                           const int64_t* cache_row, float* out, int64_t nh, int64_t kvh, int64_t hd,
                                           int64_t capacity, int64_t length, float scale, int64_t begin, int64_t end,
                                           float* scores) {
  const int64_t groups = nh / kvh;
  for (int64_t row = begin; row < end; ++row) {
    const int64_t b = row / kvh, kh = row % kvh;
    const int64_t cb = cache_row ? cache_row[b] : b;  // the cache row query row b reads
    const float* kb = k + (cb * kvh + kh) * capacity * hd;
    const float* vb = v + (cb * kvh + kh) * capacity * hd;
    const float* biasb = bias + cb * capacity;
    const float* qb = q + (b * nh + kh * groups) * hd;  // the g query heads of this KV head are adjacent
    // Only columns [lo, hi) can weigh anything: rows shorter than `length` (and left padding) are masked at
    // the ends, and a masked key's weight is exactly 0, so leaving them out changes no bit of the result.
    int64_t lo = 0, hi = length;
    while (lo < hi && biasb[lo] == -INFINITY) ++lo;
    while (hi > lo && biasb[hi - 1] == -INFINITY) --hi;
    for (int64_t j = lo; j < hi; ++j) {
      if (biasb[j] == -INFINITY) {  // a masked key (padding, another sequence's column): weight exactly 0
        for (int64_t gi = 0; gi < groups; ++gi) scores[gi * length + j] = -INFINITY;
        continue;
      }
      const float* kj = kb + j * hd;
      for (int64_t gi = 0; gi < groups; ++gi) {
        const float* qg = qb + gi * hd;
        float acc[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= hd; i += 8) {
          for (int l = 0; l < 8; ++l) acc[l] += qg[i + l] * kj[i + l];
        }
        float dot = 0;
        for (int l = 0; l < 8; ++l) dot += acc[l];
        for (; i < hd; ++i) dot += qg[i] * kj[i];
        scores[gi * length + j] = dot * scale + biasb[j];
      }
    }
    for (int64_t gi = 0; gi < groups; ++gi) {
      float* sg = scores + gi * length;
      float mx = -INFINITY;
      for (int64_t j = lo; j < hi; ++j) mx = std::max(mx, sg[j]);
      float total = 0;
      for (int64_t j = lo; j < hi; ++j) {
        sg[j] = std::exp(sg[j] - mx);
        total += sg[j];
      }
      const float inv = 1.0f / total;
      float* o = out + (b * nh + kh * groups + gi) * hd;
      for (int64_t i = 0; i < hd; ++i) o[i] = 0;
      for (int64_t j = lo; j < hi; ++j) {
        if (sg[j] == 0.0f) continue;  // adds exactly nothing (masked or underflowed key)
        const float p = sg[j] * inv;
        const float* vj = vb + j * hd;
        for (int64_t i = 0; i < hd; ++i) o[i] += p * vj[i];
      }
    }
  }
}

at::Tensor DecodeAttentionComposite(const at::Tensor& q, const at::Tensor& k_cache, const at::Tensor& v_cache,
                                    int64_t length, const at::Tensor& key_bias, double scale, const at::Tensor& rows) {
  const int64_t B = q.size(0), nh = q.size(1), hd = q.size(2), kvh = k_cache.size(1);
  at::Tensor keys = k_cache.narrow(2, 0, length);
  at::Tensor values = v_cache.narrow(2, 0, length);
  at::Tensor bias = key_bias.narrow(3, 0, length);
  if (rows.defined()) {
    keys = keys.index_select(0, rows);
    values = values.index_select(0, rows);
    bias = bias.index_select(0, rows);
  }
  const at::Tensor qg = q.reshape({B, kvh, nh / kvh, hd});
  if (keys.scalar_type() != q.scalar_type()) {  // a reduced-precision cache: products in its dtype, softmax in q's
    const at::Tensor scores = at::matmul(qg.to(keys.scalar_type()), keys.transpose(-1, -2)).to(q.scalar_type()).mul(scale).add(bias);
    return at::matmul(at::softmax(scores, -1).to(values.scalar_type()), values).to(q.scalar_type()).reshape({B, nh * hd});
  }
  const at::Tensor scores = at::matmul(qg, keys.transpose(-1, -2)).mul(scale).add(bias);
  return at::matmul(at::softmax(scores, -1), values).reshape({B, nh * hd});
}

SoftmaxStats SoftmaxStatsComposite(const at::Tensor& logits, const at::Tensor& targets, double inv_t) {
  const at::Tensor z = logits.mul(inv_t);
  const at::Tensor lse = at::logsumexp(z, {1}, true);
  const at::Tensor logp_all = z - lse;
  const at::Tensor entropy = -(logp_all.exp() * logp_all).sum(-1);
  return {lse.view({-1}), logp_all.gather(1, targets.view({-1, 1})).view({-1}), entropy};
}

void SoftmaxStatsBackwardComposite(at::Tensor& logits, const at::Tensor& targets, const SoftmaxStats& st,
                                   const at::Tensor& g1, const at::Tensor& g2, double inv_t) {
  const at::Tensor logp_all = logits.mul(inv_t).sub_(st.lse.view({-1, 1}));
  const at::Tensor p = logp_all.exp();
  at::Tensor dz = g2.defined() ? logp_all.add(st.entropy.view({-1, 1})).mul_(g2.view({-1, 1})).add_(g1.view({-1, 1})).mul_(p).neg_()
                               : p.mul(g1.view({-1, 1})).neg_();
  dz.scatter_add_(1, targets.view({-1, 1}), g1.view({-1, 1}));
  logits.copy_(dz.mul_(inv_t));
}

}  // namespace

at::Tensor DecodeAttention(const at::Tensor& q, const at::Tensor& k_cache, const at::Tensor& v_cache, int64_t length,
                           const at::Tensor& key_bias, double scale, const at::Tensor& rows) {
  if (!(UseCpuKernel(q) && UseCpuKernel(k_cache) && k_cache.is_contiguous() && v_cache.is_contiguous() &&
        key_bias.is_contiguous() && (!rows.defined() || (rows.device().is_cpu() && rows.scalar_type() == at::kLong)))) {
    return DecodeAttentionComposite(q, k_cache, v_cache, length, key_bias, scale, rows);
  }
  const at::Tensor rows_c = rows.defined() ? rows.contiguous() : rows;
  const int64_t* cache_row = rows_c.defined() ? rows_c.data_ptr<int64_t>() : nullptr;
  const at::Tensor qc = q.contiguous();
  const int64_t B = qc.size(0), nh = qc.size(1), hd = qc.size(2), kvh = k_cache.size(1), capacity = k_cache.size(2);
  at::Tensor out = at::empty({B, nh * hd}, qc.options());
  const float* qp = qc.data_ptr<float>();
  const float* kp = k_cache.data_ptr<float>();
  const float* vp = v_cache.data_ptr<float>();
  const float* bp = key_bias.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, B * kvh, 1, [&](int64_t b, int64_t e) {
    std::vector<float> scores(static_cast<size_t>((nh / kvh) * length));
    DecodeAttentionRows(qp, kp, vp, bp, cache_row, op, nh, kvh, hd, capacity, length, static_cast<float>(scale), b, e,
                        scores.data());
  });
  return out;
}

SoftmaxStats ComputeSoftmaxStats(const at::Tensor& logits, const at::Tensor& targets, double inv_temperature) {
  if (!(UseCpuKernel(logits) && logits.is_contiguous() && targets.device().is_cpu() && targets.scalar_type() == at::kLong)) {
    return SoftmaxStatsComposite(logits, targets, inv_temperature);
  }
  const int64_t n = logits.size(0), V = logits.size(1);
  const at::Tensor tg = targets.contiguous();
  SoftmaxStats st{at::empty({n}, logits.options()), at::empty({n}, logits.options()), at::empty({n}, logits.options())};
  const float* zp = logits.data_ptr<float>();
  const int64_t* tp = tg.data_ptr<int64_t>();
  float *lp = st.lse.data_ptr<float>(), *gp = st.logp.data_ptr<float>(), *ep = st.entropy.data_ptr<float>();
  at::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
    SoftmaxStatsRows(zp, tp, lp, gp, ep, V, static_cast<float>(inv_temperature), b, e);
  });
  return st;
}

void SoftmaxStatsBackwardInPlace(at::Tensor& logits, const at::Tensor& targets, const SoftmaxStats& stats,
                                 const at::Tensor& g_logp, const at::Tensor& g_entropy, double inv_temperature) {
  if (!(UseCpuKernel(logits) && logits.is_contiguous() && targets.device().is_cpu() && targets.scalar_type() == at::kLong)) {
    SoftmaxStatsBackwardComposite(logits, targets, stats, g_logp, g_entropy, inv_temperature);
    return;
  }
  const int64_t n = logits.size(0), V = logits.size(1);
  const at::Tensor tg = targets.contiguous(), lse = stats.lse.contiguous(), ent = stats.entropy.contiguous();
  const at::Tensor g1 = g_logp.contiguous();
  const at::Tensor g2 = g_entropy.defined() ? g_entropy.contiguous() : at::Tensor();
  float* zp = logits.data_ptr<float>();
  const int64_t* tp = tg.data_ptr<int64_t>();
  const float *lp = lse.data_ptr<float>(), *ep = ent.data_ptr<float>(), *g1p = g1.data_ptr<float>();
  const float* g2p = g2.defined() ? g2.data_ptr<float>() : nullptr;
  at::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
    SoftmaxStatsBackwardRows(zp, tp, lp, ep, g1p, g2p, V, static_cast<float>(inv_temperature), b, e);
  });
}

namespace fused_detail {

void SelfCheckAttentionAndHead(at::Generator& gen, std::vector<std::pair<std::string, double>>& out) {
  auto randn = [&](at::IntArrayRef shape) { return at::randn(shape, gen, at::kFloat); };
  {
    // decode attention: 3 rows, 4 query heads over 2 KV heads, hd 12 (vector tail), 9 of 16 positions,
    // one padding key.
    at::NoGradGuard no_grad;
    const at::Tensor q = randn({3, 4, 12});
    const at::Tensor kc = randn({3, 2, 16, 12}), vc = randn({3, 2, 16, 12});
    at::Tensor bias = at::zeros({3, 1, 1, 16});
    bias.index_put_({1, 0, 0, 0}, -INFINITY);
    out.emplace_back("decode attention output 0", RelErr(DecodeAttention(q, kc, vc, 9, bias, 0.3),
                                                        DecodeAttentionComposite(q, kc, vc, 9, bias, 0.3, {})));
    // two query rows reading cache rows 2 and 0 (rows of different lengths: row 0 masks a middle column)
    bias.index_put_({0, 0, 0, 4}, -INFINITY);
    const at::Tensor rows = at::tensor({int64_t{2}, int64_t{0}}, at::kLong);
    const at::Tensor q2 = q.narrow(0, 0, 2);
    out.emplace_back("decode attention output (row map)", RelErr(DecodeAttention(q2, kc, vc, 9, bias, 0.3, rows),
                                                                 DecodeAttentionComposite(q2, kc, vc, 9, bias, 0.3, rows)));
  }
  {
    // softmax statistics and their backward: 5 rows over 1000 + 7 logits (vector tail), temperature 0.7
    at::NoGradGuard no_grad;
    const at::Tensor logits = randn({5, 1007}) * 4;
    const at::Tensor targets = at::randint(1007, {5}, gen, at::kLong);
    const at::Tensor g1 = randn({5}), g2 = randn({5});
    const double inv_t = 1.0 / 0.7;
    const SoftmaxStats a = ComputeSoftmaxStats(logits, targets, inv_t);
    const SoftmaxStats b = SoftmaxStatsComposite(logits, targets, inv_t);
    out.emplace_back("softmax stats lse", RelErr(a.lse, b.lse));
    out.emplace_back("softmax stats logp", RelErr(a.logp, b.logp));
    out.emplace_back("softmax stats entropy", RelErr(a.entropy, b.entropy));
    at::Tensor da = logits.clone(), db = logits.clone();
    SoftmaxStatsBackwardInPlace(da, targets, a, g1, g2, inv_t);
    SoftmaxStatsBackwardComposite(db, targets, b, g1, g2, inv_t);
    out.emplace_back("softmax stats grad", RelErr(da, db));
  }
}

}  // namespace fused_detail
}  // namespace siri
