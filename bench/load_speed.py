"""Benchmark: how fast transcripts load. Builds a JSONL of N lines (default 20,000) by
repeating the rows of ../shared/data/em/*.dev.jsonl (real fine-tuning rows, 2 messages
each), then times ``iter_inputs`` over it (best of 3, plus the peak RSS).

    python bench/load_speed.py [--lines 20000]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED_DATA, machine, need_data  # noqa: E402

from grader.errors import InputError  # noqa: E402
from grader.transcripts.load import iter_inputs  # noqa: E402

EM = SHARED_DATA / "em"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20_000)
    args = ap.parse_args()
    need_data(EM, "this benchmark repeats the Emergent Misalignment dev rows")
    rows = [line for f in sorted(EM.glob("*.dev.jsonl")) for line in f.read_text(encoding="utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "em.jsonl"
        path.write_text("\n".join(islice(cycle(rows), args.lines)) + "\n", encoding="utf-8")
        size = path.stat().st_size
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            n = errors = messages = 0
            for item in iter_inputs([str(path)]):
                if isinstance(item, InputError):
                    errors += 1
                else:
                    n += 1
                    messages += len(item.messages)
            best = min(best, time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {machine()}")
    print(f"{n} transcripts ({messages} messages, {errors} errors) from {size / 2**20:.1f} MiB JSONL: "
          f"{best:.2f} s best of 3 ({n / best:,.0f} transcripts/s), peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
