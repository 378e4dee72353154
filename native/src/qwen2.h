// The Qwen2 decoder-only causal LM (the architecture of transformers' Qwen2ForCausalLM) on ATen with
// autograd: config parsing, weights (HF tensor names), random init, safetensors load/save, the full-sequence
// forward used for scoring and training (qwen2.cc), and prefill/decode over a static KV cache whose rows
// have lengths of their own, used for generation (qwen2_decode.cc).
// Parameters are fp32 leaf tensors on the model's device; the on-disk dtype of each is remembered so a save
// writes back what was read.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "json.h"

namespace siri {

struct Qwen2Config {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 32768;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-6;
  double initializer_range = 0.02;
  bool tie_word_embeddings = false;
  std::vector<int64_t> eos_token_ids;
  // The config.json object as read; unknown fields are written back untouched.
  Json raw;

  // Validates and reads an HF config.json object; throws std::invalid_argument naming the field.
  static Qwen2Config FromJson(const Json& json, const std::string& source);
  // config.json text for a save, with "dtype"/"torch_dtype" set to the storage dtype name.
  std::string ToJsonText(const std::string& storage_dtype_name) const;
};

struct Qwen2Layer {
  at::Tensor input_norm;               // [H]
  at::Tensor q_w, q_b, k_w, k_b, v_w, v_b;  // q: [nh*hd, H], k/v: [kvh*hd, H], biases
  at::Tensor o_w;                      // [H, nh*hd]
  at::Tensor post_norm;                // [H]
  at::Tensor gate_w, up_w;             // [I, H]
  at::Tensor down_w;                   // [H, I]
};

// Static KV cache for batched decoding. Each row holds one sequence with a length of its own, so rows at
// different positions decode together (continuous batching):
//   k[l], v[l]: [B, kvh, capacity, hd]; row b's keys are in columns [0, row_length[b]) (left padding of its
//   prefill group included); key_bias: [B, 1, 1, capacity] additive mask, 0 for a column the row attends
//   and -inf for every other one (padding, not written yet, or left over from the row's previous sequence).
// Unused columns hold finite values (the cache starts zeroed), so a masked key weighs exactly 0.
// A parked row is a free slot: decode steps rewrite its column 0 (its only unmasked key) and do not advance it.
struct KVCache {
  std::vector<at::Tensor> k, v;
  at::Tensor key_bias;
  std::vector<int64_t> row_length;  // per row: columns filled; the next decode step writes column row_length[b]
  std::vector<uint8_t> parked;      // per row: 1 = free slot (see above)
  int64_t capacity = 0;
  int64_t rows() const { return static_cast<int64_t>(row_length.size()); }
  // Keeps only the given rows, in that order — used when finished sequences are dropped.
  void SelectRows(const std::vector<int64_t>& rows);
  // Copies src row src_rows[i] (all its columns, src.capacity <= capacity) into row dst_rows[i], masks the
  // rest of that row and un-parks it — used to admit prefilled prompts into free slots.
  void AdmitRows(const KVCache& src, const std::vector<int64_t>& src_rows, const std::vector<int64_t>& dst_rows);
  // Frees rows whose sequence ended: parks them until they are admitted to again or dropped.
  void ParkRows(const std::vector<int64_t>& rows);
};

class Qwen2Model {
 public:
  // Reads config.json and the safetensors weights of an HF model directory.
  static std::unique_ptr<Qwen2Model> Load(const std::string& dir, const c10::Device& device);
  // Random weights as transformers initialises Qwen2 (normal(0, initializer_range), zero biases, unit norms),
  // drawn from a CPU generator seeded with `seed` (same on every device), rounded to the storage dtype.
  static std::unique_ptr<Qwen2Model> Init(const Qwen2Config& config, uint64_t seed, const c10::Device& device,
                                          at::ScalarType storage_dtype);

  const Qwen2Config& config() const { return config_; }
  const c10::Device& device() const { return device_; }
  // Unique trainable parameters with their HF names (lm_head absent when tied).
  const std::vector<std::pair<std::string, at::Tensor>>& NamedParameters() const { return named_params_; }
  int64_t NumParameters() const;
  // The storage dtype of the model (the dtype most weights had on disk) — used for config.json.
  at::ScalarType StorageDtype() const { return storage_dtype_; }

  // Writes config.json and the weights (each in its on-disk dtype, or `dtype_override` when given) to `dir`.
  // Returns the file names written.
  std::vector<std::string> Save(const std::string& dir, std::optional<at::ScalarType> dtype_override,
                                uint64_t max_shard_bytes) const;

  // Full causal forward over right-padded ids [B, L] (int64, on the device), positions 0..L-1.
  // Returns the hidden states [B, L, H], after the final norm unless final_norm is false (then apply
  // FinalNorm to just the rows that are needed). Records autograd history when grad mode is on.
  // With checkpoint_layers (and grad mode on), each decoder layer keeps only its input and is recomputed
  // in the backward pass (activation checkpointing): same gradients, far less activation memory.
  at::Tensor Hidden(const at::Tensor& ids, bool final_norm = true, bool checkpoint_layers = false);
  // One decoder layer: with training_weights, the separate HF weights concatenated inside the graph (so
  // they get gradients); otherwise the cached fused inference weights (call EnsureFused first).
  at::Tensor Layer(const at::Tensor& x, size_t layer_index, bool training_weights);
  at::Tensor FinalNorm(const at::Tensor& x) const;
  // The LM head weight [V, H] (the embedding when tied).
  const at::Tensor& HeadWeight() const { return config_.tie_word_embeddings ? embed_ : lm_head_; }

  // Generation. Allocates a cache for `batch` rows and `capacity` positions.
  // K/V in `dtype` (float32, or bfloat16: attention then reads bf16 keys/values with fp32 softmax).
  KVCache NewCache(int64_t batch, int64_t capacity, at::ScalarType dtype = at::kFloat) const;
  // Prefill of left-padded prompts ids [B, P] with pad counts pad [B] (int64 on the device; `padded` says
  // whether any is > 0): fills columns [0, P) of cache rows [row_offset, row_offset + B) (row length P,
  // padding masked) and returns the final-norm hidden state of the last position [B, H].
  at::Tensor Prefill(const at::Tensor& ids, const at::Tensor& pad, bool padded, int64_t row_offset, KVCache& cache);
  // One decode step: tokens [n] at rope positions [n] (int64 on the device) for the cache rows `rows` (empty:
  // every row, in order; other rows are neither read nor written). Writes each row's key/value at its own
  // column row_length[b] (column 0 for a parked row), attends each row's unmasked columns only, advances
  // the unparked rows; returns hidden [n, H].
  at::Tensor DecodeStep(const at::Tensor& tokens, const at::Tensor& positions, KVCache& cache,
                        const std::vector<int64_t>& rows = {});

  // Call after parameters change in place (optimizer step, load) so fused inference weights are rebuilt.
  void MarkParametersChanged() { fused_valid_ = false; }

  // dtype of the trunk's matrix multiplies: float32 (default) or bfloat16 (weights and activations rounded
  // to bf16 for the GEMM only, fp32 accumulation/outputs, fp32 master weights, norms, attention and the LM
  // head). On CPUs with AMX/AVX512-BF16 the bf16 GEMMs are several times faster.
  void SetComputeDtype(at::ScalarType dtype);
  at::ScalarType ComputeDtype() const { return compute_dtype_; }

 private:
  Qwen2Model(Qwen2Config config, c10::Device device);
  void RegisterParameters();
  // cos/sin tables [n, hd/2] for positions [0, n) (grown on demand, fp32, no autograd).
  void EnsureRope(int64_t n);
  at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight) const;
  void EnsureFused();
  at::Tensor ToCompute(const at::Tensor& w) const;
  // Scaled-dot-product attention on q [B, nh, L, hd], k/v [B, kvh, S, hd] (fp32), mask optional. On CUDA with
  // bf16 compute q/k/v go to bf16 so libtorch picks its flash kernel (fp32 in, fp32 out); fp32 elsewhere.
  at::Tensor Attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                       bool causal, double scale) const;
  // y = x W^T (+ b) with the GEMM in W's dtype; output and bias add in fp32.
  static at::Tensor Gemm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = at::Tensor());

  Qwen2Config config_;
  c10::Device device_;
  at::ScalarType storage_dtype_;
  std::map<std::string, at::ScalarType> disk_dtypes_;
  at::Tensor embed_, final_norm_, lm_head_;
  std::vector<Qwen2Layer> layers_;
  std::vector<std::pair<std::string, at::Tensor>> named_params_;
  at::Tensor rope_cos_, rope_sin_;  // [n, hd/2]
  // Fused inference weights: qkv [(nh+2kvh)*hd, H] + bias, gate_up [2I, H].
  bool fused_valid_ = false;
  std::vector<at::Tensor> fused_qkv_w_, fused_qkv_b_, fused_gate_up_w_, fused_o_w_, fused_down_w_;
  at::ScalarType compute_dtype_ = at::kFloat;
};

at::ScalarType ParseStorageDtype(const std::string& name);
std::string StorageDtypeName(at::ScalarType dtype);

}  // namespace siri
