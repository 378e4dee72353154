// fp64 CPU reference implementations of the three CUDA kernels (native/src/cuda/*.cuh), written
// independently of them, straight from the formulas: the GPU tests compare every kernel output with these,
// and reference_test.cc checks these against finite differences, hand-computed cases and known answers.
// Plain C++17 (no CUDA): builds with any compiler.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "philox.h"

namespace siri::cuda::ref {

// ---- 1. LM head + log-softmax + gather + entropy --------------------------------------------------------
// z_ik = (Σ_j h_ij W_kj) / T,  lse_i = log Σ_k e^{z_ik},  logp_i = z_{i,y_i} − lse_i,  H_i = −Σ_k p_ik log p_ik.
struct LmHeadForwardRef {
  std::vector<double> logprobs, entropy, lse;
};

inline std::vector<double> Logits(const std::vector<double>& h, const std::vector<double>& w, int64_t n, int64_t hidden,
                                  int64_t vocab, double temperature) {
  std::vector<double> z(static_cast<size_t>(n * vocab));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < vocab; ++k) {
      double acc = 0;
      for (int64_t j = 0; j < hidden; ++j) acc += h[i * hidden + j] * w[k * hidden + j];
      z[i * vocab + k] = acc / temperature;
    }
  return z;
}

inline LmHeadForwardRef LmHeadForward(const std::vector<double>& h, const std::vector<double>& w, const std::vector<int64_t>& y,
                                      int64_t n, int64_t hidden, int64_t vocab, double temperature) {
  const std::vector<double> z = Logits(h, w, n, hidden, vocab, temperature);
  LmHeadForwardRef out;
  for (int64_t i = 0; i < n; ++i) {
    const double* zi = &z[i * vocab];
    const double m = *std::max_element(zi, zi + vocab);
    double s = 0;
    for (int64_t k = 0; k < vocab; ++k) s += std::exp(zi[k] - m);
    const double lse = m + std::log(s);
    double entropy = 0;
    for (int64_t k = 0; k < vocab; ++k) {
      const double logp = zi[k] - lse;
      entropy -= std::exp(logp) * logp;
    }
    out.lse.push_back(lse);
    out.entropy.push_back(entropy);
    out.logprobs.push_back(y[i] >= 0 && y[i] < vocab ? zi[y[i]] - lse : NAN);
  }
  return out;
}

// Gradients of L = Σ_i g1_i·logp_i + g2_i·H_i (g2 empty = 0):
//   dL/dz_ik = g1 (1[k=y] − p_ik) − g2 p_ik (log p_ik + H_i);  dL/dh = (dz/T) W;  dL/dW = (dz/T)ᵀ h.
inline void LmHeadBackward(const std::vector<double>& h, const std::vector<double>& w, const std::vector<int64_t>& y,
                           int64_t n, int64_t hidden, int64_t vocab, double temperature, const std::vector<double>& g1,
                           const std::vector<double>& g2, std::vector<double>& dh, std::vector<double>& dw) {
  const std::vector<double> z = Logits(h, w, n, hidden, vocab, temperature);
  const LmHeadForwardRef fwd = LmHeadForward(h, w, y, n, hidden, vocab, temperature);
  dh.assign(static_cast<size_t>(n * hidden), 0.0);
  dw.assign(static_cast<size_t>(vocab * hidden), 0.0);
  std::vector<double> dz(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < n; ++i) {
    const double g2i = g2.empty() ? 0.0 : g2[i];
    for (int64_t k = 0; k < vocab; ++k) {
      const double logp = z[i * vocab + k] - fwd.lse[i];
      const double p = std::exp(logp);
      dz[k] = (g1[i] * ((k == y[i] ? 1.0 : 0.0) - p) - g2i * p * (logp + fwd.entropy[i])) / temperature;
    }
    for (int64_t k = 0; k < vocab; ++k)
      for (int64_t j = 0; j < hidden; ++j) {
        dh[i * hidden + j] += dz[k] * w[k * hidden + j];
        dw[k * hidden + j] += dz[k] * h[i * hidden + j];
      }
  }
}

// ---- 2. GRPO / DAPO clipped token loss (the math of native/src/loss.cc) ----------------------------------
enum class Aggregation { kTokenMean, kSeqMeanTokenSum, kSeqMeanTokenMean };

struct GrpoOptions {
  double clip_low = 0.2, clip_high = 0.28;
  bool dual_clip = false;
  double clip_c = 3.0;
  double kl_coef = 0.0, entropy_coef = 0.0;
  Aggregation aggregation = Aggregation::kTokenMean;
  double normaliser = 0.0;  // ≤ 0: Σ mask (token-mean) or B (seq-mean-*)
};

struct GrpoRef {
  double loss = 0, tokens = 0, clip_low_tokens = 0, clip_high_tokens = 0, approx_kl_sum = 0, ref_kl_sum = 0;
  double normaliser = 0;
  std::vector<double> dlogprobs, dentropy;  // dL/dlogp, dL/dH (times grad_loss)
};

// One token: ℓ and ∂ℓ/∂logp with autograd's subgradient conventions (clamp: closed interval;
// max/min: ½ to each side on a tie), in fp64.
struct GrpoTokenRef {
  double loss, dlogp;
  bool clipped_low, clipped_high;
  double approx_kl, ref_kl;
};

inline GrpoTokenRef GrpoToken(double logp, double old, double adv, double ref, double entropy, const GrpoOptions& o) {
  GrpoTokenRef t{};
  const double raw = logp - old;
  const double lr = std::clamp(raw, -20.0, 20.0);
  const double dlr = (raw >= -20.0 && raw <= 20.0) ? 1.0 : 0.0;
  const double r = std::exp(lr);
  const double lo = 1.0 - o.clip_low, hi = 1.0 + o.clip_high;
  const double unclipped = -adv * r, clipped = -adv * std::clamp(r, lo, hi);
  const double du = -adv, dc = (r >= lo && r <= hi) ? -adv : 0.0;
  double loss = std::max(unclipped, clipped);
  double dr = unclipped > clipped ? du : unclipped < clipped ? dc : 0.5 * (du + dc);
  if (o.dual_clip && adv < 0) {
    const double cap = -adv * o.clip_c;
    dr = loss < cap ? dr : loss > cap ? 0.0 : 0.5 * dr;
    loss = std::min(loss, cap);
  }
  double dlogp = dr * r * dlr;
  if (o.kl_coef != 0) {
    const double x = ref - logp;
    t.ref_kl = std::exp(x) - x - 1.0;
    loss += o.kl_coef * t.ref_kl;
    dlogp += o.kl_coef * (1.0 - std::exp(x));
  }
  if (o.entropy_coef != 0) loss -= o.entropy_coef * entropy;
  t.loss = loss;
  t.dlogp = dlogp;
  t.clipped_low = adv < 0 && r < lo;
  t.clipped_high = adv > 0 && r > hi;
  t.approx_kl = std::exp(lr) - lr - 1.0;
  return t;
}

// [B, T] row-major inputs; advantages [B] (per_token false) or [B, T]; ref/entropy may be empty when unused.
inline GrpoRef Grpo(const std::vector<double>& logp, const std::vector<double>& old, const std::vector<double>& adv,
                    bool adv_per_token, const std::vector<double>& mask, const std::vector<double>& ref,
                    const std::vector<double>& entropy, int64_t batch, int64_t length, const GrpoOptions& o, double grad_loss) {
  GrpoRef out;
  std::vector<double> row_loss(static_cast<size_t>(batch), 0.0), row_tokens(static_cast<size_t>(batch), 0.0);
  std::vector<GrpoTokenRef> toks(static_cast<size_t>(batch * length));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < length; ++t) {
      const int64_t i = b * length + t;
      const GrpoTokenRef tok = GrpoToken(logp[i], old[i], adv_per_token ? adv[i] : adv[b], ref.empty() ? 0.0 : ref[i],
                                         entropy.empty() ? 0.0 : entropy[i], o);
      toks[i] = tok;
      const double m = mask[i];
      row_loss[b] += tok.loss * m;
      row_tokens[b] += m;
      out.clip_low_tokens += tok.clipped_low ? m : 0.0;
      out.clip_high_tokens += tok.clipped_high ? m : 0.0;
      out.approx_kl_sum += tok.approx_kl * m;
      out.ref_kl_sum += tok.ref_kl * m;
    }
  out.tokens = std::accumulate(row_tokens.begin(), row_tokens.end(), 0.0);
  double numerator = 0;
  for (int64_t b = 0; b < batch; ++b)
    numerator += o.aggregation == Aggregation::kSeqMeanTokenMean ? row_loss[b] / std::max(row_tokens[b], 1.0) : row_loss[b];
  out.normaliser = o.normaliser > 0 ? o.normaliser
                   : o.aggregation == Aggregation::kTokenMean ? std::max(out.tokens, 1.0)
                                                              : static_cast<double>(batch);
  out.loss = numerator / out.normaliser;
  out.dlogprobs.resize(toks.size());
  out.dentropy.resize(toks.size());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < length; ++t) {
      const int64_t i = b * length + t;
      double weight = grad_loss * mask[i] / out.normaliser;
      if (o.aggregation == Aggregation::kSeqMeanTokenMean) weight /= std::max(row_tokens[b], 1.0);
      out.dlogprobs[i] = weight * toks[i].dlogp;
      out.dentropy[i] = weight * -o.entropy_coef;
    }
  return out;
}

// ---- 3. sampling ---------------------------------------------------------------------------------------------
// The same exponential race as the kernel, drawn from the same Philox stream, in fp64:
//   token = argmax_{v ∈ nucleus} x_v / T − log(−log U_v)  (ties → lower index); T ≤ 0: argmax x.
// Nucleus: sort by x descending; k = first position where the cumulative probability reaches top_p;
// keep every v with x_v ≥ x_(k) (ties at the threshold all kept, as the kernel does).
struct SampleRef {
  int64_t token = -1;
  double policy_logprob = 0, sampling_logprob = 0;
  // The kernel works in fp32 with fixed-point masses; where the reference's decision is within rounding
  // of flipping, a different (equally valid) answer is not an error: these flag it.
  bool ambiguous = false;
};

inline double RaceUniform(uint64_t seed, int64_t sequence, int64_t step, int64_t v) {
  const raw::Philox4 draws = raw::SamplingDraws(seed, sequence, step, v / 4);
  return static_cast<double>(raw::UniformOpen(draws.x[v % 4]));  // exact: the same fp32 value as the kernel's
}

inline SampleRef Sample(const std::vector<double>& x, double temperature, double top_p, uint64_t seed, int64_t sequence,
                        int64_t step, double tolerance = 1e-5) {
  const int64_t vocab = static_cast<int64_t>(x.size());
  SampleRef out;
  const double m = *std::max_element(x.begin(), x.end());
  double s1 = 0;
  for (double v : x) s1 += std::exp(v - m);
  if (!(temperature > 0)) {
    out.token = std::max_element(x.begin(), x.end()) - x.begin();  // first maximum
    int ties = 0;
    for (double v : x) ties += v == m;
    out.ambiguous = ties > 1;
    out.policy_logprob = x[out.token] - m - std::log(s1);
    out.sampling_logprob = 0;
    return out;
  }
  std::vector<double> p(static_cast<size_t>(vocab));
  double st = 0;
  for (int64_t v = 0; v < vocab; ++v) st += (p[v] = std::exp((x[v] - m) / temperature));
  for (double& q : p) q /= st;
  std::vector<char> in_nucleus(static_cast<size_t>(vocab), 1);
  double nucleus_mass = 1.0;
  if (top_p < 1.0) {
    std::vector<int64_t> order(static_cast<size_t>(vocab));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return x[a] > x[b]; });
    double cumulative = 0;
    size_t k = 0;
    for (; k < order.size(); ++k) {
      const double before = cumulative;
      cumulative += p[order[k]];
      if (std::fabs(before - top_p) < tolerance || std::fabs(cumulative - top_p) < tolerance) out.ambiguous = true;
      if (cumulative >= top_p) break;
    }
    k = std::min(k, order.size() - 1);
    const double threshold = x[order[k]];
    nucleus_mass = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      in_nucleus[v] = x[v] >= threshold;
      if (in_nucleus[v]) nucleus_mass += p[v];
    }
  }
  double best = -INFINITY, second = -INFINITY;
  for (int64_t v = 0; v < vocab; ++v) {
    if (!in_nucleus[v]) continue;
    const double score = x[v] / temperature - std::log(-std::log(RaceUniform(seed, sequence, step, v)));
    if (score > best) {
      second = best;
      best = score;
      out.token = v;
    } else if (score > second) {
      second = score;
    }
  }
  if (best - second < 1e-4 * std::max(1.0, std::fabs(best))) out.ambiguous = true;
  out.policy_logprob = x[out.token] - m - std::log(s1);
  out.sampling_logprob = std::log(p[out.token] / nucleus_mass);
  return out;
}

// ---- comparisons -----------------------------------------------------------------------------------------------
// ‖out − ref‖ / ‖ref‖ (ℓ2); NaN anywhere in out gives +inf.
template <typename A>
double RelativeError(const std::vector<A>& out, const std::vector<double>& ref) {
  if (out.size() != ref.size()) throw std::invalid_argument("RelativeError: sizes differ");
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double o = static_cast<double>(out[i]);
    if (std::isnan(o)) return INFINITY;
    num += (o - ref[i]) * (o - ref[i]);
    den += ref[i] * ref[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

}  // namespace siri::cuda::ref
