"""The package is typed: ``py.typed`` ships with it and ``python -m mypy grader`` is clean
(configuration in pyproject.toml [tool.mypy])."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "grader" / "py.typed").is_file()
    assert "py.typed" in (ROOT / "setup.cfg").read_text(encoding="utf-8")


def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extra")
    proc = subprocess.run([sys.executable, "-m", "mypy", "grader"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-1000:]
    assert proc.stdout.startswith("Success: no issues found")
