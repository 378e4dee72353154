// Qwen2 model on ATen (see qwen2.h). Per layer, as transformers' Qwen2DecoderLayer:
//   h = x + o_proj(Attn(RoPE(q_proj(n1(x))), RoPE(k_proj(n1(x))), v_proj(n1(x))))   n1 = RMSNorm
//   x' = h + down_proj(silu(gate_proj(n2(h))) * up_proj(n2(h)))                         n2 = RMSNorm
// RMSNorm(x) = w * x / sqrt(mean(x^2) + eps); RoPE rotates pairs (i, i + hd/2) by angle pos * theta^(-2i/hd).
#include "qwen2.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>

#include "fused_ops.h"
#include "safetensors.h"

namespace siri {
namespace {

std::string LayerName(size_t i, const std::string& suffix) { return "model.layers." + std::to_string(i) + "." + suffix; }

std::string ShapeText(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t RequirePositiveInt(const Json& json, const std::string& key, const std::string& source) {
  const Json* v = json.Find(key);
  if (!v || v->is_null()) throw std::invalid_argument(source + ": missing \"" + key + "\"");
  const int64_t n = v->AsInt(source + " \"" + key + "\"");
  if (n <= 0) throw std::invalid_argument(source + ": \"" + key + "\" must be > 0, got " + std::to_string(n));
  return n;
}

}  // namespace

at::ScalarType ParseStorageDtype(const std::string& name) {
  if (name == "float32" || name == "fp32" || name == "float") return at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  if (name == "float16" || name == "fp16" || name == "half") return at::kHalf;
  throw std::invalid_argument("dtype must be float32, bfloat16 or float16, got '" + name + "'");
}

std::string StorageDtypeName(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: throw std::invalid_argument(std::string("unsupported weight dtype ") + c10::toString(dtype));
  }
}

Qwen2Config Qwen2Config::FromJson(const Json& json, const std::string& source) {
  if (!json.is_object()) throw std::invalid_argument(source + ": must be a JSON object");
  Qwen2Config c;
  c.raw = json;
  if (const Json* mt = json.Find("model_type"); mt && !mt->is_null()) {
    const std::string& type = mt->AsString(source + " \"model_type\"");
    if (type != "qwen2") {
      throw std::invalid_argument(source + ": model_type '" + type + "' is not supported (only qwen2)");
    }
  }
  c.vocab_size = RequirePositiveInt(json, "vocab_size", source);
  c.hidden_size = RequirePositiveInt(json, "hidden_size", source);
  c.intermediate_size = RequirePositiveInt(json, "intermediate_size", source);
  c.num_hidden_layers = RequirePositiveInt(json, "num_hidden_layers", source);
  c.num_attention_heads = RequirePositiveInt(json, "num_attention_heads", source);
  const Json* kv = json.Find("num_key_value_heads");
  c.num_key_value_heads = kv && !kv->is_null() ? RequirePositiveInt(json, "num_key_value_heads", source) : c.num_attention_heads;
  const Json* hd = json.Find("head_dim");
  if (hd && !hd->is_null()) {
    c.head_dim = RequirePositiveInt(json, "head_dim", source);
  } else {
    if (c.hidden_size % c.num_attention_heads != 0) {
      throw std::invalid_argument(source + ": hidden_size " + std::to_string(c.hidden_size) +
                                  " is not divisible by num_attention_heads " + std::to_string(c.num_attention_heads));
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) throw std::invalid_argument(source + ": head_dim must be even for rotary embeddings");
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    throw std::invalid_argument(source + ": num_attention_heads " + std::to_string(c.num_attention_heads) +
                                " is not a multiple of num_key_value_heads " + std::to_string(c.num_key_value_heads));
  }
  if (const Json* mp = json.Find("max_position_embeddings"); mp && !mp->is_null()) {
    c.max_position_embeddings = RequirePositiveInt(json, "max_position_embeddings", source);
  }
  // rope_theta: transformers <5 writes it at the top level, 5.x inside "rope_parameters".
  const Json* rope_params = json.Find("rope_parameters");
  const Json* rope_scaling = json.Find("rope_scaling");
  for (const Json* rp : {rope_params, rope_scaling}) {
    if (rp && rp->is_object()) {
      const Json* type = rp->Find("rope_type");
      if (!type) type = rp->Find("type");
      if (type && type->is_string() && type->AsString("rope_type") != "default") {
        throw std::invalid_argument(source + ": rope_type '" + type->AsString("rope_type") +
                                    "' is not supported (only default RoPE)");
      }
    }
  }
  if (const Json* t = json.Find("rope_theta"); t && !t->is_null()) {
    c.rope_theta = t->AsNumber(source + " \"rope_theta\"");
  } else if (rope_params && rope_params->is_object()) {
    if (const Json* t2 = rope_params->Find("rope_theta"); t2 && !t2->is_null()) {
      c.rope_theta = t2->AsNumber(source + " \"rope_parameters.rope_theta\"");
    }
  }
  if (!(c.rope_theta > 0)) throw std::invalid_argument(source + ": rope_theta must be > 0");
  if (const Json* e = json.Find("rms_norm_eps"); e && !e->is_null()) c.rms_norm_eps = e->AsNumber(source + " \"rms_norm_eps\"");
  if (const Json* r = json.Find("initializer_range"); r && !r->is_null()) {
    c.initializer_range = r->AsNumber(source + " \"initializer_range\"");
  }
  if (const Json* t = json.Find("tie_word_embeddings"); t && !t->is_null()) {
    c.tie_word_embeddings = t->AsBool(source + " \"tie_word_embeddings\"");
  }
  if (const Json* act = json.Find("hidden_act"); act && !act->is_null() && act->AsString("hidden_act") != "silu") {
    throw std::invalid_argument(source + ": hidden_act '" + act->AsString("hidden_act") + "' is not supported (only silu)");
  }
  if (const Json* sw = json.Find("use_sliding_window"); sw && sw->is_bool() && sw->AsBool("use_sliding_window")) {
    throw std::invalid_argument(source + ": use_sliding_window=true is not supported");
  }
  if (const Json* eos = json.Find("eos_token_id"); eos && !eos->is_null()) {
    if (eos->is_array()) {
      for (const auto& id : eos->AsArray("eos_token_id")) c.eos_token_ids.push_back(id.AsInt(source + " \"eos_token_id\""));
    } else {
      c.eos_token_ids.push_back(eos->AsInt(source + " \"eos_token_id\""));
    }
  }
  return c;
}

std::string Qwen2Config::ToJsonText(const std::string& storage_dtype_name) const {
  Json::Object obj = raw.is_object() ? raw.AsObject("config") : Json::Object{};
  obj["dtype"] = Json::String(storage_dtype_name);
  if (obj.count("torch_dtype")) obj["torch_dtype"] = Json::String(storage_dtype_name);
  if (!obj.count("model_type")) obj["model_type"] = Json::String("qwen2");
  if (!obj.count("architectures")) obj["architectures"] = Json::MakeArray({Json::String("Qwen2ForCausalLM")});
  if (!obj.count("tie_word_embeddings")) obj["tie_word_embeddings"] = Json::Bool(tie_word_embeddings);
  return Json::MakeObject(std::move(obj)).Dump(2) + "\n";
}

Qwen2Model::Qwen2Model(Qwen2Config config, c10::Device device)
    : config_(std::move(config)), device_(device), storage_dtype_(at::kFloat) {}

void Qwen2Model::RegisterParameters() {
  named_params_.clear();
  auto add = [&](const std::string& name, at::Tensor& t) {
    t.set_requires_grad(true);
    named_params_.emplace_back(name, t);
  };
  add("model.embed_tokens.weight", embed_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    Qwen2Layer& l = layers_[i];
    add(LayerName(i, "input_layernorm.weight"), l.input_norm);
    add(LayerName(i, "self_attn.q_proj.weight"), l.q_w);
    add(LayerName(i, "self_attn.q_proj.bias"), l.q_b);
    add(LayerName(i, "self_attn.k_proj.weight"), l.k_w);
    add(LayerName(i, "self_attn.k_proj.bias"), l.k_b);
    add(LayerName(i, "self_attn.v_proj.weight"), l.v_w);
    add(LayerName(i, "self_attn.v_proj.bias"), l.v_b);
    add(LayerName(i, "self_attn.o_proj.weight"), l.o_w);
    add(LayerName(i, "post_attention_layernorm.weight"), l.post_norm);
    add(LayerName(i, "mlp.gate_proj.weight"), l.gate_w);
    add(LayerName(i, "mlp.up_proj.weight"), l.up_w);
    add(LayerName(i, "mlp.down_proj.weight"), l.down_w);
  }
  add("model.norm.weight", final_norm_);
  if (!config_.tie_word_embeddings) add("lm_head.weight", lm_head_);
  fused_valid_ = false;
}

int64_t Qwen2Model::NumParameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_params_) n += t.numel();
  return n;
}

// Expected shape of every HF tensor, in registration order.
static std::vector<std::pair<std::string, std::vector<int64_t>>> ExpectedShapes(const Qwen2Config& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size, q = c.num_attention_heads * c.head_dim,
                kv = c.num_key_value_heads * c.head_dim;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  out.push_back({"model.embed_tokens.weight", {c.vocab_size, H}});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const size_t li = static_cast<size_t>(i);
    out.push_back({LayerName(li, "input_layernorm.weight"), {H}});
    out.push_back({LayerName(li, "self_attn.q_proj.weight"), {q, H}});
    out.push_back({LayerName(li, "self_attn.q_proj.bias"), {q}});
    out.push_back({LayerName(li, "self_attn.k_proj.weight"), {kv, H}});
    out.push_back({LayerName(li, "self_attn.k_proj.bias"), {kv}});
    out.push_back({LayerName(li, "self_attn.v_proj.weight"), {kv, H}});
    out.push_back({LayerName(li, "self_attn.v_proj.bias"), {kv}});
    out.push_back({LayerName(li, "self_attn.o_proj.weight"), {H, q}});
    out.push_back({LayerName(li, "post_attention_layernorm.weight"), {H}});
    out.push_back({LayerName(li, "mlp.gate_proj.weight"), {I, H}});
    out.push_back({LayerName(li, "mlp.up_proj.weight"), {I, H}});
    out.push_back({LayerName(li, "mlp.down_proj.weight"), {H, I}});
  }
  out.push_back({"model.norm.weight", {H}});
  if (!c.tie_word_embeddings) out.push_back({"lm_head.weight", {c.vocab_size, H}});
  return out;
}

// Points each slot of the model at the tensor of the same HF name.
static void AssignSlots(Qwen2Model* /*unused*/, const Qwen2Config& c, std::map<std::string, at::Tensor>& byName,
                        at::Tensor& embed, std::vector<Qwen2Layer>& layers, at::Tensor& final_norm, at::Tensor& lm_head) {
  embed = byName.at("model.embed_tokens.weight");
  layers.resize(static_cast<size_t>(c.num_hidden_layers));
  for (size_t i = 0; i < layers.size(); ++i) {
    Qwen2Layer& l = layers[i];
    l.input_norm = byName.at(LayerName(i, "input_layernorm.weight"));
    l.q_w = byName.at(LayerName(i, "self_attn.q_proj.weight"));
    l.q_b = byName.at(LayerName(i, "self_attn.q_proj.bias"));
    l.k_w = byName.at(LayerName(i, "self_attn.k_proj.weight"));
    l.k_b = byName.at(LayerName(i, "self_attn.k_proj.bias"));
    l.v_w = byName.at(LayerName(i, "self_attn.v_proj.weight"));
    l.v_b = byName.at(LayerName(i, "self_attn.v_proj.bias"));
    l.o_w = byName.at(LayerName(i, "self_attn.o_proj.weight"));
    l.post_norm = byName.at(LayerName(i, "post_attention_layernorm.weight"));
    l.gate_w = byName.at(LayerName(i, "mlp.gate_proj.weight"));
    l.up_w = byName.at(LayerName(i, "mlp.up_proj.weight"));
    l.down_w = byName.at(LayerName(i, "mlp.down_proj.weight"));
  }
  final_norm = byName.at("model.norm.weight");
  if (!c.tie_word_embeddings) lm_head = byName.at("lm_head.weight");
}

std::unique_ptr<Qwen2Model> Qwen2Model::Load(const std::string& dir, const c10::Device& device) {
  const std::string config_path = dir + "/config.json";
  if (!FileExists(config_path)) throw std::invalid_argument(dir + ": no config.json (not a model directory)");
  Qwen2Config config = Qwen2Config::FromJson(ParseJson(ReadTextFile(config_path), config_path), config_path);
  SafetensorsReader reader = SafetensorsReader::OpenDir(dir);

  // Tensors for layers the config does not have mean config and weights disagree.
  for (const auto& name : reader.Names()) {
    const std::string prefix = "model.layers.";
    if (name.rfind(prefix, 0) == 0) {
      const int64_t layer = std::atoll(name.c_str() + prefix.size());
      if (layer >= config.num_hidden_layers) {
        throw std::invalid_argument(dir + ": weights contain '" + name + "' but config.json has num_hidden_layers=" +
                                    std::to_string(config.num_hidden_layers) + " (config and weights do not match)");
      }
    }
  }
  std::unique_ptr<Qwen2Model> model(new Qwen2Model(config, device));
  std::map<std::string, at::Tensor> byName;
  std::map<at::ScalarType, int64_t> dtype_votes;
  c10::NoGradGuard no_grad;
  for (const auto& [name, shape] : ExpectedShapes(config)) {
    if (!reader.Has(name)) {
      throw std::invalid_argument(dir + ": missing tensor '" + name + "' (required by config.json: " +
                                  std::to_string(config.num_hidden_layers) + " layers, tie_word_embeddings=" +
                                  (config.tie_word_embeddings ? "true" : "false") + ")");
    }
    const SafetensorsEntry& entry = reader.Entry(name);
    if (entry.shape != shape) {
      throw std::invalid_argument(entry.file + ": tensor '" + name + "' has shape " + ShapeText(entry.shape) +
                                  " but config.json implies " + ShapeText(shape) + " (config and weights do not match)");
    }
    if (entry.dtype != at::kFloat && entry.dtype != at::kBFloat16 && entry.dtype != at::kHalf) {
      throw std::invalid_argument(entry.file + ": tensor '" + name + "' has dtype " + c10::toString(entry.dtype) +
                                  " (expected F32, BF16 or F16)");
    }
    model->disk_dtypes_[name] = entry.dtype;
    dtype_votes[entry.dtype] += 1;
    byName[name] = reader.Read(name).to(device, at::kFloat).contiguous();
  }
  int64_t best = -1;
  for (const auto& [dtype, votes] : dtype_votes) {
    if (votes > best) {
      best = votes;
      model->storage_dtype_ = dtype;
    }
  }
  AssignSlots(model.get(), config, byName, model->embed_, model->layers_, model->final_norm_, model->lm_head_);
  model->RegisterParameters();
  return model;
}

std::unique_ptr<Qwen2Model> Qwen2Model::Init(const Qwen2Config& config, uint64_t seed, const c10::Device& device,
                                             at::ScalarType storage_dtype) {
  std::unique_ptr<Qwen2Model> model(new Qwen2Model(config, device));
  model->storage_dtype_ = storage_dtype;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::map<std::string, at::Tensor> byName;
  c10::NoGradGuard no_grad;
  for (const auto& [name, shape] : ExpectedShapes(config)) {
    at::Tensor t;
    const bool is_norm = name.find("norm.weight") != std::string::npos;
    const bool is_bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    if (is_norm) {
      t = at::ones(shape, at::kFloat);
    } else if (is_bias) {
      t = at::zeros(shape, at::kFloat);
    } else {
      t = at::empty(shape, at::kFloat);
      t.normal_(0.0, config.initializer_range, gen);
    }
    // Round to the storage dtype so that save -> load reproduces these exact values.
    t = t.to(storage_dtype).to(at::kFloat);
    model->disk_dtypes_[name] = storage_dtype;
    byName[name] = t.to(device).contiguous();
  }
  AssignSlots(model.get(), config, byName, model->embed_, model->layers_, model->final_norm_, model->lm_head_);
  model->RegisterParameters();
  return model;
}

std::vector<std::string> Qwen2Model::Save(const std::string& dir, std::optional<at::ScalarType> dtype_override,
                                          uint64_t max_shard_bytes) const {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  c10::NoGradGuard no_grad;
  for (const auto& [name, param] : named_params_) {
    auto it = disk_dtypes_.find(name);
    const at::ScalarType dtype = dtype_override ? *dtype_override : (it != disk_dtypes_.end() ? it->second : storage_dtype_);
    tensors.emplace_back(name, param.detach().to(at::kCPU).to(dtype));
  }
  std::vector<std::string> files = WriteSafetensorsDir(dir, "model", tensors, max_shard_bytes);
  const at::ScalarType config_dtype = dtype_override ? *dtype_override : storage_dtype_;
  WriteTextFileSynced(dir + "/config.json", config_.ToJsonText(StorageDtypeName(config_dtype)));
  files.push_back("config.json");
  return files;
}

void Qwen2Model::EnsureRope(int64_t n) {
  if (rope_cos_.defined() && rope_cos_.size(0) >= n) return;
  c10::NoGradGuard no_grad;
  int64_t cap = 256;
  while (cap < n) cap *= 2;
  // transformers' default RoPE: inv_freq_i = 1 / theta^(2i/hd) in fp32; angle = pos * inv_freq (fp32).
  const int64_t hd = config_.head_dim;
  at::Tensor exponents = at::arange(0, hd, 2, at::kLong).to(at::kFloat) / static_cast<double>(hd);
  at::Tensor inv_freq = 1.0 / at::pow(config_.rope_theta, exponents);
  at::Tensor pos = at::arange(cap, at::kLong).to(at::kFloat);
  at::Tensor angles = at::outer(pos, inv_freq);  // [cap, hd/2]
  rope_cos_ = angles.cos().to(device_);
  rope_sin_ = angles.sin().to(device_);
}

at::Tensor Qwen2Model::RmsNorm(const at::Tensor& x, const at::Tensor& weight) const {
  return FusedRmsNorm(x, weight, config_.rms_norm_eps);
}

at::Tensor Qwen2Model::FinalNorm(const at::Tensor& x) const { return RmsNorm(x, final_norm_); }

namespace {

// Activation checkpointing for one decoder layer: the forward runs without recording autograd history and
// keeps only the layer's input; the backward recomputes the layer with history and back-propagates the
// incoming gradient through it, which accumulates the parameters' .grad and returns the input's gradient.
// Peak activation memory of the trunk drops from every layer's intermediates to one layer's plus the
// layer inputs, for one extra forward per layer.
struct LayerRecomputeFn : public torch::autograd::Function<LayerRecomputeFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t layer_index,
                            int64_t model_address) {
    ctx->save_for_backward({x});
    ctx->saved_data["layer"] = layer_index;
    ctx->saved_data["model"] = model_address;
    auto* model = reinterpret_cast<Qwen2Model*>(static_cast<intptr_t>(model_address));
    c10::NoGradGuard no_grad;
    return model->Layer(x, static_cast<size_t>(layer_index), /*training_weights=*/true);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* model = reinterpret_cast<Qwen2Model*>(static_cast<intptr_t>(ctx->saved_data["model"].toInt()));
    const at::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    at::Tensor y;
    {
      c10::AutoGradMode with_grad(true);
      y = model->Layer(x, static_cast<size_t>(ctx->saved_data["layer"].toInt()), /*training_weights=*/true);
    }
    torch::autograd::backward({y}, {grads[0]});
    return {x.grad(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor Qwen2Model::Layer(const at::Tensor& x_in, size_t li, bool training_weights) {
  const int64_t B = x_in.size(0), L = x_in.size(1);
  const int64_t nh = config_.num_attention_heads, kvh = config_.num_key_value_heads, hd = config_.head_dim;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  // Training needs gradients for the separate HF parameters, so the fused q|k|v and gate|up weights are
  // concatenated inside the graph; inference uses the cached concatenation.
  const bool grad = training_weights;
  const Qwen2Layer& layer = layers_[li];
  const at::Tensor qkv_w = grad ? ToCompute(at::cat({layer.q_w, layer.k_w, layer.v_w}, 0)) : fused_qkv_w_[li];
  const at::Tensor qkv_b = grad ? at::cat({layer.q_b, layer.k_b, layer.v_b}, 0) : fused_qkv_b_[li];
  const at::Tensor gate_up_w = grad ? ToCompute(at::cat({layer.gate_w, layer.up_w}, 0)) : fused_gate_up_w_[li];
  const at::Tensor o_w = grad ? ToCompute(layer.o_w) : fused_o_w_[li];
  const at::Tensor down_w = grad ? ToCompute(layer.down_w) : fused_down_w_[li];
  const at::Tensor qkv = Gemm(RmsNorm(x_in, layer.input_norm), qkv_w, qkv_b);  // [B, L, (nh+2kvh)*hd]
  const std::vector<at::Tensor> heads = FusedQkvRope(qkv, rope_cos_, rope_sin_, nh, kvh, hd);
  const at::Tensor attn = Attention(heads[0], heads[1], heads[2], at::Tensor(), /*causal=*/true, scale);
  const at::Tensor x = x_in + Gemm(attn.transpose(1, 2).reshape({B, L, nh * hd}), o_w);
  const at::Tensor gate_up = Gemm(RmsNorm(x, layer.post_norm), gate_up_w);  // [B, L, 2I]
  return x + Gemm(FusedSwiGlu(gate_up), down_w);
}

at::Tensor Qwen2Model::Hidden(const at::Tensor& ids, bool final_norm, bool checkpoint_layers) {
  TORCH_CHECK(ids.dim() == 2, "Hidden expects ids [B, L]");
  EnsureRope(ids.size(1));
  const bool grad = c10::GradMode::is_enabled();
  if (!grad) EnsureFused();
  at::Tensor x = at::embedding(embed_, ids);
  const bool recompute = grad && checkpoint_layers;
  for (size_t li = 0; li < layers_.size(); ++li) {
    x = recompute ? LayerRecomputeFn::apply(x, static_cast<int64_t>(li),
                                            static_cast<int64_t>(reinterpret_cast<intptr_t>(this)))
                  : Layer(x, li, /*training_weights=*/grad);
  }
  return final_norm ? RmsNorm(x, final_norm_) : x;
}

void Qwen2Model::EnsureFused() {
  if (fused_valid_) return;
  c10::NoGradGuard no_grad;
  fused_qkv_w_.clear();
  fused_qkv_b_.clear();
  fused_gate_up_w_.clear();
  fused_o_w_.clear();
  fused_down_w_.clear();
  for (const Qwen2Layer& l : layers_) {
    fused_qkv_w_.push_back(ToCompute(at::cat({l.q_w, l.k_w, l.v_w}, 0)));
    fused_qkv_b_.push_back(at::cat({l.q_b, l.k_b, l.v_b}, 0));
    fused_gate_up_w_.push_back(ToCompute(at::cat({l.gate_w, l.up_w}, 0)));
    fused_o_w_.push_back(ToCompute(l.o_w.detach()));
    fused_down_w_.push_back(ToCompute(l.down_w.detach()));
  }
  fused_valid_ = true;
}

at::Tensor Qwen2Model::Attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                                 bool causal, double scale) const {
  const bool gqa = q.size(1) != k.size(1);
  const std::optional<at::Tensor> attn_mask = mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt;
  if (q.is_cuda() && compute_dtype_ == at::kBFloat16) {
    return at::scaled_dot_product_attention(q.to(at::kBFloat16), k.to(at::kBFloat16), v.to(at::kBFloat16), attn_mask, 0.0,
                                            causal, scale, gqa)
        .to(at::kFloat);
  }
  return at::scaled_dot_product_attention(q, k, v, attn_mask, 0.0, causal, scale, gqa);
}

at::Tensor Qwen2Model::ToCompute(const at::Tensor& w) const {
  return compute_dtype_ == at::kFloat ? w : w.to(compute_dtype_);
}

at::Tensor Qwen2Model::Gemm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (w.scalar_type() == at::kFloat) return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
  at::Tensor y = at::linear(x.to(w.scalar_type()), w).to(at::kFloat);
  return b.defined() ? y + b : y;
}

void Qwen2Model::SetComputeDtype(at::ScalarType dtype) {
  if (dtype != at::kFloat && dtype != at::kBFloat16) {
    throw std::invalid_argument(std::string("computeDtype must be float32 or bfloat16, got ") + c10::toString(dtype));
  }
  compute_dtype_ = dtype;
  fused_valid_ = false;
}

}  // namespace siri
