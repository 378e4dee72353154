// GPU tests of siri's CUDA kernels (native/src/cuda) against the fp64 CPU references (reference.h):
// every output is compared by ‖out − ref‖/‖ref‖ on fresh random inputs, outputs are poisoned (NaN) before
// each run so an unwritten element fails, runs are repeated to check bitwise determinism, and the sampler is
// also checked statistically (chi-square over 40,000 seeded rows).
// Without a CUDA device it prints "no CUDA device: skipped" and exits 0 (CI has no GPU).
// Usage: siri_cuda_tests [--quick] [-v]   (--quick: small shapes only, for compute-sanitizer runs)
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "grpo_loss.cuh"
#include "harness.h"
#include "lm_head.cuh"
#include "naive_gemm.cuh"
#include "reference.h"
#include "sampling.cuh"
#ifdef SIRI_TESTS_HAVE_CUBLAS
#include "cublas_gemm.cuh"
#endif

namespace raw = siri::cuda::raw;
namespace ref = siri::cuda::ref;
using siri::cuda::testing::Harness;

namespace {

bool g_quick = false;

// ---- host/device plumbing ----------------------------------------------------------------------------------

template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t count) : count_(count) { SIRI_CUDA_CHECK(cudaMalloc(&ptr_, std::max<size_t>(count, 1) * sizeof(T))); }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { Upload(host); }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return ptr_; }
  void Upload(const std::vector<T>& host) {
    SIRI_CUDA_CHECK(cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> Download() const {
    std::vector<T> host(count_);
    SIRI_CUDA_CHECK(cudaDeviceSynchronize());
    SIRI_CUDA_CHECK(cudaMemcpy(host.data(), ptr_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  // All bits set: NaN for floating types, −1 for integers — an element the kernel forgot stays detectable.
  void Poison() { SIRI_CUDA_CHECK(cudaMemset(ptr_, 0xff, count_ * sizeof(T))); }

 private:
  T* ptr_ = nullptr;
  size_t count_;
};

template <typename T>
T FromDouble(double x);
template <>
float FromDouble<float>(double x) { return static_cast<float>(x); }
template <>
__nv_bfloat16 FromDouble<__nv_bfloat16>(double x) { return __float2bfloat16_rn(static_cast<float>(x)); }
template <>
__half FromDouble<__half>(double x) { return __float2half_rn(static_cast<float>(x)); }

double ToDouble(float x) { return x; }
double ToDouble(__nv_bfloat16 x) { return __bfloat162float(x); }
double ToDouble(__half x) { return __half2float(x); }

// Random values rounded to T; `exact` receives the rounded values as doubles (what the reference uses).
template <typename T>
std::vector<T> RandomRounded(std::mt19937_64& rng, size_t count, double stddev, std::vector<double>& exact) {
  std::normal_distribution<double> d(0.0, stddev);
  std::vector<T> out(count);
  exact.resize(count);
  for (size_t i = 0; i < count; ++i) {
    out[i] = FromDouble<T>(d(rng));
    exact[i] = ToDouble(out[i]);
  }
  return out;
}

template <typename T>
std::vector<double> AsDoubles(const std::vector<T>& v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = ToDouble(v[i]);
  return out;
}

template <typename T>
bool BitwiseEqual(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

int SmCount() {
  int device = 0, sms = 0;
  SIRI_CUDA_CHECK(cudaGetDevice(&device));
  SIRI_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return sms;
}

// ---- 1. LM head ---------------------------------------------------------------------------------------------

enum class GemmKind { kNaive, kCublas };

struct LmHeadCase {
  int64_t tokens, hidden, vocab;
  int64_t token_chunk, vocab_chunk;  // 0: planned
  double temperature;
  bool entropy_grad;
  GemmKind gemm;
  double forward_tol, backward_tol;
};

template <typename Scalar, typename GradT>
void TestLmHead(Harness& t, const LmHeadCase& c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t n = c.tokens, hd = c.hidden, v = c.vocab;
  std::vector<double> h_ref, w_ref, dw0_ref, g1, g2;
  const std::vector<Scalar> h_host = RandomRounded<Scalar>(rng, static_cast<size_t>(n * hd), 1.0, h_ref);
  const std::vector<Scalar> w_host = RandomRounded<Scalar>(rng, static_cast<size_t>(v * hd), 2.5 / std::sqrt(double(hd)), w_ref);
  const std::vector<GradT> dw0_host = RandomRounded<GradT>(rng, static_cast<size_t>(v * hd), 0.01, dw0_ref);
  std::uniform_int_distribution<int64_t> pick(0, v - 1);
  std::vector<int64_t> targets(static_cast<size_t>(n));
  for (auto& y : targets) y = pick(rng);
  const int64_t bad_row = n > 5 ? 5 : -1;  // an out-of-range target must give NaN, not a number
  if (bad_row >= 0) targets[bad_row] = v + 3;
  std::vector<float> g1_host(static_cast<size_t>(n)), g2_host(static_cast<size_t>(n));
  std::normal_distribution<double> d(0.0, 1.0);
  for (int64_t i = 0; i < n; ++i) {
    g1_host[i] = static_cast<float>(d(rng));
    g2_host[i] = c.entropy_grad ? static_cast<float>(d(rng)) : 0.f;
    g1.push_back(g1_host[i]);
    g2.push_back(g2_host[i]);
  }
  if (bad_row >= 0) g1_host[bad_row] = 0.f, g1[bad_row] = 0.0;  // its logp is NaN: no gradient through it

  // Reference (fp64) — the invalid target row is kept out of the logp comparison.
  const ref::LmHeadForwardRef fwd = ref::LmHeadForward(h_ref, w_ref, targets, n, hd, v, c.temperature);
  std::vector<double> dh_ref, dw_ref;
  std::vector<int64_t> safe_targets = targets;
  if (bad_row >= 0) safe_targets[bad_row] = 0;
  ref::LmHeadBackward(h_ref, w_ref, safe_targets, n, hd, v, c.temperature, g1, c.entropy_grad ? g2 : std::vector<double>{}, dh_ref,
                      dw_ref);
  for (size_t i = 0; i < dw_ref.size(); ++i) dw_ref[i] += dw0_ref[i];

  DeviceBuffer<Scalar> h(h_host), w(w_host), dh(static_cast<size_t>(n * hd));
  DeviceBuffer<GradT> dw(dw0_host);
  DeviceBuffer<int64_t> y(targets);
  DeviceBuffer<float> logp(static_cast<size_t>(n)), ent(static_cast<size_t>(n)), lse(static_cast<size_t>(n));
  DeviceBuffer<float> dlogp(g1_host), dent(g2_host);
  const raw::LmHeadShape shape{n, hd, v};
  const raw::LmHeadPlan plan = raw::PlanLmHead(shape, c.token_chunk, c.vocab_chunk, raw::kDefaultLmHeadWorkspaceBytes, sizeof(Scalar));
  DeviceBuffer<char> workspace(raw::LmHeadWorkspaceBytes(plan, shape, sizeof(Scalar), true));
  const float temperature = static_cast<float>(c.temperature);

  auto run = [&](auto& gemm) {
    logp.Poison();
    ent.Poison();
    lse.Poison();
    dh.Poison();
    raw::LmHeadForward<Scalar>(shape, plan, temperature, y.get(), gemm, workspace.get(), logp.get(), ent.get(), lse.get(), nullptr);
    raw::LmHeadBackward<Scalar>(shape, plan, temperature, y.get(), lse.get(), ent.get(), dlogp.get(), c.entropy_grad ? dent.get() : nullptr,
                                gemm, workspace.get(), dh.get(), nullptr);
    SIRI_CUDA_CHECK(cudaDeviceSynchronize());
  };
  cudaStream_t stream = nullptr;
#ifdef SIRI_TESTS_HAVE_CUBLAS
  cublasHandle_t handle = nullptr;
  if (c.gemm == GemmKind::kCublas) raw::CheckCublas(cublasCreate(&handle), "cublasCreate");
  raw::CublasLmHeadGemm<Scalar, GradT> cublas_gemm{handle, stream, h.get(), w.get(), dw.get(), hd};
#else
  if (c.gemm == GemmKind::kCublas) throw std::logic_error("this build has no cuBLAS");
#endif
  siri::cuda::testing::NaiveLmHeadGemm<Scalar, GradT> naive_gemm{h.get(), w.get(), dw.get(), hd, stream};
  auto run_selected = [&] {
#ifdef SIRI_TESTS_HAVE_CUBLAS
    if (c.gemm == GemmKind::kCublas) return run(cublas_gemm);
#endif
    run(naive_gemm);
  };
  run_selected();

  const std::vector<float> logp_first = logp.Download();
  std::vector<float> logp_out = logp_first, ent_out = ent.Download(), lse_out = lse.Download();
  std::vector<double> logp_ref = fwd.logprobs;
  if (bad_row >= 0) {
    t.Expect(std::isnan(logp_out[bad_row]), "an out-of-range target gives logp = NaN");
    logp_out[bad_row] = 0.f;
    logp_ref[bad_row] = 0.0;
  }
  t.ExpectRelative(ref::RelativeError(logp_out, logp_ref), c.forward_tol, "logprobs");
  t.ExpectRelative(ref::RelativeError(ent_out, fwd.entropy), c.forward_tol, "entropy");
  t.ExpectRelative(ref::RelativeError(lse_out, fwd.lse), c.forward_tol, "lse");
  const std::vector<Scalar> dh_first = dh.Download();
  t.ExpectRelative(ref::RelativeError(AsDoubles(dh_first), dh_ref), c.backward_tol, "dL/dh");
  t.ExpectRelative(ref::RelativeError(AsDoubles(dw.Download()), dw_ref), c.backward_tol, "dL/dW (accumulated onto a random dW)");

  // Bitwise reproducible: same inputs, same bits (dW restarts from the same values).
  dw.Upload(dw0_host);
  run_selected();
  t.Expect(BitwiseEqual(logp.Download(), logp_first), "log-probs are bitwise reproducible");
  t.Expect(BitwiseEqual(ent.Download(), ent_out), "entropy is bitwise reproducible");
  t.Expect(BitwiseEqual(dh.Download(), dh_first), "dL/dh is bitwise reproducible");
#ifdef SIRI_TESTS_HAVE_CUBLAS
  if (handle) cublasDestroy(handle);
#endif
}

// ---- 2. GRPO loss --------------------------------------------------------------------------------------------

struct GrpoCase {
  ref::Aggregation aggregation;
  bool dual_clip, kl_and_entropy, adv_per_token, given_normaliser;
};

void TestGrpo(Harness& t, const GrpoCase& c, int64_t batch, int64_t length, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> d(0.0, 1.0);
  ref::GrpoOptions o;
  o.aggregation = c.aggregation;
  o.dual_clip = c.dual_clip;
  o.clip_c = 3.0;
  o.kl_coef = c.kl_and_entropy ? 0.05 : 0.0;
  o.entropy_coef = c.kl_and_entropy ? 0.01 : 0.0;
  o.normaliser = c.given_normaliser ? 1000.0 : 0.0;
  const double lo = 1.0 - o.clip_low, hi = 1.0 + o.clip_high;
  const int64_t count = batch * length;
  std::vector<float> logp(count), old(count), mask(count), ref_lp(count), ent(count), adv(c.adv_per_token ? count : batch);
  for (auto& a : adv) a = static_cast<float>(d(rng));
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t prompt = static_cast<int64_t>(unit(rng) * length / 3);
    const bool empty = b == 1;  // a sequence with no response tokens still counts in N_seq
    for (int64_t tt = 0; tt < length; ++tt) {
      const int64_t i = b * length + tt;
      mask[i] = (!empty && tt >= prompt && unit(rng) < 0.9) ? 1.f : 0.f;
      ent[i] = static_cast<float>(2.0 * unit(rng));
      const float a = c.adv_per_token ? adv[i] : adv[b];
      // Ratios spread over and around the clip range; resampled when within rounding of a kink, where
      // fp32 and fp64 may legitimately take different sides.
      for (;;) {
        logp[i] = static_cast<float>(-5.0 * unit(rng));
        const double u = unit(rng);
        const double log_ratio = u < 0.02 ? (unit(rng) < 0.5 ? -1 : 1) * (21.0 + 5.0 * unit(rng)) : std::log(0.4 + 1.4 * unit(rng));
        old[i] = static_cast<float>(logp[i] - log_ratio);
        const double raw = double(logp[i]) - double(old[i]);
        const double r = std::exp(std::clamp(raw, -20.0, 20.0));
        const double loss = std::max(-a * r, -a * std::clamp(r, lo, hi));
        const bool near_kink = std::fabs(r - lo) < 1e-4 || std::fabs(r - hi) < 1e-4 || std::fabs(std::fabs(raw) - 20.0) < 1e-3 ||
                               (c.dual_clip && a < 0 && std::fabs(loss - (-a * o.clip_c)) < 1e-4 * std::fabs(a * o.clip_c));
        if (!near_kink) break;
      }
      ref_lp[i] = static_cast<float>(logp[i] + 0.3 * d(rng));
    }
  }
  auto to_d = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  const double grad_loss = 1.7;
  const ref::GrpoRef r = ref::Grpo(to_d(logp), to_d(old), to_d(adv), c.adv_per_token, to_d(mask),
                                   c.kl_and_entropy ? to_d(ref_lp) : std::vector<double>{},
                                   c.kl_and_entropy ? to_d(ent) : std::vector<double>{}, batch, length, o, grad_loss);

  DeviceBuffer<float> d_logp(logp), d_old(old), d_adv(adv), d_mask(mask), d_ref(ref_lp), d_ent(ent);
  DeviceBuffer<float> out(raw::kGrpoOutputs), rows(static_cast<size_t>(batch)), dlogp(static_cast<size_t>(count)),
      dent(static_cast<size_t>(count)), g(std::vector<float>{static_cast<float>(grad_loss)});
  DeviceBuffer<char> workspace(raw::GrpoWorkspaceBytes(batch, length));
  raw::GrpoInputs in;
  in.logprobs = d_logp.get();
  in.old_logprobs = d_old.get();
  in.advantages = d_adv.get();
  in.advantages_per_token = c.adv_per_token;
  in.mask = d_mask.get();
  in.ref_logprobs = c.kl_and_entropy ? d_ref.get() : nullptr;
  in.entropy = c.kl_and_entropy ? d_ent.get() : nullptr;
  in.batch = batch;
  in.length = length;
  raw::GrpoParams p;
  p.ratio_low = static_cast<float>(lo);
  p.ratio_high = static_cast<float>(hi);
  p.dual_clip = c.dual_clip;
  p.clip_c = static_cast<float>(o.clip_c);
  p.kl_coef = static_cast<float>(o.kl_coef);
  p.entropy_coef = static_cast<float>(o.entropy_coef);
  p.aggregation = static_cast<raw::GrpoAggregation>(static_cast<int>(c.aggregation));
  p.normaliser = o.normaliser;
  auto run = [&] {
    out.Poison();
    rows.Poison();
    dlogp.Poison();
    dent.Poison();
    raw::GrpoLossForward(in, p, workspace.get(), out.get(), rows.get(), nullptr);
    raw::GrpoLossBackward(in, p, out.get(), rows.get(), g.get(), dlogp.get(), c.kl_and_entropy ? dent.get() : nullptr, SmCount(), nullptr);
    SIRI_CUDA_CHECK(cudaDeviceSynchronize());
  };
  run();
  const std::vector<float> o1 = out.Download(), dl1 = dlogp.Download();
  t.ExpectRelative(std::fabs(o1[raw::kGrpoLoss] - r.loss) / std::max(std::fabs(r.loss), 1e-12), 1e-5, "loss");
  t.ExpectNear(o1[raw::kGrpoTokens], r.tokens, 0, "tokens");
  t.ExpectNear(o1[raw::kGrpoClipLowTokens], r.clip_low_tokens, 0, "clip-low tokens");
  t.ExpectNear(o1[raw::kGrpoClipHighTokens], r.clip_high_tokens, 0, "clip-high tokens");
  t.ExpectRelative(std::fabs(o1[raw::kGrpoApproxKlSum] - r.approx_kl_sum) / r.approx_kl_sum, 1e-5, "approx KL sum");
  if (c.kl_and_entropy) t.ExpectRelative(std::fabs(o1[raw::kGrpoRefKlSum] - r.ref_kl_sum) / r.ref_kl_sum, 1e-5, "ref KL sum");
  t.ExpectNear(o1[raw::kGrpoClipFracLow], r.clip_low_tokens / std::max(r.tokens, 1.0), 1e-7, "clip fraction low");
  t.ExpectNear(o1[raw::kGrpoNormaliser], r.normaliser, 0, "normaliser");
  t.ExpectRelative(ref::RelativeError(dl1, r.dlogprobs), 1e-5, "dL/dlogp");
  if (c.kl_and_entropy) t.ExpectRelative(ref::RelativeError(dent.Download(), r.dentropy), 1e-6, "dL/dH");
  t.Expect(r.clip_low_tokens > 0 && r.clip_high_tokens > 0, "the inputs exercise both clips");
  run();
  t.Expect(BitwiseEqual(out.Download(), o1) && BitwiseEqual(dlogp.Download(), dl1), "bitwise reproducible");
}

// ---- 3. sampling ---------------------------------------------------------------------------------------------

struct SampleCase {
  double temperature, top_p;
};

template <typename T>
void TestSampling(Harness& t, int64_t batch, int64_t vocab, const SampleCase& c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> exact;
  const std::vector<T> logits = RandomRounded<T>(rng, static_cast<size_t>(batch * vocab), 3.0, exact);
  std::vector<int64_t> seq(static_cast<size_t>(batch)), step(static_cast<size_t>(batch));
  for (int64_t r = 0; r < batch; ++r) {
    seq[r] = 1000 + 3 * r;
    step[r] = r % 5;
  }
  raw::SampleParams p;
  p.temperature = static_cast<float>(c.temperature);
  p.top_p = c.top_p;
  p.seed = 0x5eed0000u + seed;
  DeviceBuffer<T> d_logits(logits);
  DeviceBuffer<int64_t> d_seq(seq), d_step(step), tokens(static_cast<size_t>(batch));
  DeviceBuffer<float> plp(static_cast<size_t>(batch)), slp(static_cast<size_t>(batch));
  tokens.Poison();
  plp.Poison();
  slp.Poison();
  raw::SampleTokens<T>(d_logits.get(), batch, vocab, vocab, p, d_seq.get(), d_step.get(), tokens.get(), plp.get(), slp.get(), nullptr);
  const std::vector<int64_t> tok = tokens.Download();
  const std::vector<float> plp_out = plp.Download(), slp_out = slp.Download();
  int mismatches = 0, ambiguous = 0;
  std::vector<double> plp_ref, slp_ref, plp_cmp, slp_cmp;
  for (int64_t r = 0; r < batch; ++r) {
    const std::vector<double> row(exact.begin() + r * vocab, exact.begin() + (r + 1) * vocab);
    const ref::SampleRef s = ref::Sample(row, c.temperature, c.top_p, p.seed, seq[r], step[r]);
    if (s.ambiguous) {
      ++ambiguous;
      continue;
    }
    if (tok[r] != s.token) {
      ++mismatches;
      if (mismatches <= 3) std::printf("  row %lld: token %lld, reference %lld\n", (long long)r, (long long)tok[r], (long long)s.token);
      continue;
    }
    plp_ref.push_back(s.policy_logprob);
    slp_ref.push_back(s.sampling_logprob);
    plp_cmp.push_back(plp_out[r]);
    slp_cmp.push_back(slp_out[r]);
  }
  t.Expect(mismatches == 0, std::to_string(mismatches) + " tokens differ from the reference (" + std::to_string(ambiguous) +
                                " rows within rounding of a tie, not compared)");
  t.Expect(ambiguous * 10 < batch, "fewer than 10% of rows are ties within rounding");
  t.ExpectRelative(ref::RelativeError(plp_cmp, plp_ref), 1e-5, "policy log-probs");
  if (c.temperature > 0) t.ExpectRelative(ref::RelativeError(slp_cmp, slp_ref), 1e-5, "sampling log-probs");

  // Counter-based: the same (seed, sequence, step) in another row of another batch draws the same token.
  const int64_t sub = batch / 2;
  std::vector<T> reversed(static_cast<size_t>(sub * vocab));
  std::vector<int64_t> seq2(static_cast<size_t>(sub)), step2(static_cast<size_t>(sub));
  for (int64_t r = 0; r < sub; ++r) {
    const int64_t src = batch - 1 - r;
    std::copy(logits.begin() + src * vocab, logits.begin() + (src + 1) * vocab, reversed.begin() + r * vocab);
    seq2[r] = seq[src];
    step2[r] = step[src];
  }
  DeviceBuffer<T> d_rev(reversed);
  DeviceBuffer<int64_t> d_seq2(seq2), d_step2(step2), tokens2(static_cast<size_t>(sub));
  DeviceBuffer<float> plp2(static_cast<size_t>(sub)), slp2(static_cast<size_t>(sub));
  raw::SampleTokens<T>(d_rev.get(), sub, vocab, vocab, p, d_seq2.get(), d_step2.get(), tokens2.get(), plp2.get(), slp2.get(), nullptr);
  const std::vector<int64_t> tok2 = tokens2.Download();
  int moved = 0;
  for (int64_t r = 0; r < sub; ++r) moved += tok2[r] != tok[batch - 1 - r];
  t.Expect(moved == 0, "same (seed, sequence, step) ⇒ same token in another batch layout (" + std::to_string(moved) + " differ)");
}

// 40,000 rows of p = (0.5, 0.3, 0.15, 0.05) (and −inf entries that must never be drawn): token counts
// against the target law. Seeds are fixed, so the outcome is deterministic.
void TestSamplingLaw(Harness& t, double top_p, const std::vector<double>& law) {
  const int64_t rows = g_quick ? 4000 : 40000, vocab = 6;
  const std::vector<float> row = {std::log(0.5f), -INFINITY, std::log(0.3f), std::log(0.15f), std::log(0.05f), -INFINITY};
  std::vector<float> logits;
  std::vector<int64_t> seq(static_cast<size_t>(rows)), step(static_cast<size_t>(rows), 9);
  for (int64_t r = 0; r < rows; ++r) {
    logits.insert(logits.end(), row.begin(), row.end());
    seq[r] = r;
  }
  raw::SampleParams p;
  p.temperature = 1.f;
  p.top_p = top_p;
  p.seed = 77;
  DeviceBuffer<float> d_logits(logits);
  DeviceBuffer<int64_t> d_seq(seq), d_step(step), tokens(static_cast<size_t>(rows));
  DeviceBuffer<float> plp(static_cast<size_t>(rows)), slp(static_cast<size_t>(rows));
  raw::SampleTokens<float>(d_logits.get(), rows, vocab, vocab, p, d_seq.get(), d_step.get(), tokens.get(), plp.get(), slp.get(), nullptr);
  const std::vector<int64_t> tok = tokens.Download();
  std::vector<int> counts(4, 0);
  const int64_t column_to_outcome[6] = {0, -1, 1, 2, 3, -1};
  int impossible = 0;
  for (int64_t k : tok) {
    const int64_t outcome = k >= 0 && k < vocab ? column_to_outcome[k] : -1;
    if (outcome < 0 || law[static_cast<size_t>(outcome)] == 0) {
      ++impossible;
      continue;
    }
    ++counts[static_cast<size_t>(outcome)];
  }
  double chi = 0;
  for (size_t k = 0; k < 4; ++k)
    if (law[k] > 0) chi += (counts[k] - law[k] * rows) * (counts[k] - law[k] * rows) / (law[k] * rows);
  t.Expect(impossible == 0, std::to_string(impossible) + " draws outside the support");
  char what[96];
  std::snprintf(what, sizeof(what), "chi-square %.2f < 27.9 (3 dof, p < 4e-6)", chi);
  t.Expect(chi < 27.9, what);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") g_quick = true;
    if (a == "-v") Harness::Verbose() = true;
  }
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: skipped (cudaGetDeviceCount: %s, %d devices)\n",
                status == cudaSuccess ? "ok" : cudaGetErrorString(status), devices);
    return 0;
  }
  cudaDeviceProp prop{};
  SIRI_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (sm_%d%d, %d SMs)%s\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount, g_quick ? " [quick]" : "");

  Harness t;
  // 1. LM head: odd vocabularies (scalar path) and multiples of 4 (vector path), several tiles each way.
  const double fwd_tol = 2e-5;
  t.Run("LM head fp32, V=5003 in 1024-wide tiles, 64-token tiles", [&] {
    TestLmHead<float, float>(t, {203, 64, 5003, 64, 1024, 1.0, true, GemmKind::kNaive, fwd_tol, 1e-5}, 1);
  });
  t.Run("LM head bf16, V=4096 in 1000-wide tiles, T=0.7", [&] {
    TestLmHead<__nv_bfloat16, float>(t, {203, 64, 4096, 50, 1000, 0.7, true, GemmKind::kNaive, fwd_tol, 1e-2}, 2);
  });
  t.Run("LM head fp16 with an fp16 dW, planned tiles, no entropy gradient", [&] {
    TestLmHead<__half, __half>(t, {97, 64, 5003, 0, 0, 1.0, false, GemmKind::kNaive, fwd_tol, 5e-3}, 3);
  });
#ifdef SIRI_TESTS_HAVE_CUBLAS
  t.Run("LM head bf16 on cuBLAS, V=5003, T=0.9", [&] {
    TestLmHead<__nv_bfloat16, float>(t, {203, 128, 5003, 64, 2048, 0.9, true, GemmKind::kCublas, fwd_tol, 1e-2}, 4);
  });
  t.Run("LM head fp32 on cuBLAS", [&] {
    TestLmHead<float, float>(t, {130, 96, 3001, 0, 1024, 1.0, true, GemmKind::kCublas, fwd_tol, 1e-5}, 5);
  });
  if (!g_quick) {
    // Qwen2-1.5B's hidden width and a quarter of its vocabulary (the fp64 reference is O(N·V·H) on one core):
    // two full 16,384-wide tiles and a 5,216-wide one.
    t.Run("LM head bf16 on cuBLAS at Qwen2 width: H=1536, V=37984", [&] {
      TestLmHead<__nv_bfloat16, float>(t, {16, 1536, 37984, 0, 0, 1.0, true, GemmKind::kCublas, fwd_tol, 1e-2}, 6);
    });
  }
#endif

  // 2. GRPO loss: every aggregation, with and without dual clip / KL + entropy, advantages per sequence
  // and per token, the batch's own normaliser and a given one; T = 5000 spans five forward blocks.
  const int64_t grpo_len = g_quick ? 700 : 5000;
  const char* modes[] = {"token-mean", "seq-mean-token-sum", "seq-mean-token-mean"};
  for (int mode = 0; mode < 3; ++mode)
    for (int variant = 0; variant < 3; ++variant) {
      const GrpoCase c{static_cast<ref::Aggregation>(mode), variant >= 1, variant == 2, variant == 1, variant == 2};
      const std::string name = std::string("GRPO loss ") + modes[mode] + (c.dual_clip ? " +dual clip" : "") +
                               (c.kl_and_entropy ? " +KL +entropy, given N" : "") + (c.adv_per_token ? " per-token A" : "");
      t.Run(name, [&] { TestGrpo(t, c, 6, grpo_len, 100 + mode * 10 + variant); });
    }

  // 3. sampling
  const int64_t rows = g_quick ? 8 : 48;
  const SampleCase cases[] = {{1.0, 1.0}, {0.7, 1.0}, {1.0, 0.9}, {0.6, 0.5}, {0.0, 1.0}};
  int seed = 200;
  for (const SampleCase& c : cases) {
    char name[128];
    std::snprintf(name, sizeof(name), "sampling T=%.1f top_p=%.1f", c.temperature, c.top_p);
    t.Run(std::string(name) + " fp32 V=5003", [&] { TestSampling<float>(t, rows, 5003, c, seed++); });
    t.Run(std::string(name) + " bf16 V=4096", [&] { TestSampling<__nv_bfloat16>(t, rows, 4096, c, seed++); });
    if (!g_quick) t.Run(std::string(name) + " bf16 V=151936", [&] { TestSampling<__nv_bfloat16>(t, 16, 151936, c, seed++); });
  }
  t.Run("sampling law, top_p 1 (chi-square)", [&] { TestSamplingLaw(t, 1.0, {0.5, 0.3, 0.15, 0.05}); });
  t.Run("sampling law, top_p 0.79 keeps {0.5, 0.3}", [&] { TestSamplingLaw(t, 0.79, {0.625, 0.375, 0, 0}); });
  t.Run("sampling law, top_p 0.81 keeps {0.5, 0.3, 0.15}", [&] { TestSamplingLaw(t, 0.81, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}); });
  return t.Finish();
}
