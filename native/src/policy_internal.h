// Private parts of siri::Policy shared by its translation units (policy.cc, generate.cc, train.cc):
// the optimizer/RNG state and the batching helpers. Not included by the Node binding.
#pragma once

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "adamw.h"
#include "policy.h"
#include "qwen2.h"

namespace siri {

struct Policy::State {
  std::unique_ptr<AdamW> optimizer;  // created at the first trainStep (or restored by Load)
  at::Generator rng;                 // checkpointed; used when generate() gets no seed
};

// Groups sequence indices into micro-batches whose padded size (count x longest) stays within
// `budget_tokens` (a longer sequence gets a micro-batch of its own). Longest first, ties by index, so the
// grouping is deterministic.
std::vector<std::vector<size_t>> PlanMicroBatches(const TokenBatch& batch, const std::vector<size_t>& include,
                                                  int64_t budget_tokens);

// Right-padded int64 ids [rows.size(), max_len] on `device` (padding id 0, never attended by real tokens).
at::Tensor RightPaddedIds(const TokenBatch& batch, const std::vector<size_t>& rows, int64_t max_len,
                          const c10::Device& device);

// Rows of the flattened [b * max_len, H] hidden states that predict the response tokens of `rows`: for each
// sequence in `rows` and each t >= 1 with mask[t] = 1, the row (i * max_len + t - 1), the target id token[t],
// and the flat position offsets[seq] + t. Returned as CPU int64 tensors.
struct ResponseRows {
  at::Tensor hidden_rows;   // [N]
  at::Tensor targets;       // [N]
  at::Tensor flat_index;    // [N] index into the batch's flat token arrays
  at::Tensor seq_in_batch;  // [N] i (position of the sequence within `rows`)
  at::Tensor position;      // [N] t
};
ResponseRows CollectResponseRows(const TokenBatch& batch, const std::vector<uint8_t>& mask,
                                 const std::vector<size_t>& rows, int64_t max_len);

// Phase timings on stderr when SIRI_NATIVE_PROFILE is set (development aid; costs nothing otherwise).
class PhaseTimer {
 public:
  PhaseTimer() : enabled_(std::getenv("SIRI_NATIVE_PROFILE") != nullptr), last_(Clock::now()) {}
  void Mark(const char* phase) {
    if (!enabled_) return;
    const auto now = Clock::now();
    std::fprintf(stderr, "[siri profile] %-14s %8.2f ms\n", phase, std::chrono::duration<double, std::milli>(now - last_).count());
    last_ = now;
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  Clock::time_point last_;
};

// Rows of [n, V] logits per chunk so one chunk stays near `budget_elems` floats.
int64_t HeadChunkRows(int64_t vocab, int64_t budget_elems = 32ll << 20);

}  // namespace siri
