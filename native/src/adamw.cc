// AdamW and global grad-norm clipping (contract in adamw.h). The update mirrors torch.optim.AdamW's
// single-tensor path operation by operation (same ops, same order, same double-precision scalars), so on
// the same device and dtype the result matches PyTorch bit for bit.
#include "adamw.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <stdexcept>
#include <utility>

namespace siri {
namespace {

const char* const kExpAvg = "exp_avg";
const char* const kExpAvgSq = "exp_avg_sq";
const char* const kStep = "step";
const char* const kMaster = "master";

std::string Key(const std::string& name, const char* field) { return name + "." + field; }

std::string ShapeString(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? "," : "") + std::to_string(sizes[i]);
  return s + "]";
}

// An fp32 copy of a stored moment/master tensor on the parameter's device, checked against its shape.
at::Tensor LoadFloat(const OptimizerStateDict& state, const std::string& key, const at::Tensor& param) {
  const auto it = state.find(key);
  if (it == state.end()) throw std::invalid_argument("optimizer state: missing tensor '" + key + "'");
  const at::Tensor& t = it->second;
  if (!t.defined() || t.sizes() != param.sizes()) {
    throw std::invalid_argument("optimizer state: '" + key + "' has shape " +
                                (t.defined() ? ShapeString(t.sizes()) : std::string("<undefined>")) +
                                ", the parameter has " + ShapeString(param.sizes()));
  }
  if (t.scalar_type() != at::kFloat) {
    throw std::invalid_argument("optimizer state: '" + key + "' must be float32, got " +
                                std::string(c10::toString(t.scalar_type())));
  }
  return t.to(param.device(), at::kFloat, /*non_blocking=*/false, /*copy=*/true).contiguous();
}

}  // namespace

AdamW::AdamW(std::vector<at::Tensor> params, AdamWOptions options, std::vector<std::string> names)
    : params_(std::move(params)), names_(std::move(names)), state_(params_.size()) {
  if (names_.empty()) {
    for (size_t i = 0; i < params_.size(); ++i) names_.push_back(std::to_string(i));
  }
  if (names_.size() != params_.size()) {
    throw std::invalid_argument("AdamW: " + std::to_string(names_.size()) + " names for " +
                                std::to_string(params_.size()) + " parameters");
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].defined()) throw std::invalid_argument("AdamW: parameter '" + names_[i] + "' is undefined");
    if (!at::isFloatingType(params_[i].scalar_type())) {
      throw std::invalid_argument("AdamW: parameter '" + names_[i] + "' is not floating point");
    }
  }
  SetOptions(options);
}

void AdamW::SetOptions(const AdamWOptions& o) {
  if (!(o.lr >= 0) || !std::isfinite(o.lr)) {
    throw std::invalid_argument("AdamW: learning rate must be a finite number >= 0, got " + std::to_string(o.lr));
  }
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1)) {
    throw std::invalid_argument("AdamW: betas must be in [0, 1), got (" + std::to_string(o.beta1) + ", " +
                                std::to_string(o.beta2) + ")");
  }
  if (!(o.eps >= 0) || !std::isfinite(o.eps)) {
    throw std::invalid_argument("AdamW: eps must be a finite number >= 0, got " + std::to_string(o.eps));
  }
  if (!(o.weightDecay >= 0) || !std::isfinite(o.weightDecay)) {
    throw std::invalid_argument("AdamW: weight decay must be a finite number >= 0, got " +
                                std::to_string(o.weightDecay));
  }
  options_ = o;
}

void AdamW::SetLearningRate(double lr) {
  AdamWOptions o = options_;
  o.lr = lr;
  SetOptions(o);
}

void AdamW::InitState(size_t i) {
  const at::Tensor& p = params_[i];
  ParamState& s = state_[i];
  // torch: zeros_like(p, memory_format=preserve_format); ours are always fp32 (master precision).
  s.expAvg = at::zeros_like(p, p.options().dtype(at::kFloat));
  s.expAvgSq = at::zeros_like(p, p.options().dtype(at::kFloat));
  if (p.scalar_type() != at::kFloat) s.master = p.detach().to(at::kFloat, false, /*copy=*/true);
  s.step = 0;
  s.initialised = true;
}

void AdamW::Step() {
  at::NoGradGuard noGrad;
  const double lr = options_.lr;
  const double beta1 = options_.beta1;
  const double beta2 = options_.beta2;
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor param = params_[i];
    const at::Tensor& rawGrad = param.grad();
    if (!rawGrad.defined()) continue;
    if (!state_[i].initialised) InitState(i);
    ParamState& s = state_[i];
    // Updates run on fp32: the parameter itself, or its fp32 master copy.
    at::Tensor target = s.master.defined() ? s.master : param;
    const at::Tensor grad = rawGrad.scalar_type() == at::kFloat ? rawGrad : rawGrad.to(at::kFloat);

    s.step += 1;
    // Decoupled weight decay (Loshchilov & Hutter, Alg. 2 line 12): θ ← θ·(1 − lr·λ)
    if (options_.weightDecay != 0) target.mul_(1 - lr * options_.weightDecay);
    // m ← m + (1 − β1)(g − m) = β1·m + (1 − β1)·g
    s.expAvg.lerp_(grad, 1 - beta1);
    // v ← β2·v + (1 − β2)·g²
    s.expAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    // Bias corrections in double, as PyTorch computes them in Python floats (pow(x, 0.5), not sqrt).
    const double step = static_cast<double>(s.step);
    const double biasCorrection1 = 1 - std::pow(beta1, step);
    const double biasCorrection2 = 1 - std::pow(beta2, step);
    const double stepSize = lr / biasCorrection1;
    const double biasCorrection2Sqrt = std::pow(biasCorrection2, 0.5);
    // θ ← θ − stepSize · m / (√v / √(1 − β2^t) + ε)
    const at::Tensor denom = (s.expAvgSq.sqrt() / biasCorrection2Sqrt).add_(options_.eps);
    target.addcdiv_(s.expAvg, denom, -stepSize);
    if (s.master.defined()) param.copy_(s.master);
  }
}

void AdamW::ZeroGrad() {
  for (at::Tensor& p : params_) {
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
  }
}

OptimizerStateDict AdamW::StateDict() const {
  OptimizerStateDict out;
  for (size_t i = 0; i < params_.size(); ++i) {
    const ParamState& s = state_[i];
    if (!s.initialised) continue;
    out[Key(names_[i], kExpAvg)] = s.expAvg.clone();
    out[Key(names_[i], kExpAvgSq)] = s.expAvgSq.clone();
    out[Key(names_[i], kStep)] = at::scalar_tensor(s.step, at::TensorOptions().dtype(at::kLong));
    if (s.master.defined()) out[Key(names_[i], kMaster)] = s.master.clone();
  }
  return out;
}

void AdamW::LoadStateDict(const OptimizerStateDict& state) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < names_.size(); ++i) index[names_[i]] = i;

  // Every key must be "<known parameter>.<known field>".
  std::vector<bool> present(params_.size(), false);
  for (const auto& [key, tensor] : state) {
    const size_t dot = key.rfind('.');
    const std::string name = dot == std::string::npos ? "" : key.substr(0, dot);
    const std::string field = dot == std::string::npos ? key : key.substr(dot + 1);
    const auto it = index.find(name);
    if (it == index.end()) {
      throw std::invalid_argument("optimizer state: '" + key + "' names no parameter of this model");
    }
    if (field != kExpAvg && field != kExpAvgSq && field != kStep && field != kMaster) {
      throw std::invalid_argument("optimizer state: '" + key + "' has an unknown field '" + field + "'");
    }
    if (field == kMaster && params_[it->second].scalar_type() == at::kFloat) {
      throw std::invalid_argument("optimizer state: '" + key + "' is a master copy but the parameter is fp32");
    }
    present[it->second] = true;
  }

  // Build the whole new state before touching the current one, so a bad dict changes nothing.
  std::vector<ParamState> loaded(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!present[i]) continue;
    const at::Tensor& p = params_[i];
    ParamState& s = loaded[i];
    s.expAvg = LoadFloat(state, Key(names_[i], kExpAvg), p);
    s.expAvgSq = LoadFloat(state, Key(names_[i], kExpAvgSq), p);
    const auto stepIt = state.find(Key(names_[i], kStep));
    if (stepIt == state.end()) {
      throw std::invalid_argument("optimizer state: missing tensor '" + Key(names_[i], kStep) + "'");
    }
    if (stepIt->second.numel() != 1 || stepIt->second.scalar_type() != at::kLong) {
      throw std::invalid_argument("optimizer state: '" + Key(names_[i], kStep) + "' must be one int64");
    }
    s.step = stepIt->second.item<int64_t>();
    if (s.step < 0) throw std::invalid_argument("optimizer state: '" + Key(names_[i], kStep) + "' is negative");
    if (p.scalar_type() != at::kFloat) s.master = LoadFloat(state, Key(names_[i], kMaster), p);
    s.initialised = true;
  }
  state_ = std::move(loaded);
}

at::Tensor ClipGradNorm(const std::vector<at::Tensor>& params, double maxNorm) {
  if (!(maxNorm > 0)) throw std::invalid_argument("ClipGradNorm: maxNorm must be > 0");
  at::NoGradGuard noGrad;
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return at::zeros({}, at::TensorOptions().dtype(at::kFloat));

  // Group by (device, dtype) as torch does, so each group takes one foreach kernel.
  std::vector<std::vector<at::Tensor>> groups;
  for (const at::Tensor& g : grads) {
    bool placed = false;
    for (auto& group : groups) {
      if (group.front().device() == g.device() && group.front().scalar_type() == g.scalar_type()) {
        group.push_back(g);
        placed = true;
        break;
      }
    }
    if (!placed) groups.push_back({g});
  }

  // total = ‖(‖g_1‖₂, …, ‖g_n‖₂)‖₂, gathered on the first gradient's device in fp32.
  const at::Device firstDevice = grads.front().device();
  std::vector<at::Tensor> norms;
  for (const auto& group : groups) {
    for (const at::Tensor& n : at::_foreach_norm(group, 2)) norms.push_back(n.to(firstDevice, at::kFloat));
  }
  const at::Tensor totalNorm = at::linalg_vector_norm(at::stack(norms), 2);

  // coef = min(maxNorm / (total + 1e-6), 1), written as torch evaluates `max_norm / tensor`:
  // reciprocal(total + 1e-6) · maxNorm.
  const at::Tensor coef = at::clamp_max(at::reciprocal(totalNorm + 1e-6) * maxNorm, 1.0);
  for (auto& group : groups) at::_foreach_mul_(group, coef.to(group.front().device()));
  return totalNorm;
}

}  // namespace siri
