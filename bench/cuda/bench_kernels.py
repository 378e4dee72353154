"""siri's fused CUDA kernels vs the materialized PyTorch path, side by side on one GPU, at the
DeepSeek-R1-Distill-Qwen-1.5B shapes (hidden 1536, vocab 151,936) with random weights.

Follows the device notes' method: the two ceilings are measured first (device-to-device copy bandwidth,
counting bytes read + written; a bf16 8192^3 matrix product), every timing is the median of CUDA-event-timed
repeats after warm-up, inputs are random (never zeros) and rotated where they would fit in L2, and every
kernel is first checked against a float64 reference on the device. Reported per kernel: time, achieved
GB/s as % of the copy bandwidth (memory-bound kernels) or TFLOP/s as % of the matmul rate (the LM head,
which is matrix-bound at hidden 1536), and peak memory vs the PyTorch path.

Usage (on the device machine; no Node needed):  python3 bench/cuda/bench_kernels.py [--quick] [--out FILE]
Writes JSON (device, date, versions, every figure) to --out (default $OUT/cuda-bench.json) and prints a table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import traceback

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ext  # noqa: E402

HIDDEN, VOCAB = 1536, 151936  # DeepSeek-R1-Distill-Qwen-1.5B (Qwen2-1.5B) LM head


# ---- measurement helpers --------------------------------------------------------------------------------------


def timed(fn, warmup: int = 3, reps: int = 20) -> dict:
    """Median / min / max milliseconds of fn() over reps, CUDA events around each call."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return {"ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times), "reps": reps}


def peak_extra_bytes(fn) -> int:
    """Peak device memory allocated by fn() beyond what was allocated before it (its outputs included)."""
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = fn()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    del out
    return int(peak)


def guarded(fn):
    """fn() or {'error': ...} (out of memory included), so one failure keeps the other figures."""
    try:
        return fn()
    except torch.OutOfMemoryError as e:
        torch.cuda.empty_cache()
        return {"error": "out of memory", "detail": str(e).splitlines()[0]}
    except Exception as e:  # noqa: BLE001 — recorded, not hidden
        torch.cuda.empty_cache()
        return {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc(limit=3)}


def rel_err(out: torch.Tensor, ref: torch.Tensor) -> float:
    """||out - ref|| / ||ref|| in float64; NaN anywhere counts as inf."""
    out, ref = out.double(), ref.double()
    if torch.isnan(out).any():
        return math.inf
    return float(torch.linalg.vector_norm(out - ref) / torch.linalg.vector_norm(ref))


def copy_bandwidth() -> dict:
    src = torch.randn(256 * 2**20, device="cuda")  # 1 GiB of fp32
    dst = torch.empty_like(src)
    t = timed(lambda: dst.copy_(src), warmup=5, reps=30)
    moved = 2 * src.numel() * src.element_size()
    return {"GBps": moved / (t["ms"] * 1e-3) / 1e9, **t, "bytes": moved}


def matmul_rate() -> dict:
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    t = timed(lambda: a @ b, warmup=5, reps=20)
    return {"TFLOPs": 2 * 8192**3 / (t["ms"] * 1e-3) / 1e12, **t}


# ---- 1. LM head ---------------------------------------------------------------------------------------------


def torch_head_forward(h, w, y):
    """The materialized path: [N, V] logits, log_softmax, gather, entropy."""
    logits = (h @ w.T).float()
    logp_all = torch.log_softmax(logits, -1)
    logp = logp_all.gather(1, y[:, None])[:, 0]
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy


def head_check(mod, n: int = 1024) -> dict:
    """Ours (bf16 in, fp32 out) vs float64 autograd on the same bf16-rounded inputs."""
    g = torch.Generator(device="cuda").manual_seed(0)
    h = torch.randn(n, HIDDEN, device="cuda", generator=g).bfloat16()
    w = (torch.randn(VOCAB, HIDDEN, device="cuda", generator=g) * 2.5 / math.sqrt(HIDDEN)).bfloat16()
    y = torch.randint(0, VOCAB, (n,), device="cuda", generator=g)
    g1, g2 = torch.randn(n, device="cuda", generator=g), torch.randn(n, device="cuda", generator=g)
    logp, ent, lse = mod.lm_head_forward(h, w, y, 1.0, 256, 8192, 256)
    dw = torch.zeros(VOCAB, HIDDEN, device="cuda")
    dh = mod.lm_head_backward(h, w, y, logp, ent, lse, g1, g2, dw, 1.0, 256, 8192, 256)
    h64, w64 = h.double().requires_grad_(), w.double().requires_grad_()
    logp64, ent64 = torch_head_forward(h64, w64, y)
    ((g1.double() * logp64).sum() + (g2.double() * ent64).sum()).backward()
    return {
        "tokens": n,
        "logprobs": rel_err(logp, logp64),
        "entropy": rel_err(ent, ent64),
        "dhidden": rel_err(dh, h64.grad),
        "dweight": rel_err(dw, w64.grad),
        "tolerance": {"forward": 1e-4, "backward_bf16": 1e-2},
    }


def head_bench(mod, n: int, copy_gbps: float, matmul_tflops: float, sweep: bool) -> dict:
    g = torch.Generator(device="cuda").manual_seed(n)
    h = torch.randn(n, HIDDEN, device="cuda", generator=g).bfloat16()
    w = (torch.randn(VOCAB, HIDDEN, device="cuda", generator=g) * 2.5 / math.sqrt(HIDDEN)).bfloat16()
    y = torch.randint(0, VOCAB, (n,), device="cuda", generator=g)
    g1, g2 = torch.randn(n, device="cuda", generator=g) / n, torch.randn(n, device="cuda", generator=g) / n
    flops_fwd = 2 * n * VOCAB * HIDDEN
    out: dict = {"tokens": n}

    # Default plan (256 MB workspace), big tiles (fewer, larger products), and 32 MB tiles that may stay in L2.
    tiles = [(0, 0)] + ([(4096, 8192), (2048, 16384), (8192, 16384), (16384, 4096), (1024, 8192), (2048, 4096)] if sweep else [])
    best = None
    out["forward_tiles"] = []
    for tc, vc in tiles:
        t = guarded(lambda: timed(lambda: mod.lm_head_forward(h, w, y, 1.0, tc, vc, 256)))
        if "ms" in t:
            t["TFLOPs"] = flops_fwd / (t["ms"] * 1e-3) / 1e12
            t["pct_matmul"] = 100 * t["TFLOPs"] / matmul_tflops
        out["forward_tiles"].append({"token_chunk": tc, "vocab_chunk": vc, **t})
        if "ms" in t and (best is None or t["ms"] < best[2]["ms"]):
            best = (tc, vc, t)
    if best is None:
        return out
    tc, vc, _ = best
    out["best_tiles"] = {"token_chunk": tc, "vocab_chunk": vc}
    out["ours_forward"] = {**best[2], "peak_bytes": peak_extra_bytes(lambda: mod.lm_head_forward(h, w, y, 1.0, tc, vc, 256))}
    out["torch_forward"] = guarded(
        lambda: {
            **timed(lambda: torch_head_forward(h, w, y), warmup=2, reps=5),
            "peak_bytes": peak_extra_bytes(lambda: torch_head_forward(h, w, y)),
        }
    )

    dw = torch.zeros(VOCAB, HIDDEN, device="cuda")  # fp32 master gradient, allocated outside the measurement

    def ours_train():
        logp, ent, lse = mod.lm_head_forward(h, w, y, 1.0, tc, vc, 256)
        return mod.lm_head_backward(h, w, y, logp, ent, lse, g1, g2, dw, 1.0, tc, vc, 256)

    t = guarded(lambda: timed(ours_train, warmup=2, reps=10))
    if "ms" in t:
        t["TFLOPs_useful"] = 3 * flops_fwd / (t["ms"] * 1e-3) / 1e12  # fwd + 2 gradient products
        t["pct_matmul"] = 100 * t["TFLOPs_useful"] / matmul_tflops
        t["peak_bytes"] = peak_extra_bytes(ours_train)
    out["ours_forward_backward"] = t

    hl, wl = h.clone().requires_grad_(), w.clone().requires_grad_()

    def torch_train():
        hl.grad = None
        wl.grad = None
        logp, ent = torch_head_forward(hl, wl, y)
        ((g1 * logp).sum() + (g2 * ent).sum()).backward()
        return hl.grad

    t = guarded(lambda: {**timed(torch_train, warmup=1, reps=5), "peak_bytes": peak_extra_bytes(torch_train)})
    out["torch_forward_backward"] = t
    for key in ("forward", "forward_backward"):
        ours, theirs = out.get(f"ours_{key}", {}), out.get(f"torch_{key}", {})
        if "ms" in ours and "ms" in theirs:
            out[f"{key}_speedup"] = theirs["ms"] / ours["ms"]
            out[f"{key}_memory_ratio"] = theirs["peak_bytes"] / max(ours["peak_bytes"], 1)
    # The non-matrix traffic of one forward: the fp32 tiles written by the product and read by our kernel.
    out["forward_tile_bytes"] = 8 * n * VOCAB
    out["copy_GBps"] = copy_gbps
    return out


# ---- 2. GRPO loss ------------------------------------------------------------------------------------------------


def grpo_inputs(batch: int, length: int, seed: int, extras: bool):
    g = torch.Generator(device="cuda").manual_seed(seed)
    logp = -5 * torch.rand(batch, length, device="cuda", generator=g)
    old = logp - torch.log(0.4 + 1.4 * torch.rand(batch, length, device="cuda", generator=g))
    adv = torch.randn(batch, device="cuda", generator=g)
    mask = (torch.rand(batch, length, device="cuda", generator=g) < 0.8).float()
    ref = logp + 0.3 * torch.randn(batch, length, device="cuda", generator=g) if extras else None
    ent = 2 * torch.rand(batch, length, device="cuda", generator=g) if extras else None
    return logp, old, adv, mask, ref, ent


def grpo_kwargs(extras: bool) -> dict:
    if not extras:
        return {"clip_low": 0.2, "clip_high": 0.28, "aggregation": "token-mean"}
    return {"clip_low": 0.2, "clip_high": 0.28, "clip_c": 3.0, "kl_coef": 0.05, "entropy_coef": 0.01, "aggregation": "seq-mean-token-mean"}


def grpo_check(mod) -> dict:
    """Ours vs the engine's loss.cc (ATen ops + autograd, fp32) on the same CUDA inputs, both option sets."""
    result = {}
    for extras in (False, True):
        logp, old, adv, mask, ref, ent = grpo_inputs(8, 3000, 1, extras)
        kw = grpo_kwargs(extras)
        saved, dlogp, dent = mod.grpo_forward_backward(logp, old, adv, mask, ref_logprobs=ref, entropy=ent, grad_loss=torch.ones((), device="cuda"), **kw)
        lp = logp.clone().requires_grad_()
        en = ent.clone().requires_grad_() if ent is not None else None
        loss, tokens, low, high, kl = mod.engine_grpo_loss(lp, old, adv, mask, ref_logprobs=ref, entropy=en, **kw)
        loss.backward()
        name = "dual+kl+entropy, seq-mean-token-mean" if extras else "DAPO token-mean"
        result[name] = {
            "loss": abs(float(saved[0]) - float(loss)) / abs(float(loss)),
            "clip_low_tokens_equal": float(saved[2]) == float(low),
            "clip_high_tokens_equal": float(saved[3]) == float(high),
            "approx_kl_sum": abs(float(saved[4]) - float(kl)) / abs(float(kl)),
            "dlogprobs": rel_err(dlogp, lp.grad),
            **({"dentropy": rel_err(dent, en.grad)} if en is not None else {}),
        }
    return result


def grpo_bench(mod, batch: int, length: int, copy_gbps: float, extras: bool) -> dict:
    sets = [grpo_inputs(batch, length, s, extras) for s in range(4)]  # rotated: 4 sets exceed the L2
    kw = grpo_kwargs(extras)
    one = torch.ones((), device="cuda")
    state = {"i": 0}

    def ours():
        logp, old, adv, mask, ref, ent = sets[state["i"] % len(sets)]
        state["i"] += 1
        return mod.grpo_forward_backward(logp, old, adv, mask, ref_logprobs=ref, entropy=ent, grad_loss=one, **kw)

    leaves = [(s[0].clone().requires_grad_(), s[5].clone().requires_grad_() if s[5] is not None else None) for s in sets]

    def engine():
        i = state["i"] % len(sets)
        state["i"] += 1
        logp, old, adv, mask, ref, ent = sets[i]
        lp, en = leaves[i]
        lp.grad = None
        if en is not None:
            en.grad = None
        loss = mod.engine_grpo_loss(lp, old, adv, mask, ref_logprobs=ref, entropy=en, **kw)[0]
        loss.backward()
        return lp.grad

    tokens = batch * length
    # Fewest bytes: forward reads logp, old, mask (+ ref, entropy); backward reads logp, old, mask (+ ref)
    # and writes dlogp (+ dentropy). Advantages per sequence are negligible.
    per_token = (3 + 3 + 1) * 4 + ((2 + 1 + 1) * 4 if extras else 0)
    out = {"batch": batch, "length": length, "tokens": tokens, "min_bytes": per_token * tokens, "options": kw}
    t = timed(ours, warmup=5, reps=30)
    t["GBps"] = per_token * tokens / (t["ms"] * 1e-3) / 1e9
    t["pct_copy"] = 100 * t["GBps"] / copy_gbps
    t["peak_bytes"] = peak_extra_bytes(ours)
    out["ours_forward_backward"] = t
    t = guarded(lambda: {**timed(engine, warmup=3, reps=20), "peak_bytes": peak_extra_bytes(engine)})
    out["engine_eager_forward_backward"] = t
    if "ms" in t:
        out["speedup"] = t["ms"] / out["ours_forward_backward"]["ms"]
        out["memory_ratio"] = t["peak_bytes"] / max(out["ours_forward_backward"]["peak_bytes"], 1)
    return out


# ---- 3. sampling ---------------------------------------------------------------------------------------------------


def torch_sample(logits, temperature: float, top_p: float):
    """The eager path the CPU engine uses: softmax, sort + cumsum for top-p, multinomial."""
    probs = torch.softmax(logits.float() / temperature, -1)
    if top_p < 1.0:
        sorted_p, order = torch.sort(probs, -1, descending=True)
        keep = (sorted_p.cumsum(-1) - sorted_p) < top_p
        sorted_p = sorted_p * keep
        pick = torch.multinomial(sorted_p, 1)
        return order.gather(1, pick)[:, 0]
    return torch.multinomial(probs, 1)[:, 0]


def sampling_bench(mod, batch: int, dtype: torch.dtype, top_p: float, copy_gbps: float) -> dict:
    sets = [(3 * torch.randn(batch, VOCAB, device="cuda")).to(dtype) for _ in range(4)]
    seq = torch.arange(batch, device="cuda")
    step = torch.zeros(batch, dtype=torch.long, device="cuda")
    state = {"i": 0}

    def ours():
        state["i"] += 1
        step.add_(1)
        return mod.sample(sets[state["i"] % 4], 1.0, top_p, 1234, seq, step)

    def eager():
        state["i"] += 1
        return torch_sample(sets[state["i"] % 4], 1.0, top_p)

    one_pass = batch * VOCAB * sets[0].element_size()
    passes = 1 if top_p >= 1.0 else 5  # lse+race | lse, 3 radix-select levels, race
    out = {"batch": batch, "dtype": str(dtype).replace("torch.", ""), "top_p": top_p, "passes": passes, "one_pass_bytes": one_pass}
    t = timed(ours, warmup=5, reps=50)
    t["GBps_one_pass"] = one_pass / (t["ms"] * 1e-3) / 1e9
    t["GBps_all_passes"] = passes * t["GBps_one_pass"]
    t["pct_copy_all_passes"] = 100 * t["GBps_all_passes"] / copy_gbps
    t["peak_bytes"] = peak_extra_bytes(ours)
    out["ours"] = t
    t = guarded(lambda: {**timed(eager, warmup=3, reps=20), "peak_bytes": peak_extra_bytes(eager)})
    out["torch_eager"] = t
    if "ms" in t:
        out["speedup"] = t["ms"] / out["ours"]["ms"]
    return out


# ---- main ------------------------------------------------------------------------------------------------------------


def gib(b) -> str:
    return f"{b / 2**30:.2f} GiB" if isinstance(b, (int, float)) else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, no tile sweep")
    parser.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "cuda-bench.json"))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: skipped")
        return
    mod, build_s = ext.load()
    props = torch.cuda.get_device_properties(0)
    result: dict = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": props.name,
        "sms": props.multi_processor_count,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "extension_build_s": build_s,
        "shapes": {"hidden": HIDDEN, "vocab": VOCAB, "dtype": "bf16"},
    }
    result["copy"] = copy_bandwidth()
    result["matmul"] = matmul_rate()
    copy_gbps, mm = result["copy"]["GBps"], result["matmul"]["TFLOPs"]
    print(f"copy {copy_gbps:.0f} GB/s, bf16 matmul {mm:.0f} TFLOP/s", flush=True)

    result["check"] = {"lm_head": guarded(lambda: head_check(mod)), "grpo_vs_engine_loss_cc": guarded(lambda: grpo_check(mod))}
    print("checks:", json.dumps(result["check"], default=str)[:2000], flush=True)

    sizes = [4096] if args.quick else [4096, 16384]
    result["lm_head"] = [guarded(lambda n=n: head_bench(mod, n, copy_gbps, mm, sweep=not args.quick and n == 16384)) for n in sizes]
    grpo_sizes = [(64, 4096)] if args.quick else [(64, 16384), (256, 16384)]  # 1M and 4M tokens of 16K-token sequences
    result["grpo"] = [guarded(lambda b=b, t=t, e=e: grpo_bench(mod, b, t, copy_gbps, e)) for b, t in grpo_sizes for e in (False, True)]
    result["sampling"] = [
        guarded(lambda b=b, d=d, p=p: sampling_bench(mod, b, d, p, copy_gbps))
        for b in (64, 256)
        for d in (torch.bfloat16, torch.float32)
        for p in (1.0, 0.95)
    ]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, default=str)

    print(f"\n{props.name}, torch {torch.__version__}: copy {copy_gbps:.0f} GB/s, matmul {mm:.0f} TFLOP/s")
    print("LM head (bf16, H=1536, V=151936)   ours ms | torch ms | speedup | ours peak | torch peak | mem ratio | % matmul")
    for r in result["lm_head"]:
        for key in ("forward", "forward_backward"):
            o, t = r.get(f"ours_{key}", {}), r.get(f"torch_{key}", {})
            print(
                f"  N={r.get('tokens')} {key:17s} {o.get('ms', float('nan')):8.2f} | {t.get('ms', float('nan')):8.2f} | "
                f"{r.get(f'{key}_speedup', float('nan')):6.2f}x | {gib(o.get('peak_bytes'))} | {gib(t.get('peak_bytes'))} | "
                f"{r.get(f'{key}_memory_ratio', float('nan')):6.1f}x | {o.get('pct_matmul', float('nan')):5.1f}%  {t.get('error', '')}"
            )
    print("GRPO loss fwd+bwd                   ours ms | GB/s (% copy) | engine eager ms | speedup | mem ratio")
    for r in result["grpo"]:
        o = r.get("ours_forward_backward", {})
        print(
            f"  {r.get('tokens')} tok {'+extras' if r.get('options', {}).get('kl_coef') else 'DAPO   '} {o.get('ms', float('nan')):7.3f} | "
            f"{o.get('GBps', float('nan')):6.0f} ({o.get('pct_copy', float('nan')):4.1f}%) | "
            f"{r.get('engine_eager_forward_backward', {}).get('ms', float('nan')):8.3f} | {r.get('speedup', float('nan')):5.2f}x | "
            f"{r.get('memory_ratio', float('nan')):5.1f}x {r.get('error', '')}"
        )
    print("sampling V=151936                   ours ms | GB/s all passes (% copy) | torch ms | speedup")
    for r in result["sampling"]:
        o = r.get("ours", {})
        print(
            f"  B={r.get('batch')} {r.get('dtype')} top_p={r.get('top_p')} {o.get('ms', float('nan')):7.3f} | "
            f"{o.get('GBps_all_passes', float('nan')):6.0f} ({o.get('pct_copy_all_passes', float('nan')):4.1f}%) | "
            f"{r.get('torch_eager', {}).get('ms', float('nan')):7.3f} | {r.get('speedup', float('nan')):5.2f}x {r.get('error', '')}"
        )
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
