// The engine's policy object, independent of Node: a Qwen2 model plus its AdamW state, RNG state and step
// counter, with the operations the RL activities need (generate, logprobs, trainStep, save/load).
// Inputs and outputs are plain C++ containers so this header stays free of ATen (the Node binding that
// includes it compiles fast); every method validates its input and throws std::invalid_argument naming
// the offending argument. Methods of one Policy are serialised by an internal mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace siri {

class Qwen2Model;

// A ragged batch of token sequences: sequence i is ids[offsets[i] .. offsets[i+1]).
struct TokenBatch {
  std::vector<int32_t> ids;
  std::vector<int64_t> offsets;  // size = count + 1, offsets[0] = 0
  size_t count() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  int64_t length(size_t i) const { return offsets[i + 1] - offsets[i]; }
};

struct Progress {
  std::string phase;  // "prefill" | "decode" | "microbatch" | "logprobs"
  int64_t current = 0;
  int64_t total = 0;
  int64_t active = 0;  // prefill: sequences running once admitted; decode: sequences still running
  int64_t admitted = -1;  // generate: prompts admitted into the decode batch so far (-1: not a generate event)
};
using ProgressFn = std::function<void(const Progress&)>;

struct PolicyOptions {
  std::string device = "cpu";  // "cpu", "cuda", "cuda:1", …
  int threads = 0;             // intra-op threads; 0 = leave libtorch's default
  bool load_optimizer = true;  // Load(): restore optimizer.safetensors when present
  std::string compute_dtype = "float32";  // trunk GEMMs: float32 | bfloat16 (see Qwen2Model::SetComputeDtype)
};

struct SaveOptions {
  bool optimizer = true;                // write optimizer.safetensors (when an optimizer exists)
  std::string weights_dtype = "original";  // "original" (what was read) | float32 | bfloat16 | float16
  uint64_t max_shard_bytes = 5ull << 30;   // shard the weights above this size (as transformers does)
};

struct GenerateOptions {
  int64_t samples_per_prompt = 1;
  int64_t max_new_tokens = 0;
  double temperature = 1.0;  // 0 = greedy
  double top_p = 1.0;
  std::optional<uint64_t> seed;  // none = draw from the policy's checkpointed RNG
  std::vector<int64_t> stop_token_ids;
  int64_t max_batch = 0;  // most sequences decoded together (0 = all); prompts are never split
  int64_t kv_cache_bytes = 4ll << 30;  // and at most this much KV cache (K and V, all layers)
  std::string kv_cache_dtype = "float32";  // K/V storage: float32 | bfloat16 (half the memory and reads)
  // When not every prompt fits at once: admit waiting prompts into the slots that finished samples free
  // (true), or decode one group of prompts to its end before the next (false). Same tokens either way.
  bool continuous_batching = true;
  ProgressFn progress;
};

struct GenerateOutput {
  TokenBatch tokens;                    // per sample, prompt-major: sample j of prompt i is row i*S + j
  std::vector<float> logprobs;          // log pi(token) at temperature 1 (the policy itself), per token
  std::vector<float> sampling_logprobs; // log q(token) under the distribution actually sampled from
  std::vector<uint8_t> stopped;         // 1 = ended on a stop token (included in tokens), 0 = hit the length
};

struct LogprobsOptions {
  double temperature = 1.0;
  int64_t micro_batch_tokens = 16384;  // padded tokens per forward
  ProgressFn progress;
};

struct LogprobsOutput {
  // Aligned with the input tokens (same offsets): value at token t = log p(token t | tokens < t) where the
  // mask is 1, and 0 elsewhere.
  std::vector<float> logprobs;
  std::vector<float> entropies;
};

struct TrainBatch {
  TokenBatch sequences;
  std::vector<uint8_t> response_mask;   // aligned with sequences.ids
  std::vector<float> advantages;        // per sequence (grpo), empty for sft
  std::vector<float> old_logprobs;      // aligned with ids, or empty (= on-policy: the current log-probs)
  std::vector<float> ref_logprobs;      // aligned with ids, or empty
};

struct TrainOptions {
  std::string loss = "grpo";  // "grpo" | "sft"
  double clip_low = 0.2;
  double clip_high = 0.28;
  std::optional<double> clip_c;
  std::string loss_aggregation = "token-mean";
  double kl_coef = 0.0;
  double entropy_coef = 0.0;
  double temperature = 1.0;
  double lr = 1e-6;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;  // torch.optim.AdamW default
  double grad_clip = 1.0;  // <= 0: no clipping
  int64_t micro_batch_tokens = 8192;
  // Recompute each decoder layer in the backward instead of keeping its activations (long sequences).
  bool activation_checkpointing = false;
  ProgressFn progress;
};

struct TrainResult {
  double loss = 0;
  double clip_frac_low = 0;
  double clip_frac_high = 0;
  double approx_kl = 0;
  double ref_kl = 0;
  double entropy = 0;
  double grad_norm = 0;
  int64_t tokens = 0;
  int64_t micro_batches = 0;
  int64_t step = 0;  // optimizer steps taken so far, this one included
};

class Policy {
 public:
  static std::unique_ptr<Policy> Load(const std::string& dir, const PolicyOptions& options);
  // config_json: an HF Qwen2 config.json text. dtype: the storage dtype of the weights (float32 | bfloat16 | float16).
  static std::unique_ptr<Policy> Init(const std::string& config_json, uint64_t seed, const std::string& dtype,
                                      const PolicyOptions& options);
  ~Policy();

  // Writes config.json, model*.safetensors, optimizer.safetensors (optional), siri_state.json into an
  // existing directory. Returns the file names written.
  std::vector<std::string> Save(const std::string& dir, const SaveOptions& options);
  GenerateOutput Generate(const TokenBatch& prompts, const GenerateOptions& options);
  LogprobsOutput Logprobs(const TokenBatch& sequences, const std::vector<uint8_t>& response_mask,
                          const LogprobsOptions& options);
  TrainResult TrainStep(const TrainBatch& batch, const TrainOptions& options);
  // Full logits [L_i, V] of every sequence, concatenated (small tests only).
  std::vector<float> ForwardLogits(const TokenBatch& sequences);

  std::string ConfigJson() const;
  int64_t NumParameters() const;
  int64_t VocabSize() const;
  int64_t Step() const { return step_; }
  std::string Device() const;
  std::string ComputeDtype() const;
  bool HasOptimizerState() const;

 private:
  struct State;
  Policy();
  void Validate(const TokenBatch& batch, const char* what) const;
  void ApplyThreads() const;

  std::unique_ptr<Qwen2Model> model_;
  std::unique_ptr<State> state_;
  int64_t step_ = 0;
  int threads_ = 0;
  mutable std::mutex mu_;
};

}  // namespace siri
