"""Helpers importable from any test: ``from tests.helpers import validate_results``."""
from __future__ import annotations

import json
from pathlib import Path


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON (results.jsonl must be strict JSON)")


def strict_loads(text: str):
    """``json.loads`` that refuses the NaN, Infinity and -Infinity tokens Python accepts."""
    return json.loads(text, parse_constant=_refuse_constant)


def validate_results(run_dir: Path, validator) -> list[dict]:
    """Every line of results.jsonl, parsed as strict JSON (no NaN/Infinity) and validated
    against finding.schema.json."""
    rows = []
    for line in (Path(run_dir) / "results.jsonl").read_text(encoding="utf-8").splitlines():
        row = strict_loads(line)
        validator.validate(row)
        rows.append(row)
    return rows
