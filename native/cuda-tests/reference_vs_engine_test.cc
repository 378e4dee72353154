// The GRPO reference (reference.h), which the CUDA kernel is tested against, against the engine's own loss
// (native/src/loss.cc: ATen ops + autograd) on random inputs: same loss, clip counts, approx-KL sum and
// gradients (dL/dlogp, dL/dentropy) for every aggregation, with and without dual clip, KL and entropy terms.
// This ties "the kernel's math" to "loss.cc's math". CPU only; built when libtorch is given
// (cmake -DSIRI_CUDA_TESTS_TORCH_DIR=<site-packages>/torch/share/cmake/Torch).
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <random>
#include <string>

#include "harness.h"
#include "loss.h"
#include "reference.h"

using siri::cuda::testing::Harness;
namespace ref = siri::cuda::ref;

namespace {

std::vector<double> ToVector(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

void Compare(Harness& t, int mode, bool dual, bool extras, bool per_token_adv, uint64_t seed) {
  const int64_t batch = 5, length = 64;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  ref::GrpoOptions ro;
  ro.aggregation = static_cast<ref::Aggregation>(mode);
  ro.dual_clip = dual;
  ro.clip_c = 3.0;
  ro.kl_coef = extras ? 0.05 : 0.0;
  ro.entropy_coef = extras ? 0.01 : 0.0;
  ro.normaliser = extras ? 300.0 : 0.0;
  const double lo = 1.0 - ro.clip_low, hi = 1.0 + ro.clip_high;
  std::vector<float> logp(batch * length), old(batch * length), mask(batch * length), refl(batch * length), ent(batch * length);
  std::vector<float> adv(per_token_adv ? batch * length : batch);
  for (auto& a : adv) a = static_cast<float>(normal(rng));
  for (int64_t i = 0; i < batch * length; ++i) {
    const int64_t b = i / length;
    mask[i] = (b != 2 && unit(rng) < 0.85) ? 1.f : 0.f;  // sequence 2 has an empty response
    const double a = per_token_adv ? adv[i] : adv[b];
    for (;;) {  // away from the kinks, where fp32 and fp64 may take different sides
      logp[i] = static_cast<float>(-4.0 * unit(rng));
      const double lr = unit(rng) < 0.03 ? 22.0 : std::log(0.4 + 1.4 * unit(rng));
      old[i] = static_cast<float>(logp[i] - lr);
      const double raw = double(logp[i]) - double(old[i]);
      const double r = std::exp(std::clamp(raw, -20.0, 20.0));
      const double loss = std::max(-a * r, -a * std::clamp(r, lo, hi));
      if (std::fabs(r - lo) > 1e-4 && std::fabs(r - hi) > 1e-4 && std::fabs(std::fabs(raw) - 20.0) > 1e-3 &&
          !(dual && a < 0 && std::fabs(loss + a * ro.clip_c) < 1e-4 * std::fabs(a * ro.clip_c)))
        break;
    }
    refl[i] = static_cast<float>(logp[i] + 0.3 * normal(rng));
    ent[i] = static_cast<float>(2.0 * unit(rng));
  }
  auto tensor = [](const std::vector<float>& v, at::IntArrayRef shape) { return at::tensor(v, at::kFloat).reshape(shape).clone(); };
  at::Tensor lp = tensor(logp, {batch, length}).requires_grad_(true);
  at::Tensor en = tensor(ent, {batch, length}).requires_grad_(true);
  siri::GrpoLossOptions o;
  o.clipLow = ro.clip_low;
  o.clipHigh = ro.clip_high;
  if (dual) o.clipC = ro.clip_c;
  o.klCoef = ro.kl_coef;
  o.entropyCoef = ro.entropy_coef;
  if (extras) {
    o.refLogprobs = tensor(refl, {batch, length});
    o.entropy = en;
    o.normaliser = ro.normaliser;
  }
  o.aggregation = static_cast<siri::LossAggregation>(mode);
  const at::Tensor advantages = per_token_adv ? tensor(adv, {batch, length}) : tensor(adv, {batch});
  const siri::GrpoLossOutput out = siri::GrpoTokenLoss(lp, tensor(old, {batch, length}), advantages, tensor(mask, {batch, length}), o);
  const double grad_loss = 1.3;
  out.loss.backward(at::full({}, grad_loss, at::kFloat));

  auto d = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  const ref::GrpoRef r = ref::Grpo(d(logp), d(old), d(adv), per_token_adv, d(mask), extras ? d(refl) : std::vector<double>{},
                                   extras ? d(ent) : std::vector<double>{}, batch, length, ro, grad_loss);
  t.ExpectRelative(std::fabs(out.loss.item<double>() - r.loss) / std::fabs(r.loss), 1e-5, "loss");
  t.ExpectNear(out.clipLowTokens.item<double>(), r.clip_low_tokens, 0, "clip-low tokens");
  t.ExpectNear(out.clipHighTokens.item<double>(), r.clip_high_tokens, 0, "clip-high tokens");
  t.ExpectNear(out.tokens.item<double>(), r.tokens, 0, "tokens");
  t.ExpectRelative(std::fabs(out.approxKlSum.item<double>() - r.approx_kl_sum) / r.approx_kl_sum, 1e-5, "approx KL sum");
  t.ExpectRelative(ref::RelativeError(ToVector(lp.grad()), r.dlogprobs), 1e-5, "dL/dlogp");
  if (extras) t.ExpectRelative(ref::RelativeError(ToVector(en.grad()), r.dentropy), 1e-5, "dL/dentropy");
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "-v") Harness::Verbose() = true;
  Harness t;
  const char* modes[] = {"token-mean", "seq-mean-token-sum", "seq-mean-token-mean"};
  for (int mode = 0; mode < 3; ++mode)
    for (int variant = 0; variant < 3; ++variant) {
      const bool dual = variant >= 1, extras = variant == 2, per_token = variant == 1;
      const std::string name = std::string("reference = loss.cc: ") + modes[mode] + (dual ? " +dual clip" : "") +
                               (extras ? " +KL +entropy, given N" : "") + (per_token ? " per-token A" : "");
      t.Run(name, [&] { Compare(t, mode, dual, extras, per_token, 31 * mode + variant); });
    }
  return t.Finish();
}
