"""Hand-made findings and run folders for the calibrate / audit / checklist tests
(``from tests.report.gates_util import ...``)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
_VALIDATOR = jsonschema.Draft202012Validator(
    json.loads((ROOT / "grader" / "schemas" / "finding.schema.json").read_text(encoding="utf-8")))


def fnd(tid: str, pid: str, outcome: str, *, severity: str = "high", flags: Iterable[str] = (),
        quote: str = "", run_id: str = "run-x", locator: str | None = None) -> dict[str, Any]:
    """One finding dict, validated against finding.schema.json."""
    method = None if outcome == "ungraded" else "check"
    evidence = [{"message_index": 1, "quote": quote, "verified": "unverified_evidence" not in flags}] if quote else []
    d = {"run_id": run_id, "transcript_id": tid,
         "source": {"path": "data.jsonl", "locator": locator or f"line {tid}"},
         "principle_id": pid, "rubric_id": "r", "rubric_version": "1", "severity": severity,
         "outcome": outcome, "method": method, "check_ids": [], "evidence": evidence,
         "rationale": f"{pid} {outcome}", "judge": None, "error": "it broke" if outcome == "error" else None,
         "metadata": {}, "flags": list(flags)}
    _VALIDATOR.validate(d)
    return d


def write_run(folder: Path, findings: list[dict[str, Any]], *, run_id: str = "run-x",
              input_errors: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.jsonl").write_text("".join(json.dumps(f) + "\n" for f in findings), encoding="utf-8")
    errs = [{"path": "data.jsonl", "locator": f"line {900 + i}", "reason": "invalid JSON"} for i in range(input_errors)]
    (folder / "input_errors.jsonl").write_text("".join(json.dumps(e) + "\n" for e in errs), encoding="utf-8")
    (folder / "run.json").write_text(json.dumps({"run_id": run_id, "status": "complete"}), encoding="utf-8")
    return folder


def uniform_run(n: int, outcomes: dict[str, dict[str, int]], severities: dict[str, str]) -> list[dict[str, Any]]:
    """``n`` transcripts t0..t{n-1}; for each principle, outcome counts assigned in order
    (e.g. {"P1": {"violation": 2, "compliant": 98}}); counts must add up to n."""
    out = []
    for pid, counts in outcomes.items():
        seq = [o for o, k in counts.items() for _ in range(k)]
        assert len(seq) == n, (pid, len(seq), n)
        out += [fnd(f"t{i}", pid, o, severity=severities[pid]) for i, o in enumerate(seq)]
    return out
