// Policy::Generate: batched sampling over a static KV cache with continuous batching (contract: policy.h).
// Decode slots: the cache has one row per slot, as many as maxBatch / kvCacheBytes allow in whole prompts.
// Prompts wait in a queue, in order; whenever a prompt's S samples find free slots, the next prompts are
// admitted: left-padded to their longest, prefilled once, and their cache rows copied into S free slots each,
// while the other rows keep decoding at their own positions (per-row cache lengths and masks, qwen2.h).
// Decode steps then run the running rows only, so a finished sample's slot costs nothing until a prompt is
// admitted to it. continuousBatching = false admits only into an empty pool and decodes every row of it,
// dropping finished rows once half of the batch is done (one copy of the cache each time): the
// group-by-group schedule of earlier versions. When all prompts fit (the default sizes) there is one
// admission and generate runs that schedule, bitwise as before.
// Randomness: sample i's k-th token uses element i of the k-th at::rand({samples}) draw of a CPU generator
// seeded by `seed` (drawn as the furthest sample reaches token k), then inverse-CDF sampling. So a sample's
// tokens do not depend on the slot count, the schedule or which samples share its batch (up to the float
// rounding of differently shaped matrix products); identical tokens for identical seed, device, threads.
// On CUDA in a CUDA build (cuda_dispatch.h) tokens come from siri's sampling kernel instead: Philox keyed by
// one draw of that generator and counted by (sample, token index) — also slot-independent, another stream.
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>

#include "cuda_dispatch.h"
#include "policy_internal.h"
#ifdef SIRI_WITH_CUDA
#include "cuda/kernels.h"
#endif

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

// The uniforms of sampling: sample i's uniform for its token k is element i of the k-th
// at::rand({samples}) draw of the generator, whichever batch row the sample decodes in. Draws are made in
// order, when the furthest sample first needs token k, and dropped once no sample needs them any more.
class UniformStream {
 public:
  UniformStream(at::Generator gen, int64_t samples) : gen_(std::move(gen)), samples_(samples) {}
  float At(int64_t token, int64_t sample) {
    while (first_ + static_cast<int64_t>(draws_.size()) <= token) draws_.push_back(at::rand({samples_}, gen_, at::kFloat));
    return draws_[static_cast<size_t>(token - first_)].data_ptr<float>()[sample];
  }
  // No sample asks for a token below `token` again.
  void DropBelow(int64_t token) {
    while (first_ < token && !draws_.empty()) {
      draws_.pop_front();
      ++first_;
    }
  }

 private:
  at::Generator gen_;
  int64_t samples_;
  std::deque<at::Tensor> draws_;  // draws_[j] = draw number first_ + j
  int64_t first_ = 0;
};

at::Tensor LongTensor(const std::vector<int64_t>& values, const c10::Device& device) {
  return at::tensor(at::ArrayRef<int64_t>(values), at::kLong).to(device);
}

// One token per row of logits: row j draws token draw_token[j] of sample draw_sample[j] (-1: a finished
// row, any draw) with that sample's uniform from the stream, on the logits' device.
Sampled SampleWithUniforms(const at::Tensor& logits, const std::vector<int64_t>& draw_sample,
                           const std::vector<int64_t>& draw_token, UniformStream& uniforms, const GenerateOptions& options) {
  std::vector<float> u(draw_sample.size(), 0.5f);
  for (size_t j = 0; j < draw_sample.size(); ++j) {
    if (draw_sample[j] >= 0) u[j] = uniforms.At(draw_token[j], draw_sample[j]);
  }
  const at::Tensor u_dev = at::tensor(at::ArrayRef<float>(u), at::kFloat).to(logits.device());
  return SampleTokens(logits, u_dev, options.temperature, options.top_p);
}

// The same draw with siri's CUDA sampling kernel (cuda/sampling.cuh): Philox keyed by `seed` and counted by
// (sample, token index), so a sample's tokens do not depend on its batch row either — but the stream is
// not the host one, so CUDA and CPU draw different tokens for one seed (greedy decoding agrees).
Sampled SampleOnCuda(const at::Tensor& logits, const std::vector<int64_t>& draw_sample, const std::vector<int64_t>& draw_token,
                     uint64_t seed, const GenerateOptions& options) {
#ifdef SIRI_WITH_CUDA
  std::vector<int64_t> sequence(draw_sample);
  for (int64_t& i : sequence) i = std::max<int64_t>(i, 0);
  const siri::cuda::SampleResult r =
      siri::cuda::SampleTokens(logits, options.temperature, options.top_p, seed, LongTensor(sequence, logits.device()),
                               LongTensor(draw_token, logits.device()));
  return Sampled{r.tokens, r.policy_logprobs, r.sampling_logprobs};
#else
  throw std::logic_error("SampleOnCuda called in a build without CUDA kernels");
#endif
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
  if (options.kv_cache_dtype != "float32" && options.kv_cache_dtype != "bfloat16") {
    throw std::invalid_argument("kvCacheDtype must be 'float32' or 'bfloat16', got '" + options.kv_cache_dtype + "'");
  }
  const at::ScalarType kv_dtype = options.kv_cache_dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
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

  // Per-sample outputs; sample i belongs to prompt i / S.
  const int64_t total_samples = num_prompts * S;
  std::vector<std::vector<int32_t>> tokens(static_cast<size_t>(total_samples));
  std::vector<std::vector<float>> logps(tokens.size()), sampling_logps(tokens.size());
  std::vector<uint8_t> stopped(tokens.size(), 0);

  // Slots: at most max_batch samples, and by default no more than kv_cache_bytes of KV cache, in whole
  // prompts (at least one).
  int64_t longest_prompt = 0;
  for (size_t p = 0; p < prompts.count(); ++p) longest_prompt = std::max(longest_prompt, prompts.length(p));
  const Qwen2Config& cfg = model_->config();
  const int64_t capacity = longest_prompt + options.max_new_tokens;
  const int64_t cache_bytes_per_sample =
      cfg.num_hidden_layers * 2 * cfg.num_key_value_heads * cfg.head_dim * capacity * static_cast<int64_t>(c10::elementSize(kv_dtype));
  int64_t slot_prompts = num_prompts;
  if (options.max_batch > 0) slot_prompts = std::min(slot_prompts, std::max<int64_t>(1, options.max_batch / S));
  slot_prompts = std::min(slot_prompts, std::max<int64_t>(1, options.kv_cache_bytes / std::max<int64_t>(1, cache_bytes_per_sample * S)));

  // With continuous batching and more prompts than slots, decode steps run the running rows only (a free
  // slot costs nothing while it waits for a prompt). Otherwise every row of the pool runs and finished
  // rows are dropped once half of the batch is done — the schedule generate has always had, so with all
  // prompts in one pool (the default) the outputs are bitwise those of earlier versions.
  const bool running_rows_only = options.continuous_batching && slot_prompts < num_prompts;
  const at::Tensor head = model_->HeadWeight();
  UniformStream uniforms(gen, total_samples);
  // With siri's CUDA sampler, one 63-bit key from the generator seeds the whole call's Philox stream.
  std::optional<uint64_t> cuda_seed;
  if (UseSiriCudaKernels(head)) {
    cuda_seed = static_cast<uint64_t>(at::randint(std::numeric_limits<int64_t>::max(), {1}, gen, at::kLong).item<int64_t>());
  }
  KVCache cache;
  std::vector<int64_t> row_sample;    // cache row -> the sample it decodes, -1 = free (parked)
  std::vector<int64_t> row_position;  // cache row -> rope position of its next input token
  at::Tensor logits;                  // [n, V]: next-token logits of the cache rows batch_rows[0..n)
  std::vector<int64_t> batch_rows;
  int64_t next_prompt = 0;  // prompts [0, next_prompt) are admitted
  int64_t live = 0;         // rows whose sample is still running
  PhaseTimer timer;

  // Prefills prompts [first, first + count) and admits their samples into the free rows `slots`.
  const auto admit = [&](int64_t first, int64_t count, const std::vector<int64_t>& slots) {
    int64_t P = 0;
    for (int64_t p = first; p < first + count; ++p) P = std::max(P, prompts.length(static_cast<size_t>(p)));
    at::Tensor ids = at::zeros({count, P}, at::kLong);
    at::Tensor pad = at::empty({count}, at::kLong);
    int64_t* ids_p = ids.data_ptr<int64_t>();
    int64_t* pad_p = pad.data_ptr<int64_t>();
    for (int64_t r = 0; r < count; ++r) {
      const size_t p = static_cast<size_t>(first + r);
      const int64_t len = prompts.length(p);
      pad_p[r] = P - len;
      for (int64_t t = 0; t < len; ++t) ids_p[r * P + P - len + t] = prompts.ids[static_cast<size_t>(prompts.offsets[p] + t)];
    }
    if (options.progress) options.progress(Progress{"prefill", 0, options.max_new_tokens, live + count * S, first + count});
    // Prefill in slices of prompts that keep the activations (and, with padding, the [rows, P, P] mask) bounded.
    KVCache prefilled = model_->NewCache(count, P, kv_dtype);
    bool padded = false;
    for (int64_t r = 0; r < count; ++r) padded = padded || pad_p[r] > 0;
    const int64_t slice = std::max<int64_t>(1, std::min(kPrefillTokens / P, padded ? kPrefillMaskElems / (P * P) : count));
    std::vector<at::Tensor> last_rows;
    for (int64_t r0 = 0; r0 < count; r0 += slice) {
      const int64_t n = std::min(slice, count - r0);
      last_rows.push_back(model_->Prefill(ids.narrow(0, r0, n).to(device), pad.narrow(0, r0, n).to(device), padded, r0, prefilled));
    }
    const at::Tensor last_hidden = at::cat(last_rows, 0);
    timer.Mark("prefill");
    std::vector<int64_t> source, target;  // prefilled row -> cache row, S per prompt
    for (int64_t r = 0; r < count; ++r) {
      for (int64_t j = 0; j < S; ++j) {
        const int64_t row = slots[static_cast<size_t>(r * S + j)];
        source.push_back(r);
        target.push_back(row);
        row_sample[static_cast<size_t>(row)] = (first + r) * S + j;
        row_position[static_cast<size_t>(row)] = prompts.length(static_cast<size_t>(first + r));
      }
    }
    cache.AdmitRows(prefilled, source, target);
    const at::Tensor admitted_logits = at::linear(last_hidden.index_select(0, LongTensor(source, device)), head);
    logits = logits.defined() ? at::cat({logits, admitted_logits}, 0) : admitted_logits;
    batch_rows.insert(batch_rows.end(), target.begin(), target.end());
    live += count * S;
  };

  while (options.max_new_tokens > 0) {
    // Admission: into an empty pool (a new cache), and with continuous batching into free slots too.
    if (next_prompt < num_prompts && (live == 0 || options.continuous_batching)) {
      if (live == 0) {
        const int64_t rows = std::min(slot_prompts, num_prompts - next_prompt) * S;
        cache = model_->NewCache(rows, capacity, kv_dtype);
        row_sample.assign(static_cast<size_t>(rows), -1);
        row_position.assign(static_cast<size_t>(rows), 0);
        std::vector<int64_t> all(static_cast<size_t>(rows));
        for (int64_t r = 0; r < rows; ++r) all[static_cast<size_t>(r)] = r;
        cache.ParkRows(all);
        logits = at::Tensor();
        batch_rows.clear();
      }
      std::vector<int64_t> free_rows;
      for (size_t r = 0; r < row_sample.size(); ++r) {
        if (row_sample[r] < 0) free_rows.push_back(static_cast<int64_t>(r));
      }
      const int64_t count = std::min(static_cast<int64_t>(free_rows.size()) / S, num_prompts - next_prompt);
      if (count > 0) {
        admit(next_prompt, count, free_rows);
        next_prompt += count;
      }
    }
    if (live == 0) break;

    // One token for every running sample of the batch.
    const int64_t n = static_cast<int64_t>(batch_rows.size());
    int64_t lowest = options.max_new_tokens, furthest = 0;
    for (int64_t sample : row_sample) {
      if (sample >= 0) lowest = std::min(lowest, static_cast<int64_t>(tokens[static_cast<size_t>(sample)].size()));
    }
    if (next_prompt == num_prompts) uniforms.DropBelow(lowest);
    std::vector<int64_t> draw_sample(static_cast<size_t>(n), -1), draw_token(static_cast<size_t>(n), 0);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t sample = row_sample[static_cast<size_t>(batch_rows[static_cast<size_t>(j)])];
      if (sample < 0) continue;  // a finished row: any draw
      draw_sample[static_cast<size_t>(j)] = sample;
      draw_token[static_cast<size_t>(j)] = static_cast<int64_t>(tokens[static_cast<size_t>(sample)].size());
      furthest = std::max(furthest, draw_token[static_cast<size_t>(j)] + 1);
    }
    const Sampled s = cuda_seed ? SampleOnCuda(logits, draw_sample, draw_token, *cuda_seed, options)
                                : SampleWithUniforms(logits, draw_sample, draw_token, uniforms, options);
    const at::Tensor tok_cpu = s.tokens.to(at::kCPU).contiguous();
    const at::Tensor lp_cpu = s.policy_logprobs.to(at::kCPU).contiguous();
    const at::Tensor slp_cpu = s.sampling_logprobs.to(at::kCPU).contiguous();
    const int64_t* tok = tok_cpu.data_ptr<int64_t>();
    const float* lp = lp_cpu.data_ptr<float>();
    const float* slp = slp_cpu.data_ptr<float>();
    std::vector<int64_t> keep, finished;  // batch positions running on after this token / cache rows just freed
    for (int64_t j = 0; j < n; ++j) {
      const size_t row = static_cast<size_t>(batch_rows[static_cast<size_t>(j)]);
      const int64_t sample = row_sample[row];
      if (sample < 0) continue;
      const size_t i = static_cast<size_t>(sample);
      tokens[i].push_back(static_cast<int32_t>(tok[j]));
      logps[i].push_back(lp[j]);
      sampling_logps[i].push_back(slp[j]);
      if (stop_ids.count(tok[j])) stopped[i] = 1;
      if (stopped[i] || static_cast<int64_t>(tokens[i].size()) == options.max_new_tokens) {
        finished.push_back(static_cast<int64_t>(row));
        row_sample[row] = -1;
      } else {
        keep.push_back(j);
      }
    }
    live -= static_cast<int64_t>(finished.size());
    if (options.progress) options.progress(Progress{"decode", furthest, options.max_new_tokens, live, next_prompt});
    if (live == 0) continue;  // the pool is empty: admit the next prompts, or done

    at::Tensor next_tokens = s.tokens;
    std::vector<int64_t> step_rows;  // cache rows of this decode step (empty: all, in order)
    if (running_rows_only) {
      cache.ParkRows(finished);
      next_tokens = next_tokens.index_select(0, LongTensor(keep, device));
      for (int64_t j : keep) step_rows.push_back(batch_rows[static_cast<size_t>(j)]);
    } else if (keep.size() * 2 <= static_cast<size_t>(n)) {
      // Drop finished rows once at least half of the batch is done (one copy of the cache each time).
      cache.SelectRows(keep);
      next_tokens = next_tokens.index_select(0, LongTensor(keep, device));
      std::vector<int64_t> new_samples, new_positions;
      for (int64_t r : keep) {
        new_samples.push_back(row_sample[static_cast<size_t>(r)]);
        new_positions.push_back(row_position[static_cast<size_t>(r)]);
      }
      row_sample = std::move(new_samples);
      row_position = std::move(new_positions);
    } else {
      cache.ParkRows(finished);
    }
    if (step_rows.empty()) {
      batch_rows.resize(row_sample.size());
      for (size_t r = 0; r < batch_rows.size(); ++r) batch_rows[r] = static_cast<int64_t>(r);
    } else {
      batch_rows = step_rows;
    }
    std::vector<int64_t> positions(batch_rows.size(), 0);  // free rows: position 0
    for (size_t j = 0; j < batch_rows.size(); ++j) {
      const size_t row = static_cast<size_t>(batch_rows[j]);
      if (row_sample[row] >= 0) positions[j] = row_position[row]++;
    }
    timer.Mark("sample");
    const at::Tensor hidden = model_->DecodeStep(next_tokens, LongTensor(positions, device), cache, step_rows);
    logits = at::linear(hidden, head);
    timer.Mark("decode step");
  }

  GenerateOutput out;
  out.tokens.offsets.push_back(0);
  for (size_t i = 0; i < tokens.size(); ++i) {
    out.tokens.ids.insert(out.tokens.ids.end(), tokens[i].begin(), tokens[i].end());
    out.tokens.offsets.push_back(static_cast<int64_t>(out.tokens.ids.size()));
    out.logprobs.insert(out.logprobs.end(), logps[i].begin(), logps[i].end());
    out.sampling_logprobs.insert(out.sampling_logprobs.end(), sampling_logps[i].begin(), sampling_logps[i].end());
  }
  out.stopped = std::move(stopped);
  return out;
}

}  // namespace siri
