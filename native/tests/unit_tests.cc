// C++ unit driver for native/src/loss.cc and native/src/adamw.cc. Compares against the PyTorch reference
// cases written by scripts/make-engine-fixtures.py (test/fixtures/engine/units.safetensors) and checks the
// properties the engine relies on: micro-batch losses with a global normaliser sum to the full-batch loss;
// optimizer state survives StateDict → LoadStateDict bit-exactly; bad input throws with a clear message.
// Runs the loss cases on CUDA too when a CUDA device is visible.
// Usage: siri_unit_tests <units.safetensors>   (exit status 0 iff every check passed)
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

#include "adamw.h"
#include "loss.h"
#include "safetensors_mini.h"

namespace {

using siri::testing::Json;

int g_passed = 0;
int g_failed = 0;

void Check(bool ok, const std::string& what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::printf("FAIL %s\n", what.c_str());
  }
}

// max |a − b| / (|b| + floor) over all elements; both moved to CPU fp32.
double MaxRelDiff(const at::Tensor& a, const at::Tensor& b, double floor = 1e-6) {
  const at::Tensor x = a.detach().to(at::kCPU, at::kDouble);
  const at::Tensor y = b.detach().to(at::kCPU, at::kDouble);
  if (x.sizes() != y.sizes()) return INFINITY;
  return ((x - y).abs() / (y.abs() + floor)).max().item<double>();
}

void CheckClose(const at::Tensor& actual, const at::Tensor& expected, double tol, const std::string& what) {
  const double d = MaxRelDiff(actual, expected);
  Check(d <= tol, what + " (max rel diff " + std::to_string(d) + ")");
}

void CheckBitExact(const at::Tensor& actual, const at::Tensor& expected, const std::string& what) {
  const at::Tensor a = actual.detach().to(at::kCPU).contiguous();
  const bool same = a.sizes() == expected.sizes() && at::equal(a, expected);
  Check(same, what + " bit-exact (max rel diff " + std::to_string(MaxRelDiff(a, expected)) + ")");
}

void CheckThrows(const std::function<void()>& body, const std::string& needle, const std::string& what) {
  try {
    body();
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    Check(msg.find(needle) != std::string::npos, what + ": message '" + msg.substr(0, 200) + "' lacks '" + needle + "'");
    return;
  }
  Check(false, what + ": did not throw");
}

struct Fixture {
  std::map<std::string, at::Tensor> t;
  Json meta;
  const at::Tensor& operator[](const std::string& key) const {
    const auto it = t.find(key);
    if (it == t.end()) throw std::runtime_error("fixture lacks tensor " + key);
    return it->second;
  }
};

siri::GrpoLossOptions OptionsFor(const Fixture& f, const std::string& aggregation, const std::string& variant,
                                 const at::Device& device) {
  siri::GrpoLossOptions o;
  o.clipLow = f.meta.at("clip_low").number;
  o.clipHigh = f.meta.at("clip_high").number;
  o.aggregation = siri::ParseLossAggregation(aggregation);
  const Json& v = f.meta.at("variants").at(variant);
  if (v.object.count("clip_c")) o.clipC = v.at("clip_c").number;
  if (v.object.count("kl_coef")) {
    o.klCoef = v.at("kl_coef").number;
    o.refLogprobs = f["ref"].to(device);
  }
  if (v.object.count("entropy_coef")) o.entropyCoef = v.at("entropy_coef").number;
  return o;
}

// Every (aggregation, variant, advantage shape) case: loss, ∂loss/∂logp, ∂loss/∂entropy and statistics.
void TestLossCases(const Fixture& f, const at::Device& device, double tol) {
  const std::string dev = device.str();
  for (const Json& caseName : f.meta.at("cases").array) {
    const std::string name = caseName.string;
    const size_t s1 = name.find('/');
    const size_t s2 = name.find('/', s1 + 1);
    const std::string aggregation = name.substr(0, s1);
    const std::string variant = name.substr(s1 + 1, s2 - s1 - 1);
    const std::string advName = name.substr(s2 + 1);

    siri::GrpoLossOptions o = OptionsFor(f, aggregation, variant, device);
    at::Tensor logp = f["logp"].to(device).clone().requires_grad_(true);
    at::Tensor entropy = f["entropy"].to(device).clone().requires_grad_(true);
    o.entropy = entropy;
    const siri::GrpoLossOutput out =
        siri::GrpoTokenLoss(logp, f["old"].to(device), f[advName].to(device), f["mask"].to(device), o);
    out.loss.backward();
    const std::string tag = "[" + dev + "] " + name;
    Check(out.loss.device() == device && out.clipFracLow.device() == device, tag + ": outputs on the input device");
    CheckClose(out.loss, f[name + "/loss"], tol, tag + " loss");
    CheckClose(logp.grad(), f[name + "/grad_logp"], tol, tag + " d/dlogp");
    if (o.entropyCoef != 0) CheckClose(entropy.grad(), f[name + "/grad_entropy"], tol, tag + " d/dentropy");
    CheckClose(out.clipFracLow, f[name + "/clip_frac_low"], tol, tag + " clipFracLow");
    CheckClose(out.clipFracHigh, f[name + "/clip_frac_high"], tol, tag + " clipFracHigh");
    CheckClose(out.approxKl, f[name + "/approx_kl"], tol, tag + " approxKl");
    CheckClose(out.tokens, f[name + "/tokens"], 0, tag + " tokens");
    Check(out.clipFracLow.item<double>() > 0 && out.clipFracHigh.item<double>() > 0,
          tag + ": the fixture exercises both clip sides");
  }
  at::Tensor logp = f["logp"].to(device).clone().requires_grad_(true);
  const at::Tensor sft = siri::SftLoss(logp, f["mask"].to(device));
  sft.backward();
  CheckClose(sft, f["sft/loss"], tol, "[" + dev + "] sft loss");
  CheckClose(logp.grad(), f["sft/grad_logp"], tol, "[" + dev + "] sft d/dlogp");
}

// Splitting the batch into micro-batches with the global normaliser reproduces the full-batch loss and
// gradient (the property gradient accumulation needs), for every aggregation.
void TestMicroBatchNormaliser(const Fixture& f) {
  const at::Tensor mask = f["mask"];
  const int64_t batch = mask.size(0);
  for (const char* aggregation : {"token-mean", "seq-mean-token-sum", "seq-mean-token-mean"}) {
    siri::GrpoLossOptions o = OptionsFor(f, aggregation, "full", at::kCPU);
    at::Tensor logp = f["logp"].clone().requires_grad_(true);
    o.entropy = f["entropy"];
    const at::Tensor full = siri::GrpoTokenLoss(logp, f["old"], f["adv_seq"], mask, o).loss;
    full.backward();
    const at::Tensor fullGrad = logp.grad().clone();

    const double globalCount = o.aggregation == siri::LossAggregation::kTokenMean
                                   ? mask.sum().item<double>()
                                   : static_cast<double>(batch);
    at::Tensor logp2 = f["logp"].clone().requires_grad_(true);
    at::Tensor summed = at::zeros({});
    for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, 2}, std::pair<int64_t, int64_t>{2, batch}}) {
      siri::GrpoLossOptions mo = o;
      mo.normaliser = globalCount;
      mo.refLogprobs = o.refLogprobs.slice(0, begin, end);
      mo.entropy = o.entropy.slice(0, begin, end);
      const at::Tensor part = siri::GrpoTokenLoss(logp2.slice(0, begin, end), f["old"].slice(0, begin, end),
                                                  f["adv_seq"].slice(0, begin, end), mask.slice(0, begin, end), mo)
                                  .loss;
      part.backward();
      summed = summed + part.detach();
    }
    CheckClose(summed, full.detach(), 1e-6, std::string(aggregation) + ": Σ micro-batch losses = full loss");
    CheckClose(logp2.grad(), fullGrad, 1e-6, std::string(aggregation) + ": Σ micro-batch grads = full grad");
  }
}

void TestLossErrors(const Fixture& f) {
  siri::GrpoLossOptions o;
  const at::Tensor logp = f["logp"];
  CheckThrows([&] { siri::GrpoTokenLoss(logp, logp.slice(1, 0, 4), f["adv_seq"], f["mask"], o); }, "oldLogprobs",
              "old log-probs of the wrong shape");
  CheckThrows([&] { siri::GrpoTokenLoss(logp, f["old"], at::ones({2}), f["mask"], o); }, "advantages",
              "advantages of the wrong length");
  siri::GrpoLossOptions kl;
  kl.klCoef = 0.1;
  CheckThrows([&] { siri::GrpoTokenLoss(logp, f["old"], f["adv_seq"], f["mask"], kl); }, "refLogprobs",
              "klCoef without reference log-probs");
  CheckThrows([] { siri::ParseLossAggregation("mean"); }, "unknown loss aggregation", "bad aggregation name");
  siri::GrpoLossOptions bad;
  bad.clipC = 0.5;
  CheckThrows([&] { siri::GrpoTokenLoss(logp, f["old"], f["adv_seq"], f["mask"], bad); }, "clipC",
              "dual clip below 1");
}

std::vector<at::Tensor> InitialParams(const Fixture& f, int n) {
  std::vector<at::Tensor> params;
  for (int i = 0; i < n; ++i) params.push_back(f["adamw/param" + std::to_string(i) + "/init"].clone().requires_grad_(true));
  return params;
}

siri::AdamWOptions AdamWOptionsFrom(const Fixture& f) {
  const Json& a = f.meta.at("adamw");
  siri::AdamWOptions o;
  o.lr = a.at("lr").number;
  o.beta1 = a.at("betas").array.at(0).number;
  o.beta2 = a.at("betas").array.at(1).number;
  o.eps = a.at("eps").number;
  o.weightDecay = a.at("weight_decay").number;
  return o;
}

void SetGrads(std::vector<at::Tensor>& params, const Fixture& f, int step) {
  for (size_t i = 0; i < params.size(); ++i) {
    params[i].mutable_grad() = f["adamw/step" + std::to_string(step) + "/grad" + std::to_string(i)].clone();
  }
}

// Three steps with clipping against torch.optim.AdamW + clip_grad_norm_: expected bit-exact on CPU fp32.
void TestAdamWTrajectory(const Fixture& f) {
  const int n = 3;
  std::vector<at::Tensor> params = InitialParams(f, n);
  // Built with the defaults, switched to the fixture's hyperparameters before the first step.
  siri::AdamW opt(params, siri::AdamWOptions{});
  opt.SetOptions(AdamWOptionsFrom(f));
  siri::AdamWOptions bad = AdamWOptionsFrom(f);
  bad.beta2 = 1.0;
  CheckThrows([&] { opt.SetOptions(bad); }, "betas", "beta2 = 1 is rejected");
  Check(opt.Options().beta2 == AdamWOptionsFrom(f).beta2, "a rejected SetOptions changes nothing");
  for (int step = 0; step < 3; ++step) {
    SetGrads(params, f, step);
    const at::Tensor total = siri::ClipGradNorm(params, 1.0);
    CheckBitExact(total, f["adamw/step" + std::to_string(step) + "/total_norm"],
                  "step " + std::to_string(step) + " total grad norm");
    opt.Step();
    for (int i = 0; i < n; ++i) {
      CheckBitExact(params[i], f["adamw/step" + std::to_string(step) + "/param" + std::to_string(i)],
                    "step " + std::to_string(step) + " param " + std::to_string(i));
    }
  }
  const siri::OptimizerStateDict state = opt.StateDict();
  for (int i = 0; i < n; ++i) {
    CheckBitExact(state.at(std::to_string(i) + ".exp_avg"), f["adamw/final/exp_avg" + std::to_string(i)],
                  "exp_avg " + std::to_string(i));
    CheckBitExact(state.at(std::to_string(i) + ".exp_avg_sq"), f["adamw/final/exp_avg_sq" + std::to_string(i)],
                  "exp_avg_sq " + std::to_string(i));
    Check(state.at(std::to_string(i) + ".step").item<int64_t>() == 3, "step count 3");
  }
  opt.ZeroGrad();
  Check(!params[0].grad().defined(), "ZeroGrad drops gradients");
}

// Two steps, StateDict → a fresh optimizer on copied weights → LoadStateDict → third step: identical bits
// to the uninterrupted run (and so to torch).
void TestStateRoundTrip(const Fixture& f) {
  const int n = 3;
  const std::vector<std::string> names = {"model.a.weight", "model.b.bias", "lm_head.weight"};
  std::vector<at::Tensor> params = InitialParams(f, n);
  siri::AdamW opt(params, AdamWOptionsFrom(f), names);
  for (int step = 0; step < 2; ++step) {
    SetGrads(params, f, step);
    siri::ClipGradNorm(params, 1.0);
    opt.Step();
  }
  const siri::OptimizerStateDict saved = opt.StateDict();
  Check(saved.count("model.b.bias.exp_avg_sq") == 1 && saved.count("lm_head.weight.step") == 1,
        "state keys are <name>.<field>");
  std::vector<at::Tensor> resumed;
  for (const at::Tensor& p : params) resumed.push_back(p.detach().clone().requires_grad_(true));
  siri::AdamW opt2(resumed, AdamWOptionsFrom(f), names);
  opt2.LoadStateDict(saved);
  SetGrads(resumed, f, 2);
  siri::ClipGradNorm(resumed, 1.0);
  opt2.Step();
  for (int i = 0; i < n; ++i) {
    CheckBitExact(resumed[i], f["adamw/step2/param" + std::to_string(i)], "resumed step 2 param " + std::to_string(i));
  }

  siri::OptimizerStateDict missing = saved;
  missing.erase("model.b.bias.exp_avg");
  CheckThrows([&] { opt2.LoadStateDict(missing); }, "model.b.bias.exp_avg", "missing moment");
  siri::OptimizerStateDict wrongShape = saved;
  wrongShape["lm_head.weight.exp_avg"] = at::zeros({2, 2});
  CheckThrows([&] { opt2.LoadStateDict(wrongShape); }, "lm_head.weight.exp_avg", "moment of the wrong shape");
  siri::OptimizerStateDict stranger = saved;
  stranger["model.c.weight.exp_avg"] = at::zeros({1});
  CheckThrows([&] { opt2.LoadStateDict(stranger); }, "names no parameter", "unknown parameter");
  // A failed load leaves the state as it was.
  Check(opt2.StateDict().at("model.a.weight.step").item<int64_t>() == 3, "failed load changes nothing");
}

// bf16 parameters: moments and an fp32 master copy in the state; the parameter is the master rounded.
void TestMasterWeights(const Fixture& f) {
  at::Tensor p = f["adamw/param0/init"].to(at::kBFloat16).requires_grad_(true);
  at::Tensor ref = f["adamw/param0/init"].to(at::kBFloat16).to(at::kFloat).requires_grad_(true);
  siri::AdamW opt({p}, AdamWOptionsFrom(f));
  siri::AdamW optRef({ref}, AdamWOptionsFrom(f));
  for (int step = 0; step < 3; ++step) {
    const at::Tensor g = f["adamw/step" + std::to_string(step) + "/grad0"];
    p.mutable_grad() = g.to(at::kBFloat16);
    ref.mutable_grad() = g.to(at::kBFloat16).to(at::kFloat);
    opt.Step();
    optRef.Step();
  }
  const siri::OptimizerStateDict state = opt.StateDict();
  Check(state.count("0.master") == 1 && state.at("0.master").scalar_type() == at::kFloat, "bf16 param has fp32 master");
  CheckBitExact(state.at("0.master"), ref.detach(), "master follows the fp32 update");
  CheckBitExact(p.detach(), state.at("0.master").to(at::kBFloat16), "bf16 param = rounded master");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <units.safetensors>\n", argv[0]);
    return 2;
  }
  at::set_num_threads(1);
  try {
    siri::testing::SafetensorsFile file = siri::testing::ReadSafetensors(argv[1]);
    Fixture f{file.tensors, Json::Parse(file.metadata.at("meta"))};
    TestLossCases(f, at::kCPU, 1e-5);
    if (at::hasCUDA()) TestLossCases(f, at::Device(at::kCUDA, 0), 1e-5);
    TestMicroBatchNormaliser(f);
    TestLossErrors(f);
    TestAdamWTrajectory(f);
    TestStateRoundTrip(f);
    TestMasterWeights(f);
  } catch (const std::exception& e) {
    std::printf("FAIL unexpected exception: %s\n", e.what());
    ++g_failed;
  }
  std::printf("%d passed, %d failed%s\n", g_passed, g_failed, at::hasCUDA() ? " (CPU + CUDA)" : " (CPU only)");
  return g_failed == 0 ? 0 : 1;
}
