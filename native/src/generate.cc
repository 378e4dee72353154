// Policy::Generate: batched sampling with a static KV cache (see policy.h for the contract).
// Prompts of a group are left-padded to a common length and prefilled once; the cache rows are then
// repeated for the samples of each prompt and decoded one token per step. Rows that finish are dropped
// from the batch once half of it is done. Randomness: one uniform per sample per step from a CPU generator
// seeded by `seed` (drawn for every sample of the group even when finished, so the stream does not depend
// on the batch layout), then inverse-CDF sampling — identical tokens for identical seed, device, threads.
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include <set>
#include <stdexcept>

#include "policy_internal.h"

namespace siri {
namespace {

constexpr int64_t kPrefillTokens = 16384;         // prompt tokens per prefill forward
constexpr int64_t kPrefillMaskElems = 1ll << 28;  // attention-mask booleans per padded prefill forward

struct Sampled {
  at::Tensor tokens;             // [b] int64
  at::Tensor policy_logprobs;    // [b] log pi(token), temperature 1
  at::Tensor sampling_logprobs;  // [b] log q(token) of the distribution sampled from
};

// Samples one token per row of logits [b, V] with uniforms u [b] in [0, 1).
//   q = softmax(logits / T), restricted to the top-p nucleus (smallest prefix of tokens sorted by
//   probability whose mass reaches p; a token is kept when the mass before it is < p) and renormalised;
//   token = the first index whose cumulative q exceeds u * sum(q).  T = 0 is greedy (argmax).
Sampled SampleTokens(const at::Tensor& logits, const at::Tensor& u, double temperature, double top_p) {
  Sampled out;
  const at::Tensor policy_logp = at::log_softmax(logits, -1);
  const int64_t vocab = logits.size(-1);
  if (temperature <= 0.0) {
    out.tokens = logits.argmax(-1);
    out.sampling_logprobs = at::zeros({logits.size(0)}, logits.options());
  } else {
    const at::Tensor scaled = temperature == 1.0 ? logits : logits / temperature;
    if (top_p < 1.0) {
      auto [sorted, order] = at::sort(scaled, /*stable=*/true, -1, /*descending=*/true);
      at::Tensor probs = at::softmax(sorted, -1);
      const at::Tensor mass_before = probs.cumsum(-1) - probs;
      probs = probs * (mass_before < top_p).to(probs.scalar_type());
      const at::Tensor cumulative = probs.cumsum(-1);
      const at::Tensor total = cumulative.select(-1, vocab - 1);
      const at::Tensor k = at::searchsorted(cumulative, (u * total).unsqueeze(1), false, /*right=*/true).clamp_max(vocab - 1);
      out.tokens = order.gather(1, k).squeeze(1);
      out.sampling_logprobs = (probs.gather(1, k).squeeze(1) / total).log();
    } else {
      const at::Tensor probs = at::softmax(scaled, -1);
      const at::Tensor cumulative = probs.cumsum(-1);
      const at::Tensor total = cumulative.select(-1, vocab - 1);
      out.tokens = at::searchsorted(cumulative, (u * total).unsqueeze(1), false, true).clamp_max(vocab - 1).squeeze(1);
      out.sampling_logprobs = at::log_softmax(scaled, -1).gather(1, out.tokens.unsqueeze(1)).squeeze(1);
    }
  }
  out.policy_logprobs = policy_logp.gather(1, out.tokens.unsqueeze(1)).squeeze(1);
  return out;
}

}  // namespace

GenerateOutput Policy::Generate(const TokenBatch& prompts, const GenerateOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyThreads();
  Validate(prompts, "promptIds");
  const int64_t vocab = model_->config().vocab_size;
  if (options.samples_per_prompt < 1) throw std::invalid_argument("samplesPerPrompt must be >= 1");
  if (options.max_new_tokens < 0) throw std::invalid_argument("maxNewTokens must be >= 0");
  if (!(options.temperature >= 0.0)) throw std::invalid_argument("temperature must be >= 0");
  if (!(options.top_p > 0.0 && options.top_p <= 1.0)) throw std::invalid_argument("topP must be in (0, 1]");
  std::set<int64_t> stop_ids;
  for (int64_t id : options.stop_token_ids) {
    if (id < 0 || id >= vocab) {
      throw std::invalid_argument("stopTokenIds contains " + std::to_string(id) + ", not a token id (vocab_size " +
                                  std::to_string(vocab) + ")");
    }
    stop_ids.insert(id);
  }
  c10::NoGradGuard no_grad;
  const c10::Device device = model_->device();
  const int64_t S = options.samples_per_prompt;
  const int64_t num_prompts = static_cast<int64_t>(prompts.count());
  at::Generator gen = options.seed ? at::make_generator<at::CPUGeneratorImpl>(*options.seed) : state_->rng;

  // Per-sample outputs, filled group by group.
  const size_t total_samples = static_cast<size_t>(num_prompts * S);
  std::vector<std::vector<int32_t>> tokens(total_samples);
  std::vector<std::vector<float>> logps(total_samples), sampling_logps(total_samples);
  std::vector<uint8_t> stopped(total_samples, 0);

  // Groups of whole prompts decoded together: at most max_batch samples, and by default no more than
  // kv_cache_bytes of KV cache (at least one prompt per group).
  int64_t longest_prompt = 0;
  for (size_t p = 0; p < prompts.count(); ++p) longest_prompt = std::max(longest_prompt, prompts.length(p));
  const Qwen2Config& cfg = model_->config();
  const int64_t cache_bytes_per_sample = cfg.num_hidden_layers * 2 * cfg.num_key_value_heads * cfg.head_dim *
                                         (longest_prompt + options.max_new_tokens) * static_cast<int64_t>(sizeof(float));
  int64_t per_group = num_prompts;
  if (options.max_batch > 0) per_group = std::min(per_group, std::max<int64_t>(1, options.max_batch / S));
  per_group = std::min(per_group, std::max<int64_t>(1, options.kv_cache_bytes / std::max<int64_t>(1, cache_bytes_per_sample * S)));
  std::vector<std::pair<int64_t, int64_t>> groups;  // [first prompt, prompt count)
  for (int64_t p = 0; p < num_prompts; p += per_group) groups.emplace_back(p, std::min(per_group, num_prompts - p));

  const at::Tensor head = model_->HeadWeight();
  for (const auto& [first, count] : groups) {
    if (options.max_new_tokens == 0) break;
    // Left-pad the group's prompts to the longest.
    int64_t P = 0;
    for (int64_t p = first; p < first + count; ++p) P = std::max(P, prompts.length(static_cast<size_t>(p)));
    at::Tensor ids = at::zeros({count, P}, at::kLong);
    at::Tensor pad = at::empty({count}, at::kLong);
    int64_t* ids_p = ids.data_ptr<int64_t>();
    int64_t* pad_p = pad.data_ptr<int64_t>();
    std::vector<int64_t> prompt_len(static_cast<size_t>(count));
    for (int64_t r = 0; r < count; ++r) {
      const size_t p = static_cast<size_t>(first + r);
      const int64_t len = prompts.length(p);
      prompt_len[static_cast<size_t>(r)] = len;
      pad_p[r] = P - len;
      for (int64_t t = 0; t < len; ++t) ids_p[r * P + P - len + t] = prompts.ids[static_cast<size_t>(prompts.offsets[p] + t)];
    }
    if (options.progress) options.progress(Progress{"prefill", 0, options.max_new_tokens, count * S});
    KVCache cache = model_->NewCache(count, P + options.max_new_tokens);
    PhaseTimer timer;
    // Prefill in slices of prompts that keep the activations (and, with padding, the [rows, P, P] mask) bounded.
    bool padded = false;
    for (int64_t r = 0; r < count; ++r) padded = padded || pad_p[r] > 0;
    const int64_t slice = std::max<int64_t>(1, std::min(kPrefillTokens / P, padded ? kPrefillMaskElems / (P * P) : count));
    std::vector<at::Tensor> last_rows;
    for (int64_t r0 = 0; r0 < count; r0 += slice) {
      const int64_t n = std::min(slice, count - r0);
      last_rows.push_back(model_->Prefill(ids.narrow(0, r0, n).to(device), pad.narrow(0, r0, n).to(device), padded, r0, cache));
    }
    at::Tensor last_hidden = at::cat(last_rows, 0);
    timer.Mark("prefill");
    const at::Tensor expand = at::arange(count, at::kLong).repeat_interleave(S);  // row -> prompt
    cache.SelectRows(expand.to(device));
    at::Tensor logits = at::linear(last_hidden.index_select(0, expand.to(device)), head);  // [B, V]

    const int64_t B = count * S;
    // Live rows: row_sample[r] = index of the sample (within the group) that batch row r holds.
    std::vector<int64_t> row_sample(static_cast<size_t>(B));
    for (int64_t r = 0; r < B; ++r) row_sample[static_cast<size_t>(r)] = r;
    std::vector<int64_t> next_position(static_cast<size_t>(B));
    for (int64_t r = 0; r < B; ++r) next_position[static_cast<size_t>(r)] = prompt_len[static_cast<size_t>(r / S)];

    for (int64_t step = 0; step < options.max_new_tokens; ++step) {
      const at::Tensor u_all = at::rand({B}, gen, at::kFloat);
      const at::Tensor rows_cpu = at::tensor(at::ArrayRef<int64_t>(row_sample), at::kLong).clone();
      const at::Tensor u = u_all.index_select(0, rows_cpu).to(device);
      const Sampled s = SampleTokens(logits, u, options.temperature, options.top_p);
      const at::Tensor tok_cpu = s.tokens.to(at::kCPU).contiguous();
      const at::Tensor lp_cpu = s.policy_logprobs.to(at::kCPU).contiguous();
      const at::Tensor slp_cpu = s.sampling_logprobs.to(at::kCPU).contiguous();
      const int64_t* tok = tok_cpu.data_ptr<int64_t>();
      const float* lp = lp_cpu.data_ptr<float>();
      const float* slp = slp_cpu.data_ptr<float>();
      std::vector<int64_t> keep;  // batch rows still running after this token
      for (size_t r = 0; r < row_sample.size(); ++r) {
        const size_t sample = static_cast<size_t>(first * S + row_sample[r]);
        if (stopped[sample]) continue;  // finished earlier; its row stays until the next compaction
        tokens[sample].push_back(static_cast<int32_t>(tok[r]));
        logps[sample].push_back(lp[r]);
        sampling_logps[sample].push_back(slp[r]);
        if (stop_ids.count(tok[r])) {
          stopped[sample] = 1;
        } else {
          keep.push_back(static_cast<int64_t>(r));
        }
      }
      if (options.progress) options.progress(Progress{"decode", step + 1, options.max_new_tokens, static_cast<int64_t>(keep.size())});
      if (keep.empty() || step + 1 == options.max_new_tokens) break;

      at::Tensor next_tokens = s.tokens;
      // Drop finished rows once at least half of the batch is done (one copy of the cache each time).
      if (keep.size() * 2 <= row_sample.size()) {
        const at::Tensor keep_t = at::tensor(at::ArrayRef<int64_t>(keep), at::kLong).clone().to(device);
        cache.SelectRows(keep_t);
        next_tokens = next_tokens.index_select(0, keep_t);
        std::vector<int64_t> new_rows, new_pos;
        for (int64_t r : keep) {
          new_rows.push_back(row_sample[static_cast<size_t>(r)]);
          new_pos.push_back(next_position[static_cast<size_t>(r)]);
        }
        row_sample = std::move(new_rows);
        next_position = std::move(new_pos);
      }
      const at::Tensor positions = at::tensor(at::ArrayRef<int64_t>(next_position), at::kLong).clone().to(device);
      timer.Mark("sample");
      const at::Tensor hidden = model_->DecodeStep(next_tokens, positions, cache);
      for (auto& p : next_position) ++p;
      logits = at::linear(hidden, head);
      timer.Mark("decode step");
    }
  }

  GenerateOutput out;
  out.tokens.offsets.push_back(0);
  for (size_t i = 0; i < total_samples; ++i) {
    out.tokens.ids.insert(out.tokens.ids.end(), tokens[i].begin(), tokens[i].end());
    out.tokens.offsets.push_back(static_cast<int64_t>(out.tokens.ids.size()));
    out.logprobs.insert(out.logprobs.end(), logps[i].begin(), logps[i].end());
    out.sampling_logprobs.insert(out.sampling_logprobs.end(), sampling_logps[i].begin(), sampling_logps[i].end());
  }
  out.stopped = std::move(stopped);
  return out;
}

}  // namespace siri
