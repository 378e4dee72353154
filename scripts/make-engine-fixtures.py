#!/usr/bin/env python3
"""Builds the reference fixtures the native engine is tested against (test/fixtures/engine/).

Run: .venv/bin/python scripts/make-engine-fixtures.py   (deterministic: same files every run, CPU)

The checkpoints are fp32. Every reference number is computed by transformers in float64 from those fp32
weights and stored as fp32 -- the exact value an fp32 engine approximates (see build_kind for why this
matters for the AdamW step). Greedy generations come from the fp32 model.

What it writes, for a tied and an untied tiny Qwen2ForCausalLM (2 layers, hidden 64, intermediate 128,
4 heads, 2 KV heads, vocab 512, rope_theta 1e4, rms_norm_eps 1e-6, 256 positions, fp32):

  <kind>/model/                 save_pretrained() output (config.json, model.safetensors) + a WordLevel
                                tokenizer.json. The untied model's config.json is rewritten in the legacy
                                (transformers 4.x, DeepSeek-R1-Distill) layout -- top-level "rope_theta" and
                                "torch_dtype" instead of v5's "rope_parameters"/"dtype" -- so the engine is
                                tested on both layouts; the script checks transformers loads both to the
                                same logits.
  <kind>/reference.json         inputs and scalar results (see `reference_json` below).
  <kind>/reference.safetensors  arrays: logits, per-token log-probs / entropies, old and reference
                                log-probs used by the loss cases.
  <kind>/after-adamw-step.safetensors
                                every parameter (checkpoint names) after one GRPO token-mean step with
                                grad-norm clipping 1.0 and torch.optim.AdamW(lr 1e-3, betas (0.9, 0.999),
                                eps 1e-8, weight decay 0.01 on all parameters).
  units.safetensors             small loss and optimizer cases for the C++ unit driver (native/tests/).

Conventions (the engine must follow the same ones to match):
  * Sequences are ragged; the batch is right-padded with id 0 and an attention mask; positions are 0..L-1.
  * Per-token log-probs are aligned with the tokens: logprobs[b, t] = log softmax(logits[b, t-1])[x[b, t]]
    for 1 <= t < L_b; logprobs[b, 0] = 0 and pad positions are 0. Entropies likewise:
    entropies[b, t] = H(softmax(logits[b, t-1])) = -sum_v p_v log p_v.
  * The response mask marks the response tokens (t >= prompt length); loss sums run over it.

Loss math (written here independently of native/src/loss.cc; this is the reference):
  log r = clamp(logp - old_logp, -20, 20);  r = exp(log r)
  token loss  l = max(-A r, -A clip(r, 1 - clip_low, 1 + clip_high))              (PPO / DAPO clip-higher)
  dual clip   l = min(l, -A clip_c)          where A < 0                           (if clip_c is set)
  KL penalty  l += kl_coef * k3,  k3 = exp(ref - logp) - (ref - logp) - 1          (k3 of KL(ref || theta))
  entropy     l -= entropy_coef * H   (H computed from the logits, gradient flows through it)
  aggregation token-mean           : sum(m l) / sum(m)
              seq-mean-token-sum   : sum_b sum_t m l / B
              seq-mean-token-mean  : sum_b (sum_t m l / sum_t m) / B
  clip fractions over masked tokens: low = mean[A < 0 and r < 1 - clip_low], high = mean[A > 0 and r > 1 + clip_high]
  approx KL = mean over masked tokens of k3(old || theta) = (r - 1) - log r
  ref KL    = mean over masked tokens of k3(ref || theta) (only with kl_coef);  entropy_mean = mean masked H
  grad norm = global L2 norm over all (deduplicated) parameter gradients, before clipping
  SFT loss  = -sum(m logp) / sum(m)
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import AutoModelForCausalLM, GenerationConfig, Qwen2Config, Qwen2ForCausalLM

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "fixtures" / "engine"

VOCAB = 512
PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
MODEL_SEED = {"tied": 1234, "untied": 5678}
DATA_SEED = 99

# Two training sequences of different lengths (right-padded to T = 16) and their prompt lengths.
SEQ_LENGTHS = [16, 11]
PROMPT_LENGTHS = [5, 4]
ADVANTAGES = [1.0, -0.75]  # exactly representable in fp32, the engine's input type
CLIP_LOW, CLIP_HIGH = 0.2, 0.28
AGGREGATIONS = ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean"]
# The "full" case turns every option on; clip_c is low so the dual clip actually fires on these inputs.
FULL_CASE = {"aggregation": "token-mean", "clip_c": 1.3, "kl_coef": 0.1, "entropy_coef": 0.01}
ADAMW = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01, "max_grad_norm": 1.0}
# Greedy generation: two prompts, 12 new tokens each, generated one prompt at a time (no padding).
GEN_PROMPT_LENGTHS = [6, 3]
GEN_NEW_TOKENS = 12
# Greedy is only a fair cross-implementation check when no step is a near tie.
MIN_GREEDY_MARGIN = 1e-3


def model_config(tied: bool) -> Qwen2Config:
    return Qwen2Config(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        rope_theta=10000.0,
        rms_norm_eps=1e-6,
        max_position_embeddings=256,
        tie_word_embeddings=tied,
        pad_token_id=PAD_ID,
        eos_token_id=EOS_ID,
        bos_token_id=None,
        dtype="float32",
    )


def build_model(tied: bool, seed: int) -> Qwen2ForCausalLM:
    """A Qwen2 with our own seeded weights (independent of transformers' init scheme), scaled so logits
    have a spread of a few nats: embeddings and LM head N(0, 0.3^2); projections N(0, 1/fan_in); biases
    N(0, 0.2^2); RMSNorm gains 1 + N(0, 0.1^2) (so a missing gain or bias shows in the logits)."""
    config = model_config(tied)
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).to(torch.float32).eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if "norm" in name:
                p.copy_(1.0 + 0.1 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.2 * noise)
            elif "embed_tokens" in name or name == "lm_head.weight":
                p.copy_(0.3 * noise)
            else:
                p.copy_(noise / math.sqrt(p.shape[1]))
    return model


def write_tokenizer(model_dir: Path) -> None:
    """WordLevel tokenizer over 512 ids: <pad>=0, <eos>=1, <unk>=2, then w3 … w511; whitespace split."""
    vocab = {"<pad>": PAD_ID, "<eos>": EOS_ID, "<unk>": UNK_ID}
    vocab.update({f"w{i}": i for i in range(3, VOCAB)})
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.save(str(model_dir / "tokenizer.json"))
    (model_dir / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "pad_token": "<pad>",
                "eos_token": "<eos>",
                "unk_token": "<unk>",
                "model_max_length": 256,
            },
            indent=2,
        )
        + "\n"
    )


def rewrite_config_legacy(model_dir: Path) -> None:
    """Rewrites config.json in the transformers-4.x layout real Qwen2 checkpoints ship with."""
    path = model_dir / "config.json"
    cfg = json.loads(path.read_text())
    rope = cfg.pop("rope_parameters")
    assert rope.get("rope_type", "default") == "default"
    cfg["rope_theta"] = rope["rope_theta"]
    cfg["torch_dtype"] = cfg.pop("dtype", "float32")
    cfg.pop("layer_types", None)
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def make_inputs() -> dict:
    """Random token ids in [3, 512) (no pad/eos/unk), padded batch, attention and response masks."""
    gen = torch.Generator().manual_seed(DATA_SEED)
    batch, width = len(SEQ_LENGTHS), max(SEQ_LENGTHS)
    ids = torch.full((batch, width), PAD_ID, dtype=torch.long)
    attention = torch.zeros(batch, width, dtype=torch.long)
    response = torch.zeros(batch, width, dtype=torch.float32)
    sequences = []
    for b, (length, prompt) in enumerate(zip(SEQ_LENGTHS, PROMPT_LENGTHS)):
        seq = torch.randint(3, VOCAB, (length,), generator=gen)
        ids[b, :length] = seq
        attention[b, :length] = 1
        response[b, prompt:length] = 1.0
        sequences.append(seq.tolist())
    # Old-policy log-probs = current + N(0, 0.4^2) on response tokens, so ratios leave the clip range on
    # both sides; reference log-probs = current + N(0, 0.2^2).
    old_noise = 0.4 * torch.randn(batch, width, generator=gen)
    ref_noise = 0.2 * torch.randn(batch, width, generator=gen)
    gen_prompts = [torch.randint(3, VOCAB, (n,), generator=gen).tolist() for n in GEN_PROMPT_LENGTHS]
    return {
        "ids": ids,
        "attention": attention,
        "response_mask": response,
        "sequences": sequences,
        "old_noise": old_noise,
        "ref_noise": ref_noise,
        "gen_prompts": gen_prompts,
    }


def token_logprobs_and_entropy(logits: torch.Tensor, ids: torch.Tensor, attention: torch.Tensor):
    """logits [B,T,V] → (logprobs [B,T], entropies [B,T]) aligned with tokens (position 0 and pads = 0)."""
    logp_all = torch.log_softmax(logits[:, :-1], dim=-1)  # predicts tokens 1..T-1 (in the logits' dtype)
    chosen = logp_all.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    valid = attention[:, 1:].to(logits.dtype)
    zeros = torch.zeros(ids.shape[0], 1, dtype=logits.dtype)
    return torch.cat([zeros, chosen * valid], 1), torch.cat([zeros, entropy * valid], 1)


def grpo_loss(logp, old_logp, adv, mask, *, aggregation, clip_low=CLIP_LOW, clip_high=CLIP_HIGH, clip_c=None,
              kl_coef=0.0, ref_logp=None, entropy_coef=0.0, entropy=None) -> dict:
    """The reference GRPO/DAPO loss; formulas in the module docstring. adv is [B] or [B,T]."""
    adv = adv.unsqueeze(1) if adv.dim() == 1 else adv
    log_ratio = torch.clamp(logp - old_logp, -20.0, 20.0)
    ratio = torch.exp(log_ratio)
    loss_tok = torch.maximum(-adv * ratio, -adv * torch.clamp(ratio, 1 - clip_low, 1 + clip_high))
    if clip_c is not None:
        loss_tok = torch.where(adv < 0, torch.minimum(loss_tok, -adv * clip_c), loss_tok)
    ref_kl_tok = None
    if kl_coef:
        d = ref_logp - logp
        ref_kl_tok = torch.exp(d) - d - 1
        loss_tok = loss_tok + kl_coef * ref_kl_tok
    if entropy_coef:
        loss_tok = loss_tok - entropy_coef * entropy
    masked = loss_tok * mask
    if aggregation == "token-mean":
        loss = masked.sum() / mask.sum()
    elif aggregation == "seq-mean-token-sum":
        loss = masked.sum(1).sum() / mask.shape[0]
    elif aggregation == "seq-mean-token-mean":
        loss = (masked.sum(1) / mask.sum(1).clamp_min(1)).sum() / mask.shape[0]
    else:
        raise ValueError(aggregation)
    with torch.no_grad():
        n = mask.sum()
        r, a = ratio.detach(), adv.expand_as(ratio)
        low = (((a < 0) & (r < 1 - clip_low)).float() * mask).sum() / n
        high = (((a > 0) & (r > 1 + clip_high)).float() * mask).sum() / n
        lr_d = log_ratio.detach()
        approx_kl = (((torch.exp(lr_d) - 1) - lr_d) * mask).sum() / n
        ref_kl = None if ref_kl_tok is None else (ref_kl_tok.detach() * mask).sum() / n
        entropy_mean = None if entropy is None else (entropy.detach() * mask).sum() / n
        dual = None
        if clip_c is not None:
            # A < 0 and r > clip_c: the cap -A·clip_c is below the PPO term (clip_c > 1 + clip_high here).
            dual = (((a < 0) & (r > clip_c)).float() * mask).sum() / n
    return {"loss": loss, "clip_frac_low": low, "clip_frac_high": high, "approx_kl": approx_kl,
            "dual_clip_frac": dual, "ref_kl": ref_kl, "entropy_mean": entropy_mean, "tokens": n}


def global_grad_norm(model) -> float:
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item()


def forward(model, inputs):
    return model(input_ids=inputs["ids"], attention_mask=inputs["attention"]).logits


def loss_case(model, inputs, old_logp, ref_logp, adv, **opts) -> dict:
    """Fresh forward + loss + backward; returns the scalars and the grad norm (grads left on the model)."""
    model.zero_grad(set_to_none=True)
    logits = forward(model, inputs)
    logp, entropy = token_logprobs_and_entropy(logits, inputs["ids"], inputs["attention"])
    out = grpo_loss(logp, old_logp, adv, inputs["response_mask"], ref_logp=ref_logp, entropy=entropy, **opts)
    out["loss"].backward()
    result = {k: (float(v.detach()) if v is not None else None) for k, v in out.items()}
    result["grad_norm"] = global_grad_norm(model)
    return result


def greedy_generations(model, prompts) -> list[dict]:
    """HF greedy decoding (do_sample=False), one prompt at a time, eos disabled; also the log-prob of each
    chosen token under the untempered distribution and the smallest top-1/top-2 logit gap."""
    results = []
    config = GenerationConfig(do_sample=False, max_new_tokens=GEN_NEW_TOKENS, min_new_tokens=GEN_NEW_TOKENS,
                              eos_token_id=None, pad_token_id=PAD_ID, output_logits=True,
                              return_dict_in_generate=True)
    for prompt in prompts:
        ids = torch.tensor([prompt])
        out = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=config)
        new = out.sequences[0, len(prompt):].tolist()
        logits = torch.stack(out.logits, 0)[:, 0].float()  # [new, V]
        logp = torch.log_softmax(logits, -1).gather(-1, torch.tensor(new).unsqueeze(-1)).squeeze(-1)
        top2 = logits.topk(2, -1).values
        margin = float((top2[:, 0] - top2[:, 1]).min())
        # Cross-check: the full-sequence forward reproduces the step-by-step argmax.
        full = model(input_ids=out.sequences).logits[0, len(prompt) - 1:-1]
        assert full.argmax(-1).tolist() == new, "greedy tokens disagree with a full forward"
        assert EOS_ID not in new, "greedy run emitted <eos>; pick other prompts"
        assert margin >= MIN_GREEDY_MARGIN, f"greedy near-tie (margin {margin:.2e}); pick another seed"
        results.append({"prompt": prompt, "tokens": new, "logprobs": logp.tolist(), "min_top2_margin": margin})
    return results


def adamw_step(model, inputs, old_logp, adv) -> dict:
    """One optimizer step: GRPO token-mean loss → backward → clip_grad_norm_(1.0) → AdamW.step()."""
    opt = torch.optim.AdamW(model.parameters(), lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"],
                            weight_decay=ADAMW["weight_decay"], foreach=False)
    case = loss_case(model, inputs, old_logp, None, adv, aggregation="token-mean")
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), ADAMW["max_grad_norm"], foreach=False)
    opt.step()
    case["grad_norm_torch_clip"] = float(total)
    return case


def tensor_stats(t: torch.Tensor) -> dict:
    return {"sum": float(t.double().sum()), "abs_sum": float(t.double().abs().sum()), "shape": list(t.shape)}


def build_kind(kind: str) -> None:
    tied = kind == "tied"
    kind_dir = OUT / kind
    model_dir = kind_dir / "model"
    if kind_dir.exists():
        shutil.rmtree(kind_dir)
    model_dir.mkdir(parents=True)

    model = build_model(tied, MODEL_SEED[kind])
    model.save_pretrained(model_dir, safe_serialization=True)
    write_tokenizer(model_dir)
    if not tied:
        rewrite_config_legacy(model_dir)

    # The saved fp32 checkpoint, reloaded by transformers, is the model every number below comes from.
    # The numbers are computed in float64 from those fp32 weights (then stored as fp32): the exact math of
    # the checkpoint, which any fp32 implementation -- PyTorch's own fp32 path included -- approximates.
    # This matters for the AdamW step: with eps 1e-8 and clipped gradients, elements whose gradient is
    # ~1e-8 turn fp32 rounding noise of the gradient into visible update differences (PyTorch fp32 is off
    # from the float64 step by up to 6e-5 on single elements). Greedy decoding runs in fp32 (margins checked).
    model32 = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").eval()
    # sdpa, not eager: transformers' eager attention runs its softmax in fp32 even for a float64 model.
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64, attn_implementation="sdpa").eval()
    for m in (model32, model):
        assert m.config.tie_word_embeddings == tied
        assert m.config.rope_parameters["rope_theta"] == 10000.0

    inputs = {k: (v.double() if torch.is_tensor(v) and v.is_floating_point() else v) for k, v in make_inputs().items()}
    mask = inputs["response_mask"]
    with torch.no_grad():
        logits = forward(model, inputs)
        logp, entropy = token_logprobs_and_entropy(logits, inputs["ids"], inputs["attention"])
    # Each sequence alone (no padding) gives the same logits as in the padded batch; fp32 agrees with fp64.
    with torch.no_grad():
        for b, seq in enumerate(inputs["sequences"]):
            alone = model(input_ids=torch.tensor([seq])).logits[0]
            assert torch.allclose(alone, logits[b, : len(seq)], rtol=1e-12, atol=1e-12), "padding changes logits"
            alone32 = model32(input_ids=torch.tensor([seq])).logits[0].double()
            assert torch.allclose(alone32, alone, rtol=1e-5, atol=1e-5), "fp32 and fp64 logits disagree"
    # Old/reference log-probs are data: rounded to fp32 first, so the engine gets exactly what was used here.
    old_logp = ((logp + inputs["old_noise"]) * mask).float().double()
    ref_logp = ((logp + inputs["ref_noise"]) * mask).float().double()
    adv = torch.tensor(ADVANTAGES, dtype=torch.float64)

    cases = {}
    for aggregation in AGGREGATIONS:
        cases[aggregation] = loss_case(model, inputs, old_logp, ref_logp, adv, aggregation=aggregation)
        assert cases[aggregation]["clip_frac_low"] > 0 and cases[aggregation]["clip_frac_high"] > 0, (
            f"{kind}/{aggregation}: clipping is not active on both sides: {cases[aggregation]}"
        )
    full = loss_case(model, inputs, old_logp, ref_logp, adv, **FULL_CASE)
    assert full["dual_clip_frac"] > 0, f"{kind}: the dual clip never fires: {full}"
    full["options"] = FULL_CASE

    model.zero_grad(set_to_none=True)
    lp_grad, _ = token_logprobs_and_entropy(forward(model, inputs), inputs["ids"], inputs["attention"])
    sft = -(lp_grad * mask).sum() / mask.sum()
    sft.backward()
    sft_case = {"loss": float(sft.detach()), "grad_norm": global_grad_norm(model), "tokens": float(mask.sum())}

    gens = greedy_generations(model32, inputs["gen_prompts"])

    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    step = adamw_step(model, inputs, old_logp, adv)
    assert step["grad_norm"] > ADAMW["max_grad_norm"], "grad-norm clipping would not be active"
    after = {n: p.detach().float().contiguous() for n, p in model.named_parameters()}
    save_file(after, str(kind_dir / "after-adamw-step.safetensors"), metadata={"format": "pt"})
    update_stats = {n: tensor_stats(after[n].double() - before[n]) for n in after}

    width = max(SEQ_LENGTHS)
    save_file(
        {
            "logits": logits.float().contiguous(),
            "logprobs": logp.float().contiguous(),
            "entropies": entropy.float().contiguous(),
            "old_logprobs": old_logp.float().contiguous(),
            "ref_logprobs": ref_logp.float().contiguous(),
            "response_mask": mask.float().contiguous(),
        },
        str(kind_dir / "reference.safetensors"),
        metadata={"format": "pt"},
    )
    reference_json = {
        "description": "Reference outputs of transformers' Qwen2ForCausalLM for the native engine tests; "
        "made by scripts/make-engine-fixtures.py (conventions in its docstring).",
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "tied": tied,
        "config_layout": "transformers-5 (rope_parameters)" if tied else "legacy (top-level rope_theta)",
        "precision": "float64 evaluation of the fp32 checkpoint, stored as fp32; greedy decoding in fp32",
        "padded_width": width,
        "pad_id": PAD_ID,
        "sequences": inputs["sequences"],
        "prompt_lengths": PROMPT_LENGTHS,
        "response_mask": [[int(v) for v in row[: len(seq)]] for row, seq in zip(mask.tolist(), inputs["sequences"])],
        "advantages": ADVANTAGES,
        "clip_low": CLIP_LOW,
        "clip_high": CLIP_HIGH,
        "arrays": "reference.safetensors: logits [B,T,V], logprobs/entropies/old_logprobs/ref_logprobs/"
        "response_mask [B,T]; only positions t < len(sequences[b]) are meaningful",
        "grpo": cases,
        "grpo_full": full,
        "sft": sft_case,
        "adamw": {
            "options": {**ADAMW, "betas": list(ADAMW["betas"])},
            "loss_case": "grpo token-mean (no kl, no entropy, no dual clip)",
            "loss": step["loss"],
            "grad_norm": step["grad_norm"],
            "weights": "after-adamw-step.safetensors",
            "update_stats": update_stats,
        },
        "greedy": gens,
    }
    (kind_dir / "reference.json").write_text(json.dumps(reference_json, indent=1) + "\n")
    print(f"{kind}: token-mean loss {cases['token-mean']['loss']:.6f} grad-norm {cases['token-mean']['grad_norm']:.4f} "
          f"clip low/high {cases['token-mean']['clip_frac_low']:.3f}/{cases['token-mean']['clip_frac_high']:.3f} "
          f"dual {full['dual_clip_frac']:.3f}; greedy margins "
          f"{[round(g['min_top2_margin'], 4) for g in gens]}")


def build_units() -> None:
    """Small standalone cases for native/tests/: loss inputs with expected loss, gradients and statistics
    for every aggregation and option combination; and an AdamW + clipping trajectory over 3 steps."""
    gen = torch.Generator().manual_seed(7)
    B, T = 3, 9
    t: dict[str, torch.Tensor] = {}
    logp = -torch.rand(B, T, generator=gen) * 3 - 0.05
    old = logp + 0.4 * torch.randn(B, T, generator=gen)
    ref = logp + 0.3 * torch.randn(B, T, generator=gen)
    ent = torch.rand(B, T, generator=gen) * 2
    mask = torch.zeros(B, T)
    mask[0, 2:9] = 1
    mask[1, 1:5] = 1
    mask[2, 3:8] = 1
    adv_seq = torch.tensor([1.2, -0.7, -1.5])
    adv_tok = torch.randn(B, T, generator=gen)
    t.update(logp=logp, old=old, ref=ref, entropy=ent, mask=mask, adv_seq=adv_seq, adv_tok=adv_tok)
    variants = {
        "plain": {},
        "full": {"clip_c": 1.3, "kl_coef": 0.1, "entropy_coef": 0.05},
    }
    names = []
    for aggregation in AGGREGATIONS:
        for variant, opts in variants.items():
            for adv_name in ["adv_seq", "adv_tok"]:
                name = f"{aggregation}/{variant}/{adv_name}"
                lp = logp.clone().requires_grad_(True)
                en = ent.clone().requires_grad_(True)
                out = grpo_loss(lp, old, t[adv_name], mask, aggregation=aggregation, ref_logp=ref, entropy=en,
                                **opts)
                out["loss"].backward()
                t[f"{name}/loss"] = out["loss"].detach().reshape(())
                t[f"{name}/grad_logp"] = lp.grad
                t[f"{name}/grad_entropy"] = en.grad if en.grad is not None else torch.zeros_like(ent)
                for k in ["clip_frac_low", "clip_frac_high", "approx_kl", "tokens"]:
                    t[f"{name}/{k}"] = out[k].reshape(())
                names.append(name)
    lp = logp.clone().requires_grad_(True)
    sft = -(lp * mask).sum() / mask.sum()
    sft.backward()
    t["sft/loss"] = sft.detach().reshape(())
    t["sft/grad_logp"] = lp.grad

    # AdamW trajectory: 3 parameters, 3 steps of given gradients (norms above and below the clip).
    shapes = [(4, 5), (5,), (3, 2, 2)]
    params = [torch.randn(s, generator=gen) for s in shapes]
    for i, p in enumerate(params):
        t[f"adamw/param{i}/init"] = p.clone()
    scales = [3.0, 0.05, 1.5]
    opts = {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}
    torch_params = [p.clone().requires_grad_(True) for p in params]
    opt = torch.optim.AdamW(torch_params, **opts, foreach=False)
    for step, scale in enumerate(scales):
        for i, p in enumerate(torch_params):
            g = scale * torch.randn(p.shape, generator=gen) / math.sqrt(len(shapes) * p.numel())
            t[f"adamw/step{step}/grad{i}"] = g.clone()
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(torch_params, 1.0, foreach=False)
        t[f"adamw/step{step}/total_norm"] = total.reshape(())
        opt.step()
        for i, p in enumerate(torch_params):
            t[f"adamw/step{step}/param{i}"] = p.detach().clone()
    for i, p in enumerate(torch_params):
        st = opt.state[p]
        t[f"adamw/final/exp_avg{i}"] = st["exp_avg"].clone()
        t[f"adamw/final/exp_avg_sq{i}"] = st["exp_avg_sq"].clone()
    # One metadata key: safetensors writes several keys in hash order, which would make the file vary.
    meta = {
        "meta": json.dumps(
            {
                "cases": names,
                "clip_low": CLIP_LOW,
                "clip_high": CLIP_HIGH,
                "variants": variants,
                "adamw": {**opts, "betas": list(opts["betas"]), "max_grad_norm": 1.0},
            },
            sort_keys=True,
        )
    }
    save_file({k: v.contiguous().float() for k, v in t.items()}, str(OUT / "units.safetensors"), metadata=meta)


def main() -> None:
    torch.set_num_threads(1)  # one thread: the reductions, and so the last bits, do not depend on the machine
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    for kind in ["tied", "untied"]:
        build_kind(kind)
    build_units()
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"fixtures in {OUT.relative_to(ROOT)}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    sys.exit(main())
