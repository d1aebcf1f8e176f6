"""Helpers importable from any test: ``from tests.helpers import validate_results``."""
from __future__ import annotations

import json
from pathlib import Path


def validate_results(run_dir: Path, validator) -> list[dict]:
    """Every line of results.jsonl, each validated against finding.schema.json."""
    rows = []
    for line in (Path(run_dir) / "results.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        validator.validate(row)
        rows.append(row)
    return rows
