"""Shared AST helpers for the security detectors: import aliases, qualified call names,
module constants, integer evaluation of permission modes, string-literal views."""
from __future__ import annotations

import ast
import re
import stat
from dataclasses import dataclass


@dataclass(frozen=True)
class CodeIssue:
    """One detector result inside one code block (1-based lines of the block).

    ``related`` is another line worth quoting (where a value was built), or 0;
    ``path`` holds the lines a data flow went through (used to tell whether the
    assistant wrote any part of it, not quoted)."""

    detector: str
    lineno: int
    end_lineno: int
    detail: str
    related: int = 0
    path: tuple[int, ...] = ()


_CONTEXTS = frozenset({ast.Load, ast.Store, ast.Del})


class ModuleInfo:
    """Facts about a parsed block that every detector needs, collected in one walk (the
    detectors iterate these lists instead of walking the tree again).

    ``ModuleInfo(tree, source)`` walks the tree itself; with ``walk=False`` the caller
    feeds every node to :meth:`add` from a traversal it does anyway (bandit's visitor)
    and then calls :meth:`finish`."""

    def __init__(self, tree: ast.Module, source: str = "", walk: bool = True):
        self.tree = tree
        self.lines = source.splitlines()
        self.aliases: dict[str, str] = {}
        self.imports: set[str] = set()
        self.calls: list[ast.Call] = []
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.constants: dict[str, list[ast.expr]] = {}
        self.strings: list[ast.Constant] = []
        self.compares: list[ast.Compare] = []
        self.attributes: list[ast.Attribute] = []
        self.assigns: list[ast.Assign] = []
        self.dicts: list[ast.Dict] = []
        self.sequences: list[ast.List | ast.Tuple] = []
        self.names: set[str] = set()
        self.attr_assigns: list[tuple[ast.Attribute, ast.expr, ast.stmt]] = []
        self.parent: dict[ast.AST, ast.AST] = {}
        self._call_names: dict[int, str] = {}
        if walk:
            stack: list[ast.AST] = [tree]
            while stack:
                node = stack.pop()
                for child in ast.iter_child_nodes(node):
                    self.parent[child] = node
                    stack.append(child)
                self.add(node)
            self.finish()

    def add(self, node: ast.AST, parent: ast.AST | None = None) -> None:
        """Record one node (``parent`` when the caller's traversal knows it)."""
        kind = type(node)
        if kind in _CONTEXTS:  # shared Load/Store/Del singletons: no parent of their own
            return
        if parent is not None:
            self.parent[node] = parent
        if kind is ast.Name:
            self.names.add(node.id)  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            self.attributes.append(node)  # type: ignore[arg-type]
        elif kind is ast.Call:
            self.calls.append(node)  # type: ignore[arg-type]
        elif kind is ast.Constant:
            if isinstance(node.value, str):  # type: ignore[attr-defined]
                self.strings.append(node)  # type: ignore[arg-type]
        elif kind is ast.Compare:
            self.compares.append(node)  # type: ignore[arg-type]
        elif kind is ast.Dict:
            self.dicts.append(node)  # type: ignore[arg-type]
        elif kind is ast.List or kind is ast.Tuple:
            self.sequences.append(node)  # type: ignore[arg-type]
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            self.functions.append(node)  # type: ignore[arg-type]
        elif kind is ast.Import:
            for a in node.names:  # type: ignore[attr-defined]
                self.imports.add(a.name)
                self.aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif kind is ast.ImportFrom:
            if node.module:  # type: ignore[attr-defined]
                self.imports.add(node.module)  # type: ignore[attr-defined]
                for a in node.names:  # type: ignore[attr-defined]
                    self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"  # type: ignore[attr-defined]
        elif kind is ast.Assign or kind is ast.AnnAssign:
            if kind is ast.Assign:
                self.assigns.append(node)  # type: ignore[arg-type]
            targets = node.targets if kind is ast.Assign else [node.target]  # type: ignore[attr-defined]
            value = node.value  # type: ignore[attr-defined]
            if value is None:
                return
            for t in targets:
                if isinstance(t, ast.Name):
                    self.constants.setdefault(t.id, []).append(value)
                elif isinstance(t, ast.Attribute):
                    self.attr_assigns.append((t, value, node))  # type: ignore[arg-type]
                    self.constants.setdefault("." + t.attr, []).append(value)

    def finish(self) -> "ModuleInfo":
        """Put every list in source order (detectors report in that order)."""
        order = lambda n: (n.lineno, n.col_offset)  # noqa: E731
        for seq in (self.calls, self.strings, self.compares, self.attributes, self.assigns, self.dicts,
                    self.sequences, self.functions):
            seq.sort(key=order)  # type: ignore[attr-defined]
        return self

    def qualname(self, node: ast.expr) -> str:
        """Dotted name of a Name/Attribute chain with import aliases resolved
        (``Template`` -> ``jinja2.Template`` after ``from jinja2 import Template``)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.append(self.aliases.get(node.id, node.id))
        elif isinstance(node, ast.Call):
            parts.append(self.qualname(node.func) + "()")
        else:
            return ""
        return ".".join(reversed(parts))

    def call_name(self, call: ast.Call) -> str:
        """``qualname`` of the called function (cached: every detector asks)."""
        name = self._call_names.get(id(call))
        if name is None:
            name = self._call_names[id(call)] = self.qualname(call.func)
        return name

    def uses_module(self, prefix: str) -> bool:
        return any(m == prefix or m.startswith(prefix + ".") for m in self.imports)

    def enclosing_function(self, node: ast.AST) -> ast.AST:
        cur = self.parent.get(node)
        while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            cur = self.parent.get(cur)
        return cur if cur is not None else self.tree

    def statement_of(self, node: ast.AST) -> ast.AST:
        cur: ast.AST = node
        while not isinstance(cur, ast.stmt) and cur in self.parent:
            cur = self.parent[cur]
        return cur

    def int_value(self, node: ast.expr | None, depth: int = 0) -> int | None:
        """The integer a mode expression evaluates to, following module constants and
        ``stat.S_*`` names; None when unknown. Never executes anything."""
        if node is None or depth > 5:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"0?o?[0-7]{3,4}", node.value):
            return int(node.value.replace("o", ""), 8)
        if isinstance(node, ast.Attribute) and node.attr.startswith("S_I"):
            value = getattr(stat, node.attr, None)
            return value if isinstance(value, int) else None
        if isinstance(node, ast.Name):
            if node.id.startswith("S_I") and isinstance(getattr(stat, node.id, None), int):
                return int(getattr(stat, node.id))
            found = [self.int_value(v, depth + 1) for v in self.constants.get(node.id, [])]
            values = [v for v in found if v is not None]
            return max(values, key=lambda v: v & 0o002) if values else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.Add, ast.BitAnd)):
            left, right = self.int_value(node.left, depth + 1), self.int_value(node.right, depth + 1)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.BitAnd):
                return left & right
            return left | right if isinstance(node.op, ast.BitOr) else left + right
        return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def arg(call: ast.Call, position: int, name: str) -> ast.expr | None:
    """A call argument given by position or by keyword."""
    if len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args[:position + 1]):
        return call.args[position]
    return keyword(call, name)


def is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, 0, None)


def literal_text(node: ast.expr) -> str:
    """The literal parts of a string-building expression, concatenated."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp):
        return literal_text(node.left) + literal_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join", "replace"):
        return literal_text(node.func.value)
    return ""


def is_built_string(node: ast.expr) -> bool:
    """An f-string with a placeholder, ``%``-formatting, ``+`` concatenation with a
    non-literal, or ``.format()`` with arguments: a string assembled from values."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return bool(literal_text(node.left)) and not isinstance(node.right, ast.Constant)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        sides = (node.left, node.right)
        return any(literal_text(s) for s in sides) and any(
            not isinstance(s, ast.Constant) or is_built_string(s) for s in sides)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return bool(literal_text(node.func.value)) and bool(node.args or node.keywords)
    return False
