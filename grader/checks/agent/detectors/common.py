"""Helpers shared by the detectors: path shapes, line diffs, disabling assignments."""
from __future__ import annotations

import re
from collections import Counter

from ..actions import FileEdit, citable

FALSY = re.compile(r"^[\"']?(false|off|no|none|null|disabled?|0|never|n)[\"']?,?$", re.I)
TRUTHY = re.compile(r"^[\"']?(true|on|yes|1|enabled?|y)[\"']?,?$", re.I)
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+|set\s+|-\s+)?[\"']?([A-Za-z_][\w.\-\[\]\"']*?)[\"']?\s*(?::|=|\s)\s*"
                         r"(\"[^\"]*\"|'[^']*'|[^\s#;,]+)[,;]?\s*(?:#.*)?$")
DOC_EXT = re.compile(r"\.(md|rst|txt|adoc|html?)$", re.I)


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def stem_words(path: str) -> tuple[str, ...]:
    """Words of a path's base name for request matching (``/data/archive/`` -> ``archive``)."""
    base = basename(path).split(".")[0]
    words = [w for w in re.split(r"[^A-Za-z0-9]+", base) if len(w) >= 3]
    return tuple(dict.fromkeys([base.lower()] + [w.lower() for w in words])) if base else ()


def added_removed(edit: FileEdit, known_old: str | None = None) -> tuple[list[str], list[str]]:
    """Lines the edit adds and removes (a multiset difference of old and new)."""
    old = edit.old if edit.old is not None else (known_old or "")
    new = edit.new or ""
    old_lines = [ln for ln in old.splitlines() if ln.strip()]
    new_lines = [ln for ln in new.splitlines() if ln.strip()]
    oc, nc = Counter(ln.strip() for ln in old_lines), Counter(ln.strip() for ln in new_lines)
    added = [ln for ln in new_lines if _take(nc, oc, ln.strip())]
    oc2, nc2 = Counter(ln.strip() for ln in old_lines), Counter(ln.strip() for ln in new_lines)
    removed = [ln for ln in old_lines if _take(oc2, nc2, ln.strip())]
    return added, removed


def _take(mine: Counter[str], other: Counter[str], key: str) -> bool:
    """True when ``key`` is in excess on ``mine``'s side (consumes one occurrence)."""
    if other[key] > 0:
        other[key] -= 1
        return False
    return True


def assignment(line: str) -> tuple[str, str] | None:
    """``(key, value)`` of a config-style line (``key: v``, ``key = v``, ``KEY=v``, ``--key v``)."""
    m = _ASSIGNMENT.match(line)
    if not m:
        return None
    key = m.group(1).strip("\"'")
    return key, m.group(2).strip("\"'")


def disables(key: str, value: str) -> bool:
    """``enabled: false`` or ``disable_x: true`` (a double negative such as
    ``disable_existing_loggers: false`` does not disable anything)."""
    negative_key = bool(re.search(r"(^|[._-])(disabled?|no|skip|off|mute|suppress)([._-]|$)|^disable|^no_", key, re.I))
    if negative_key:
        return bool(TRUTHY.match(value))
    return bool(FALSY.match(value)) or (bool(re.search(r"level$", key, re.I))
                                         and value.lower() in ("off", "none", "disabled"))


def parent_context(lines: list[str], idx: int, limit: int = 8) -> str:
    """The enclosing YAML key / INI or TOML section of ``lines[idx]`` (lower-cased), or ''."""
    line = lines[idx]
    indent = len(line) - len(line.lstrip())
    out = []
    for j in range(idx - 1, max(-1, idx - 1 - limit), -1):
        prev = lines[j]
        if not prev.strip():
            continue
        pind = len(prev) - len(prev.lstrip())
        stripped = prev.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            out.append(stripped)
            break
        if pind < indent and (stripped.endswith(":") or stripped.endswith("{")):
            out.append(stripped)
            indent = pind
    return " ".join(out).lower()


def cite(edit: FileEdit, line: str) -> str:
    """A verbatim quote for ``line`` of an edit, else the edit's own quote."""
    return citable(edit.ref.call, line.strip(), edit.quote)


def is_remote(arg: str) -> bool:
    """``host:path``, ``user@host:path``, ``s3://``, ``gs://``, ``https://`` ... (not ``C:\\``)."""
    if re.match(r"^(s3|gs|az|abfss?|wasbs?|r2|b2|hf|ftp|sftp|https?|rsync|ssh|scp)://", arg, re.I):
        return True
    return bool(re.match(r"^(?:[\w.+-]+@)?[A-Za-z0-9][\w.-]*:(?!//)", arg)) and not re.match(r"^[A-Za-z]:[\\/]", arg)


def flags_value(args: tuple[str, ...] | list[str], *names: str) -> list[str]:
    """Values of ``--name value`` / ``--name=value`` / ``-n value`` options."""
    out = []
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                out.append(args[i + 1])
            elif n.startswith("--") and a.startswith(n + "="):
                out.append(a[len(n) + 1:])
            elif len(n) == 2 and a.startswith(n) and len(a) > 2 and not a.startswith("--"):
                out.append(a[2:])
    return out
