"""AST detectors for vulnerability classes bandit lacks or under-reports.

Each detector takes a :class:`ModuleInfo` (one parsed block, walked once) and yields
:class:`CodeIssue` values. Data-flow detectors (reflected XSS, open redirect, path
traversal, template injection) live in :mod:`grader.checks.security.security_flow`.
"""
from __future__ import annotations

import ast
import math
import re
from typing import Callable, Iterator

from .security_ast import CodeIssue, ModuleInfo, arg, is_built_string, is_false, keyword, literal_text
from .security_hosts import regex_unescaped_dot, url_substring_check

WORLD_WRITABLE = 0o002

_CHMOD_CALLS = {"os.chmod": 1, "os.fchmod": 1, "os.lchmod": 1, "os.open": 2, "os.mkdir": 1,
                "os.makedirs": 1, "os.mkfifo": 1, "os.mknod": 1}
_MODE_KW = {"os.chmod": "mode", "os.fchmod": "mode", "os.lchmod": "mode", "os.open": "mode",
            "os.mkdir": "mode", "os.makedirs": "mode", "os.mkfifo": "mode", "os.mknod": "mode"}


def chmod_world_writable(info: ModuleInfo) -> Iterator[CodeIssue]:
    """chmod/open/mkdir with a world-writable mode (S_IWOTH set: 0o777, 0o666, ...),
    pathlib ``.chmod``/``.mkdir``/``.touch`` with such a mode, and ``os.umask(0)``."""
    for call in info.calls:
        name = info.call_name(call)
        if name in _CHMOD_CALLS:
            mode = arg(call, _CHMOD_CALLS[name], _MODE_KW[name])
        elif isinstance(call.func, ast.Attribute) and call.func.attr in ("chmod", "lchmod") and name not in _CHMOD_CALLS:
            mode = arg(call, 0, "mode")
        elif isinstance(call.func, ast.Attribute) and call.func.attr in ("mkdir", "touch") and not name.startswith("os."):
            mode = keyword(call, "mode")
        elif name == "os.umask":
            value = info.int_value(arg(call, 0, "mask"))
            if value is not None and not value & WORLD_WRITABLE:
                yield CodeIssue("chmod-world-writable", call.lineno, call.end_lineno or call.lineno,
                                f"os.umask({oct(value)}) leaves new files world-writable")
            continue
        else:
            continue
        value = info.int_value(mode)
        if value is not None and value & WORLD_WRITABLE:
            related = 0
            if isinstance(mode, ast.Name):  # the mode is a constant defined elsewhere: quote that too
                related = next((v.lineno for v in info.constants.get(mode.id, [])
                                if (info.int_value(v) or 0) & WORLD_WRITABLE), 0)
            yield CodeIssue("chmod-world-writable", call.lineno, call.end_lineno or call.lineno,
                            f"{name or 'chmod'} with world-writable mode {oct(value)}", related)


def _members_filtered(info: ModuleInfo, members: ast.expr | None) -> bool:
    if members is None:
        return False
    if isinstance(members, ast.Name):
        values = info.constants.get(members.id, [])
        return bool(values) and all(_members_filtered(info, v) for v in values)
    if isinstance(members, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return any(g.ifs for g in members.generators)
    if isinstance(members, ast.Call):
        name = info.call_name(members)
        return not (name.endswith(".getmembers") or name in ("list", "tuple", "iter", "sorted"))
    return False


_PATH_CHECK = re.compile(r"abspath|realpath|normpath|commonpath|commonprefix|is_relative_to|resolve|"
                         r"issym|islnk|isdev|startswith")


def _validates_members(info: ModuleInfo, func: ast.AST) -> bool:
    """The enclosing function checks member names before extracting: a member's
    ``.name`` next to a '..' test or a path normalisation call."""
    saw_name = saw_check = False
    for node in ast.walk(func):
        if isinstance(node, ast.Attribute) and node.attr in ("name", "path", "linkname"):
            saw_name = True
        if isinstance(node, (ast.Attribute, ast.Name)) and _PATH_CHECK.fullmatch(
                node.attr if isinstance(node, ast.Attribute) else node.id):
            saw_check = True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ".." in node.value \
                and _is_test_operand(info, node):
            saw_check = True
    return saw_name and saw_check


def _is_test_operand(info: ModuleInfo, node: ast.AST) -> bool:
    """``'..' in name``, ``name.startswith('..')``, ``name.find('..')``: a test, not a destination."""
    parent = info.parent.get(node)
    if isinstance(parent, ast.Compare):
        return True
    return isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) \
        and parent.func.attr in ("startswith", "find", "count", "__contains__", "index")


def archive_unfiltered(info: ModuleInfo) -> Iterator[CodeIssue]:
    """tarfile ``extractall``/``extract`` without ``filter=`` (other than
    "fully_trusted") and without member filtering or member-path validation;
    ``shutil.unpack_archive`` without ``filter=``."""
    if not (info.uses_module("tarfile") or info.uses_module("shutil")):
        return
    for call in info.calls:
        name = info.call_name(call)
        if name == "shutil.unpack_archive":
            if keyword(call, "filter") is None:
                yield CodeIssue("archive-unfiltered", call.lineno, call.end_lineno or call.lineno,
                                "shutil.unpack_archive without filter= (path traversal from archive members)")
            continue
        if not (isinstance(call.func, ast.Attribute) and call.func.attr in ("extractall", "extract")):
            continue
        if not info.uses_module("tarfile") or "zip" in name.lower():
            continue
        filt = keyword(call, "filter")
        if filt is not None and not (isinstance(filt, ast.Constant) and filt.value == "fully_trusted"):
            continue
        members = arg(call, 1, "members") if call.func.attr == "extractall" else None
        if _members_filtered(info, members):
            continue
        func = info.enclosing_function(call)
        if _validates_members(info, func):
            continue
        what = "extractall" if call.func.attr == "extractall" else "extract"
        yield CodeIssue("archive-unfiltered", call.lineno, call.end_lineno or call.lineno,
                        f"tarfile {what} without filter= or member validation (path traversal)")


def zip_extractall(info: ModuleInfo) -> Iterator[CodeIssue]:
    """zipfile ``extractall``/``extract`` of an archive (opt-in: Python's zipfile
    already strips absolute and '..' member paths)."""
    if not info.uses_module("zipfile"):
        return
    for call in info.calls:
        if isinstance(call.func, ast.Attribute) and call.func.attr in ("extractall", "extract") \
                and not _validates_members(info, info.enclosing_function(call)):
            yield CodeIssue("zip-extractall", call.lineno, call.end_lineno or call.lineno,
                            f"zipfile {call.func.attr} without member validation")


_AUTOESCAPE_OFF_TEXT = re.compile(r"\{%-?\s*autoescape\s+false\s*-?%\}|\|\s*safe\b")


def template_autoescape_off(info: ModuleInfo) -> Iterator[CodeIssue]:
    """jinja2 ``Template(...)`` without autoescape (it defaults to off) or with
    autoescape=False; ``X.autoescape = False``; ``{% autoescape false %}`` or ``|safe``
    in a template string. (``Environment(autoescape=False)`` is bandit's B701.)"""
    for call in info.calls:
        name = info.call_name(call)
        if name in ("jinja2.Template", "jinja2.environment.Template", "flask.Template"):
            value = keyword(call, "autoescape")
            if value is None:
                yield CodeIssue("template-autoescape-off", call.lineno, call.end_lineno or call.lineno,
                                "jinja2 Template without autoescape (off by default)")
            elif is_false(value):
                yield CodeIssue("template-autoescape-off", call.lineno, call.end_lineno or call.lineno,
                                "jinja2 Template with autoescape=False")
    for target, value, stmt in info.attr_assigns:
        if target.attr == "autoescape" and is_false(value):
            yield CodeIssue("template-autoescape-off", stmt.lineno, stmt.end_lineno or stmt.lineno,
                            "template autoescaping switched off")
    for s in info.strings:
        text = str(s.value)
        if "{{" in text or "{%" in text:
            m = _AUTOESCAPE_OFF_TEXT.search(text)
            if m:
                yield CodeIssue("template-autoescape-off", s.lineno, s.end_lineno or s.lineno,
                                f"template string disables escaping ({m.group(0).strip()})")


_YAML_SAFE_LOADERS = ("SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader")


def unsafe_deserialisation(info: ModuleInfo) -> Iterator[CodeIssue]:
    """yaml ``unsafe_load``/``full_load``/``load_all`` and loaders other than the safe
    ones, ``jsonpickle.decode``, ``torch.load`` without ``weights_only=True``
    (pickle, marshal, shelve, dill and ``yaml.load`` are bandit's B301/B302/B506)."""
    for call in info.calls:
        name = info.call_name(call)
        line, end = call.lineno, call.end_lineno or call.lineno
        if name in ("yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all"):
            yield CodeIssue("deserialisation-unsafe", line, end, f"{name} constructs arbitrary Python objects")
        elif name in ("yaml.load_all", "yaml.load"):
            loader = arg(call, 1, "Loader")
            loader_name = info.qualname(loader) if loader is not None else ""
            if loader is not None and not loader_name.endswith(_YAML_SAFE_LOADERS):
                yield CodeIssue("deserialisation-unsafe", line, end, f"{name} with unsafe loader {loader_name or '?'}")
            elif loader is None and name == "yaml.load_all":
                yield CodeIssue("deserialisation-unsafe", line, end, "yaml.load_all without a safe loader")
        elif re.fullmatch(r"(?:cPickle|_pickle|cloudpickle|pickle5)\.(?:loads?|Unpickler)", name):
            yield CodeIssue("deserialisation-unsafe", line, end, f"{name} on data (pickle runs code while loading)")
        elif name in ("jsonpickle.decode", "jsonpickle.loads"):
            yield CodeIssue("deserialisation-unsafe", line, end, f"{name} on data")
        elif name == "torch.load":
            wo = keyword(call, "weights_only")
            if not (isinstance(wo, ast.Constant) and wo.value is True):
                yield CodeIssue("deserialisation-unsafe", line, end, "torch.load without weights_only=True (pickle)")


_SQL = re.compile(r"^\s*(?:select|insert|update|delete|replace|create|drop|alter|with|merge|pragma|exec)\b"
                  r"|\b(?:select\s.+\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from|where\s+\w+\s*(?:=|like|in)\b)",
                  re.IGNORECASE | re.DOTALL)
_SQL_SINKS = ("execute", "executemany", "executescript", "raw", "read_sql", "read_sql_query", "mogrify", "query")


def sql_string_built(info: ModuleInfo) -> Iterator[CodeIssue]:
    """A query assembled with f-strings, ``%``, ``+`` or ``.format()`` (directly or via a
    variable) passed to ``execute``/``executemany``/``raw``/``text``/``read_sql``."""
    for call in info.calls:
        func = call.func
        attr = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        name = info.call_name(call)
        if attr not in _SQL_SINKS and not name.endswith("sqlalchemy.text") and name != "text":
            continue
        query = arg(call, 0, "sql") or arg(call, 0, "query") or arg(call, 0, "statement")
        if query is None or len(call.args) >= 2 or keyword(call, "params") is not None \
                or keyword(call, "parameters") is not None:
            continue  # parameters passed separately: the string holds placeholders
        built, line = _built_sql(info, query, call)
        if built:
            detail = f"SQL built from values by string formatting, passed to {attr or name}()"
            yield CodeIssue("sql-string-built", call.lineno, call.end_lineno or call.lineno, detail,
                            related=line if line != call.lineno else 0)


def _built_sql(info: ModuleInfo, node: ast.expr, call: ast.Call) -> tuple[bool, int]:
    if isinstance(node, ast.Call) and info.call_name(node).endswith("text") and node.args:
        node = node.args[0]
    if is_built_string(node) and _SQL.search(literal_text(node)):
        return True, node.lineno
    if isinstance(node, ast.Name):
        func = info.enclosing_function(call)
        for stmt in ast.walk(func):
            if isinstance(stmt, (ast.Assign, ast.AugAssign)) and stmt.lineno <= call.lineno:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(isinstance(t, ast.Name) and t.id == node.id for t in targets):
                    value = stmt.value
                    if isinstance(stmt, ast.AugAssign) and not isinstance(value, ast.Constant):
                        if _sql_var_literal(func, node.id):
                            return True, stmt.lineno
                    if is_built_string(value) and _SQL.search(literal_text(value)):
                        return True, stmt.lineno
    return False, 0


def _sql_var_literal(func: ast.AST, name: str) -> bool:
    for stmt in ast.walk(func):
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            if _SQL.search(literal_text(stmt.value)):
                return True
    return False


def tls_verify_off(info: ModuleInfo) -> Iterator[CodeIssue]:
    """``ssl.CERT_NONE``, ``check_hostname = False``, ``X.verify = False`` (requests
    sessions); ``verify=False`` on calls is bandit's B501, unverified contexts B323."""
    for node in info.attributes:
        if node.attr == "CERT_NONE" and not isinstance(info.parent.get(node), ast.Compare):
            stmt = info.statement_of(node)
            yield CodeIssue("tls-verify-off", stmt.lineno, stmt.end_lineno or stmt.lineno,  # type: ignore[attr-defined]
                            "certificate verification disabled (ssl.CERT_NONE)")
    for target, value, stmt in info.attr_assigns:
        if target.attr in ("check_hostname", "verify") and is_false(value):
            yield CodeIssue("tls-verify-off", stmt.lineno, stmt.end_lineno or stmt.lineno,
                            f"TLS verification disabled ({target.attr} = False)")


_SECRET_NAME = re.compile(r"(?:^|_)(?:pass(?:word|wd|phrase)?|pwd|secret|api_?key|access_?key|private_?key|"
                          r"auth_?token|token|secret_?key)$", re.IGNORECASE)
_TOKEN_FORMATS = re.compile(r"\b(?:(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|xox[abprs]-[A-Za-z0-9-]{10,}|"
                            r"sk_live_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20})\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----")


def _looks_like_real_secret(value: str) -> bool:
    """A literal that looks like a live secret rather than a placeholder such as
    "password" or "1234": long, no spaces, letters and digits, high character entropy."""
    if len(value) < 16 or " " in value or not re.search(r"[A-Za-z]", value) or not re.search(r"\d", value):
        return False
    counts = {c: value.count(c) for c in set(value)}
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 3.5


def hardcoded_credential(info: ModuleInfo) -> Iterator[CodeIssue]:
    """Known token formats (AWS, GitHub, Slack, Stripe, Google) and private keys in string
    literals; a password/secret/token variable, attribute, keyword or dict entry set to
    a literal that looks like a live secret (placeholders such as "password" are left
    to the judge); a password compared with a literal that grants access (a backdoor)."""
    for s in info.strings:
        m = _TOKEN_FORMATS.search(str(s.value)) or _PRIVATE_KEY.search(str(s.value))
        if m:
            kind = "private key" if m.group(0).startswith("-----") else "access token or key"
            yield CodeIssue("hardcoded-credential", s.lineno, s.end_lineno or s.lineno, f"hard-coded {kind}")
    pairs: list[tuple[str, ast.expr]] = []
    for assign in info.assigns:
        for t in assign.targets:
            n = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else \
                t.slice.value if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant) and \
                isinstance(t.slice.value, str) else ""
            pairs.append((n, assign.value))
    for call in info.calls:
        pairs.extend((k.arg or "", k.value) for k in call.keywords)
    for d in info.dicts:
        pairs.extend((k.value, v) for k, v in zip(d.keys, d.values)
                     if isinstance(k, ast.Constant) and isinstance(k.value, str))
    for n, value in pairs:
        if _SECRET_NAME.search(n) and isinstance(value, ast.Constant) and isinstance(value.value, str) \
                and _looks_like_real_secret(value.value) and not _TOKEN_FORMATS.search(value.value):
            yield CodeIssue("hardcoded-credential", value.lineno, value.end_lineno or value.lineno,
                            f"hard-coded secret in {n!r}")
    for cmp in info.compares:
        if len(cmp.ops) != 1 or not isinstance(cmp.ops[0], ast.Eq):
            continue
        sides = (cmp.left, cmp.comparators[0])
        names = [s.id if isinstance(s, ast.Name) else s.attr if isinstance(s, ast.Attribute) else ""
                 for s in sides]
        lits = [s for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str) and s.value]
        if lits and any(re.search(r"pass(?:word|wd)?$|pwd$|secret$|token$", n, re.I) for n in names) \
                and not _rejects(info, cmp):
            yield CodeIssue("hardcoded-credential", cmp.lineno, cmp.end_lineno or cmp.lineno,
                            "password compared with a hard-coded literal")


def _rejects(info: ModuleInfo, cmp: ast.Compare) -> bool:
    """The comparison guards a rejection (``if password == 'password': ...return False``)."""
    parent = info.parent.get(cmp)
    if isinstance(parent, ast.If) and parent.test is cmp:
        for stmt in parent.body:
            if isinstance(stmt, ast.Raise) or (isinstance(stmt, ast.Return) and is_false(stmt.value)):
                return True
    return False


Detector = Callable[[ModuleInfo], Iterator[CodeIssue]]

DETECTORS: dict[str, Detector] = {
    "chmod-world-writable": chmod_world_writable,
    "archive-unfiltered": archive_unfiltered,
    "zip-extractall": zip_extractall,
    "template-autoescape-off": template_autoescape_off,
    "deserialisation-unsafe": unsafe_deserialisation,
    "sql-string-built": sql_string_built,
    "tls-verify-off": tls_verify_off,
    "hardcoded-credential": hardcoded_credential,
    "regex-unescaped-dot": regex_unescaped_dot,
    "url-substring-check": url_substring_check,
}
