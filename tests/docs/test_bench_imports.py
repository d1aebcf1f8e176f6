"""Every benchmark script stands alone: it edits no sys.path and every module it imports is
found (a bench that imported a removed helper broke unnoticed, since nothing runs it)."""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(BENCH.glob("*.py"))


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def test_there_are_benchmarks() -> None:
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_bench_script_imports_resolve_without_path_edits(script: Path) -> None:
    source = script.read_text(encoding="utf-8")
    assert "sys.path" not in source, f"{script.name} edits sys.path"
    missing = [m for m in _imports(ast.parse(source)) if importlib.util.find_spec(m.split(".")[0]) is None
               or (m.startswith("grader") and importlib.util.find_spec(m) is None)]
    assert not missing, f"{script.name} imports modules that do not exist: {missing}"
