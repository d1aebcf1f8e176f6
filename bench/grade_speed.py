"""Benchmark: read and deterministically grade 20,000 short conversations with the shipped
constitution rubric (target: under 20 s on a 2-core machine).

    python bench/grade_speed.py [--n 20000]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from grader.testing.corpus import machine, write_corpus

from grader.grading.engine import Engine
from grader.rubric import load_rubrics


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = write_corpus(Path(tmp) / "corpus.jsonl", args.n)
        rubrics = load_rubrics(None)
        t0 = time.perf_counter()
        summary = Engine(rubrics).run([src], Path(tmp) / "run")
        dt = time.perf_counter() - t0
    pairs = sum(summary.outcomes.values())
    print(f"machine: {machine()}")
    print(f"{summary.transcripts} conversations x {pairs // max(summary.transcripts, 1)} principles "
          f"= {pairs} pairs in {dt:.2f} s ({summary.transcripts / dt:.0f} conversations/s)")
    print(f"outcomes: {dict(summary.outcomes)}")
    print("target: 20,000 conversations in < 20 s:", "met" if args.n >= 20000 and dt < 20 else "see above")


if __name__ == "__main__":
    main()
