"""The package structure ARCHITECTURE.md describes: grader's packages import one another in
one direction (no cycle), and no module imports a private name from another package.

Read with ``ast`` (nothing is imported). Every runtime import counts, including imports
inside functions (a lazy import is still a dependency); imports under ``if TYPE_CHECKING:``
do not (they never run). A *unit* is a sub-package folder (``grader/run/``,
``grader/review/checklist/``) or a top-level module (``grader/errors.py``); ``grader/__init__.py``
is the lazy public facade over ``grader.api`` and is not a unit.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "grader"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _unit(module: str) -> str:
    path = MODULES[module]
    if path.parent == PKG:  # a top-level module is its own unit
        return module
    return _module_name(path.parent / "__init__.py")


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _existing(name: str) -> str | None:
    """The longest prefix of a dotted name that is a grader module."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in MODULES:
            return ".".join(parts)
        parts.pop()
    return None


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """(imported grader module, imported name or None, line) of every runtime import."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _type_checking_lines(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _existing(alias.name)
                if target:
                    out.append((target, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if not source.startswith("grader"):
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:  # `from . import engine`
                    out.append((submodule, None, node.lineno))
                else:
                    assert source in MODULES, f"{module}:{node.lineno}: {source} is not a grader module"
                    out.append((source, alias.name, node.lineno))
    return out


def _edges() -> dict[str, dict[str, str]]:
    """unit -> {imported unit: one 'module:line' that imports it}."""
    edges: dict[str, dict[str, str]] = {}
    for module in MODULES:
        if module == "grader":
            continue
        src = _unit(module)
        for target, _name, line in _imports(module):
            if target == "grader":
                continue  # `from .. import __version__`: the version string, not the facade
            dst = _unit(target)
            if dst != src:
                edges.setdefault(src, {}).setdefault(dst, f"{module}:{line}")
    return edges


def _cycles(edges: dict[str, dict[str, str]]) -> list[list[str]]:
    """Every strongly connected set of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_the_known_flow() -> None:
    edges = _edges()
    # a few edges every reader of ARCHITECTURE.md relies on, so an empty walk cannot pass
    assert "grader.run" in edges["grader.grading"]
    assert "grader.grading" in edges["grader.api"]
    assert "grader.reporting" in edges["grader.review.checklist"]
    assert "grader.api" in edges["grader.cli"] or "grader.grading" in edges["grader.cli"]
    # checks/ by room: the registry's table imports the kinds, the kinds the rooms they read,
    # the detectors the parsed actions; rubric asks the registry, never the other way
    assert "grader.checks.kinds" in edges["grader.checks"]
    assert {"grader.checks.agent", "grader.checks.agent.detectors", "grader.checks.security"} <= set(
        edges["grader.checks.kinds"])
    assert "grader.checks.agent" in edges["grader.checks.agent.detectors"]
    assert "grader.checks" in edges["grader.rubric"]


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}, "d": {"a": ""}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b": ""}, "b": {}}) == []


def test_no_import_cycle_between_packages() -> None:
    edges = _edges()
    cycles = _cycles(edges)
    detail = ["  " + " <-> ".join(c) + ": " + "; ".join(
        f"{a}->{b} at {edges[a][b]}" for a in c for b in c if b in edges.get(a, {})) for c in cycles]
    assert not cycles, "import cycles between grader packages:\n" + "\n".join(detail)


def test_no_private_name_imported_across_packages() -> None:
    bad = []
    for module in MODULES:
        for target, name, line in _imports(module):
            private = (name is not None and name.startswith("_") and not name.startswith("__")) or any(
                part.startswith("_") and not part.startswith("__") for part in target.split("."))
            if private and _unit(target) != _unit(module) and target != "grader":
                bad.append(f"{module}:{line} imports {target}{'.' + name if name else ''}")
    assert not bad, "private names imported across packages:\n" + "\n".join(bad)


def test_architecture_md_names_every_package() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    packages = sorted({p.parent.relative_to(ROOT).as_posix() for p in PKG.glob("*/__init__.py")})
    assert "grader/grading" in packages and "grader/run" in packages
    missing = [p for p in packages if f"`{p}/`" not in text]
    assert not missing, f"ARCHITECTURE.md does not place: {missing}"
    assert len(text.splitlines()) <= 60  # one screen


def _engine_builders() -> list[str]:
    """Modules of grader/ that call ``Engine(...)`` (read with ast)."""
    out = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (
                    (isinstance(node.func, ast.Name) and node.func.id == "Engine")
                    or (isinstance(node.func, ast.Attribute) and node.func.attr == "Engine")):
                out.append(f"{module}:{node.lineno}")
    return out


def test_one_front_door_builds_the_engine() -> None:
    # the CLI, the Inspect scorer and auditing start runs through grader.api, which alone
    # builds the grading Engine (issue 10: one front door)
    builders = _engine_builders()
    assert [b.partition(":")[0] for b in builders] == ["grader.api.grading"], builders
