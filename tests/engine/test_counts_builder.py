"""The run manifest's counts have one builder (grader.run.manifest.Counts): the counts the
engine writes while grading equal those rebuilt from the finished findings."""
from __future__ import annotations

from pathlib import Path

import grader
from grader.run import RunFolder, counts_of, unreadable

ROOT = Path(__file__).resolve().parents[2]


def test_engine_counts_equal_counts_rebuilt_from_the_findings(tmp_path: Path) -> None:
    rubric = grader.load_rubric()
    grader.grade(ROOT / "transcripts", rubric, run_dir=tmp_path / "run")
    folder = RunFolder.open(tmp_path / "run")
    written = dict(folder.read_manifest()["counts"])
    findings = list(folder.findings())
    records = folder.input_errors()
    bad = len(unreadable(records))
    rebuilt = counts_of(findings, bad, [p.id for p in rubric.principles], len(records) - bad)
    assert written["skipped_inputs"] == len(records) - bad > 0  # the shipped folder holds notes, skipped
    assert written == rebuilt
    assert list(written["by_principle"]) == list(rebuilt["by_principle"])  # same order in run.json
    assert written["pairs"] == len(findings) > 0
    assert written["outcomes"].get("violation", 0) > 0  # the shipped set has violations to count
