"""Shared test fixtures. Area-specific fixtures live in each tests/<area>/conftest.py.

Real data: the small samples the tests need are in ``tests/data/`` (``test_data``, see its
README); the full files live in ``../shared/data`` beside the checkout (``shared_data``). A test
that asks for ``shared_data`` is skipped, with a one-line reason, when that folder is absent
(a fresh clone anywhere), and fails instead when ``GRADER_REQUIRE_SHARED=1`` (``.ci/run`` sets
it: CI has the folder and must run those tests)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import validate_results  # noqa: F401  (re-exported for tests)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
TEST_DATA = ROOT / "tests" / "data"
REQUIRE_SHARED = "GRADER_REQUIRE_SHARED"

def shared_or_skip(path: Path = SHARED_DATA) -> Path:
    """``path`` if it exists; else skip the test (or fail it under GRADER_REQUIRE_SHARED=1)."""
    if path.exists():
        return path
    if os.environ.get(REQUIRE_SHARED) == "1":
        pytest.fail(f"{path} is missing and {REQUIRE_SHARED}=1: the shared data folder must sit beside the checkout")
    pytest.skip(f"needs the full real data in {path} (absent: not a checkout beside ../shared)")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real data written by others); CI has it beside the checkout."""
    return shared_or_skip(SHARED_DATA)


@pytest.fixture(scope="session")
def test_data() -> Path:
    """tests/data: the small real-data samples kept in the repository."""
    return TEST_DATA


@pytest.fixture(scope="session")
def finding_validator():
    schema = json.loads((ROOT / "grader" / "schemas" / "finding.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)
