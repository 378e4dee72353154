#!/usr/bin/env python3
"""PyTorch-eager side of the native engine benchmark (bench/engine-bench.ts runs it next to our engine).

Usage: .venv/bin/python bench/engine_reference.py --config tiny|small --threads N [--reps-scale F]

Prints ONE line of JSON on stdout (workloads and keys as native/src/INTERFACE.md specifies):
  {"config", "threads", "trainStepTokensPerS", "generateTokensPerS", "logprobsTokensPerS", "torch",
   "transformers", "generateCache", "attention", "machine", "date", "timings"}
Workloads (random-init Qwen2ForCausalLM, fp32, CPU, torch.set_num_threads(N), sdpa attention):
  trainStep : 16 sequences x 256 tokens (64 prompt + 192 response); forward -> log-probs of every token
              -> GRPO token-mean loss (clip 0.2/0.28) on the response tokens -> backward ->
              clip_grad_norm_(1.0) -> AdamW(lr 1e-5).step(). tokens/s = 4096 / step time, median of 5
              after 1 warm-up.
  generate  : 64 sequences (8 prompts x 8 samples, 32-token prompts), 128 new tokens each, temperature 1.0
              (top-k and top-p off), no stop tokens; transformers generate() with a static KV cache when it
              works on this machine, else the dynamic cache (recorded in "generateCache").
              tokens/s = 64 * 128 / wall time, median of 3 after 1 warm-up.
  logprobs  : 16 x 256 tokens, log-probs and entropies of the last 192 tokens under no_grad.
              tokens/s = 4096 / wall time, median of 5 after 1 warm-up.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
import warnings

import torch

CONFIGS = {
    "tiny": dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                 intermediate_size=128, vocab_size=512, tie_word_embeddings=True),
    "small": dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, num_key_value_heads=2,
                  intermediate_size=1024, vocab_size=4096, tie_word_embeddings=False),
}
TRAIN = dict(batch=16, seq=256, prompt=64, lr=1e-5, clip_low=0.2, clip_high=0.28, max_grad_norm=1.0)
GENERATE = dict(prompts=8, samples=8, prompt_len=32, new_tokens=128)
LOGPROBS = dict(batch=16, seq=256, response=192)


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"hostname": platform.node(), "cpu": cpu, "cpus": os.cpu_count(), "os": platform.platform(),
            "python": platform.python_version()}


def build_model(name: str, seed: int = 0):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(**CONFIGS[name], rope_theta=10000.0, rms_norm_eps=1e-6, max_position_embeddings=2048,
                      bos_token_id=None, eos_token_id=None, pad_token_id=0, dtype="float32")
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(seed)
    return Qwen2ForCausalLM(cfg).to(torch.float32)


def timed(fn, warmup: int, reps: int) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def token_logprobs(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """log p(x_t | x_<t) for t = 1..L-1 from logits [B, L, V] (fp32)."""
    logp = torch.log_softmax(logits[:, :-1].float(), -1)
    return logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)


def bench_train(model, vocab: int, reps: int) -> list[float]:
    """One optimizer step per call: forward, GRPO token-mean loss, backward, clip, AdamW."""
    g = torch.Generator().manual_seed(1)
    b, L, p = TRAIN["batch"], TRAIN["seq"], TRAIN["prompt"]
    ids = torch.randint(0, vocab, (b, L), generator=g)
    mask = torch.zeros(b, L - 1)
    mask[:, p - 1:] = 1.0  # predicted tokens p..L-1 are the 192 response tokens
    adv = torch.randn(b, 1, generator=g)
    with torch.no_grad():
        old = token_logprobs(model(input_ids=ids).logits, ids) + 0.1 * torch.randn(b, L - 1, generator=g)
    opt = torch.optim.AdamW(model.parameters(), lr=TRAIN["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        logp = token_logprobs(model(input_ids=ids).logits, ids)
        ratio = torch.exp(torch.clamp(logp - old, -20, 20))
        loss_tok = torch.maximum(-adv * ratio,
                                 -adv * torch.clamp(ratio, 1 - TRAIN["clip_low"], 1 + TRAIN["clip_high"]))
        loss = (loss_tok * mask).sum() / mask.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), TRAIN["max_grad_norm"])
        opt.step()

    times = timed(step, 1, reps)
    model.eval()
    return times


def bench_logprobs(model, vocab: int, reps: int) -> list[float]:
    g = torch.Generator().manual_seed(2)
    b, L, r = LOGPROBS["batch"], LOGPROBS["seq"], LOGPROBS["response"]
    ids = torch.randint(0, vocab, (b, L), generator=g)

    @torch.no_grad()
    def score():
        logits = model(input_ids=ids).logits[:, L - r - 1:-1].float()  # predicts the last r tokens
        logp_all = torch.log_softmax(logits, -1)
        logp = logp_all.gather(-1, ids[:, L - r:].unsqueeze(-1)).squeeze(-1)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        return logp, entropy

    return timed(score, 1, reps)


def bench_generate(model, vocab: int, reps: int) -> tuple[list[float], str]:
    from transformers import GenerationConfig

    g = torch.Generator().manual_seed(3)
    n_new = GENERATE["new_tokens"]
    prompts = torch.randint(1, vocab, (GENERATE["prompts"], GENERATE["prompt_len"]), generator=g)
    ids = prompts.repeat_interleave(GENERATE["samples"], 0)  # 8 samples of each prompt

    def run(cache: str | None):
        cfg = GenerationConfig(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=n_new,
                               min_new_tokens=n_new, eos_token_id=None, pad_token_id=0,
                               cache_implementation=cache)

        def once():
            torch.manual_seed(4)
            out = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=cfg)
            assert out.shape == (ids.shape[0], ids.shape[1] + n_new), out.shape
        return once

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return timed(run("static"), 1, reps), "static"
    except Exception as e:  # static cache unsupported here: fall back, and say so
        print(f"engine_reference: static cache failed ({type(e).__name__}: {e}); using the dynamic cache",
              file=sys.stderr)
        return timed(run(None), 1, reps), "dynamic"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--reps-scale", type=float, default=1.0,
                    help="multiply the repetition counts (e.g. 0.2 for a smoke run; at least 1 each)")
    ap.add_argument("--only", choices=["train", "generate", "logprobs"], action="append",
                    help="run only these workloads (repeatable); default all")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import transformers
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    reps = lambda n: max(1, round(n * args.reps_scale))  # noqa: E731
    only = set(args.only or ["train", "generate", "logprobs"])
    vocab = CONFIGS[args.config]["vocab_size"]
    model = build_model(args.config).eval()

    result: dict = {"config": args.config, "threads": args.threads, "torch": torch.__version__,
                    "transformers": transformers.__version__, "attention": "sdpa", "device": "cpu",
                    "parameters": sum(p.numel() for p in model.parameters()), "timings": {}}
    if "train" in only:
        t = bench_train(model, vocab, reps(5))
        result["trainStepTokensPerS"] = TRAIN["batch"] * TRAIN["seq"] / statistics.median(t)
        result["timings"]["trainStepS"] = t
    if "logprobs" in only:
        t = bench_logprobs(model, vocab, reps(5))
        result["logprobsTokensPerS"] = LOGPROBS["batch"] * LOGPROBS["seq"] / statistics.median(t)
        result["timings"]["logprobsS"] = t
    if "generate" in only:
        t, cache = bench_generate(model, vocab, reps(3))
        n = GENERATE["prompts"] * GENERATE["samples"] * GENERATE["new_tokens"]
        result["generateTokensPerS"] = n / statistics.median(t)
        result["generateCache"] = cache
        result["timings"]["generateS"] = t
    result["machine"] = machine()
    result["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
