// Checks of the fp64 CPU references (reference.h) that the GPU tests trust: Philox against the published
// Random123 known answers, the LM-head and GRPO gradients against central finite differences, GRPO losses
// and aggregations against hand-computed values, and the sampler's law against its target distribution
// (chi-square). Runs anywhere: no CUDA device or runtime needed.
#include <cstdio>
#include <random>
#include <string>

#include "harness.h"
#include "reference.h"

using siri::cuda::testing::Harness;
namespace ref = siri::cuda::ref;
namespace raw = siri::cuda::raw;

namespace {

void PhiloxKnownAnswers(Harness& t) {
  // Random123 tests/kat_vectors, "philox4x32 10".
  struct Kat {
    raw::Philox4 counter;
    uint32_t key0, key1;
    raw::Philox4 expected;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu,
       {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
       {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
  };
  for (const Kat& k : kats) {
    const raw::Philox4 got = raw::Philox4x32_10(k.counter, k.key0, k.key1);
    for (int j = 0; j < 4; ++j) {
      char what[96];
      std::snprintf(what, sizeof(what), "word %d: got %08x expected %08x", j, got.x[j], k.expected.x[j]);
      t.Expect(got.x[j] == k.expected.x[j], what);
    }
  }
  // Open interval, exact fp32 endpoints.
  t.ExpectNear(raw::UniformOpen(0u), std::ldexp(1.0, -24), 0, "U(0)");
  t.ExpectNear(raw::UniformOpen(0xffffffffu), 1.0 - std::ldexp(1.0, -24), 0, "U(max)");
}

void OrderedKeyIsMonotone(Harness& t) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> d(-50.f, 50.f);
  std::vector<float> values = {-INFINITY, -1e30f, -1.f, -0.f, 0.f, 1e-30f, 1.f, 3e38f, INFINITY};
  for (int i = 0; i < 2000; ++i) values.push_back(d(rng));
  int bad = 0;
  for (float a : values)
    for (float b : values) {
      if (a < b && !(raw::OrderedKey(a) < raw::OrderedKey(b))) ++bad;
    }
  t.Expect(bad == 0, "a < b ⇒ key(a) < key(b): " + std::to_string(bad) + " violations");
}

// L(h, W) = Σ g1·logp + g2·H, by central differences.
void LmHeadGradientMatchesFiniteDifferences(Harness& t) {
  const int64_t n = 3, hidden = 4, vocab = 7;
  const double temperature = 0.7;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> d(0.0, 1.0);
  std::vector<double> h(n * hidden), w(vocab * hidden), g1(n), g2(n);
  for (double& v : h) v = d(rng);
  for (double& v : w) v = d(rng);
  for (double& v : g1) v = d(rng);
  for (double& v : g2) v = d(rng);
  const std::vector<int64_t> y = {2, 0, 6};
  auto objective = [&](const std::vector<double>& hh, const std::vector<double>& ww) {
    const ref::LmHeadForwardRef f = ref::LmHeadForward(hh, ww, y, n, hidden, vocab, temperature);
    double l = 0;
    for (int64_t i = 0; i < n; ++i) l += g1[i] * f.logprobs[i] + g2[i] * f.entropy[i];
    return l;
  };
  std::vector<double> dh, dw;
  ref::LmHeadBackward(h, w, y, n, hidden, vocab, temperature, g1, g2, dh, dw);
  const double eps = 1e-6;
  std::vector<double> fd_h(h.size()), fd_w(w.size());
  for (size_t i = 0; i < h.size(); ++i) {
    std::vector<double> hp = h, hm = h;
    hp[i] += eps;
    hm[i] -= eps;
    fd_h[i] = (objective(hp, w) - objective(hm, w)) / (2 * eps);
  }
  for (size_t i = 0; i < w.size(); ++i) {
    std::vector<double> wp = w, wm = w;
    wp[i] += eps;
    wm[i] -= eps;
    fd_w[i] = (objective(h, wp) - objective(h, wm)) / (2 * eps);
  }
  t.ExpectRelative(ref::RelativeError(dh, fd_h), 1e-7, "dL/dh vs finite differences");
  t.ExpectRelative(ref::RelativeError(dw, fd_w), 1e-7, "dL/dW vs finite differences");
  // Uniform logits: logp = −log V, H = log V.
  const std::vector<double> zero_w(vocab * hidden, 0.0);
  const ref::LmHeadForwardRef u = ref::LmHeadForward(h, zero_w, y, n, hidden, vocab, 1.0);
  t.ExpectNear(u.logprobs[0], -std::log(7.0), 1e-12, "uniform logp");
  t.ExpectNear(u.entropy[1], std::log(7.0), 1e-12, "uniform entropy");
}

void GrpoTokenHandCases(Harness& t) {
  ref::GrpoOptions o;  // clip 0.2 / 0.28
  auto tok = [&](double ratio, double adv, const ref::GrpoOptions& opt) { return ref::GrpoToken(std::log(ratio), 0.0, adv, 0, 0, opt); };
  // A > 0, r = 1.5 > 1.28: clipped at 1.28, no gradient.
  ref::GrpoTokenRef a = tok(1.5, 1.0, o);
  t.ExpectNear(a.loss, -1.28, 1e-12, "A=1 r=1.5 loss");
  t.ExpectNear(a.dlogp, 0.0, 0, "A=1 r=1.5 grad");
  t.Expect(a.clipped_high && !a.clipped_low, "A=1 r=1.5 counts as clip-high");
  // Inside the range: ℓ = −A r, dℓ/dlogp = −A r.
  a = tok(1.1, 1.0, o);
  t.ExpectNear(a.loss, -1.1, 1e-12, "A=1 r=1.1 loss");
  t.ExpectNear(a.dlogp, -1.1, 1e-12, "A=1 r=1.1 grad");
  // A < 0, r = 0.5 < 0.8: ℓ = max(0.5, 0.8) = 0.8, no gradient, clip-low.
  a = tok(0.5, -1.0, o);
  t.ExpectNear(a.loss, 0.8, 1e-12, "A=-1 r=0.5 loss");
  t.ExpectNear(a.dlogp, 0.0, 0, "A=-1 r=0.5 grad");
  t.Expect(a.clipped_low && !a.clipped_high, "A=-1 r=0.5 counts as clip-low");
  // A < 0, r = 5: unbounded without the dual clip (ℓ = 5, grad 5); capped at −A·c = 3 with it.
  a = tok(5.0, -1.0, o);
  t.ExpectNear(a.loss, 5.0, 1e-12, "A=-1 r=5 loss");
  t.ExpectNear(a.dlogp, 5.0, 1e-12, "A=-1 r=5 grad");
  ref::GrpoOptions dual = o;
  dual.dual_clip = true;
  dual.clip_c = 3.0;
  a = tok(5.0, -1.0, dual);
  t.ExpectNear(a.loss, 3.0, 1e-12, "dual clip loss");
  t.ExpectNear(a.dlogp, 0.0, 0, "dual clip grad");
  a = tok(2.0, -1.0, dual);
  t.ExpectNear(a.loss, 2.0, 1e-12, "below the dual-clip cap: loss");
  t.ExpectNear(a.dlogp, 2.0, 1e-12, "below the dual-clip cap: grad");
  // |log r| > 20: the clamp stops the gradient.
  a = ref::GrpoToken(0.0, -25.0, 1.0, 0, 0, o);
  t.ExpectNear(a.dlogp, 0.0, 0, "log-ratio clamp grad");
  t.ExpectNear(a.approx_kl, std::exp(20.0) - 20.0 - 1.0, 1e-3, "approx KL uses the clamped log-ratio");
  // k3 KL to a reference: logp = −1, ref = −1.5, β = 0.1.
  ref::GrpoOptions kl = o;
  kl.kl_coef = 0.1;
  a = ref::GrpoToken(-1.0, -1.0, 0.0, -1.5, 0, kl);
  t.ExpectNear(a.ref_kl, std::exp(-0.5) + 0.5 - 1.0, 1e-12, "k3");
  t.ExpectNear(a.loss, 0.1 * (std::exp(-0.5) + 0.5 - 1.0), 1e-12, "KL loss");
  t.ExpectNear(a.dlogp, 0.1 * (1.0 - std::exp(-0.5)), 1e-12, "KL grad");
}

// B = 2, T = 3, r = 1, A = (1, 2): ℓ = −A. Masks [1,1,0] and [1,0,0].
void GrpoAggregationHandCases(Harness& t) {
  const std::vector<double> logp(6, -1.0), old(6, -1.0), adv = {1.0, 2.0}, mask = {1, 1, 0, 1, 0, 0};
  ref::GrpoOptions o;
  o.aggregation = ref::Aggregation::kTokenMean;
  ref::GrpoRef r = ref::Grpo(logp, old, adv, false, mask, {}, {}, 2, 3, o, 1.0);
  t.ExpectNear(r.loss, -4.0 / 3.0, 1e-12, "token-mean loss");
  t.ExpectNear(r.dlogprobs[0], -1.0 / 3.0, 1e-12, "token-mean grad row 0");
  t.ExpectNear(r.dlogprobs[3], -2.0 / 3.0, 1e-12, "token-mean grad row 1");
  t.ExpectNear(r.dlogprobs[2], 0.0, 0, "masked token has no gradient");
  o.aggregation = ref::Aggregation::kSeqMeanTokenSum;
  r = ref::Grpo(logp, old, adv, false, mask, {}, {}, 2, 3, o, 1.0);
  t.ExpectNear(r.loss, -2.0, 1e-12, "seq-mean-token-sum loss");
  t.ExpectNear(r.dlogprobs[0], -0.5, 1e-12, "seq-mean-token-sum grad");
  o.aggregation = ref::Aggregation::kSeqMeanTokenMean;
  r = ref::Grpo(logp, old, adv, false, mask, {}, {}, 2, 3, o, 1.0);
  t.ExpectNear(r.loss, -1.5, 1e-12, "seq-mean-token-mean loss");
  t.ExpectNear(r.dlogprobs[0], -0.25, 1e-12, "seq-mean-token-mean grad row 0");
  t.ExpectNear(r.dlogprobs[3], -1.0, 1e-12, "seq-mean-token-mean grad row 1");
  o.normaliser = 10.0;  // a global N (gradient accumulation): Σ_b mean_b / 10
  r = ref::Grpo(logp, old, adv, false, mask, {}, {}, 2, 3, o, 2.0);
  t.ExpectNear(r.loss, -0.3, 1e-12, "given normaliser loss");
  t.ExpectNear(r.dlogprobs[3], -2.0 * 2.0 / 10.0, 1e-12, "given normaliser grad (grad_loss 2)");
}

// Random tokens away from the kinks: the analytic gradient equals the finite-difference one.
void GrpoGradientMatchesFiniteDifferences(Harness& t) {
  const int64_t batch = 3, length = 5, count = batch * length;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> d(0.0, 0.3);
  std::vector<double> logp(count), old(count), adv(batch), mask(count), ref_lp(count), entropy(count);
  for (int64_t i = 0; i < count; ++i) {
    logp[i] = -1.0 + d(rng);
    old[i] = logp[i] + d(rng);
    ref_lp[i] = logp[i] + d(rng);
    entropy[i] = 1.0 + d(rng);
    mask[i] = (i % 4) != 3;
  }
  for (double& a : adv) a = 2 * d(rng);
  for (int mode = 0; mode < 3; ++mode) {
    ref::GrpoOptions o;
    o.aggregation = static_cast<ref::Aggregation>(mode);
    o.dual_clip = true;
    o.kl_coef = 0.05;
    o.entropy_coef = 0.01;
    const ref::GrpoRef r = ref::Grpo(logp, old, adv, false, mask, ref_lp, entropy, batch, length, o, 1.0);
    std::vector<double> fd(count), fd_h(count);
    const double eps = 1e-7;
    for (int64_t i = 0; i < count; ++i) {
      std::vector<double> p = logp, m = logp;
      p[i] += eps;
      m[i] -= eps;
      fd[i] = (ref::Grpo(p, old, adv, false, mask, ref_lp, entropy, batch, length, o, 1.0).loss -
               ref::Grpo(m, old, adv, false, mask, ref_lp, entropy, batch, length, o, 1.0).loss) / (2 * eps);
      std::vector<double> hp = entropy, hm = entropy;
      hp[i] += eps;
      hm[i] -= eps;
      fd_h[i] = (ref::Grpo(logp, old, adv, false, mask, ref_lp, hp, batch, length, o, 1.0).loss -
                 ref::Grpo(logp, old, adv, false, mask, ref_lp, hm, batch, length, o, 1.0).loss) / (2 * eps);
    }
    t.ExpectRelative(ref::RelativeError(r.dlogprobs, fd), 1e-6, "GRPO dL/dlogp vs finite differences, mode " + std::to_string(mode));
    t.ExpectRelative(ref::RelativeError(r.dentropy, fd_h), 1e-6, "GRPO dL/dH vs finite differences, mode " + std::to_string(mode));
  }
}

// Pearson's χ² of counts against probabilities.
double ChiSquare(const std::vector<int>& counts, const std::vector<double>& probs, int total) {
  double chi = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    if (probs[k] == 0) {
      if (counts[k] != 0) return INFINITY;
      continue;
    }
    const double expected = probs[k] * total;
    chi += (counts[k] - expected) * (counts[k] - expected) / expected;
  }
  return chi;
}

void SamplerFollowsItsDistribution(Harness& t) {
  // p = (0.5, 0.3, 0.15, 0.05); top-p 0.79 keeps {0, 1} (0.5 + 0.3 reaches it), 0.81 keeps {0, 1, 2}.
  // (Not 0.8 itself: whether 0.5 + 0.3 reaches 0.8 is decided by rounding, in any implementation.)
  const std::vector<double> x = {std::log(0.5), std::log(0.3), std::log(0.15), std::log(0.05)};
  const int draws = 40000;
  struct Case {
    double top_p, temperature;
    std::vector<double> q;  // the target law
  };
  auto tempered = [&](double temp) {
    std::vector<double> q;
    double s = 0;
    for (double v : x) s += std::exp(v / temp);
    for (double v : x) q.push_back(std::exp(v / temp) / s);
    return q;
  };
  const Case cases[] = {
      {1.0, 1.0, {0.5, 0.3, 0.15, 0.05}},
      {0.79, 1.0, {0.625, 0.375, 0, 0}},
      {0.81, 1.0, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}},
      {1.0, 0.5, tempered(0.5)},
  };
  for (const Case& c : cases) {
    std::vector<int> counts(x.size(), 0);
    for (int s = 0; s < draws; ++s) {
      const ref::SampleRef r = ref::Sample(x, c.temperature, c.top_p, 1234, s, 0);
      ++counts[static_cast<size_t>(r.token)];
    }
    const double chi = ChiSquare(counts, c.q, draws);
    char what[128];
    // 3 degrees of freedom at most: χ² > 27.9 has p < 4e-6.
    std::snprintf(what, sizeof(what), "top_p %.2f T %.1f: chi-square %.2f < 27.9", c.top_p, c.temperature, chi);
    t.Expect(chi < 27.9, what);
  }
  // Greedy: first maximum; sampling log-prob 0 by convention.
  const ref::SampleRef g = ref::Sample({1.0, 3.0, 3.0, 2.0}, 0.0, 1.0, 1, 0, 0);
  t.Expect(g.token == 1, "greedy picks the first maximum");
  t.ExpectNear(g.sampling_logprob, 0.0, 0, "greedy sampling log-prob");
  // The nucleus renormalises: log q(token) = log(p / nucleus mass).
  const ref::SampleRef n = ref::Sample(x, 1.0, 0.79, 99, 3, 7);
  t.ExpectNear(n.sampling_logprob, std::log((n.token == 0 ? 0.5 : 0.3) / 0.8), 1e-12, "nucleus log-prob");
  t.ExpectNear(n.policy_logprob, x[static_cast<size_t>(n.token)], 1e-12, "policy log-prob at T = 1");
  // Counter-based: a draw depends on (seed, sequence, step) only.
  t.Expect(ref::RaceUniform(5, 17, 3, 10) == ref::RaceUniform(5, 17, 3, 10), "same counter, same draw");
  t.Expect(ref::RaceUniform(5, 17, 3, 10) != ref::RaceUniform(5, 17, 4, 10), "next step, new draw");
  t.Expect(ref::RaceUniform(5, 17, 3, 10) != ref::RaceUniform(5, 18, 3, 10), "next sequence, new draw");
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "-v") Harness::Verbose() = true;
  Harness t;
  t.Run("Philox4x32-10 known answers", [&] { PhiloxKnownAnswers(t); });
  t.Run("order-preserving float keys", [&] { OrderedKeyIsMonotone(t); });
  t.Run("LM head reference gradient = finite differences", [&] { LmHeadGradientMatchesFiniteDifferences(t); });
  t.Run("GRPO reference token cases (clip, dual clip, KL)", [&] { GrpoTokenHandCases(t); });
  t.Run("GRPO reference aggregation modes", [&] { GrpoAggregationHandCases(t); });
  t.Run("GRPO reference gradient = finite differences", [&] { GrpoGradientMatchesFiniteDifferences(t); });
  t.Run("sampling reference follows its distribution", [&] { SamplerFollowsItsDistribution(t); });
  return t.Finish();
}
