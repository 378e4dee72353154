// The engine's side of the device benchmark (bench/cuda/bench_engine.py runs it next to PyTorch on the same
// GPU; no Node there). A random-weight Qwen2 of the given shape, then one workload timed after warm-up:
//   train:  `batch` sequences of `seq` tokens (the first `prompt` are the prompt), GRPO token-mean with
//           advantages ±1, micro-batches of `micro-batch-tokens`, AdamW — tokens/s = batch·seq / step time.
//   decode: `batch` prompts of `prompt` tokens, `new` new tokens each at temperature 1 with no stop token
//           (every sample runs to the end) — tokens/s = batch·new / wall time of generate.
// Prints one JSON line: the workload, shape, parameter count, per-repeat seconds, median, tokens/s and on
// CUDA the peak memory the caching allocator handed out.
// Usage: siri_engine_bench --mode train|decode [--shape r1-1.5b|tiny | --config config.json] [--device cuda]
//        [--compute-dtype bfloat16] [--batch N] [--seq N] [--prompt N] [--new N] [--micro-batch-tokens N]
//        [--activation-checkpointing 0|1] [--kv-cache-gib G] [--kv-cache-dtype bfloat16|float32] [--warmup N]
//        [--reps N] [--threads N]
#include <ATen/ATen.h>
#include <torch/cuda.h>
#ifdef SIRI_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "policy.h"

namespace {

// DeepSeek-R1-Distill-Qwen-1.5B's config.json fields that shape the model (weights are random here).
const char* kR1Distill15B = R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 1536,
  "intermediate_size": 8960, "num_hidden_layers": 28, "num_attention_heads": 12, "num_key_value_heads": 2,
  "vocab_size": 151936, "max_position_embeddings": 131072, "rope_theta": 10000, "rms_norm_eps": 1e-06,
  "tie_word_embeddings": false, "hidden_act": "silu", "torch_dtype": "bfloat16"})";
const char* kTiny = R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64,
  "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
  "vocab_size": 512, "max_position_embeddings": 8192, "rope_theta": 10000, "rms_norm_eps": 1e-06,
  "tie_word_embeddings": true, "hidden_act": "silu", "torch_dtype": "float32"})";

struct Args {
  std::string mode;
  std::string shape = "r1-1.5b";
  std::string config_path;
  std::string device = "cuda";
  std::string compute_dtype = "bfloat16";
  int64_t batch = 8;
  int64_t seq = 2048;
  int64_t prompt = 512;
  int64_t new_tokens = 256;
  int64_t micro_batch_tokens = 16384;
  bool activation_checkpointing = true;
  double kv_cache_gib = 40;
  std::string kv_cache_dtype = "bfloat16";
  int warmup = 1;
  int reps = 3;
  int threads = 0;
};

int64_t ToInt(const std::string& key, const std::string& value) {
  size_t used = 0;
  const long long v = std::stoll(value, &used);
  if (used != value.size() || v < 0) throw std::invalid_argument(key + " must be a non-negative integer, got '" + value + "'");
  return v;
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(key + " needs a value");
    const std::string v = argv[++i];
    if (key == "--mode") a.mode = v;
    else if (key == "--shape") a.shape = v;
    else if (key == "--config") a.config_path = v;
    else if (key == "--device") a.device = v;
    else if (key == "--compute-dtype") a.compute_dtype = v;
    else if (key == "--batch") a.batch = ToInt(key, v);
    else if (key == "--seq") a.seq = ToInt(key, v);
    else if (key == "--prompt") a.prompt = ToInt(key, v);
    else if (key == "--new") a.new_tokens = ToInt(key, v);
    else if (key == "--micro-batch-tokens") a.micro_batch_tokens = ToInt(key, v);
    else if (key == "--activation-checkpointing") a.activation_checkpointing = ToInt(key, v) != 0;
    else if (key == "--kv-cache-gib") a.kv_cache_gib = std::stod(v);
    else if (key == "--kv-cache-dtype") a.kv_cache_dtype = v;
    else if (key == "--warmup") a.warmup = static_cast<int>(ToInt(key, v));
    else if (key == "--reps") a.reps = static_cast<int>(ToInt(key, v));
    else if (key == "--threads") a.threads = static_cast<int>(ToInt(key, v));
    else throw std::invalid_argument("unknown option " + key + " (see the usage at the top of native/tests/engine_bench.cc)");
  }
  if (a.mode != "train" && a.mode != "decode") throw std::invalid_argument("--mode must be train or decode, got '" + a.mode + "'");
  if (a.shape != "r1-1.5b" && a.shape != "tiny" && a.config_path.empty()) {
    throw std::invalid_argument("--shape must be r1-1.5b or tiny (or give --config config.json), got '" + a.shape + "'");
  }
  if (a.reps < 1) throw std::invalid_argument("--reps must be >= 1");
  if (a.mode == "train" && !(a.prompt < a.seq)) throw std::invalid_argument("--prompt must be < --seq (the rest is the response)");
  return a;
}

std::string ConfigJson(const Args& a) {
  if (a.config_path.empty()) return a.shape == "tiny" ? kTiny : kR1Distill15B;
  std::ifstream in(a.config_path);
  if (!in) throw std::invalid_argument("cannot read --config " + a.config_path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Random token ids in [3, vocab): no special ids, reproducible (seed 0).
siri::TokenBatch RandomBatch(int64_t rows, int64_t length, int64_t vocab, std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> id(3, vocab - 1);
  siri::TokenBatch b;
  b.offsets.push_back(0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t t = 0; t < length; ++t) b.ids.push_back(static_cast<int32_t>(id(rng)));
    b.offsets.push_back(static_cast<int64_t>(b.ids.size()));
  }
  return b;
}

void ResetPeak(const Args& a) {
#ifdef SIRI_WITH_CUDA
  if (a.device.rfind("cuda", 0) == 0) c10::cuda::CUDACachingAllocator::resetPeakStats(0);
#endif
}

int64_t PeakBytes(const Args& a) {
#ifdef SIRI_WITH_CUDA
  if (a.device.rfind("cuda", 0) == 0) return c10::cuda::CUDACachingAllocator::getDeviceStats(0).allocated_bytes[0].peak;
#endif
  return -1;
}

// Seconds of each of a.reps calls of `run`, after a.warmup untimed ones (peak memory counted from there).
std::vector<double> TimeRepeats(const Args& a, const std::function<void()>& run) {
  for (int i = 0; i < a.warmup; ++i) run();
  ResetPeak(a);
  std::vector<double> seconds;
  for (int i = 0; i < a.reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return seconds;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = ParseArgs(argc, argv);
    if (a.device.rfind("cuda", 0) == 0 && !torch::cuda::is_available()) {
      std::printf("{\"skipped\": \"no CUDA device\"}\n");
      return 77;
    }
    siri::PolicyOptions po;
    po.device = a.device;
    po.compute_dtype = a.compute_dtype;
    po.threads = a.threads;
    auto policy = siri::Policy::Init(ConfigJson(a), 0, "bfloat16", po);
    const int64_t vocab = policy->VocabSize();
    std::mt19937_64 rng(0);

    std::vector<double> seconds;
    int64_t tokens_per_rep = 0;
    if (a.mode == "train") {
      siri::TrainBatch batch;
      batch.sequences = RandomBatch(a.batch, a.seq, vocab, rng);
      for (int64_t r = 0; r < a.batch; ++r) {
        for (int64_t t = 0; t < a.seq; ++t) batch.response_mask.push_back(t >= a.prompt ? 1 : 0);
        batch.advantages.push_back(r % 2 ? -1.0f : 1.0f);
      }
      siri::TrainOptions o;
      o.lr = 1e-6;
      o.micro_batch_tokens = a.micro_batch_tokens;
      o.activation_checkpointing = a.activation_checkpointing;
      tokens_per_rep = a.batch * a.seq;
      seconds = TimeRepeats(a, [&] { policy->TrainStep(batch, o); });
    } else {
      const siri::TokenBatch prompts = RandomBatch(a.batch, a.prompt, vocab, rng);
      siri::GenerateOptions o;
      o.max_new_tokens = a.new_tokens;
      o.temperature = 1.0;
      o.seed = 0;
      o.kv_cache_bytes = static_cast<int64_t>(a.kv_cache_gib * (1ll << 30));
      o.kv_cache_dtype = a.kv_cache_dtype;
      tokens_per_rep = a.batch * a.new_tokens;
      seconds = TimeRepeats(a, [&] {
        const siri::GenerateOutput out = policy->Generate(prompts, o);
        if (static_cast<int64_t>(out.tokens.ids.size()) != tokens_per_rep) {
          throw std::runtime_error("generate produced " + std::to_string(out.tokens.ids.size()) + " tokens, expected " +
                                   std::to_string(tokens_per_rep));
        }
      });
    }
    const double median = Median(seconds);
    std::printf("{\"side\": \"siri\", \"mode\": \"%s\", \"shape\": \"%s\", \"device\": \"%s\", \"compute_dtype\": \"%s\", "
                "\"batch\": %lld, \"seq\": %lld, \"prompt\": %lld, \"new\": %lld, \"micro_batch_tokens\": %lld, "
                "\"activation_checkpointing\": %s, \"kv_cache_dtype\": \"%s\", \"parameters\": %lld, \"tokens_per_rep\": %lld, \"seconds\": [",
                a.mode.c_str(), a.config_path.empty() ? a.shape.c_str() : a.config_path.c_str(), a.device.c_str(),
                a.compute_dtype.c_str(), static_cast<long long>(a.batch), static_cast<long long>(a.seq),
                static_cast<long long>(a.prompt), static_cast<long long>(a.new_tokens),
                static_cast<long long>(a.micro_batch_tokens), a.activation_checkpointing ? "true" : "false", a.kv_cache_dtype.c_str(),
                static_cast<long long>(policy->NumParameters()), static_cast<long long>(tokens_per_rep));
    for (size_t i = 0; i < seconds.size(); ++i) std::printf("%s%.6f", i ? ", " : "", seconds[i]);
    std::printf("], \"median_s\": %.6f, \"tokens_per_s\": %.3f, \"peak_memory_bytes\": %lld}\n", median,
                static_cast<double>(tokens_per_rep) / median, static_cast<long long>(PeakBytes(a)));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "siri_engine_bench: %s\n", e.what());
    return 1;
  }
}
