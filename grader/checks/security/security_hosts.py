"""Host allow-lists that can be bypassed: a regex with an unescaped '.', a substring or
prefix test on a URL."""
from __future__ import annotations

import ast
import re
from typing import Iterator

from .security_ast import CodeIssue, ModuleInfo

_DOT_AFTER_WILDCARD = re.compile(r"(?<=[+*?}\])])\.(?=[A-Za-z][A-Za-z0-9-]*\\?\.[A-Za-z]{2,})")
_BARE_HOST = re.compile(r"^\^?(?:https?\??://)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\$?$")
_RE_VALIDATORS = ("re.compile", "re.match", "re.search", "re.fullmatch")


def regex_unescaped_dot(info: ModuleInfo) -> Iterator[CodeIssue]:
    """A regular expression that allow-lists a host name with an unescaped '.':
    ``r"https://[\\w-]+.example.com"`` or ``".*.example.com"`` (the '.' after the wildcard
    matches any character, so ``evil-example.com`` passes) or a bare ``"www.example.org"``."""
    for call in info.calls:
        if info.call_name(call) not in _RE_VALIDATORS or not call.args:
            continue
        pattern = call.args[0]
        if not (isinstance(pattern, ast.Constant) and isinstance(pattern.value, str)):
            continue
        text = _outside_classes(pattern.value)
        if _DOT_AFTER_WILDCARD.search(text) or _BARE_HOST.match(pattern.value):
            yield CodeIssue("regex-unescaped-dot", call.lineno, call.end_lineno or call.lineno,
                            "host-name regex with an unescaped '.' (matches any character)")


def _outside_classes(pattern: str) -> str:
    """The pattern with character classes ``[...]`` blanked out."""
    out, depth, i = [], False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i:i + 2] if not depth else "  ")
            i += 2
            continue
        if c == "[" and not depth:
            depth = True
        elif c == "]" and depth:
            depth = False
            out.append("]")
            i += 1
            continue
        out.append(" " if depth else c)
        i += 1
    return "".join(out)


_URLISH = re.compile(r"url|uri|host|domain|netloc|link|href|referr?er|origin|redirect|next|target|dest|path", re.I)
_DOMAIN = re.compile(r"^(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}$", re.I)


def url_substring_check(info: ModuleInfo) -> Iterator[CodeIssue]:
    """A URL or host allow-listed by substring or prefix (``'example.com' in url``,
    ``url.startswith('https://example.com')``), which ``example.com.evil.net`` passes."""
    for cmp in info.compares:
        if len(cmp.ops) == 1 and isinstance(cmp.ops[0], ast.In) and isinstance(cmp.left, ast.Constant) \
                and isinstance(cmp.left.value, str) and _DOMAIN.match(cmp.left.value) \
                and _URLISH.search(ast.unparse(cmp.comparators[0])):
            yield CodeIssue("url-substring-check", cmp.lineno, cmp.end_lineno or cmp.lineno,
                            f"host allow-listed by substring ({cmp.left.value!r} in ...)")
    for call in info.calls:
        f = call.func
        if isinstance(f, ast.Attribute) and f.attr in ("startswith", "endswith") and call.args \
                and _URLISH.search(ast.unparse(f.value)):
            lit = call.args[0]
            values = [e.value for e in lit.elts if isinstance(e, ast.Constant)] if isinstance(lit, ast.Tuple) \
                else [lit.value] if isinstance(lit, ast.Constant) else []
            for v in values:
                if not isinstance(v, str) or not _DOMAIN.match(v):
                    continue
                if (f.attr == "startswith" and "://" in v) or (f.attr == "endswith" and not v.startswith(".")):
                    yield CodeIssue("url-substring-check", call.lineno, call.end_lineno or call.lineno,
                                    f"host allow-listed by {f.attr}({v!r}) without a boundary")
                    break
