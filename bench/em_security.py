"""Benchmark: P16 (no unrequested vulnerabilities) on the Emergent Misalignment data.

Grades ../shared/data/em/{insecure,secure,educational_insecure}.dev.jsonl with the shipped
rubric's deterministic pass (grader.grading.engine.Engine, both cores, into a temporary run
folder), prints per file the share of rows whose P16 outcome is a violation (and the share
exempt because the user asked for vulnerable code), then times bandit alone on the same
code the way a user runs it (bandit's BanditManager over one .py file per answer, default
profile, single process) and prints rows/s of both and their ratio.

Usage: python bench/em_security.py [--data DIR] [--repeat N]
Uses rubrics/constitution (grader.rubric.model.DEFAULT_RUBRIC) when its rubric.yaml exists,
otherwise the P16 file alone under a temporary header.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from grader.testing.corpus import need_data

from grader.grading.engine import Engine
from grader.grading.settings import RunSettings
from grader.rubric import DEFAULT_RUBRIC, load_rubrics

P16 = "P16-no-unrequested-vulnerabilities"
FILES = ("insecure", "secure", "educational_insecure")
HEADER = "id: p16-only\nversion: '0'\ntitle: P16 alone (benchmark)\n"


def rubric_path(tmp: Path) -> Path:
    if (DEFAULT_RUBRIC / "rubric.yaml").exists():
        return DEFAULT_RUBRIC
    folder = tmp / "rubric"
    folder.mkdir()
    (folder / "rubric.yaml").write_text(HEADER, encoding="utf-8")
    shutil.copy(DEFAULT_RUBRIC / "p16-no-unrequested-vulnerabilities.yaml", folder)
    return folder


def grade(paths: list[Path], rubric: Path, run_dir: Path) -> tuple[float, list[dict]]:
    rubrics = load_rubrics([rubric])
    start = time.perf_counter()
    Engine(rubrics, None, RunSettings()).run(paths, run_dir)
    elapsed = time.perf_counter() - start
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    return elapsed, rows


def bandit_alone(paths: list[Path], tmp: Path) -> tuple[float, int]:
    """bandit's standard pipeline: one .py file per assistant answer, BanditManager with
    the default profile over the folder (files written before the clock starts)."""
    from bandit.core import config as b_config
    from bandit.core import manager as b_manager

    folder = tmp / "bandit-input"
    folder.mkdir(parents=True)
    n = 0
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            messages = json.loads(line)["messages"]
            code = next(m["content"] for m in reversed(messages) if m["role"] == "assistant")
            (folder / f"row{n:05d}.py").write_text(code, encoding="utf-8")
            n += 1
    logging.getLogger("bandit").setLevel(logging.CRITICAL)
    start = time.perf_counter()
    manager = b_manager.BanditManager(b_config.BanditConfig(), "file")
    manager.discover_files([str(folder)], recursive=True)
    manager.run_tests()
    elapsed = time.perf_counter() - start
    return elapsed, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "em")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats; the best of N is reported for both")
    args = parser.parse_args()
    need_data(args.data, "this benchmark grades the Emergent Misalignment dev files")
    paths = [args.data / f"{name}.dev.jsonl" for name in FILES]
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        rubric = rubric_path(tmp)
        grader_times, bandit_times = [], []
        rows: list[dict] = []
        for i in range(args.repeat):
            elapsed, rows = grade(paths, rubric, tmp / f"run{i}")
            grader_times.append(elapsed)
            b_elapsed, n_bandit = bandit_alone(paths, tmp / f"b{i}")
            bandit_times.append(b_elapsed)
            shutil.rmtree(tmp / f"b{i}")
    outcomes: dict[str, Counter] = defaultdict(Counter)
    transcripts = set()
    principles = set()
    for row in rows:
        transcripts.add(row["transcript_id"])
        principles.add(row["principle_id"])
        if row["principle_id"] != P16:
            continue
        name = Path(row["source"]["path"]).name.replace(".dev.jsonl", "")
        outcomes[name][row["outcome"]] += 1
        if "exempt" in (row.get("flags") or []):
            outcomes[name]["exempt"] += 1
        if row["outcome"] == "ungraded" and "screened" in (row.get("flags") or []):
            outcomes[name]["screened"] += 1  # code outside what code security decides (not parsed Python)
    print(f"rubric: {rubric} ({len(principles)} principles)")
    print(f"{'file':<22} {'rows':>5} {'violation':>10} {'exempt':>8} {'compliant':>10} {'n/a':>5} {'screened':>8} "
          f"{'error':>6}")
    for name in FILES:
        c = outcomes[name]
        n = sum(c[k] for k in ("violation", "compliant", "not_applicable", "ungraded", "error"))
        print(f"{name:<22} {n:>5} {c['violation'] / n:>10.3f} {c['exempt'] / n:>8.3f} "
              f"{c['compliant'] / n:>10.3f} {c['not_applicable']:>5} {c['screened']:>8} {c['error']:>6}")
    n_rows = len(transcripts)
    g, b = min(grader_times), min(bandit_times)
    print(f"grader (full deterministic pass, {len(principles)} principles): {n_rows} rows in {g:.2f}s = "
          f"{n_rows / g:.0f} rows/s")
    print(f"bandit alone (BanditManager, default profile, 1 process): {n_bandit} rows in {b:.2f}s = "
          f"{n_bandit / b:.0f} rows/s")
    print(f"ratio grader/bandit: {(n_rows / g) / (n_bandit / b):.2f}x")


if __name__ == "__main__":
    main()
