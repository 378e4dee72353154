"""siri's engine vs PyTorch, side by side on one GPU: a GRPO training step and decoding at the
DeepSeek-R1-Distill-Qwen-1.5B shapes with random weights (issue 10's training and decoding goals).

The engine side is native/tests/engine_bench.cc (the `siri_engine_bench` program a plain-cmake build of
native/ makes; no Node), run as a subprocess with the same workload; the PyTorch side is transformers'
Qwen2ForCausalLM in this process. Both sides: same shapes, same token counts, random token ids.

  train   B sequences x L tokens (the first P are the prompt), GRPO token-mean on the response tokens,
          grad-norm clip 1.0, AdamW. PyTorch: fp32 parameters and AdamW state, bf16 autocast, SDPA attention,
          the materialized head (logits -> log_softmax -> gather), gradient checkpointing when the engine
          uses activation checkpointing. siri: computeDtype bfloat16 (fp32 masters), fused head and loss.
          Reported: tokens/s, step time, MFU (6 x matmul parameters x tokens + causal attention
          6 x layers x hidden x L x tokens, over --peak-tflops; recomputation is not counted), peak memory.
  decode  B prompts of P tokens, N new tokens each at temperature 1, no stop token. PyTorch: bf16 weights,
          generate() with the static cache. siri: generate with continuous batching and a bf16 KV cache.
          Reported: tokens/s and % of the memory-bandwidth bound (every step reads the weights once and each
          row's KV cache so far; bytes per element as each side stores them) at the measured copy rate.

Usage (device machine):  python3 bench/cuda/bench_engine.py --engine /tmp/siri-engine-cuda/siri_engine_bench
                         [--quick] [--only train|decode] [--out FILE]
Smoke test on a CPU (first `cmake --build native/build --target siri_engine_bench`):
                         python3 bench/cuda/bench_engine.py --device cpu --shape tiny --quick --engine native/build/siri_engine_bench
Writes JSON (device, date, versions, every figure) to --out (default $OUT/engine-bench.json).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

import torch

SHAPES = {
    "r1-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                    num_key_value_heads=2, vocab_size=151936, max_position_embeddings=131072, rope_theta=10000.0,
                    rms_norm_eps=1e-6, tie_word_embeddings=False),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=512, max_position_embeddings=8192, rope_theta=10000.0,
                 rms_norm_eps=1e-6, tie_word_embeddings=True),
}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str, warmup: int, reps: int) -> list[float]:
    for _ in range(warmup):
        fn()
    sync(device)
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync(device)
        out.append(time.perf_counter() - t0)
    return out


def copy_bandwidth(device: str) -> float:
    """Bytes read + written per second of a large device-to-device copy (the decode bound's ceiling)."""
    n = (1 << 30) if device.startswith("cuda") else (1 << 26)
    src = torch.randn(n // 4, device=device)
    dst = torch.empty_like(src)
    times = timed(lambda: dst.copy_(src), device, 3, 10)
    return 2 * n / statistics.median(times)


def build_model(shape: str, device: str, dtype: torch.dtype):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(**SHAPES[shape], attn_implementation="sdpa")
    return Qwen2ForCausalLM(config).to(device=device, dtype=dtype), config


def matmul_parameters(config) -> int:
    h, i, n = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    hd = h // config.num_attention_heads
    kv = config.num_key_value_heads * hd
    per_layer = h * h + 2 * h * kv + h * h + 3 * h * i  # q, k, v, o, gate, up, down
    return n * per_layer + config.vocab_size * h  # + the LM head


def train_flops(config, batch: int, seq: int) -> float:
    tokens = batch * seq
    attention = 6 * config.num_hidden_layers * config.hidden_size * seq * tokens  # causal: half of 12·l·h·L
    return 6 * matmul_parameters(config) * tokens + attention


def torch_train(args, shape: str, batch: int, seq: int, prompt: int, checkpointing: bool) -> dict:
    device = args.device
    model, config = build_model(shape, device, torch.float32)
    if checkpointing:  # transformers 5.x renamed it; both exist for a while
        enable = getattr(model, "activation_checkpointing_enable", None) or model.gradient_checkpointing_enable
        enable()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6, weight_decay=0.01)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, config.vocab_size, (batch, seq), generator=g).to(device)
    mask = torch.zeros(batch, seq - 1, device=device)
    mask[:, prompt - 1:] = 1  # log-prob of token t sits at t - 1
    adv = torch.tensor([1.0 if b % 2 == 0 else -1.0 for b in range(batch)], device=device)[:, None]
    amp_dtype = torch.bfloat16

    def step():
        with torch.autocast(device_type=device.split(":")[0], dtype=amp_dtype):
            logits = model(input_ids=ids).logits
        logp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
        ratio = torch.exp(logp - logp.detach())
        per_token = torch.maximum(-adv * ratio, -adv * ratio.clamp(0.8, 1.28))
        loss = (per_token * mask).sum() / mask.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    seconds = timed(step, device, args.warmup, args.reps)
    peak = torch.cuda.max_memory_allocated() if device.startswith("cuda") else -1
    del model, optimizer
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return {"side": "pytorch", "seconds": seconds, "median_s": statistics.median(seconds),
            "tokens_per_s": batch * seq / statistics.median(seconds), "peak_memory_bytes": peak,
            "flops_per_step": train_flops(config, batch, seq)}


def torch_decode(args, shape: str, batch: int, prompt: int, new: int) -> dict:
    device = args.device
    model, config = build_model(shape, device, torch.bfloat16)
    model.eval()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, config.vocab_size, (batch, prompt), generator=g).to(device)

    def run():
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=new,
                                 min_new_tokens=new, do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                                 cache_implementation="static", pad_token_id=0, eos_token_id=None)
        assert out.shape == (batch, prompt + new), out.shape

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    seconds = timed(run, device, 1 if args.quick else 0, 1)
    peak = torch.cuda.max_memory_allocated() if device.startswith("cuda") else -1
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return {"side": "pytorch", "seconds": seconds, "median_s": statistics.median(seconds),
            "tokens_per_s": batch * new / statistics.median(seconds), "peak_memory_bytes": peak,
            "kv_bytes_per_element": 2, "weight_bytes_per_element": 2}


def decode_bound_seconds(config, batch: int, prompt: int, new: int, kv_bytes: int, weight_bytes: int,
                         bandwidth: float) -> float:
    """Seconds to stream, at `bandwidth`, what the decode steps must read: all matmul weights once per step
    plus each row's KV cache (layers x 2 x kv heads x head dim) up to its current length."""
    hd = config.hidden_size // config.num_attention_heads
    per_token_kv = config.num_hidden_layers * 2 * config.num_key_value_heads * hd * kv_bytes
    weights = matmul_parameters(config) * weight_bytes
    kv_total = batch * per_token_kv * sum(prompt + k for k in range(new))
    return (new * weights + kv_total) / bandwidth


def engine_run(args, mode: str, **workload) -> dict:
    cmd = [args.engine, "--mode", mode, "--shape", args.shape, "--device", args.device, "--compute-dtype", "bfloat16",
           "--warmup", str(args.warmup if mode == "train" else (1 if args.quick else 0)),
           "--reps", str(args.reps if mode == "train" else 1)]
    for key, value in workload.items():
        cmd += ["--" + key.replace("_", "-"), str(value)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"side": "siri", "error": (done.stderr or done.stdout).strip()[-2000:], "command": " ".join(cmd)}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["command"] = " ".join(cmd)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", default="/tmp/siri-engine-cuda/siri_engine_bench", help="siri_engine_bench binary")
    p.add_argument("--device", default="cuda")
    p.add_argument("--shape", default="r1-1.5b", choices=sorted(SHAPES))
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke test of the harness)")
    p.add_argument("--only", choices=["train", "decode"])
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--peak-tflops", type=float, default=989.4, help="dense bf16 peak for MFU (H100 SXM: 989.4)")
    p.add_argument("--kv-cache-gib", type=float, default=40.0, help="the engine's KV-cache budget")
    p.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "engine-bench.json"))
    args = p.parse_args()

    from transformers import __version__ as transformers_version

    from transformers import Qwen2Config

    config = Qwen2Config(**SHAPES[args.shape])
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
              "torch": torch.__version__, "transformers": transformers_version, "shape": args.shape,
              "quick": args.quick, "train": [], "decode": []}
    report["copy_bytes_per_s"] = copy_bandwidth(args.device)
    print(f"copy bandwidth {report['copy_bytes_per_s'] / 1e9:.0f} GB/s (bytes read + written)")

    if args.only in (None, "train"):
        sizes = [(2, 256, 64)] if args.quick else [(8, 2048, 512)]  # batch, seq, prompt: 16K tokens a step
        for batch, seq, prompt in sizes:
            ours = engine_run(args, "train", batch=batch, seq=seq, prompt=prompt, micro_batch_tokens=16384,
                              activation_checkpointing=1)
            theirs = torch_train(args, args.shape, batch, seq, prompt, checkpointing=True)
            row = {"batch": batch, "seq": seq, "prompt": prompt, "siri": ours, "pytorch": theirs}
            if "tokens_per_s" in ours:
                row["speedup"] = ours["tokens_per_s"] / theirs["tokens_per_s"]
                for side in (ours, theirs):
                    side["mfu"] = theirs["flops_per_step"] / side["median_s"] / (args.peak_tflops * 1e12)
            report["train"].append(row)
            print(json.dumps({k: row.get(k) for k in ("batch", "seq", "speedup")}),
                  "siri", ours.get("tokens_per_s", ours.get("error")), "pytorch", theirs["tokens_per_s"])

    if args.only in (None, "decode"):
        sizes = [(4, 32, 64)] if args.quick else [(64, 1024, 4096), (256, 1024, 4096)]  # batch, prompt, new
        for batch, prompt, new in sizes:
            ours = engine_run(args, "decode", batch=batch, prompt=prompt, new=new, kv_cache_gib=args.kv_cache_gib,
                              kv_cache_dtype="bfloat16")
            theirs = torch_decode(args, args.shape, batch, prompt, new)
            row = {"batch": batch, "prompt": prompt, "new": new, "siri": ours, "pytorch": theirs}
            bw = report["copy_bytes_per_s"]
            theirs["bandwidth_bound_fraction"] = decode_bound_seconds(config, batch, prompt, new, 2, 2, bw) / theirs["median_s"]
            if "tokens_per_s" in ours:
                row["speedup"] = ours["tokens_per_s"] / theirs["tokens_per_s"]
                # The engine streams bf16 copies of the weights and (here) a bf16 KV cache.
                ours["bandwidth_bound_fraction"] = decode_bound_seconds(config, batch, prompt, new, 2, 2, bw) / ours["median_s"]
            report["decode"].append(row)
            print(json.dumps({k: row.get(k) for k in ("batch", "prompt", "new", "speedup")}),
                  "siri", ours.get("tokens_per_s", ours.get("error")), "pytorch", theirs["tokens_per_s"])

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    print("wrote", args.out)
    failed = [r for r in report["train"] + report["decode"] if "error" in r["siri"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
