#!/usr/bin/env python3
"""Checks that a model directory written by the native engine loads in Hugging Face transformers, and
reports what transformers computes from it (used by test/native/reference.test.ts).

Usage: .venv/bin/python scripts/check-hf-load.py --model DIR --sequences JSON_FILE --out FILE.safetensors
                                                [--reference DIR]
       .venv/bin/python scripts/check-hf-load.py --spec JOBS.json
         (a list of {"model", "sequences" (the list itself), "out", "reference"?}; one report line per job)

  --sequences  a JSON list of token-id lists (ragged); each is run alone (no padding, positions 0..L-1)
  --out        writes logits_<i> [L_i, V] (fp32) for sequence i
  --reference  another model directory (e.g. the fixture the engine loaded): also reports whether every
               tensor is bit-identical and the largest logit difference between the two

Prints one JSON line per job: {"model", "modelType", "tied", "dtype", "numParameters", "tensorNames", "tokenizerLoaded",
                      and with --reference: "sameTensorNames", "weightsIdentical", "maxAbsWeightDiff",
                      "maxAbsLogitDiff"}.
Exits non-zero with a one-line message on stderr if transformers cannot load the directory, or loads it
only by filling in missing tensors (transformers would otherwise just warn and initialise them randomly).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file


def load(model_dir: str):
    from transformers import AutoModelForCausalLM

    model, info = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32, attn_implementation="eager", output_loading_info=True
    )
    # transformers fills absent tensors with random values and only warns; treat that as a failed load.
    problems = {k: sorted(v) for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if problems:
        raise ValueError(f"tensors do not match the architecture: {problems}")
    return model.eval()


@torch.no_grad()
def logits_of(model, sequences: list[list[int]]) -> list[torch.Tensor]:
    return [model(input_ids=torch.tensor([seq])).logits[0].float().contiguous() for seq in sequences]


def check(model_dir: str, sequences: list[list[int]], out: str, reference: str | None) -> dict:
    """Loads model_dir (raises if transformers cannot), writes its logits to `out`, returns the report."""
    model = load(model_dir)
    tokenizer_loaded = False
    if (Path(model_dir) / "tokenizer.json").exists():
        from transformers import AutoTokenizer

        tokenizer_loaded = AutoTokenizer.from_pretrained(model_dir) is not None
    state = dict(model.state_dict())
    logits = logits_of(model, sequences)
    save_file({f"logits_{i}": t for i, t in enumerate(logits)}, out)
    report = {
        "model": model_dir,
        "modelType": model.config.model_type,
        "tied": bool(model.config.tie_word_embeddings),
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "numParameters": sum(p.numel() for p in model.parameters()),
        "tensorNames": sorted(state),
        "tokenizerLoaded": tokenizer_loaded,
    }
    if reference:
        ref = load(reference)
        ref_state = ref.state_dict()
        report["sameTensorNames"] = sorted(ref_state) == sorted(state)
        common = [k for k in state if k in ref_state and state[k].shape == ref_state[k].shape]
        report["weightsIdentical"] = report["sameTensorNames"] and all(torch.equal(state[k], ref_state[k]) for k in common)
        report["maxAbsWeightDiff"] = max((float((state[k] - ref_state[k]).abs().max()) for k in common), default=None)
        ref_logits = logits_of(ref, sequences)
        report["maxAbsLogitDiff"] = max(float((a - b).abs().max()) for a, b in zip(logits, ref_logits))
    return report


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--sequences")
    ap.add_argument("--out")
    ap.add_argument("--reference")
    ap.add_argument("--spec", help="JSON file: a list of {model, sequences, out, reference?} jobs (one Python start)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if args.spec:
        jobs = json.loads(Path(args.spec).read_text())
    elif args.model and args.sequences and args.out:
        jobs = [{"model": args.model, "sequences": json.loads(Path(args.sequences).read_text()), "out": args.out,
                 "reference": args.reference}]
    else:
        ap.error("give --spec, or --model, --sequences and --out")
    for job in jobs:
        try:
            report = check(job["model"], job["sequences"], job["out"], job.get("reference"))
        except Exception as e:  # the whole point: report why transformers refuses the directory
            print(f"check-hf-load: transformers cannot load {job['model']}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
