// AdamW with decoupled weight decay, step for step the arithmetic of torch.optim.AdamW (single-tensor
// path, amsgrad off), plus global gradient-norm clipping like torch.nn.utils.clip_grad_norm_. State
// (first/second moments in fp32, per-parameter step, fp32 master weights for non-fp32 parameters) is
// exported as a flat name→tensor map so it can be written to safetensors and read back bit-exactly.
// Works on whatever device the parameters live on.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace siri {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay = 0.01;
};

// Flat optimizer state: "<name>.exp_avg", "<name>.exp_avg_sq" (fp32, parameter shape),
// "<name>.step" (int64, 0-dim), and "<name>.master" (fp32 copy, only for non-fp32 parameters).
using OptimizerStateDict = std::map<std::string, at::Tensor>;

class AdamW {
 public:
  // `names` label the parameters in the state dict (e.g. the checkpoint tensor names); empty = "0","1",….
  // Parameters without a gradient at Step() are skipped, as torch does.
  AdamW(std::vector<at::Tensor> params, AdamWOptions options, std::vector<std::string> names = {});

  // One update of every parameter that has a gradient:
  //   t ← t + 1;  θ ← θ·(1 − lr·λ)
  //   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
  //   θ ← θ − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
  void Step();
  // Drops every parameter's gradient (set to undefined, like zero_grad(set_to_none=True)).
  void ZeroGrad();

  const AdamWOptions& Options() const { return options_; }
  // For schedules: new hyperparameters take effect at the next Step(); the moments and steps are kept.
  // Throws std::invalid_argument (and changes nothing) when a value is out of range.
  void SetOptions(const AdamWOptions& options);
  void SetLearningRate(double lr);

  const std::vector<at::Tensor>& Params() const { return params_; }
  const std::vector<std::string>& Names() const { return names_; }

  // Copies of the state (parameters never updated yet are absent, like torch's lazy state).
  OptimizerStateDict StateDict() const;
  // Restores a StateDict() result; every entry must name a known parameter with the right shape, and
  // a parameter's entries come all together. Throws std::invalid_argument naming the bad key otherwise.
  void LoadStateDict(const OptimizerStateDict& state);

 private:
  struct ParamState {
    bool initialised = false;
    int64_t step = 0;
    at::Tensor expAvg;    // fp32
    at::Tensor expAvgSq;  // fp32
    at::Tensor master;    // fp32 copy when the parameter is not fp32; undefined otherwise
  };
  void InitState(size_t i);

  std::vector<at::Tensor> params_;
  std::vector<std::string> names_;
  AdamWOptions options_;
  std::vector<ParamState> state_;
};

// Scales all gradients so their global L2 norm is at most maxNorm, exactly like
// torch.nn.utils.clip_grad_norm_: total = ‖(‖g_1‖, …, ‖g_n‖)‖₂; g ← g·min(maxNorm / (total + 1e-6), 1).
// Returns the total norm before clipping (0-dim fp32 tensor on the first gradient's device; a 0 on CPU
// when no parameter has a gradient). Parameters without a gradient are ignored.
at::Tensor ClipGradNorm(const std::vector<at::Tensor>& params, double maxNorm);

}  // namespace siri
