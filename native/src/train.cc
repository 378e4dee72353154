// Policy::Logprobs and Policy::TrainStep (see policy.h): scoring and one optimizer step over micro-batches.
//
// The LM head is applied in chunks of tokens so the [tokens x vocab] logits never exist whole. For the
// response tokens of a micro-batch (hidden rows h_i, targets y_i, temperature T):
//   z_i = W h_i / T,  lse_i = log sum_k exp z_ik,  logp_i = z_iy - lse_i,  H_i = -sum_k p_ik log p_ik
// Training runs the loss (loss.h) on leaf tensors logp, H laid out [b, L]; its backward gives
// g1 = dL/dlogp_i and g2 = dL/dH_i, and the head backward is analytic, chunk by chunk:
//   dL/dz_ik = g1 (1[k=y] - p_ik) - g2 p_ik (log p_ik + H_i)
//   dL/dh_i = (dL/dz_i / T) W,   dL/dW += sum_i (dL/dz_i / T)^T h_i
// followed by the trunk's autograd backward from dL/dh. The aggregation normaliser is the global token
// count (token-mean) or sequence count (seq-mean-*) of the whole step, so accumulating micro-batch
// gradients equals the gradient of the one big batch.
// On CUDA tensors of a CUDA build (cuda_dispatch.h) the head and the GRPO loss run siri's fused kernels
// (cuda/kernels.h): the same math, the head's products in the compute dtype (bf16 when computeDtype is
// bfloat16) with fp32 accumulation, and dL/dW added straight into the fp32 parameter gradient.
#include <c10/core/GradMode.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "cuda_dispatch.h"
#include "fused_ops.h"
#include "loss.h"
#include "policy_internal.h"
#ifdef SIRI_WITH_CUDA
#include "cuda/kernels.h"
#endif

namespace siri {
namespace {

struct HeadForwardResult {
  at::Tensor logprobs;  // [N]
  at::Tensor entropy;   // [N]
  std::vector<SoftmaxStats> chunk_stats;
  std::vector<at::Tensor> cached_logits;  // per chunk [n, V] raw logits (only when keep_cache)
  at::Tensor lse;                         // [N] fp32 log-sum-exp (the fused CUDA head's saved state)
  at::Tensor compute_weight;              // the head weight in the compute dtype (fused CUDA head only)
};

#ifdef SIRI_WITH_CUDA
// The fused CUDA head (cuda/lm_head.cuh): tiles of W h / T in a 256 MiB workspace instead of [N, V] logits.
HeadForwardResult FusedCudaHeadForward(const at::Tensor& h, const at::Tensor& weight, const at::Tensor& targets,
                                       double temperature, at::ScalarType compute_dtype) {
  HeadForwardResult out;
  out.compute_weight = weight.detach().to(compute_dtype);
  siri::cuda::LmHeadOptions options;
  options.temperature = temperature;
  const siri::cuda::LmHeadForwardResult f = siri::cuda::LmHeadForward(h.to(compute_dtype), out.compute_weight, targets, options);
  out.logprobs = f.logprobs;
  out.entropy = f.entropy;
  out.lse = f.lse;
  return out;
}
#endif

// Chunked LM head + log-softmax + gather + entropy, no autograd.
HeadForwardResult HeadForward(const at::Tensor& h, const at::Tensor& weight, const at::Tensor& targets,
                              double temperature, int64_t chunk_rows, bool keep_cache, at::ScalarType compute_dtype) {
  c10::NoGradGuard no_grad;
#ifdef SIRI_WITH_CUDA
  if (UseSiriCudaKernels(h)) return FusedCudaHeadForward(h, weight, targets, temperature, compute_dtype);
#endif
  const int64_t N = h.size(0);
  HeadForwardResult out;
  std::vector<at::Tensor> logp, ent;
  for (int64_t start = 0; start < N; start += chunk_rows) {
    const int64_t n = std::min(chunk_rows, N - start);
    at::Tensor z = at::linear(h.narrow(0, start, n), weight);  // [n, V]
    SoftmaxStats st = ComputeSoftmaxStats(z, targets.narrow(0, start, n), 1.0 / temperature);
    logp.push_back(st.logp);
    ent.push_back(st.entropy);
    out.chunk_stats.push_back(std::move(st));
    if (keep_cache) out.cached_logits.push_back(z);
  }
  out.logprobs = N > 0 ? at::cat(logp) : at::empty({0}, h.options());
  out.entropy = N > 0 ? at::cat(ent) : at::empty({0}, h.options());
  return out;
}

// Analytic backward of HeadForward given g1 = dL/dlogp [N] and g2 = dL/dH [N] (undefined = 0).
// Accumulates dL/dW into weight's .grad and returns dL/dh [N, H].
at::Tensor HeadBackward(const at::Tensor& h, const at::Tensor& weight, const at::Tensor& targets, double temperature,
                        int64_t chunk_rows, HeadForwardResult& fwd, const at::Tensor& g1, const at::Tensor& g2) {
  c10::NoGradGuard no_grad;
  const int64_t N = h.size(0);
  at::Tensor& wgrad = const_cast<at::Tensor&>(weight).mutable_grad();
  if (!wgrad.defined()) wgrad = at::zeros_like(weight);
#ifdef SIRI_WITH_CUDA
  if (fwd.lse.defined()) {  // the forward ran the fused CUDA head
    siri::cuda::LmHeadOptions options;
    options.temperature = temperature;
    const siri::cuda::LmHeadForwardResult saved{fwd.logprobs, fwd.entropy, fwd.lse};
    const at::Tensor g2_fp32 = g2.defined() ? g2.to(at::kFloat) : at::Tensor();
    return siri::cuda::LmHeadBackward(h.to(fwd.compute_weight.scalar_type()), fwd.compute_weight, targets, saved,
                                      g1.to(at::kFloat), g2_fp32, wgrad, options)
        .to(h.scalar_type());
  }
#endif
  at::Tensor dh = at::empty_like(h);
  size_t chunk = 0;
  for (int64_t start = 0; start < N; start += chunk_rows, ++chunk) {
    const int64_t n = std::min(chunk_rows, N - start);
    const at::Tensor h_c = h.narrow(0, start, n);
    at::Tensor dz = chunk < fwd.cached_logits.size() ? std::move(fwd.cached_logits[chunk]) : at::linear(h_c, weight);
    SoftmaxStatsBackwardInPlace(dz, targets.narrow(0, start, n), fwd.chunk_stats[chunk], g1.narrow(0, start, n),
                                g2.defined() ? g2.narrow(0, start, n) : at::Tensor(), 1.0 / temperature);
    dh.narrow(0, start, n).copy_(at::mm(dz, weight));
    wgrad.addmm_(dz.t(), h_c);
  }
  return dh;
}

void ValidateAligned(const TokenBatch& batch, size_t size, const char* what) {
  if (size != batch.ids.size()) {
    throw std::invalid_argument(std::string(what) + " must have one entry per token (" + std::to_string(batch.ids.size()) +
                                "), got " + std::to_string(size));
  }
}

// Counts response tokens per sequence and checks the mask (0/1, never on the first token).
std::vector<int64_t> ResponseCounts(const TokenBatch& batch, const std::vector<uint8_t>& mask, const char* what) {
  ValidateAligned(batch, mask.size(), what);
  std::vector<int64_t> counts(batch.count(), 0);
  for (size_t i = 0; i < batch.count(); ++i) {
    const int64_t base = batch.offsets[i];
    if (mask[static_cast<size_t>(base)]) {
      throw std::invalid_argument(std::string(what) + "[" + std::to_string(i) +
                                  "][0] is 1, but the first token has no log-prob (nothing precedes it)");
    }
    for (int64_t t = 1; t < batch.length(i); ++t) {
      const uint8_t m = mask[static_cast<size_t>(base + t)];
      if (m > 1) throw std::invalid_argument(std::string(what) + "[" + std::to_string(i) + "][" + std::to_string(t) + "] must be 0 or 1");
      counts[i] += m;
    }
  }
  return counts;
}

at::Tensor Gather(const std::vector<float>& values, const at::Tensor& flat_index) {
  const at::Tensor all = at::from_blob(const_cast<float*>(values.data()), {static_cast<int64_t>(values.size())}, at::kFloat);
  return all.index_select(0, flat_index);
}

// Scatters per-token values [N] into a [b, L] matrix at (seq, pos).
at::Tensor ToMatrix(const at::Tensor& values, const at::Tensor& lin_index, int64_t b, int64_t L) {
  at::Tensor mat = at::zeros({b * L}, values.options());
  mat.index_copy_(0, lin_index, values);
  return mat.view({b, L});
}

void CheckFinite(const std::vector<float>& values, const char* what) {
  for (size_t k = 0; k < values.size(); ++k) {
    if (!std::isfinite(values[k])) throw std::invalid_argument(std::string(what) + " has a non-finite value at flat index " + std::to_string(k));
  }
}

}  // namespace

LogprobsOutput Policy::Logprobs(const TokenBatch& sequences, const std::vector<uint8_t>& response_mask,
                                const LogprobsOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyThreads();
  Validate(sequences, "sequences");
  const std::vector<int64_t> counts = ResponseCounts(sequences, response_mask, "responseMask");
  if (!(options.temperature > 0)) throw std::invalid_argument("temperature must be > 0");
  if (options.micro_batch_tokens < 1) throw std::invalid_argument("microBatchTokens must be >= 1");
  c10::NoGradGuard no_grad;
  LogprobsOutput out;
  out.logprobs.assign(sequences.ids.size(), 0.0f);
  out.entropies.assign(sequences.ids.size(), 0.0f);
  std::vector<size_t> include;
  for (size_t i = 0; i < sequences.count(); ++i) {
    if (counts[i] > 0) include.push_back(i);
  }
  const auto groups = PlanMicroBatches(sequences, include, options.micro_batch_tokens);
  const c10::Device device = model_->device();
  const at::Tensor& head = model_->HeadWeight();
  const int64_t H = model_->config().hidden_size;
  const int64_t chunk = HeadChunkRows(model_->config().vocab_size);
  int64_t done = 0;
  for (const auto& rows : groups) {
    const int64_t L = sequences.length(rows.front());
    const at::Tensor hidden = model_->Hidden(RightPaddedIds(sequences, rows, L, device), /*final_norm=*/false);
    const ResponseRows rr = CollectResponseRows(sequences, response_mask, rows, L);
    const at::Tensor h = model_->FinalNorm(hidden.reshape({-1, H}).index_select(0, rr.hidden_rows.to(device)));
    const HeadForwardResult f =
        HeadForward(h, head, rr.targets.to(device), options.temperature, chunk, false, model_->ComputeDtype());
    const at::Tensor lp = f.logprobs.to(at::kCPU).contiguous();
    const at::Tensor en = f.entropy.to(at::kCPU).contiguous();
    const int64_t* flat = rr.flat_index.data_ptr<int64_t>();
    for (int64_t k = 0; k < lp.numel(); ++k) {
      out.logprobs[static_cast<size_t>(flat[k])] = lp.data_ptr<float>()[k];
      out.entropies[static_cast<size_t>(flat[k])] = en.data_ptr<float>()[k];
    }
    ++done;
    if (options.progress) options.progress(Progress{"logprobs", done, static_cast<int64_t>(groups.size()), 0});
  }
  return out;
}

TrainResult Policy::TrainStep(const TrainBatch& batch, const TrainOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyThreads();
  const TokenBatch& seqs = batch.sequences;
  Validate(seqs, "sequences");
  const std::vector<int64_t> counts = ResponseCounts(seqs, batch.response_mask, "responseMask");
  const bool grpo = options.loss == "grpo";
  if (!grpo && options.loss != "sft") throw std::invalid_argument("loss must be 'grpo' or 'sft', got '" + options.loss + "'");
  const LossAggregation aggregation = ParseLossAggregation(options.loss_aggregation);
  if (grpo) {
    if (batch.advantages.size() != seqs.count()) {
      throw std::invalid_argument("advantages must have one value per sequence (" + std::to_string(seqs.count()) + "), got " +
                                  std::to_string(batch.advantages.size()));
    }
    CheckFinite(batch.advantages, "advantages");
  }
  if (!batch.old_logprobs.empty()) {
    ValidateAligned(seqs, batch.old_logprobs.size(), "oldLogprobs");
    CheckFinite(batch.old_logprobs, "oldLogprobs");
  }
  const bool with_ref = grpo && options.kl_coef != 0.0;
  if (with_ref) {
    if (batch.ref_logprobs.empty()) throw std::invalid_argument("refLogprobs are required when klCoef != 0");
    ValidateAligned(seqs, batch.ref_logprobs.size(), "refLogprobs");
    CheckFinite(batch.ref_logprobs, "refLogprobs");
  }
  if (!(options.temperature > 0)) throw std::invalid_argument("temperature must be > 0");
  if (options.micro_batch_tokens < 1) throw std::invalid_argument("microBatchTokens must be >= 1");
  if (!(options.lr >= 0) || !(options.eps > 0) || !(options.beta1 >= 0 && options.beta1 < 1) ||
      !(options.beta2 >= 0 && options.beta2 < 1) || !(options.weight_decay >= 0)) {
    throw std::invalid_argument("AdamW options out of range (lr >= 0, 0 <= betas < 1, eps > 0, weightDecay >= 0)");
  }

  int64_t total_tokens = 0;
  for (int64_t c : counts) total_tokens += c;
  if (total_tokens == 0) throw std::invalid_argument("responseMask selects no tokens: nothing to train on");
  const int64_t num_sequences = static_cast<int64_t>(seqs.count());
  // Global normaliser of the aggregation (see loss.h): N_tok for token-mean, N_seq for the seq-mean modes.
  const double normaliser = aggregation == LossAggregation::kTokenMean ? static_cast<double>(total_tokens)
                                                                       : static_cast<double>(num_sequences);

  std::vector<at::Tensor> params;
  std::vector<std::string> names;
  for (const auto& [name, p] : model_->NamedParameters()) {
    names.push_back(name);
    params.push_back(p);
  }
  const AdamWOptions adam{options.lr, options.beta1, options.beta2, options.eps, options.weight_decay};
  if (!state_->optimizer) {
    state_->optimizer = std::make_unique<AdamW>(params, adam, names);
  } else {
    state_->optimizer->SetOptions(adam);  // schedules live in the caller; moments and step counts are kept
  }
  AdamW& optimizer = *state_->optimizer;
  optimizer.ZeroGrad();

  std::vector<size_t> include;
  for (size_t i = 0; i < seqs.count(); ++i) {
    if (counts[i] > 0) include.push_back(i);
  }
  const auto groups = PlanMicroBatches(seqs, include, options.micro_batch_tokens);
  const c10::Device device = model_->device();
  const at::Tensor& head = model_->HeadWeight();
  const int64_t H = model_->config().hidden_size;
  const int64_t V = model_->config().vocab_size;
  const int64_t chunk = HeadChunkRows(V);
  const int64_t cache_budget_elems = 64ll << 20;  // keep log-softmax between forward and backward below 256 MB

  PhaseTimer timer;
  double loss_sum = 0, clip_low = 0, clip_high = 0, approx_kl = 0, ref_kl = 0, entropy_sum = 0;
  int64_t micro = 0;
  for (const auto& rows : groups) {
    const int64_t b = static_cast<int64_t>(rows.size());
    const int64_t L = seqs.length(rows.front());
    const at::Tensor hidden = model_->Hidden(RightPaddedIds(seqs, rows, L, device), /*final_norm=*/false,
                                             options.activation_checkpointing);  // autograd on
    timer.Mark("trunk forward");
    const ResponseRows rr = CollectResponseRows(seqs, batch.response_mask, rows, L);
    const int64_t N = rr.hidden_rows.numel();
    const at::Tensor h = model_->FinalNorm(hidden.reshape({-1, H}).index_select(0, rr.hidden_rows.to(device)));
    const at::Tensor h_data = h.detach();
    const at::Tensor targets = rr.targets.to(device);
    HeadForwardResult fwd = HeadForward(h_data, head, targets, options.temperature, chunk, N * V <= cache_budget_elems,
                                        model_->ComputeDtype());
    timer.Mark("head forward");

    // Loss on [b, L] leaves at (sequence, position).
    const at::Tensor lin = (rr.seq_in_batch * L + rr.position).to(device);
    at::Tensor logp_mat = ToMatrix(fwd.logprobs, lin, b, L).set_requires_grad(true);
    at::Tensor mask_mat = ToMatrix(at::ones({N}, h.options()), lin, b, L);
    at::Tensor ent_mat;
    at::Tensor loss;
    at::Tensor g1_mat, g2_mat;  // dL/dlogp and dL/dH as [b, L]
    if (grpo) {
      const at::Tensor old_mat =
          batch.old_logprobs.empty() ? logp_mat.detach() : ToMatrix(Gather(batch.old_logprobs, rr.flat_index).to(device), lin, b, L);
      std::vector<float> adv_rows;
      for (size_t i : rows) adv_rows.push_back(batch.advantages[i]);
      const at::Tensor adv = at::tensor(at::ArrayRef<float>(adv_rows), at::kFloat).to(device);
      GrpoLossOptions o;
      o.clipLow = options.clip_low;
      o.clipHigh = options.clip_high;
      o.clipC = options.clip_c;
      o.aggregation = aggregation;
      o.normaliser = normaliser;
      if (with_ref) {
        o.klCoef = options.kl_coef;
        o.refLogprobs = ToMatrix(Gather(batch.ref_logprobs, rr.flat_index).to(device), lin, b, L);
      }
      if (options.entropy_coef != 0.0) {
        ent_mat = ToMatrix(fwd.entropy, lin, b, L).set_requires_grad(true);
        o.entropyCoef = options.entropy_coef;
        o.entropy = ent_mat;
      }
      GrpoLossOutput lo;
#ifdef SIRI_WITH_CUDA
      if (UseSiriCudaKernels(logp_mat)) {  // the fused loss: forward and backward kernels, no autograd graph
        const siri::cuda::GrpoLossForwardResult lf = siri::cuda::GrpoTokenLossForward(logp_mat.detach(), old_mat, adv, mask_mat, o);
        const siri::cuda::GrpoLossGrads lg = siri::cuda::GrpoTokenLossBackward(at::ones({}, lf.saved.options()), logp_mat.detach(),
                                                                               old_mat, adv, mask_mat, o, lf);
        lo = lf.stats;
        g1_mat = lg.grad_logprobs;
        g2_mat = lg.grad_entropy;
      }
#endif
      if (!g1_mat.defined()) {
        lo = GrpoTokenLoss(logp_mat, old_mat, adv, mask_mat, o);
        lo.loss.backward();
      }
      loss = lo.loss;
      clip_low += lo.clipLowTokens.item<double>();
      clip_high += lo.clipHighTokens.item<double>();
      approx_kl += lo.approxKlSum.item<double>();
      if (lo.refKl.defined()) ref_kl += lo.refKl.item<double>() * lo.tokens.item<double>();
    } else {
      at::Tensor weights = mask_mat;
      if (aggregation == LossAggregation::kSeqMeanTokenMean) {
        // Per-sequence mean: weight 1/n_b on each response token of sequence b.
        std::vector<float> inv;
        for (size_t i : rows) inv.push_back(1.0f / static_cast<float>(counts[i]));
        weights = mask_mat * at::tensor(at::ArrayRef<float>(inv), at::kFloat).to(device).view({b, 1});
      }
      loss = SftLoss(logp_mat, weights, normaliser);
      loss.backward();
    }
    timer.Mark("loss");
    if (!g1_mat.defined()) {  // the autograd path: the loss's gradients sit on its [b, L] leaves
      g1_mat = logp_mat.grad();
      if (ent_mat.defined()) g2_mat = ent_mat.grad();
    }
    const at::Tensor g1 = g1_mat.reshape({-1}).index_select(0, lin);
    const at::Tensor g2 = g2_mat.defined() ? g2_mat.reshape({-1}).index_select(0, lin) : at::Tensor();
    const at::Tensor dh = HeadBackward(h_data, head, targets, options.temperature, chunk, fwd, g1, g2);
    timer.Mark("head backward");
    h.backward(dh);
    timer.Mark("trunk backward");

    loss_sum += loss.item<double>();
    entropy_sum += fwd.entropy.sum().item<double>();
    ++micro;
    if (options.progress) options.progress(Progress{"microbatch", micro, static_cast<int64_t>(groups.size()), 0});
  }

  const double max_norm = options.grad_clip > 0 ? options.grad_clip : std::numeric_limits<double>::infinity();
  const double grad_norm = ClipGradNorm(params, max_norm).item<double>();
  if (!std::isfinite(grad_norm) || !std::isfinite(loss_sum)) {
    optimizer.ZeroGrad();
    throw std::runtime_error("trainStep: non-finite loss or gradient norm (loss " + std::to_string(loss_sum) + ", grad norm " +
                             std::to_string(grad_norm) + "); the update was skipped and the weights are unchanged");
  }
  timer.Mark("grad clip");
  optimizer.Step();
  optimizer.ZeroGrad();
  timer.Mark("adamw");
  model_->MarkParametersChanged();
  ++step_;

  TrainResult r;
  const double n = static_cast<double>(total_tokens);
  r.loss = loss_sum;
  r.clip_frac_low = clip_low / n;
  r.clip_frac_high = clip_high / n;
  r.approx_kl = approx_kl / n;
  r.ref_kl = ref_kl / n;
  r.entropy = entropy_sum / n;
  r.grad_norm = grad_norm;
  r.tokens = total_tokens;
  r.micro_batches = micro;
  r.step = step_;
  return r;
}

}  // namespace siri
