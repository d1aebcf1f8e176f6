"""Intra-function data flow from web request data to dangerous sinks.

Sources: ``request.<data>`` (Flask, Django, Starlette/FastAPI, DRF, aiohttp; also
``flask.request`` and ``self.request``) and the string parameters of a route
(``@app.route('/x/<name>')``). Taint follows assignments, string building, containers,
attribute and item access, method calls, mutation (``items.append(x)``) and calls to
functions defined in the same code, in statement order (branches merged, loop bodies run
twice); escaping, conversion to numbers and similar calls remove it. Sinks:

- ``xss-reflected``: request data in a string built into HTML that is returned or given
  to ``make_response``/``Response``/``HttpResponse``/``Markup``/``mark_safe``; a route
  that returns request data formatted into a plain string counts too (Flask and Django
  serve a returned string as text/html);
- ``template-injection``: request data in the *source* of a template
  (``render_template_string``, jinja2 ``Template``, ``from_string``);
- ``open-redirect``: request data choosing the target of ``redirect`` unchecked;
- ``path-traversal``: request data in a path given to ``open``/``send_file``/file
  operations/``.save()`` with no check on it and no normalisation in the function.
"""
from __future__ import annotations

import ast
import re
from functools import cached_property
from typing import Iterator

from .security_ast import CodeIssue, ModuleInfo, is_built_string
from .security_web import (BUILDING_METHODS, FILE_SINKS, HTML, MUTATORS, PATH_GUARDS, PROPAGATING_BUILTINS,
                           REDIRECTS, REQUEST_DATA, REQUEST_ROOTS, RESPONSE_CALLS, SANITIZER, SCALAR_FIELDS,
                           STRING_METHODS, TEMPLATE_SOURCE, fixed_target, is_route, route_params)


class _State:
    """What is known at one point of a function: which names carry request data."""

    def __init__(self, tainted: dict[str, str] | None = None, html: dict[str, int] | None = None,
                 markup: set[str] | None = None, origin: dict[str, int] | None = None):
        self.tainted = dict(tainted or {})  # name -> source description
        self.html = dict(html or {})  # name -> line where request data was put into HTML
        self.markup = set(markup or ())  # names holding HTML literal text
        self.origin = dict(origin or {})  # name -> line of the assignment that tainted it
        self.chain: dict[str, frozenset[int]] = {}  # name -> every line on its path from the request
        self.text: set[str] = set()  # names holding a string made of request data (no markup needed)

    def copy(self) -> "_State":
        new = _State(self.tainted, self.html, self.markup, self.origin)
        new.chain = dict(self.chain)
        new.text = set(self.text)
        return new

    def merge(self, other: "_State") -> "_State":
        new = _State({**other.tainted, **self.tainted}, {**other.html, **self.html}, self.markup | other.markup,
                     {**other.origin, **self.origin})
        new.chain = {n: self.chain.get(n, frozenset()) | other.chain.get(n, frozenset())
                     for n in set(self.chain) | set(other.chain)}
        new.text = self.text | other.text
        return new


class _Flow:
    def __init__(self, info: ModuleInfo, scope: ast.AST, params: dict[str, str], local_functions: set[str],
                 calls_of: dict[int, list[ast.Call]]):
        self.info = info
        self.scope = scope
        self.route = isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_route(scope)
        self.local_functions = local_functions
        self.issues: list[CodeIssue] = []
        self.seen: set[tuple[str, int]] = set()
        self.state = _State(params)
        self.state.text = set(params)
        self._cache: dict[int, str | None] = {}
        self.calls_of = calls_of

    # -- taint of expressions -------------------------------------------------------------
    def request_source(self, node: ast.Attribute) -> str | None:
        """``request.form``, ``flask.request.args``, ``self.request.GET`` ...: the first
        attribute after a request object, when it is request data."""
        chain: list[str] = []
        cur: ast.AST = node
        while isinstance(cur, (ast.Attribute, ast.Call, ast.Subscript)):
            if isinstance(cur, ast.Attribute):
                chain.append(cur.attr)
            cur = cur.func if isinstance(cur, ast.Call) else cur.value
        if isinstance(cur, ast.Name):
            chain.append(cur.id)
        chain.reverse()
        for i, part in enumerate(chain[:-1]):
            if part in REQUEST_ROOTS and chain[i + 1] in REQUEST_DATA:
                return f"{part}.{chain[i + 1]}"
        return None

    def source(self, node: ast.AST | None) -> str | None:
        """Where the request data in ``node`` comes from (``request.form``, a route
        parameter ...), or None. Cached until the state changes."""
        if node is None:
            return None
        if isinstance(node, ast.Name):
            return self.state.tainted.get(node.id)
        key = id(node)
        if key in self._cache:
            return self._cache[key]
        found = self._source(node)
        self._cache[key] = found
        return found

    def _source(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Attribute):
            return self.request_source(node) or self.source(node.value)
        if isinstance(node, ast.Call):
            name = self.info.call_name(node)
            last = name.rsplit(".", 1)[-1] if name else ""
            if last and SANITIZER.search(last):
                return None
            if isinstance(node.func, ast.Attribute):
                found = self.source(node.func)
                if found:
                    return found
                # arguments flow into the result only for string and path building
                # (a database call's result does not carry its parameters)
                if not (isinstance(node.func.value, ast.Constant) or node.func.attr in BUILDING_METHODS
                        or name.startswith(("os.path.", "posixpath.", "pathlib.", "ntpath."))):
                    return None
            elif name not in PROPAGATING_BUILTINS and name not in self.local_functions:
                return None
            for a in [*node.args, *(k.value for k in node.keywords)]:
                found = self.source(a)
                if found:
                    return found
            return None
        if isinstance(node, (ast.Lambda, ast.Constant)):
            return None
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            saved = self.state.copy()
            for g in node.generators:
                self.assign(g.target, g.iter, node.lineno)
            elts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            found = next((s for s in map(self.source, elts) if s), None)
            self.state = saved
            self._cache.clear()  # entries computed with the comprehension's variables bound
            return found
        for child in ast.iter_child_nodes(node):
            found = self.source(child)
            if found:
                return found
        return None

    def evidence_line(self, node: ast.AST, default: int) -> int:
        """The first line of ``node`` where request data appears (a tainted name or a
        request attribute), else ``default``."""
        start = getattr(node, "lineno", None)
        if start is not None and start == getattr(node, "end_lineno", None):
            return start if self.source(node) else default
        lines = [n.lineno for n in ast.walk(node)
                 if (isinstance(n, ast.Name) and n.id in self.state.tainted)
                 or (isinstance(n, ast.Attribute) and self.request_source(n))]
        return min(lines) if lines else default

    def chain_of(self, node: ast.AST) -> frozenset[int]:
        """Every line on the path from the request to the tainted names in ``node``."""
        out: set[int] = set()
        for n in self._names(node):
            out |= self.state.chain.get(n, frozenset())
        return frozenset(out)

    def is_markup(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return bool(HTML.search(node.value))
        if isinstance(node, ast.Name):
            return node.id in self.state.markup or node.id in self.state.html
        if isinstance(node, (ast.JoinedStr, ast.BinOp)):
            return any(self.is_markup(c) for c in ast.iter_child_nodes(node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return self.is_markup(node.func.value) or any(self.is_markup(a) for a in node.args)
        if isinstance(node, (ast.List, ast.Tuple)):
            return any(self.is_markup(e) for e in node.elts)
        return False

    def html_source(self, node: ast.AST, plain: bool = False) -> tuple[str, int] | None:
        """(source, line) when ``node`` is HTML text carrying request data; with
        ``plain``, also a string built from request data without any markup."""
        if isinstance(node, ast.Name) and node.id in self.state.html:
            return self.state.tainted.get(node.id, "request data"), self.state.html[node.id]
        if isinstance(node, ast.Tuple) and node.elts:
            return self.html_source(node.elts[0], plain)
        src = self.source(node)
        if src and (self.is_markup(node) or (plain and (is_built_string(node) or self.is_text(node)))):  # type: ignore[arg-type]
            return src, self.evidence_line(node, getattr(node, "lineno", 0))
        return None

    def is_text(self, node: ast.AST) -> bool:
        """A string made of request data: a request field (``request.args['q']``,
        ``request.form.get('x')``, ``request.data``), a route parameter, a string built from
        them, or a string method applied to one."""
        if isinstance(node, ast.Name):
            return node.id in self.state.text
        if isinstance(node, ast.BoolOp):
            return any(self.is_text(v) for v in node.values)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            return node.value.attr in SCALAR_FIELDS and bool(self.request_source(node.value))
        if isinstance(node, ast.Attribute):
            return node.attr in ("data", "body", "text") and bool(self.request_source(node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr == "get" and isinstance(f.value, ast.Attribute) and f.value.attr in SCALAR_FIELDS:
                return bool(self.request_source(f.value))
            if f.attr == "get_data":
                return bool(self.request_source(f))
            return f.attr in STRING_METHODS and self.is_text(f.value)
        return is_built_string(node) and bool(self.source(node))  # type: ignore[arg-type]

    # -- statements -----------------------------------------------------------------------
    def assign(self, target: ast.AST, value: ast.AST, line: int, aug: bool = False) -> None:
        self._cache.clear()
        src = self.source(value)
        html = self.html_source(value) if src else None
        markup = self.is_markup(value)
        for t in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]):
            base = t
            while isinstance(base, (ast.Attribute, ast.Subscript, ast.Starred)):
                base = base.value
            if not isinstance(base, ast.Name):
                continue
            name = base.id
            whole = base is t
            if src:
                self.state.tainted[name] = src
                self.state.origin[name] = self.evidence_line(value, line)
                self.state.chain[name] = self.chain_of(value) | {self.state.origin[name]} | (
                    self.state.chain.get(name, frozenset()) if aug else frozenset())
                if html or (aug and name in self.state.markup):
                    self.state.html[name] = html[1] if html and html[1] else self.evidence_line(value, line)
            elif whole and not aug:
                self.state.tainted.pop(name, None)
                self.state.html.pop(name, None)
                self.state.origin.pop(name, None)
                self.state.chain.pop(name, None)
            if whole and src and self.is_text(value):
                self.state.text.add(name)
            elif whole and not aug:
                self.state.text.discard(name)
            if markup:
                self.state.markup.add(name)
            elif whole and not aug:
                self.state.markup.discard(name)

    def run(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        self._cache.clear()
        self.sinks(stmt)
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                self.assign(t, stmt.value, stmt.lineno)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.assign(stmt.target, stmt.value, stmt.lineno)
        elif isinstance(stmt, ast.AugAssign):
            self.assign(stmt.target, stmt.value, stmt.lineno, aug=True)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                self.assign(stmt.target, stmt.iter, stmt.lineno)
            before = self.state.copy()
            self.run(stmt.body)
            self.run(stmt.body)
            self.state = self.state.merge(before)
            self.run(stmt.orelse)
        elif isinstance(stmt, ast.If):
            before = self.state.copy()
            self.run(stmt.body)
            after_body, self.state = self.state, before
            self.run(stmt.orelse)
            self.state = self.state.merge(after_body)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, item.context_expr, stmt.lineno)
            self.run(stmt.body)
        elif isinstance(stmt, ast.Try):
            self.run(stmt.body)
            for h in stmt.handlers:
                self.run(h.body)
            self.run(stmt.orelse)
            self.run(stmt.finalbody)
        elif isinstance(stmt, ast.Expr):
            value = stmt.value
            if isinstance(value, ast.NamedExpr):
                self.assign(value.target, value.value, stmt.lineno)
            elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                    and value.func.attr in MUTATORS and value.args:
                self.assign(value.func.value, ast.Tuple(elts=list(value.args), ctx=ast.Load()), stmt.lineno,
                            aug=True)

    # -- sinks ----------------------------------------------------------------------------
    def report(self, detector: str, stmt: ast.stmt, node: ast.AST, detail: str, related: int = 0) -> None:
        line = self.evidence_line(node, stmt.lineno)
        if not related or related == line:  # where the tainted value was last built, quoted too
            related = max((self.state.origin.get(n, 0) for n in self._names(node)), default=0)
        if (detector, line) in self.seen:
            return
        self.seen.add((detector, line))
        self.issues.append(CodeIssue(detector, line, line, detail, related if related != line else 0,
                                     tuple(sorted(self.chain_of(node)))))

    def sinks(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            found = self.html_source(stmt.value, plain=self.route)
            if found:
                self.report("xss-reflected", stmt, stmt.value,
                            f"reflected XSS: {found[0]} flows into the returned HTML", found[1])
        for node in self.calls_of.get(id(stmt), ()):
            if not node.args:
                continue
            name = self.info.call_name(node)
            last = name.rsplit(".", 1)[-1]
            first = node.args[0]
            if last in RESPONSE_CALLS:
                found = self.html_source(first, plain=True)
                if found:
                    self.report("xss-reflected", stmt, first,
                                f"reflected XSS: {found[0]} flows into the HTML given to {last}()", found[1])
            elif last in ("Markup", "mark_safe"):
                src = self.source(first)
                if src:
                    self.report("xss-reflected", stmt, first, f"reflected XSS: {src} is marked safe by {last}()")
            elif name in TEMPLATE_SOURCE or last in ("render_template_string", "from_string"):
                src = self.source(first)
                if src:
                    related = self.state.html.get(first.id, 0) if isinstance(first, ast.Name) else 0
                    self.report("template-injection", stmt, first,
                                f"template injection / XSS: {src} flows into the template source of {last}()",
                                related)
            elif last in REDIRECTS:
                src = self.source(first)
                if src and not (self._names(first) & self.checked_names) and not fixed_target(first):
                    self.report("open-redirect", stmt, first, f"open redirect: {src} chooses the target of {last}()")
            elif name in FILE_SINKS or last in ("send_file", "FileResponse", "save"):
                src = self.source(first)
                if src and not self.path_guarded and not (self._names(first) & self.checked_names):
                    self.report("path-traversal", stmt, first,
                                f"path traversal: {src} flows into the path given to {last}()")

    def _names(self, node: ast.AST) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in self.state.tainted}

    @cached_property
    def checked_names(self) -> set[str]:
        """Names that appear in a condition (if/while/assert/ternary) of the scope."""
        out: set[str] = set()
        for node in ast.walk(self.scope):
            test = node.test if isinstance(node, (ast.If, ast.While, ast.Assert, ast.IfExp)) else None
            if test is not None:
                out.update(n.id for n in ast.walk(test) if isinstance(n, ast.Name))
        return out

    @cached_property
    def path_guarded(self) -> bool:
        """The scope normalises or checks paths somewhere (realpath, basename,
        secure_filename, a '..' test, ...)."""
        for n in ast.walk(self.scope):
            if isinstance(n, (ast.Attribute, ast.Name)) and PATH_GUARDS.search(
                    n.attr if isinstance(n, ast.Attribute) else n.id):
                return True
            if isinstance(n, ast.Constant) and n.value == ".." and isinstance(self.info.parent.get(n), ast.Compare):
                return True
        return False


def _calls_by_statement(info: ModuleInfo) -> dict[int, list[ast.Call]]:
    """The calls of each statement itself (not of statements nested in it), by id."""
    out: dict[int, list[ast.Call]] = {}
    for call in info.calls:
        stmt: ast.AST | None = info.parent.get(call)
        while stmt is not None and not isinstance(stmt, ast.stmt):
            stmt = info.parent.get(stmt)
        if stmt is not None:
            out.setdefault(id(stmt), []).append(call)
    return out


_MENTIONS_REQUEST = re.compile(r"\breq(?:uest)?\b")


def request_flows(info: ModuleInfo) -> Iterator[CodeIssue]:
    """Run the flow analysis on every function (and the module body) that can see
    request data: it names a request object or has route parameters."""
    if not (info.names & set(REQUEST_ROOTS) or any("request" in a for a in info.aliases.values())
            or any(a.attr in REQUEST_ROOTS for a in info.attributes)
            or any(f.decorator_list for f in info.functions)):
        return
    local = {f.name for f in info.functions}
    calls_of = _calls_by_statement(info)
    scopes: list[tuple[ast.AST, list[ast.stmt], dict[str, str]]] = [(info.tree, info.tree.body, {})]
    scopes += [(f, f.body, route_params(f)) for f in info.functions]
    for scope, body, params in scopes:
        if not params:
            start = getattr(scope, "lineno", 1)
            text = "\n".join(info.lines[start - 1:getattr(scope, "end_lineno", None) or len(info.lines)])
            if not _MENTIONS_REQUEST.search(text):
                continue
        flow = _Flow(info, scope, params, local, calls_of)
        flow.run(body)
        yield from flow.issues


FLOW_DETECTORS = ("xss-reflected", "template-injection", "open-redirect", "path-traversal")
