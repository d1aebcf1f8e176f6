"""Fixtures for the report tests (helpers in tests/report/util.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.util import small_findings, write_run


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    return write_run(tmp_path / "run", small_findings())
