// Fused trunk ops (see fused_ops.h): RMSNorm, SwiGLU and the q|k|v split + RoPE with analytic backward
// passes, and the self-check of every fused kernel. CPU kernels are plain loops over rows, parallel over
// rows with at::parallel_for (each row computed by one thread in a fixed order, so results do not depend on
// the thread count), compiled for AVX-512, AVX2 and baseline x86-64 with run-time dispatch (target_clones).
// Decode attention and the LM head's softmax statistics are in fused_ops_attention_head.cc.
// Backward formulas:
//   RMSNorm: xh = x r, r = (mean x^2 + eps)^-1/2, g = dy w:  dx = r (g - xh * mean(g xh)),  dw = sum_rows dy xh
//   SwiGLU:  s = sigmoid(a), y = a s b:  da = dy b s (1 + a (1 - s)),  db = dy a s
//   RoPE:    the rotation is orthogonal, so the backward rotates by -angle: (d1 cos + d2 sin, d2 cos - d1 sin)
#include "fused_ops.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <functional>

#include "fused_ops_internal.h"

namespace siri {
namespace {

using namespace fused_detail;  // NOLINT
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---------- RMSNorm ----------

SIRI_MULTIVERSION void RmsNormRows(const float* x, const float* w, float* y, float* rstd, int64_t begin, int64_t end,
                                   int64_t H, float eps) {
  for (int64_t r = begin; r < end; ++r) {
    const float* xr = x + r * H;
    float* yr = y + r * H;
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= H; i += 16) {
      for (int j = 0; j < 16; ++j) acc[j] += xr[i + j] * xr[i + j];
    }
    float ss = 0;
    for (int j = 0; j < 16; ++j) ss += acc[j];
    for (; i < H; ++i) ss += xr[i] * xr[i];
    const float rs = 1.0f / std::sqrt(ss / static_cast<float>(H) + eps);
    rstd[r] = rs;
    for (int64_t k = 0; k < H; ++k) yr[k] = w[k] * (xr[k] * rs);
  }
}

// dx rows in [begin, end); the dw contribution of these rows is added to dw_partial [H].
SIRI_MULTIVERSION void RmsNormBackwardRows(const float* dy, const float* x, const float* rstd, const float* w, float* dx,
                                           float* dw_partial, int64_t begin, int64_t end, int64_t H) {
  for (int64_t r = begin; r < end; ++r) {
    const float* dyr = dy + r * H;
    const float* xr = x + r * H;
    float* dxr = dx + r * H;
    const float rs = rstd[r];
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= H; i += 16) {
      for (int j = 0; j < 16; ++j) acc[j] += dyr[i + j] * w[i + j] * xr[i + j];
    }
    float dot = 0;
    for (int j = 0; j < 16; ++j) dot += acc[j];
    for (; i < H; ++i) dot += dyr[i] * w[i] * xr[i];
    dot *= rs;  // sum g * xh
    const float c = dot / static_cast<float>(H);
    for (int64_t k = 0; k < H; ++k) {
      const float xh = xr[k] * rs;
      dxr[k] = rs * (dyr[k] * w[k] - xh * c);
      dw_partial[k] += dyr[k] * xh;
    }
  }
}

struct RmsNormFn : public torch::autograd::Function<RmsNormFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x_in, const at::Tensor& w_in, double eps) {
    const at::Tensor x = x_in.contiguous();
    const at::Tensor w = w_in.contiguous();
    const int64_t H = x.size(-1);
    const int64_t rows = x.numel() / H;
    at::Tensor y = at::empty_like(x);
    at::Tensor rstd = at::empty({rows}, x.options());
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    float* rp = rstd.data_ptr<float>();
    at::parallel_for(0, rows, kRowGrain, [&](int64_t b, int64_t e) { RmsNormRows(xp, wp, yp, rp, b, e, H, static_cast<float>(eps)); });
    ctx->save_for_backward({x, w, rstd});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& w = saved[1];
    const at::Tensor& rstd = saved[2];
    const at::Tensor dy = grads[0].contiguous();
    const int64_t H = x.size(-1);
    const int64_t rows = x.numel() / H;
    at::Tensor dx = at::empty_like(x);
    // Fixed blocks of rows, each with its own dw partial, reduced in block order: deterministic.
    constexpr int64_t kBlock = 64;
    const int64_t blocks = (rows + kBlock - 1) / kBlock;
    at::Tensor partial = at::zeros({blocks, H}, x.options());
    const float* dyp = dy.data_ptr<float>();
    const float* xp = x.data_ptr<float>();
    const float* rp = rstd.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    float* dxp = dx.data_ptr<float>();
    float* pp = partial.data_ptr<float>();
    at::parallel_for(0, blocks, 1, [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        RmsNormBackwardRows(dyp, xp, rp, wp, dxp, pp + blk * H, blk * kBlock, std::min(rows, (blk + 1) * kBlock), H);
      }
    });
    at::Tensor dw = partial.sum(0);
    return {dx, dw, at::Tensor()};
  }
};

// ---------- SwiGLU ----------

SIRI_MULTIVERSION void SwiGluRows(const float* gu, float* y, int64_t begin, int64_t end, int64_t I) {
  for (int64_t r = begin; r < end; ++r) {
    const float* a = gu + r * 2 * I;
    const float* b = a + I;
    float* yr = y + r * I;
    for (int64_t k = 0; k < I; ++k) yr[k] = a[k] / (1.0f + FastExp(-a[k])) * b[k];
  }
}

SIRI_MULTIVERSION void SwiGluBackwardRows(const float* dy, const float* gu, float* dgu, int64_t begin, int64_t end, int64_t I) {
  for (int64_t r = begin; r < end; ++r) {
    const float* __restrict a = gu + r * 2 * I;
    const float* __restrict b = a + I;
    const float* __restrict d = dy + r * I;
    float* __restrict da = dgu + r * 2 * I;
    float* __restrict db = da + I;
    for (int64_t k = 0; k < I; ++k) {
      const float s = 1.0f / (1.0f + FastExp(-a[k]));
      const float silu = a[k] * s;
      da[k] = d[k] * b[k] * (s + silu * (1.0f - s));
      db[k] = d[k] * silu;
    }
  }
}

struct SwiGluFn : public torch::autograd::Function<SwiGluFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& gu_in) {
    const at::Tensor gu = gu_in.contiguous();
    const int64_t I = gu.size(-1) / 2;
    const int64_t rows = gu.numel() / (2 * I);
    std::vector<int64_t> shape(gu.sizes().begin(), gu.sizes().end());
    shape.back() = I;
    at::Tensor y = at::empty(shape, gu.options());
    const float* gp = gu.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    at::parallel_for(0, rows, kRowGrain, [&](int64_t b, int64_t e) { SwiGluRows(gp, yp, b, e, I); });
    ctx->save_for_backward({gu});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor gu = ctx->get_saved_variables()[0];
    const at::Tensor dy = grads[0].contiguous();
    const int64_t I = gu.size(-1) / 2;
    const int64_t rows = gu.numel() / (2 * I);
    at::Tensor dgu = at::empty_like(gu);
    const float* dyp = dy.data_ptr<float>();
    const float* gp = gu.data_ptr<float>();
    float* dp = dgu.data_ptr<float>();
    at::parallel_for(0, rows, kRowGrain, [&](int64_t b, int64_t e) { SwiGluBackwardRows(dyp, gp, dp, b, e, I); });
    return {dgu};
  }
};

// ---------- q|k|v split + RoPE ----------

struct QkvShape {
  int64_t B, L, nh, kvh, hd;
  int64_t C() const { return (nh + 2 * kvh) * hd; }
};

// Rows are (b, t) pairs; each row scatters its heads into the [B, heads, L, hd] outputs.
SIRI_MULTIVERSION void QkvRopeRows(const float* qkv, const float* cos, const float* sin, float* q, float* k, float* v,
                                   const QkvShape s, int64_t begin, int64_t end, bool backward) {
  const int64_t half = s.hd / 2;
  for (int64_t row = begin; row < end; ++row) {
    const int64_t b = row / s.L, t = row % s.L;
    const float* c = cos + t * half;
    const float* sn = sin + t * half;
    const float* src = qkv + row * s.C();
    auto rotate = [&](const float* x, float* out) {
      // forward: (x1 c - x2 s, x2 c + x1 s); backward (transpose): (x1 c + x2 s, x2 c - x1 s)
      const float sign = backward ? -1.0f : 1.0f;
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = x[i], x2 = x[half + i];
        out[i] = x1 * c[i] - sign * x2 * sn[i];
        out[half + i] = x2 * c[i] + sign * x1 * sn[i];
      }
    };
    for (int64_t h = 0; h < s.nh; ++h) rotate(src + h * s.hd, q + ((b * s.nh + h) * s.L + t) * s.hd);
    for (int64_t h = 0; h < s.kvh; ++h) rotate(src + (s.nh + h) * s.hd, k + ((b * s.kvh + h) * s.L + t) * s.hd);
    for (int64_t h = 0; h < s.kvh; ++h) {
      const float* x = src + (s.nh + s.kvh + h) * s.hd;
      float* out = v + ((b * s.kvh + h) * s.L + t) * s.hd;
      for (int64_t i = 0; i < s.hd; ++i) out[i] = x[i];
    }
  }
}

// The backward gathers dq/dk/dv back into the fused layout (same loop with the roles of in/out swapped).
SIRI_MULTIVERSION void QkvRopeBackwardRows(const float* dq, const float* dk, const float* dv, const float* cos,
                                           const float* sin, float* dqkv, const QkvShape s, int64_t begin, int64_t end) {
  const int64_t half = s.hd / 2;
  for (int64_t row = begin; row < end; ++row) {
    const int64_t b = row / s.L, t = row % s.L;
    const float* c = cos + t * half;
    const float* sn = sin + t * half;
    float* dst = dqkv + row * s.C();
    auto unrotate = [&](const float* d, float* out) {
      for (int64_t i = 0; i < half; ++i) {
        const float d1 = d[i], d2 = d[half + i];
        out[i] = d1 * c[i] + d2 * sn[i];
        out[half + i] = d2 * c[i] - d1 * sn[i];
      }
    };
    for (int64_t h = 0; h < s.nh; ++h) unrotate(dq + ((b * s.nh + h) * s.L + t) * s.hd, dst + h * s.hd);
    for (int64_t h = 0; h < s.kvh; ++h) unrotate(dk + ((b * s.kvh + h) * s.L + t) * s.hd, dst + (s.nh + h) * s.hd);
    for (int64_t h = 0; h < s.kvh; ++h) {
      const float* d = dv + ((b * s.kvh + h) * s.L + t) * s.hd;
      float* out = dst + (s.nh + s.kvh + h) * s.hd;
      for (int64_t i = 0; i < s.hd; ++i) out[i] = d[i];
    }
  }
}

struct QkvRopeFn : public torch::autograd::Function<QkvRopeFn> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& qkv_in, const at::Tensor& cos_in,
                               const at::Tensor& sin_in, int64_t nh, int64_t kvh, int64_t hd) {
    const at::Tensor qkv = qkv_in.contiguous();
    const QkvShape s{qkv.size(0), qkv.size(1), nh, kvh, hd};
    const at::Tensor cos = cos_in.contiguous();
    const at::Tensor sin = sin_in.contiguous();
    at::Tensor q = at::empty({s.B, nh, s.L, hd}, qkv.options());
    at::Tensor k = at::empty({s.B, kvh, s.L, hd}, qkv.options());
    at::Tensor v = at::empty({s.B, kvh, s.L, hd}, qkv.options());
    const float* src = qkv.data_ptr<float>();
    const float* cp = cos.data_ptr<float>();
    const float* sp = sin.data_ptr<float>();
    float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
    at::parallel_for(0, s.B * s.L, kRowGrain, [&](int64_t b, int64_t e) { QkvRopeRows(src, cp, sp, qp, kp, vp, s, b, e, false); });
    ctx->save_for_backward({cos, sin});
    ctx->saved_data["B"] = s.B;
    ctx->saved_data["L"] = s.L;
    ctx->saved_data["nh"] = nh;
    ctx->saved_data["kvh"] = kvh;
    ctx->saved_data["hd"] = hd;
    return {q, k, v};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const QkvShape s{ctx->saved_data["B"].toInt(), ctx->saved_data["L"].toInt(), ctx->saved_data["nh"].toInt(),
                     ctx->saved_data["kvh"].toInt(), ctx->saved_data["hd"].toInt()};
    const at::TensorOptions opts = saved[0].options();
    auto grad_or_zeros = [&](const at::Tensor& g, int64_t heads) {
      return g.defined() ? g.contiguous() : at::zeros({s.B, heads, s.L, s.hd}, opts);
    };
    const at::Tensor dq = grad_or_zeros(grads[0], s.nh);
    const at::Tensor dk = grad_or_zeros(grads[1], s.kvh);
    const at::Tensor dv = grad_or_zeros(grads[2], s.kvh);
    at::Tensor dqkv = at::empty({s.B, s.L, s.C()}, opts);
    const float* cp = saved[0].data_ptr<float>();
    const float* sp = saved[1].data_ptr<float>();
    const float *dqp = dq.data_ptr<float>(), *dkp = dk.data_ptr<float>(), *dvp = dv.data_ptr<float>();
    float* out = dqkv.data_ptr<float>();
    at::parallel_for(0, s.B * s.L, kRowGrain, [&](int64_t b, int64_t e) { QkvRopeBackwardRows(dqp, dkp, dvp, cp, sp, out, s, b, e); });
    return {dqkv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor RopeComposite(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor x1 = x.narrow(-1, 0, half);
  const at::Tensor x2 = x.narrow(-1, half, half);
  return at::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

at::Tensor RmsNormComposite(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor xf = x.to(at::kFloat);
  return weight * (xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps)).to(x.scalar_type());
}

at::Tensor SwiGluComposite(const at::Tensor& gate_up) {
  const int64_t I = gate_up.size(-1) / 2;
  return at::silu(gate_up.narrow(-1, 0, I)) * gate_up.narrow(-1, I, I);
}

std::vector<at::Tensor> QkvRopeComposite(const at::Tensor& qkv, const at::Tensor& c, const at::Tensor& s, int64_t nh,
                                         int64_t kvh, int64_t hd) {
  const int64_t B = qkv.size(0), L = qkv.size(1);
  const at::Tensor q = qkv.narrow(-1, 0, nh * hd).view({B, L, nh, hd}).transpose(1, 2);
  const at::Tensor k = qkv.narrow(-1, nh * hd, kvh * hd).view({B, L, kvh, hd}).transpose(1, 2);
  const at::Tensor v = qkv.narrow(-1, (nh + kvh) * hd, kvh * hd).view({B, L, kvh, hd}).transpose(1, 2);
  return {RopeComposite(q, c, s), RopeComposite(k, c, s), v};
}

}  // namespace

at::Tensor FusedRmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  if (UseCpuKernel(x) && UseCpuKernel(weight)) return RmsNormFn::apply(x, weight, eps);
  return RmsNormComposite(x, weight, eps);
}

at::Tensor FusedSwiGlu(const at::Tensor& gate_up) {
  if (UseCpuKernel(gate_up)) return SwiGluFn::apply(gate_up);
  return SwiGluComposite(gate_up);
}

std::vector<at::Tensor> FusedQkvRope(const at::Tensor& qkv, const at::Tensor& cos, const at::Tensor& sin,
                                     int64_t num_heads, int64_t num_kv_heads, int64_t head_dim) {
  const int64_t L = qkv.size(1);
  const at::Tensor c = cos.narrow(0, 0, L);
  const at::Tensor s = sin.narrow(0, 0, L);
  if (UseCpuKernel(qkv) && UseCpuKernel(c)) return QkvRopeFn::apply(qkv, c, s, num_heads, num_kv_heads, head_dim);
  return QkvRopeComposite(qkv, c, s, num_heads, num_kv_heads, head_dim);
}

std::vector<std::pair<std::string, double>> FusedOpsSelfCheck(uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto randn = [&](at::IntArrayRef shape) { return at::randn(shape, gen, at::kFloat); };
  std::vector<std::pair<std::string, double>> out;
  // Runs fused and composite forward + backward with the same upstream gradient; compares outputs and grads.
  auto compare = [&](const std::string& name, const std::vector<at::Tensor>& inputs,
                     const std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>&)>& fused,
                     const std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>&)>& composite) {
    std::vector<at::Tensor> a, b;
    for (const auto& t : inputs) {
      a.push_back(t.clone().set_requires_grad(true));
      b.push_back(t.clone().set_requires_grad(true));
    }
    const auto ya = fused(a);
    const auto yb = composite(b);
    at::Tensor la = at::zeros({}, at::kFloat), lb = at::zeros({}, at::kFloat);
    for (size_t i = 0; i < ya.size(); ++i) {
      out.emplace_back(name + " output " + std::to_string(i), RelErr(ya[i], yb[i]));
      const at::Tensor up = randn(ya[i].sizes());
      la = la + (ya[i] * up).sum();
      lb = lb + (yb[i] * up).sum();
    }
    la.backward();
    lb.backward();
    for (size_t i = 0; i < a.size(); ++i) out.emplace_back(name + " grad " + std::to_string(i), RelErr(a[i].grad(), b[i].grad()));
  };
  for (const int64_t H : {37, 64}) {
    compare("rmsnorm H=" + std::to_string(H), {randn({3, 5, H}), randn({H}) + 1},
            [](const std::vector<at::Tensor>& v) { return std::vector<at::Tensor>{RmsNormFn::apply(v[0], v[1], 1e-6)}; },
            [](const std::vector<at::Tensor>& v) { return std::vector<at::Tensor>{RmsNormComposite(v[0], v[1], 1e-6)}; });
  }
  compare("swiglu", {randn({3, 5, 2 * 37}) * 3},
          [](const std::vector<at::Tensor>& v) { return std::vector<at::Tensor>{SwiGluFn::apply(v[0])}; },
          [](const std::vector<at::Tensor>& v) { return std::vector<at::Tensor>{SwiGluComposite(v[0])}; });
  const int64_t nh = 4, kvh = 2, hd = 8, L = 5;
  const at::Tensor angles = at::outer(at::arange(L).to(at::kFloat), randn({hd / 2}));
  const at::Tensor c = angles.cos(), s = angles.sin();
  compare("qkv+rope", {randn({3, L, (nh + 2 * kvh) * hd})},
          [&](const std::vector<at::Tensor>& v) { return QkvRopeFn::apply(v[0], c, s, nh, kvh, hd); },
          [&](const std::vector<at::Tensor>& v) { return QkvRopeComposite(v[0], c, s, nh, kvh, hd); });
  SelfCheckAttentionAndHead(gen, out);
  return out;
}

}  // namespace siri
