// Policy-gradient and SFT losses over per-token log-probs: the PPO/GRPO clipped surrogate with DAPO's
// decoupled clip range, an optional dual clip, an optional k3 KL penalty to a reference policy and an
// optional entropy bonus, reduced by one of three aggregation modes. Pure tensor functions on ATen (CPU or
// CUDA, whatever device the inputs live on); the statistics come back as 0-dim tensors so nothing here
// forces a device→host sync.
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <string>

namespace siri {

// How per-token losses become one scalar (B sequences, mask m[b,t] ∈ {0,1}, ℓ[b,t] the token loss):
//   kTokenMean        : Σ_b Σ_t m·ℓ / N_tok                       (DAPO: every token weighs the same)
//   kSeqMeanTokenSum  : Σ_b (Σ_t m·ℓ) / N_seq                     (no per-sequence length normalisation)
//   kSeqMeanTokenMean : Σ_b (Σ_t m·ℓ / Σ_t m) / N_seq             (original GRPO: mean per sequence first)
// N_tok / N_seq default to this call's masked-token count / sequence count; pass the global counts in
// GrpoLossOptions::normaliser when a batch is split into micro-batches, so Σ micro-batch losses equals the
// full-batch loss exactly (a sequence never straddles micro-batches, so the per-sequence Σ_t m stays local).
enum class LossAggregation { kTokenMean, kSeqMeanTokenSum, kSeqMeanTokenMean };

// "token-mean" | "seq-mean-token-sum" | "seq-mean-token-mean"; anything else throws std::invalid_argument.
LossAggregation ParseLossAggregation(const std::string& name);
const char* LossAggregationName(LossAggregation aggregation);

struct GrpoLossOptions {
  // Ratio clip range [1 − clipLow, 1 + clipHigh] (DAPO "clip-higher": 0.2 / 0.28).
  double clipLow = 0.2;
  double clipHigh = 0.28;
  // Dual clip (Ye et al. 2020, "Mastering Complex Control in MOBA Games"): for A < 0 the token loss is
  // capped at −A·clipC. Must be > 1 when set.
  std::optional<double> clipC;
  // KL penalty β·k3(π_ref‖π_θ) per token; needs refLogprobs [B,T] when klCoef ≠ 0.
  double klCoef = 0.0;
  at::Tensor refLogprobs;
  // Entropy bonus: subtracts entropyCoef·H[b,t] per token; needs entropy [B,T] when entropyCoef ≠ 0.
  // Pass an entropy that carries autograd history if the bonus should push gradients.
  double entropyCoef = 0.0;
  at::Tensor entropy;
  LossAggregation aggregation = LossAggregation::kTokenMean;
  // Global N_tok (token-mean) or N_seq (seq-mean-*) for gradient accumulation; see LossAggregation.
  std::optional<double> normaliser;
};

// Everything is a 0-dim fp32 tensor on the inputs' device. `loss` carries autograd history; the rest is
// detached. The *Sum / *Tokens fields are the un-normalised numerators, for summing across micro-batches.
struct GrpoLossOutput {
  at::Tensor loss;
  at::Tensor clipFracLow;    // fraction of masked tokens with A < 0 and r < 1 − clipLow
  at::Tensor clipFracHigh;   // fraction of masked tokens with A > 0 and r > 1 + clipHigh
  at::Tensor approxKl;       // mean over masked tokens of k3(π_old‖π_θ) = (r − 1) − log r
  at::Tensor refKl;          // mean over masked tokens of k3(π_ref‖π_θ); undefined when klCoef == 0
  at::Tensor tokens;         // Σ mask
  at::Tensor clipLowTokens;  // numerator of clipFracLow
  at::Tensor clipHighTokens; // numerator of clipFracHigh
  at::Tensor approxKlSum;    // numerator of approxKl
};

// logprobs: [B,T] log π_θ(token) with autograd history; oldLogprobs: [B,T] log π_old (sampling policy);
// advantages: [B] (one per sequence) or [B,T]; mask: [B,T] 0/1 (any dtype) marking the response tokens.
GrpoLossOutput GrpoTokenLoss(const at::Tensor& logprobs, const at::Tensor& oldLogprobs,
                             const at::Tensor& advantages, const at::Tensor& mask, const GrpoLossOptions& o);

// Negative mean log-likelihood over masked tokens: −Σ m·logp / N, N = `normaliser` or Σ m (0-dim, with
// autograd history). With a global N it sums exactly across micro-batches like token-mean above.
at::Tensor SftLoss(const at::Tensor& logprobs, const at::Tensor& mask,
                   std::optional<double> normaliser = std::nullopt);

}  // namespace siri
