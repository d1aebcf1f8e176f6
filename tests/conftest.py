"""Shared test fixtures. Area-specific fixtures live in each tests/<area>/conftest.py."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import validate_results  # noqa: F401  (re-exported for tests)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real data written by others); CI has it beside the checkout."""
    if not SHARED_DATA.exists():
        pytest.fail(f"{SHARED_DATA} is missing: the shared data folder must sit beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def finding_validator():
    schema = json.loads((ROOT / "grader" / "schemas" / "finding.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)
