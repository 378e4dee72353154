// siri::Policy construction, checkpoint save/load, validation and the shared batching helpers
// (see policy.h). Generation lives in generate.cc, scoring and training in train.cc.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "json.h"
#include "policy_internal.h"
#include "safetensors.h"

namespace siri {
namespace {

constexpr const char* kStateFile = "siri_state.json";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kFormat = "siri-checkpoint-v1";

std::string ToHex(const at::Tensor& bytes) {
  static const char* digits = "0123456789abcdef";
  const at::Tensor b = bytes.contiguous();
  const uint8_t* p = b.data_ptr<uint8_t>();
  std::string out;
  out.reserve(static_cast<size_t>(b.numel()) * 2);
  for (int64_t i = 0; i < b.numel(); ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

at::Tensor FromHex(const std::string& hex, const std::string& where) {
  if (hex.size() % 2 != 0) throw std::invalid_argument(where + ": odd-length hex string");
  at::Tensor out = at::empty({static_cast<int64_t>(hex.size() / 2)}, at::kByte);
  uint8_t* p = out.data_ptr<uint8_t>();
  auto nibble = [&](char c) -> uint8_t {
    if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
    throw std::invalid_argument(where + ": not a hex string");
  };
  for (size_t i = 0; i < hex.size() / 2; ++i) p[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

c10::Device ParseDevice(const std::string& name) {
  c10::Device device(name);  // throws c10::Error on malformed names
  if (device.is_cuda() && !at::hasCUDA()) {
    throw std::invalid_argument("device '" + name + "' requested but libtorch sees no CUDA device in this process");
  }
  if (!device.is_cpu() && !device.is_cuda()) throw std::invalid_argument("device must be cpu or cuda, got '" + name + "'");
  return device;
}

at::ScalarType ParseComputeDtype(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "bfloat16") return at::kBFloat16;
  throw std::invalid_argument("computeDtype must be float32 or bfloat16, got '" + name + "'");
}

}  // namespace

Policy::Policy() : state_(std::make_unique<State>()) {}
Policy::~Policy() = default;

void Policy::ApplyThreads() const {
  // Intra-op threads are per calling thread under OpenMP; calls run on libuv worker threads, so set it on
  // every call (same threads => same reduction order => same results).
  if (threads_ > 0 && at::get_num_threads() != threads_) at::set_num_threads(threads_);
}

std::unique_ptr<Policy> Policy::Load(const std::string& dir, const PolicyOptions& options) {
  std::unique_ptr<Policy> policy(new Policy());
  policy->threads_ = options.threads;
  policy->ApplyThreads();
  const c10::Device device = ParseDevice(options.device);
  policy->model_ = Qwen2Model::Load(dir, device);
  policy->model_->SetComputeDtype(ParseComputeDtype(options.compute_dtype));
  policy->state_->rng = at::make_generator<at::CPUGeneratorImpl>(0);
  const std::string state_path = dir + "/" + kStateFile;
  if (FileExists(state_path)) {
    const Json state = ParseJson(ReadTextFile(state_path), state_path);
    if (const Json* f = state.Find("format"); !f || !f->is_string() || f->AsString("format") != kFormat) {
      throw std::invalid_argument(state_path + ": not a " + std::string(kFormat) + " state file");
    }
    const Json* step = state.Find("step");
    if (!step) throw std::invalid_argument(state_path + ": missing \"step\"");
    policy->step_ = step->AsInt(state_path + " \"step\"");
    if (const Json* rng = state.Find("rng_state"); rng && rng->is_string()) {
      policy->state_->rng.set_state(FromHex(rng->AsString("rng_state"), state_path + " rng_state"));
    }
  }
  const std::string opt_path = dir + "/" + kOptimizerFile;
  if (options.load_optimizer && FileExists(opt_path)) {
    SafetensorsReader reader = SafetensorsReader::OpenFile(opt_path);
    OptimizerStateDict dict;
    for (const auto& name : reader.Names()) dict[name] = reader.Read(name).to(device);
    std::vector<at::Tensor> params;
    std::vector<std::string> names;
    for (const auto& [name, p] : policy->model_->NamedParameters()) {
      names.push_back(name);
      params.push_back(p);
    }
    auto optimizer = std::make_unique<AdamW>(params, AdamWOptions{}, names);
    try {
      optimizer->LoadStateDict(dict);
    } catch (const std::exception& e) {
      throw std::invalid_argument(opt_path + ": " + e.what());
    }
    policy->state_->optimizer = std::move(optimizer);
  }
  return policy;
}

std::unique_ptr<Policy> Policy::Init(const std::string& config_json, uint64_t seed, const std::string& dtype,
                                     const PolicyOptions& options) {
  std::unique_ptr<Policy> policy(new Policy());
  policy->threads_ = options.threads;
  policy->ApplyThreads();
  const c10::Device device = ParseDevice(options.device);
  const Qwen2Config config = Qwen2Config::FromJson(ParseJson(config_json, "config"), "config");
  policy->model_ = Qwen2Model::Init(config, seed, device, ParseStorageDtype(dtype));
  policy->model_->SetComputeDtype(ParseComputeDtype(options.compute_dtype));
  policy->state_->rng = at::make_generator<at::CPUGeneratorImpl>(seed);
  return policy;
}

std::vector<std::string> Policy::Save(const std::string& dir, const SaveOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyThreads();
  std::optional<at::ScalarType> override_dtype;
  if (options.weights_dtype != "original") override_dtype = ParseStorageDtype(options.weights_dtype);
  std::vector<std::string> files = model_->Save(dir, override_dtype, options.max_shard_bytes);
  const bool with_optimizer = options.optimizer && state_->optimizer;
  if (with_optimizer) {
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& [name, t] : state_->optimizer->StateDict()) tensors.emplace_back(name, t);
    WriteSafetensorsFile(dir + "/" + kOptimizerFile, tensors, {{"format", "pt"}, {"siri", "adamw"}});
    files.push_back(kOptimizerFile);
  }
  Json::Object state;
  state["format"] = Json::String(kFormat);
  state["step"] = Json::Integer(step_);
  state["rng_state"] = Json::String(ToHex(state_->rng.get_state()));
  state["optimizer"] = Json::Bool(with_optimizer);
  state["weights_dtype"] = Json::String(StorageDtypeName(override_dtype ? *override_dtype : model_->StorageDtype()));
  WriteTextFileSynced(dir + "/" + kStateFile, Json::MakeObject(std::move(state)).Dump(2) + "\n");
  files.push_back(kStateFile);
  return files;
}

void Policy::Validate(const TokenBatch& batch, const char* what) const {
  if (batch.offsets.empty() || batch.offsets.front() != 0 ||
      batch.offsets.back() != static_cast<int64_t>(batch.ids.size())) {
    throw std::invalid_argument(std::string(what) + ": malformed batch offsets");
  }
  const int64_t vocab = model_->config().vocab_size;
  for (size_t i = 0; i < batch.count(); ++i) {
    if (batch.offsets[i + 1] < batch.offsets[i]) throw std::invalid_argument(std::string(what) + ": malformed batch offsets");
    if (batch.length(i) == 0) throw std::invalid_argument(std::string(what) + "[" + std::to_string(i) + "] is empty");
    for (int64_t k = batch.offsets[i]; k < batch.offsets[i + 1]; ++k) {
      const int32_t id = batch.ids[static_cast<size_t>(k)];
      if (id < 0 || id >= vocab) {
        throw std::invalid_argument(std::string(what) + "[" + std::to_string(i) + "][" + std::to_string(k - batch.offsets[i]) +
                                    "] = " + std::to_string(id) + " is not a token id (vocab_size " + std::to_string(vocab) + ")");
      }
    }
  }
}

std::vector<float> Policy::ForwardLogits(const TokenBatch& sequences) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyThreads();
  Validate(sequences, "sequences");
  c10::NoGradGuard no_grad;
  std::vector<float> out;
  const int64_t vocab = model_->config().vocab_size;
  out.reserve(sequences.ids.size() * static_cast<size_t>(vocab));
  for (size_t i = 0; i < sequences.count(); ++i) {
    const at::Tensor ids = RightPaddedIds(sequences, {i}, sequences.length(i), model_->device());
    const at::Tensor logits = at::linear(model_->Hidden(ids), model_->HeadWeight()).to(at::kCPU).contiguous();
    const float* p = logits.data_ptr<float>();
    out.insert(out.end(), p, p + logits.numel());
  }
  return out;
}

std::string Policy::ConfigJson() const { return model_->config().ToJsonText(StorageDtypeName(model_->StorageDtype())); }
int64_t Policy::NumParameters() const { return model_->NumParameters(); }
int64_t Policy::VocabSize() const { return model_->config().vocab_size; }
std::string Policy::Device() const { return model_->device().str(); }
std::string Policy::ComputeDtype() const { return StorageDtypeName(model_->ComputeDtype()); }
bool Policy::HasOptimizerState() const { return state_->optimizer != nullptr; }

std::vector<std::vector<size_t>> PlanMicroBatches(const TokenBatch& batch, const std::vector<size_t>& include,
                                                  int64_t budget_tokens) {
  std::vector<size_t> order = include;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return batch.length(a) > batch.length(b); });
  std::vector<std::vector<size_t>> groups;
  int64_t longest = 0;
  for (size_t idx : order) {
    if (!groups.empty()) {
      const int64_t count = static_cast<int64_t>(groups.back().size()) + 1;
      if (count * longest <= budget_tokens) {
        groups.back().push_back(idx);
        continue;
      }
    }
    groups.push_back({idx});
    longest = batch.length(idx);
  }
  return groups;
}

at::Tensor RightPaddedIds(const TokenBatch& batch, const std::vector<size_t>& rows, int64_t max_len,
                          const c10::Device& device) {
  at::Tensor ids = at::zeros({static_cast<int64_t>(rows.size()), max_len}, at::kLong);
  int64_t* p = ids.data_ptr<int64_t>();
  for (size_t r = 0; r < rows.size(); ++r) {
    const size_t i = rows[r];
    for (int64_t t = 0; t < batch.length(i); ++t) {
      p[static_cast<int64_t>(r) * max_len + t] = batch.ids[static_cast<size_t>(batch.offsets[i] + t)];
    }
  }
  return ids.to(device);
}

ResponseRows CollectResponseRows(const TokenBatch& batch, const std::vector<uint8_t>& mask,
                                 const std::vector<size_t>& rows, int64_t max_len) {
  std::vector<int64_t> hidden_rows, targets, flat, seq, pos;
  for (size_t r = 0; r < rows.size(); ++r) {
    const size_t i = rows[r];
    const int64_t base = batch.offsets[i];
    for (int64_t t = 1; t < batch.length(i); ++t) {
      if (!mask[static_cast<size_t>(base + t)]) continue;
      hidden_rows.push_back(static_cast<int64_t>(r) * max_len + t - 1);
      targets.push_back(batch.ids[static_cast<size_t>(base + t)]);
      flat.push_back(base + t);
      seq.push_back(static_cast<int64_t>(r));
      pos.push_back(t);
    }
  }
  auto to_tensor = [](const std::vector<int64_t>& v) {
    return at::tensor(at::ArrayRef<int64_t>(v), at::kLong).clone();
  };
  return ResponseRows{to_tensor(hidden_rows), to_tensor(targets), to_tensor(flat), to_tensor(seq), to_tensor(pos)};
}

int64_t HeadChunkRows(int64_t vocab, int64_t budget_elems) { return std::max<int64_t>(1, budget_elems / vocab); }

}  // namespace siri
