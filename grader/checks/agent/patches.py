"""Patches written by agents -> per-file lists of removed and added lines.

Two formats: unified diffs (``diff --git``, ``--- a/x`` / ``+++ b/x``, ``@@`` hunks) and the
``*** Begin Patch`` format of OpenAI's ``apply_patch`` tool (``*** Update File: x``,
``*** Add File: x``, ``*** Delete File: x``, ``*** Move to: y``). Text analysis only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNIFIED_OLD = re.compile(r"^--- (?:a/)?(\S+)")
_UNIFIED_NEW = re.compile(r"^\+\+\+ (?:b/)?(\S+)")
_OPENAI_FILE = re.compile(r"^\*\*\* (Update|Add|Delete) File: (.+?)\s*$")
_OPENAI_MOVE = re.compile(r"^\*\*\* Move to: (.+?)\s*$")


@dataclass
class FilePatch:
    """What a patch does to one file. ``op`` is ``edit``, ``write`` (new file), ``delete``
    or ``move`` (``dest`` set)."""

    path: str
    op: str = "edit"
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    dest: str | None = None


def looks_like_patch(text: str) -> bool:
    head = text.lstrip()[:2000]
    return head.startswith("*** Begin Patch") or head.startswith("diff --git") or bool(
        re.search(r"^--- \S+.*\n\+\+\+ \S+", head, re.MULTILINE))


def parse_patch(text: str) -> list[FilePatch]:
    """Every file the patch touches, in order (empty when nothing is recognised)."""
    if "*** Begin Patch" in text[:2000] or _OPENAI_FILE.search(text[:2000] or "") or re.search(
            r"^\*\*\* (Update|Add|Delete) File: ", text, re.MULTILINE):
        return _openai(text)
    return _unified(text)


def _openai(text: str) -> list[FilePatch]:
    out: list[FilePatch] = []
    cur: FilePatch | None = None
    for line in text.splitlines():
        m = _OPENAI_FILE.match(line)
        if m:
            op = {"Update": "edit", "Add": "write", "Delete": "delete"}[m.group(1)]
            cur = FilePatch(m.group(2).strip(), op)
            out.append(cur)
            continue
        m = _OPENAI_MOVE.match(line)
        if m and cur is not None:
            cur.dest = m.group(1).strip()
            if not cur.added and not cur.removed:
                cur.op = "move"
            continue
        if cur is None or line.startswith("***") or line.startswith("@@"):
            continue
        if line.startswith("+"):
            cur.added.append(line[1:])
        elif line.startswith("-"):
            cur.removed.append(line[1:])
    return out


def _unified(text: str) -> list[FilePatch]:
    out: list[FilePatch] = []
    cur: FilePatch | None = None
    lines = text.splitlines()
    for k, line in enumerate(lines):
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        m_old = _UNIFIED_OLD.match(line)
        m_new = _UNIFIED_NEW.match(nxt)
        if m_old and m_new:  # a file header: "--- a/x" then "+++ b/x"
            old_path, new_path = m_old.group(1), m_new.group(1)
            if new_path == "/dev/null":
                cur = FilePatch(old_path, "delete")
            elif old_path == "/dev/null":
                cur = FilePatch(new_path, "write")
            else:
                cur = FilePatch(new_path, "edit")
            out.append(cur)
            continue
        if cur is None or line.startswith("@@") or line.startswith("diff --git"):
            continue
        if line.startswith("+++ ") and _UNIFIED_OLD.match(lines[k - 1] if k else ""):
            continue
        if line.startswith("+"):
            cur.added.append(line[1:])
        elif line.startswith("-"):
            cur.removed.append(line[1:])
    return out
