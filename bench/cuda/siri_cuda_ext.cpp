// Python binding of siri::cuda (native/src/cuda/kernels.h) and of the engine's own GRPO loss (loss.cc), so
// the device machine — which has PyTorch but no Node — can check and time the addon's CUDA code paths
// exactly as the addon compiles them. Built on the fly by bench/cuda/ext.py (torch.utils.cpp_extension).
#include <torch/extension.h>

#include "cuda/kernels.h"
#include "loss.h"

namespace {

siri::GrpoLossOptions Options(double clip_low, double clip_high, std::optional<double> clip_c, double kl_coef,
                              std::optional<at::Tensor> ref_logprobs, double entropy_coef, std::optional<at::Tensor> entropy,
                              const std::string& aggregation, std::optional<double> normaliser) {
  siri::GrpoLossOptions o;
  o.clipLow = clip_low;
  o.clipHigh = clip_high;
  o.clipC = clip_c;
  o.klCoef = kl_coef;
  if (ref_logprobs) o.refLogprobs = *ref_logprobs;
  o.entropyCoef = entropy_coef;
  if (entropy) o.entropy = *entropy;
  o.aggregation = siri::ParseLossAggregation(aggregation);
  o.normaliser = normaliser;
  return o;
}

siri::cuda::LmHeadOptions HeadOptions(double temperature, int64_t token_chunk, int64_t vocab_chunk, int64_t workspace_mb) {
  siri::cuda::LmHeadOptions o;
  o.temperature = temperature;
  o.token_chunk = token_chunk;
  o.vocab_chunk = vocab_chunk;
  o.workspace_bytes = static_cast<size_t>(workspace_mb) << 20;
  return o;
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("device_count", &siri::cuda::DeviceCount);

  m.def(
      "lm_head_forward",
      [](const at::Tensor& h, const at::Tensor& w, const at::Tensor& y, double temperature, int64_t token_chunk,
         int64_t vocab_chunk, int64_t workspace_mb) {
        const auto r = siri::cuda::LmHeadForward(h, w, y, HeadOptions(temperature, token_chunk, vocab_chunk, workspace_mb));
        return std::make_tuple(r.logprobs, r.entropy, r.lse);
      },
      py::arg("hidden"), py::arg("weight"), py::arg("targets"), py::arg("temperature") = 1.0, py::arg("token_chunk") = 0,
      py::arg("vocab_chunk") = 0, py::arg("workspace_mb") = 256);

  m.def(
      "lm_head_backward",
      [](const at::Tensor& h, const at::Tensor& w, const at::Tensor& y, const at::Tensor& logprobs, const at::Tensor& entropy,
         const at::Tensor& lse, const at::Tensor& g1, std::optional<at::Tensor> g2, at::Tensor weight_grad, double temperature,
         int64_t token_chunk, int64_t vocab_chunk, int64_t workspace_mb) {
        siri::cuda::LmHeadForwardResult fwd{logprobs, entropy, lse};
        return siri::cuda::LmHeadBackward(h, w, y, fwd, g1, g2 ? *g2 : at::Tensor(), weight_grad,
                                          HeadOptions(temperature, token_chunk, vocab_chunk, workspace_mb));
      },
      py::arg("hidden"), py::arg("weight"), py::arg("targets"), py::arg("logprobs"), py::arg("entropy"), py::arg("lse"),
      py::arg("grad_logprobs"), py::arg("grad_entropy"), py::arg("weight_grad"), py::arg("temperature") = 1.0,
      py::arg("token_chunk") = 0, py::arg("vocab_chunk") = 0, py::arg("workspace_mb") = 256);

  // Ours: forward (saved buffer: loss, tokens, clip counts, KL sums, fractions, normaliser, row counts) + backward.
  m.def(
      "grpo_forward_backward",
      [](const at::Tensor& logp, const at::Tensor& old, const at::Tensor& adv, const at::Tensor& mask, const at::Tensor& grad_loss,
         double clip_low, double clip_high, std::optional<double> clip_c, double kl_coef, std::optional<at::Tensor> ref,
         double entropy_coef, std::optional<at::Tensor> entropy, const std::string& aggregation, std::optional<double> normaliser) {
        const auto o = Options(clip_low, clip_high, clip_c, kl_coef, ref, entropy_coef, entropy, aggregation, normaliser);
        const auto fwd = siri::cuda::GrpoTokenLossForward(logp, old, adv, mask, o);
        const auto grads = siri::cuda::GrpoTokenLossBackward(grad_loss, logp, old, adv, mask, o, fwd);
        return std::make_tuple(fwd.saved, grads.grad_logprobs, grads.grad_entropy);
      },
      py::arg("logprobs"), py::arg("old_logprobs"), py::arg("advantages"), py::arg("mask"), py::arg("grad_loss"),
      py::arg("clip_low") = 0.2, py::arg("clip_high") = 0.28, py::arg("clip_c") = py::none(), py::arg("kl_coef") = 0.0,
      py::arg("ref_logprobs") = py::none(), py::arg("entropy_coef") = 0.0, py::arg("entropy") = py::none(),
      py::arg("aggregation") = "token-mean", py::arg("normaliser") = py::none());

  // The engine's loss.cc (ATen ops + autograd) on the same inputs: loss, clip counts, approx-KL sum.
  // logprobs (and entropy) must require grad; call .backward() on the returned loss for its gradients.
  m.def(
      "engine_grpo_loss",
      [](const at::Tensor& logp, const at::Tensor& old, const at::Tensor& adv, const at::Tensor& mask, double clip_low,
         double clip_high, std::optional<double> clip_c, double kl_coef, std::optional<at::Tensor> ref, double entropy_coef,
         std::optional<at::Tensor> entropy, const std::string& aggregation, std::optional<double> normaliser) {
        const auto o = Options(clip_low, clip_high, clip_c, kl_coef, ref, entropy_coef, entropy, aggregation, normaliser);
        const auto out = siri::GrpoTokenLoss(logp, old, adv, mask, o);
        return std::make_tuple(out.loss, out.tokens, out.clipLowTokens, out.clipHighTokens, out.approxKlSum);
      },
      py::arg("logprobs"), py::arg("old_logprobs"), py::arg("advantages"), py::arg("mask"), py::arg("clip_low") = 0.2,
      py::arg("clip_high") = 0.28, py::arg("clip_c") = py::none(), py::arg("kl_coef") = 0.0, py::arg("ref_logprobs") = py::none(),
      py::arg("entropy_coef") = 0.0, py::arg("entropy") = py::none(), py::arg("aggregation") = "token-mean",
      py::arg("normaliser") = py::none());

  m.def(
      "sample",
      [](const at::Tensor& logits, double temperature, double top_p, uint64_t seed, const at::Tensor& sequence_index,
         const at::Tensor& step) {
        const auto r = siri::cuda::SampleTokens(logits, temperature, top_p, seed, sequence_index, step);
        return std::make_tuple(r.tokens, r.policy_logprobs, r.sampling_logprobs);
      },
      py::arg("logits"), py::arg("temperature"), py::arg("top_p"), py::arg("seed"), py::arg("sequence_index"), py::arg("step"));
}
