#!/usr/bin/env python3
"""Grades (response, gold) pairs with Hugging Face Math-Verify, the reference for the grader differential
test and benchmark (bench/grader-differential.ts, bench/grader-bench.ts).

Usage: grader-mathverify.py PAIRS.jsonl RESULTS.jsonl
  PAIRS.jsonl:   {"id", "response", "gold"} per line
  RESULTS.jsonl: {"id", "correct", "seconds"} per line, same order
Prints one JSON summary line on stdout: pairs, seconds (grading only, after a 20-pair warm-up), versions.

Convention (as in verl's and open-r1's Math-Verify rewards): the gold is parsed from "\\boxed{gold}" with
LaTeX extraction only; the response with Math-Verify's default extraction (LaTeX and plain expressions);
then verify(gold, response) with default precision and timeouts.
"""
import json
import sys
import time
from importlib.metadata import version

from math_verify import LatexExtractionConfig, parse, verify


def grade(response: str, gold: str) -> bool:
    try:
        gold_parsed = parse("\\boxed{" + gold + "}", extraction_config=[LatexExtractionConfig()])
        pred_parsed = parse(response)
        return bool(verify(gold_parsed, pred_parsed))
    except Exception:  # Math-Verify reports failures as False; so do we
        return False


def main() -> None:
    pairs_path, results_path = sys.argv[1], sys.argv[2]
    with open(pairs_path, encoding="utf-8") as f:
        pairs = [json.loads(line) for line in f if line.strip()]
    for pair in pairs[:20]:
        grade(pair["response"], pair["gold"])
    total = 0.0
    with open(results_path, "w", encoding="utf-8") as out:
        for pair in pairs:
            start = time.perf_counter()
            correct = grade(pair["response"], pair["gold"])
            seconds = time.perf_counter() - start
            total += seconds
            out.write(json.dumps({"id": pair["id"], "correct": correct, "seconds": seconds}) + "\n")
    print(json.dumps({
        "pairs": len(pairs),
        "seconds": total,
        "python": sys.version.split()[0],
        "mathVerify": version("math-verify"),
        "sympy": version("sympy"),
    }))


if __name__ == "__main__":
    main()
