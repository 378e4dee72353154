// GRPO/DAPO clipped-surrogate and SFT losses (see loss.h for the contract). All arithmetic is in fp32 on
// the inputs' device; shape errors are c10::Errors with a message naming the argument.
#include "loss.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <stdexcept>

namespace siri {
namespace {

// log r is clamped before exp so a stale old log-prob cannot overflow the ratio (VeRL does the same; the
// clamp's zero gradient outside ±20 only touches tokens that are clipped anyway).
constexpr double kMaxLogRatio = 20.0;

at::Tensor AsFloat(const at::Tensor& t) { return t.scalar_type() == at::kFloat ? t : t.to(at::kFloat); }

void CheckSameShape(const at::Tensor& t, const at::Tensor& like, const char* name) {
  TORCH_CHECK(t.defined(), name, " is missing");
  TORCH_CHECK(t.sizes() == like.sizes(), name, " must have the shape of logprobs ", like.sizes(), ", got ",
              t.sizes());
  TORCH_CHECK(t.device() == like.device(), name, " is on ", t.device(), " but logprobs is on ", like.device());
}

// Advantages per sequence [B] broadcast over tokens; per token [B,T] taken as is.
at::Tensor TokenAdvantages(const at::Tensor& advantages, const at::Tensor& logprobs) {
  TORCH_CHECK(advantages.defined(), "advantages is missing");
  TORCH_CHECK(advantages.device() == logprobs.device(), "advantages is on ", advantages.device(),
              " but logprobs is on ", logprobs.device());
  const int64_t batch = logprobs.size(0);
  if (advantages.dim() == 1) {
    TORCH_CHECK(advantages.size(0) == batch, "advantages [B] must have B = ", batch, " entries, got ",
                advantages.size(0));
    return AsFloat(advantages).detach().unsqueeze(1);
  }
  TORCH_CHECK(advantages.sizes() == logprobs.sizes(), "advantages must be [B] or [B,T] = ", logprobs.sizes(),
              ", got ", advantages.sizes());
  return AsFloat(advantages).detach();
}

// The divisor of the aggregation: the caller's global count, or this batch's own.
at::Tensor Normaliser(std::optional<double> given, const at::Tensor& localCount) {
  if (given.has_value()) {
    TORCH_CHECK(*given > 0, "loss normaliser must be > 0, got ", *given);
    return at::full({}, *given, localCount.options());
  }
  return localCount.clamp_min(1.0);
}

// Reduces masked per-token losses ℓ·m [B,T] to a scalar (formulas in loss.h, LossAggregation).
at::Tensor Aggregate(const at::Tensor& maskedTokenLoss, const at::Tensor& mask, LossAggregation aggregation,
                     std::optional<double> normaliser) {
  const at::Tensor numSequences = at::full({}, static_cast<double>(mask.size(0)), mask.options());
  switch (aggregation) {
    case LossAggregation::kTokenMean:
      // Σ_b Σ_t m·ℓ / N_tok
      return maskedTokenLoss.sum() / Normaliser(normaliser, mask.sum());
    case LossAggregation::kSeqMeanTokenSum:
      // Σ_b (Σ_t m·ℓ) / N_seq
      return maskedTokenLoss.sum() / Normaliser(normaliser, numSequences);
    case LossAggregation::kSeqMeanTokenMean: {
      // Σ_b (Σ_t m·ℓ / max(Σ_t m, 1)) / N_seq — an empty response contributes 0 but still counts in N_seq.
      const at::Tensor perSequence = maskedTokenLoss.sum(1) / mask.sum(1).clamp_min(1.0);
      return perSequence.sum() / Normaliser(normaliser, numSequences);
    }
  }
  throw std::invalid_argument("unknown loss aggregation");
}

// k3 estimator of KL(p‖q) from samples of p (Schulman, "Approximating KL divergence", 2020):
//   k3 = q/p − 1 − log(q/p) = exp(log q − log p) − (log q − log p) − 1  ≥ 0, unbiased.
at::Tensor K3(const at::Tensor& logQOverP) { return at::exp(logQOverP) - logQOverP - 1.0; }

}  // namespace

LossAggregation ParseLossAggregation(const std::string& name) {
  if (name == "token-mean") return LossAggregation::kTokenMean;
  if (name == "seq-mean-token-sum") return LossAggregation::kSeqMeanTokenSum;
  if (name == "seq-mean-token-mean") return LossAggregation::kSeqMeanTokenMean;
  throw std::invalid_argument("unknown loss aggregation '" + name +
                              "' (expected token-mean, seq-mean-token-sum or seq-mean-token-mean)");
}

const char* LossAggregationName(LossAggregation aggregation) {
  switch (aggregation) {
    case LossAggregation::kTokenMean:
      return "token-mean";
    case LossAggregation::kSeqMeanTokenSum:
      return "seq-mean-token-sum";
    case LossAggregation::kSeqMeanTokenMean:
      return "seq-mean-token-mean";
  }
  return "unknown";
}

GrpoLossOutput GrpoTokenLoss(const at::Tensor& logprobsIn, const at::Tensor& oldLogprobsIn,
                             const at::Tensor& advantagesIn, const at::Tensor& maskIn, const GrpoLossOptions& o) {
  TORCH_CHECK(logprobsIn.defined() && logprobsIn.dim() == 2, "logprobs must be a [B,T] tensor");
  CheckSameShape(oldLogprobsIn, logprobsIn, "oldLogprobs");
  CheckSameShape(maskIn, logprobsIn, "mask");
  TORCH_CHECK(o.clipLow >= 0 && o.clipLow < 1, "clipLow must be in [0, 1), got ", o.clipLow);
  TORCH_CHECK(o.clipHigh >= 0, "clipHigh must be >= 0, got ", o.clipHigh);
  TORCH_CHECK(!o.clipC.has_value() || *o.clipC > 1, "clipC (dual clip) must be > 1, got ",
              o.clipC.value_or(0.0));

  const at::Tensor logp = AsFloat(logprobsIn);
  const at::Tensor oldLogp = AsFloat(oldLogprobsIn).detach();
  const at::Tensor adv = TokenAdvantages(advantagesIn, logp);
  const at::Tensor mask = AsFloat(maskIn).detach();

  // PPO ratio r = π_θ/π_old = exp(logp − oldLogp), log r clamped to ±20.
  const at::Tensor logRatio = at::clamp(logp - oldLogp, -kMaxLogRatio, kMaxLogRatio);
  const at::Tensor ratio = at::exp(logRatio);

  // Clipped surrogate (PPO eq. 7 as a loss, DAPO eq. 8's decoupled ε_low/ε_high):
  //   ℓ = max(−A·r, −A·clip(r, 1 − ε_low, 1 + ε_high))
  const at::Tensor unclipped = -adv * ratio;
  const at::Tensor clipped = -adv * at::clamp(ratio, 1.0 - o.clipLow, 1.0 + o.clipHigh);
  at::Tensor tokenLoss = at::maximum(unclipped, clipped);

  // Dual clip: for A < 0, ℓ = min(ℓ, −A·c) bounds the loss when r ≫ 1 on a negative advantage.
  if (o.clipC.has_value()) {
    const at::Tensor capped = at::minimum(tokenLoss, -adv * *o.clipC);
    tokenLoss = at::where(adv < 0, capped, tokenLoss);
  }

  // KL penalty to the reference policy, k3(π_ref‖π_θ) per token: exp(ref − logp) − (ref − logp) − 1.
  at::Tensor refKlTokens;
  if (o.klCoef != 0.0) {
    CheckSameShape(o.refLogprobs, logprobsIn, "refLogprobs (needed when klCoef != 0)");
    refKlTokens = K3(AsFloat(o.refLogprobs).detach() - logp);
    tokenLoss = tokenLoss + o.klCoef * refKlTokens;
  }

  // Entropy bonus: ℓ −= c_H·H.
  if (o.entropyCoef != 0.0) {
    CheckSameShape(o.entropy, logprobsIn, "entropy (needed when entropyCoef != 0)");
    tokenLoss = tokenLoss - o.entropyCoef * AsFloat(o.entropy);
  }

  GrpoLossOutput out;
  out.loss = Aggregate(tokenLoss * mask, mask, o.aggregation, o.normaliser);

  // Statistics (no gradient): where the clip took the gradient away, and how far π_θ moved from π_old.
  at::NoGradGuard noGrad;
  const at::Tensor ratioD = ratio.detach();
  const at::Tensor advD = adv.expand_as(ratioD);
  out.tokens = mask.sum();
  const at::Tensor denom = out.tokens.clamp_min(1.0);
  out.clipLowTokens = (((advD < 0) & (ratioD < 1.0 - o.clipLow)).to(at::kFloat) * mask).sum();
  out.clipHighTokens = (((advD > 0) & (ratioD > 1.0 + o.clipHigh)).to(at::kFloat) * mask).sum();
  out.clipFracLow = out.clipLowTokens / denom;
  out.clipFracHigh = out.clipHighTokens / denom;
  // approx KL = mean k3(π_old‖π_θ) = mean[(r − 1) − log r] over masked tokens (samples come from π_old).
  out.approxKlSum = (K3(logRatio.detach()) * mask).sum();
  out.approxKl = out.approxKlSum / denom;
  if (refKlTokens.defined()) out.refKl = (refKlTokens.detach() * mask).sum() / denom;
  return out;
}

at::Tensor SftLoss(const at::Tensor& logprobsIn, const at::Tensor& maskIn, std::optional<double> normaliser) {
  TORCH_CHECK(logprobsIn.defined() && logprobsIn.dim() == 2, "logprobs must be a [B,T] tensor");
  CheckSameShape(maskIn, logprobsIn, "mask");
  const at::Tensor logp = AsFloat(logprobsIn);
  const at::Tensor mask = AsFloat(maskIn).detach();
  // L = −Σ m·logp / N
  const at::Tensor localTokens = mask.sum().detach();
  return -(logp * mask).sum() / Normaliser(normaliser, localTokens);
}

}  // namespace siri
