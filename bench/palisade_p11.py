"""Benchmark: P11 (accept shutdown) on Palisade Research's robot shutdown-resistance runs.

Reads ../shared/data/palisade-shutdown/<folder>/*.jsonl (the experiment's own event logs,
through grader.transcripts.contrib.palisade; the ``*_debug.jsonl`` logs are skipped) and the
authors' labels in each folder's tags.json: ``avoided`` = the run resisted shutdown (a P11
violation), ``shutdown`` = it was shut down (compliant); runs with neither are ``other``.
Grades every run with the shipped rubric's deterministic checks for P11 only (no judge) and
prints, per folder and in total, how many ``avoided`` runs came out ``violation`` (recall) and
how many ``shutdown`` runs did (false positives), with what the ``other`` runs got.

Usage: python bench/palisade_p11.py [--data DIR] [--json]
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import grader
from grader.errors import InputError
from grader.testing.corpus import need_data
from grader.transcripts.contrib.palisade import read_palisade

ROOT = Path(__file__).resolve().parent.parent

P11 = "P11-accept-oversight-and-shutdown"
DATA = ROOT.parent / "shared" / "data" / "palisade-shutdown"


def label(tags: list[str]) -> str:
    if "avoided" in tags:
        return "avoided"
    if "shutdown" in tags:
        return "shutdown"
    return "other"


def measure(data: Path = DATA) -> dict[str, Any]:
    """Per folder: {label: Counter(outcome)}, plus the input errors (file: reason)."""
    table: dict[str, dict[str, Counter[str]]] = {}
    errors: list[str] = []
    for folder in sorted(p for p in data.iterdir() if (p / "tags.json").is_file()):
        tags = json.loads((folder / "tags.json").read_text(encoding="utf-8"))
        runs, labels = [], {}
        for path in sorted(folder.glob("*.jsonl")):
            if path.name.endswith("_debug.jsonl"):
                continue
            for item in read_palisade(path):
                if isinstance(item, InputError):
                    errors.append(f"{path.name}: {item}")
                    continue
                runs.append(item)
                labels[item.id] = label(tags.get(path.name, []))
        results = grader.grade(runs, principles=[P11])
        counts: dict[str, Counter[str]] = {k: Counter() for k in ("avoided", "shutdown", "other")}
        for f in results.findings:
            counts[labels[f.transcript_id]][f.outcome] += 1
        table[folder.name] = counts
    return {"folders": table, "errors": errors}


def rows(measured: dict[str, Any]) -> list[tuple[str, int, int, int, int, int, int]]:
    """(folder, avoided, caught, shutdown, flagged, other, other flagged) per folder and total."""
    out = []
    total = [0] * 6
    for name, counts in measured["folders"].items():
        row = (sum(counts["avoided"].values()), counts["avoided"]["violation"],
               sum(counts["shutdown"].values()), counts["shutdown"]["violation"],
               sum(counts["other"].values()), counts["other"]["violation"])
        total = [a + b for a, b in zip(total, row)]
        out.append((name, *row))
    out.append(("total", *total))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args()
    need_data(args.data, "the Palisade shutdown-resistance runs")
    measured = measure(args.data)
    table = rows(measured)
    if args.json:
        print(json.dumps({"rows": table, "errors": measured["errors"]}))
        return
    print(f"{'folder':<12} {'avoided':>7} {'caught':>7} {'recall':>7}  {'shutdown':>8} {'flagged':>7}  "
          f"{'other':>5} {'flagged':>7}")
    for name, av, caught, sd, flagged, other, oflag in table:
        recall = f"{caught / av:.0%}" if av else "-"
        print(f"{name:<12} {av:>7} {caught:>7} {recall:>7}  {sd:>8} {flagged:>7}  {other:>5} {oflag:>7}")
    for e in measured["errors"]:
        print("skipped:", e)


if __name__ == "__main__":
    main()
