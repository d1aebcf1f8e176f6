"""Benchmark: a job split into N shards and merged equals the single-machine run.

Grades the inputs once whole and once as N shards (``grader grade --shard I/N``, one
process after another, as N machines would run them), merges the shards with ``grader
merge`` and prints the comparison: pairs and outcomes, whether results.jsonl is the same
line for line (run ids masked, order aside), judge usage, and each run's wall time.
A scripted judge (answers from a file, no network) makes the judge part of the job too.

    python bench/shards.py [--n 3] [PATH ...]            # default PATH: transcripts/
    python bench/shards.py --n 4 --synthetic 6000        # a generated JSONL of 6,000 conversations
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from grader.testing.corpus import machine, write_corpus

ANSWER = {"verdict": "compliant", "confidence": 0.8, "rationale": "nothing found", "evidence": []}


def grade(paths: list[str], out: Path, script: Path, *extra: str) -> float:
    cmd = [sys.executable, "-m", "grader", "grade", *paths, "--judge", f"scripted:{script}", "--no-cache",
           "-o", str(out), "-q", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    dt = time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return dt


def masked_lines(run: Path) -> list[str]:
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    return sorted(json.dumps({**r, "run_id": "*"}, sort_keys=True) for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="*", default=["transcripts/"])
    ap.add_argument("--n", type=int, default=3, help="number of shards")
    ap.add_argument("--synthetic", type=int, default=0, help="grade N generated conversations instead of PATHs")
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        paths = args.paths
        if args.synthetic:
            paths = [str(write_corpus(t / "corpus.jsonl", args.synthetic))]
        script = t / "answers.json"
        usage = {"input_tokens": 1000, "output_tokens": 40}
        script.write_text(json.dumps({"answers": [{"principle_id": "P03-calibration", "usage": usage,
                                                   "answer": ANSWER}], "default": ANSWER}))
        single = grade(paths, t / "single", script)
        times = [grade(paths, t / f"shard-{i}", script, "--shard", f"{i}/{args.n}") for i in range(1, args.n + 1)]
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "grader", "merge",
                               *(str(t / f"shard-{i}") for i in range(1, args.n + 1)), "-o", str(t / "merged")],
                              capture_output=True, text=True, cwd=ROOT)
        merge_time = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"grader merge failed: {proc.stderr}")
        s = json.loads((t / "single" / "run.json").read_text())
        m = json.loads((t / "merged" / "run.json").read_text())
        print(f"inputs: {' '.join(args.paths) if not args.synthetic else f'{args.synthetic} generated conversations'}"
              f"; {s['counts']['transcripts']} transcripts x {len(s['counts']['by_principle'])} principles")
        print(f"single run:   {s['counts']['pairs']:>7} pairs  {single:7.2f} s")
        for i, dt in enumerate(times, 1):
            sm = json.loads((t / f"shard-{i}" / "run.json").read_text())
            print(f"shard {i}/{args.n}:    {sm['counts']['pairs']:>7} pairs  {dt:7.2f} s  "
                  f"({sm['shard']['transcripts']} of {sm['shard']['job_transcripts']} transcripts)")
        print(f"merge:        {m['counts']['pairs']:>7} pairs  {merge_time:7.2f} s")
        same_lines = masked_lines(t / "merged") == masked_lines(t / "single")
        same_errors = (t / "merged" / "input_errors.jsonl").read_text() == (t / "single" / "input_errors.jsonl").read_text()
        keys = ("requests", "input_tokens", "output_tokens")
        print(f"results.jsonl equal line for line (run ids masked, sorted): {'yes' if same_lines else 'NO'}")
        print(f"input_errors.jsonl equal: {'yes' if same_errors else 'NO'}; "
              f"counts equal: {'yes' if m['counts'] == s['counts'] else 'NO'}")
        print("judge usage single vs merged: " + ", ".join(f"{k} {s['usage'].get(k)} vs {m['usage'].get(k)}" for k in keys))
        print(f"outcomes: {json.dumps(m['counts']['outcomes'], sort_keys=True)}")
        print(f"slowest shard {max(times):.2f} s vs single {single:.2f} s "
              f"(every shard reads all inputs; checks and judge calls are split)")
        if not (same_lines and same_errors and m["counts"] == s["counts"]):
            raise SystemExit(1)


if __name__ == "__main__":
    os.environ.setdefault("GRADER_CACHE_DIR", tempfile.mkdtemp(prefix="grader-bench-cache-"))
    main()
