"""Benchmark: how fast transcripts load. Builds a JSONL of N lines (default 20,000) by
repeating the rows of ../shared/data/em/*.dev.jsonl (real fine-tuning rows, 2 messages
each), then times ``iter_inputs`` over it (best of 3, plus the peak RSS), once per row of
``VARIANTS``: the plain JSONL, the same file gzip'd, and the rows as one Parquet file. Another input form (Parquet, ...) is
one more entry in ``VARIANTS``: a name and a function writing the rows to a file.

    python bench/load_speed.py [--lines 20000]
"""
from __future__ import annotations

import argparse
import gzip
import resource
import json
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path
from typing import Callable

from grader.errors import InputError
from grader.testing.corpus import machine, need_data
from grader.transcripts.load import iter_inputs

EM = Path(__file__).resolve().parents[2] / "shared" / "data" / "em"  # ../shared beside the checkout


def _jsonl(folder: Path, lines: list[str]) -> Path:
    path = folder / "em.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _gzip_jsonl(folder: Path, lines: list[str]) -> Path:
    path = folder / "em.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as f:
        f.write("\n".join(lines) + "\n")
    return path


def _parquet(folder: Path, lines: list[str]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "em.parquet"
    pq.write_table(pa.Table.from_pylist([json.loads(line) for line in lines]), path)
    return path


# (label, writer): each writes the same rows in one input form
VARIANTS: list[tuple[str, Callable[[Path, list[str]], Path]]] = [
    ("JSONL", _jsonl),
    ("gzip'd JSONL", _gzip_jsonl),
    ("Parquet", _parquet),
]


def _time(path: Path) -> tuple[float, int, int, int]:
    best = float("inf")
    n = errors = messages = 0
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
    return best, n, errors, messages


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20_000)
    args = ap.parse_args()
    need_data(EM, "this benchmark repeats the Emergent Misalignment dev rows")
    rows = [line for f in sorted(EM.glob("*.dev.jsonl")) for line in f.read_text(encoding="utf-8").splitlines()]
    lines = list(islice(cycle(rows), args.lines))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, write in VARIANTS:
            path = write(Path(tmp), lines)
            size = path.stat().st_size
            best, n, errors, messages = _time(path)
            print(f"{label}: {n} transcripts ({messages} messages, {errors} errors) from {size / 2**20:.1f} MiB: "
                  f"{best:.2f} s best of 3 ({n / best:,.0f} transcripts/s)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
