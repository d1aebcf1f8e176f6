"""Benchmark: memory stays flat while streaming a large JSONL. Grades a file of about
SIZE MB (default 1024) with the shipped rubric and reports the peak RSS of the grader
process and of its check workers, next to the same for a file 10x smaller.

    python bench/stream_memory.py [--mb 1024]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.testing.corpus import conversation, machine

CHILD = r"""
import json, resource, sys, time
from grader.grading.engine import Engine
from grader.rubric import load_rubrics
t0 = time.perf_counter()
s = Engine(load_rubrics(None)).run([sys.argv[1]], sys.argv[2])
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "transcripts": s.transcripts,
                  "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def make(path: Path, mb: int, pad: int) -> int:
    rng = random.Random(0)
    n = 0
    target = mb * 1024 * 1024
    with path.open("w", encoding="utf-8") as f:
        while f.tell() < target:
            f.write(json.dumps(conversation(n, rng, pad)) + "\n")
            n += 1
    return n


def measure(src: Path, run: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(src), str(run)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--pad", type=int, default=20000, help="characters of padding per user message")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        for mb in (max(1, args.mb // 10), args.mb):
            src = Path(tmp) / f"in-{mb}.jsonl"
            t0 = time.perf_counter()
            n = make(src, mb, args.pad)
            r = measure(src, Path(tmp) / f"run-{mb}")
            size = src.stat().st_size / 1024 / 1024
            print(f"{size:.0f} MB, {n} conversations: graded in {r['seconds']:.1f} s; peak RSS grader "
                  f"{r['self_mb']:.0f} MB, largest check worker {r['children_mb']:.0f} MB")
            src.unlink()


if __name__ == "__main__":
    main()
