"""Plain-text transcripts (``.txt``, and ``.md`` files that contain turn markers).

A turn starts at a line that begins (no indentation) with a marker and a colon:
``User:`` / ``Human:`` -> user, ``Assistant:`` / ``AI:`` -> assistant, ``System:`` -> system,
``Tool:`` -> tool. Markers are recognised in Title case or UPPER case only (``USER:``), so
lower-case ``user: alice`` lines inside code or config stay part of the turn; Markdown bold
(``**User:**`` or ``**User**:``) is accepted. Text after the marker starts the turn, and every
following line up to the next marker belongs to it (continuation lines). Each turn's content
has its surrounding blank lines and trailing whitespace removed.

Before the first marker only blank lines and Markdown headings (``# ...``) are allowed;
any other text there is an InputError naming its line, and so is a file with no marker.
One file is one transcript; its id is ``<file stem>-<first 8 hex of content_hash()>``.
"""
from __future__ import annotations

import re

from ..errors import InputError
from .jsonio import decode, empty_reason, read_bytes
from .model import Message, Source, Transcript
from .objects import make_transcript

_ROLE = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant",
         "system": "system", "tool": "tool"}
_WORDS = "|".join(w for r in _ROLE for w in (r.capitalize(), r.upper()) if w != "Ai")
_MARKER = re.compile(rf"(?:\*\*)?({_WORDS})(?:\*\*)?:(?:\*\*)?(?:[ \t]+|$)")
_LEADING_BLANK = re.compile(r"\A(?:[ \t]*\n)+")
MARKERS_HELP = "User:, Human:, Assistant:, AI:, System: or Tool:"


def has_markers(text: str) -> bool:
    """True when some line starts with a turn marker."""
    return any(_MARKER.match(line) for line in text.splitlines())


def read_text_file(path: str, stem: str, only_if_marked: bool = False) -> Transcript | None:
    """Read one text transcript; None when ``only_if_marked`` and the file has no
    marker (Markdown notes in a folder). Raises InputError."""
    data = read_bytes(path)
    reason = empty_reason(data)
    if reason:
        if only_if_marked:
            return None
        raise InputError(path, "", reason)
    text = decode(data, path)
    if only_if_marked and not has_markers(text):
        return None
    msgs = parse_text(text, path)
    return make_transcript(msgs, {}, Source(path, ""), None, stem, None)


def parse_text(text: str, path: str = "<text>") -> tuple[Message, ...]:
    """Split ``text`` into messages at turn markers (see module doc)."""
    lines = text.splitlines()
    if not any(_MARKER.match(line) for line in lines):
        raise InputError(path, "", f"no turn markers (a turn starts with a line beginning {MARKERS_HELP})")
    turns: list[tuple[str, list[str]]] = []
    for n, line in enumerate(lines, 1):
        m = _MARKER.match(line)
        if m:
            turns.append((_ROLE[m.group(1).lower()], [line[m.end():]]))
        elif turns:
            turns[-1][1].append(line)
        elif line.strip() and not line.startswith("#"):
            raise InputError(path, f"line {n}", f"text before the first turn marker (a turn starts with {MARKERS_HELP})")
    return tuple(Message(i, role, _LEADING_BLANK.sub("", "\n".join(body).rstrip()))
                 for i, (role, body) in enumerate(turns))


def transcript_from_text(text: str, id: str | None = None) -> Transcript:
    """Library helper: a Transcript from a string in the plain-text format."""
    msgs = parse_text(text)
    return make_transcript(msgs, {}, Source("<memory>", ""), id, "text", None)
