"""Plain-text transcripts (``.txt``, and ``.md`` files that contain turn markers).

A turn starts at a line that begins (no indentation) with one of these markers:

- a role word and a colon: ``User:`` / ``Human:`` -> user, ``Assistant:`` / ``AI:`` ->
  assistant, ``System:`` -> system, ``Tool:`` -> tool; Markdown bold is accepted
  (``**User:**`` or ``**User**:``). Text after the marker starts the turn;
- a header line of dashes around the role, as chat exporters write them:
  ``--- USER ---``, ``--- ASSISTANT 2026-05-01 10:02:11 ---``, ``----- SYSTEM -----``
  (anything between the role and the closing dashes, such as a time or a model name, is
  dropped); the turn's text starts on the next line;
- a Markdown heading that is only a role: ``### User``, ``## Assistant``, ``## **Tool**``
  (a trailing colon is allowed); the turn's text starts on the next line.

Header lines and headings also know ``You`` (user) and ``ChatGPT``, ``Claude``, ``Gemini``
(assistant), the speaker names chat exporters use. Role words are recognised in Title case
or UPPER case only (``USER:``), so lower-case ``user: alice`` lines inside code or config stay
part of the turn. The first marker's style (colon, header line or heading) is the file's: a
line in another style is content (a ``User:`` line quoted under ``--- ASSISTANT ---``). Every
line after a marker up to the next marker belongs to its turn (continuation lines), code
blocks included. Each turn's content has its surrounding blank
lines and trailing whitespace removed.

Before the first marker only blank lines, Markdown headings (``# ...``) and, at the top, a
YAML front matter block (``---`` ... ``---``, as note apps write) are allowed;
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
# speaker names of chat exporters, known in header lines and headings only
_SPEAKERS = {**_ROLE, "you": "user", "chatgpt": "assistant", "claude": "assistant", "gemini": "assistant"}
_SPEAKER_WORDS = "|".join(sorted(({w for r in _SPEAKERS for w in (r.capitalize(), r.upper())} | {"ChatGPT"})
                                 - {"Ai", "Chatgpt"}))
_DASH_HEADER = re.compile(rf"-{{3,}}[ \t]*({_SPEAKER_WORDS})(?:[ \t]+[^\n]*?)?[ \t]*-{{3,}}[ \t]*\Z")
_HEADING = re.compile(rf"#{{1,6}}[ \t]+(?:\*\*)?({_SPEAKER_WORDS})(?:\*\*)?[ \t]*:?[ \t]*\Z")
_LEADING_BLANK = re.compile(r"\A(?:[ \t]*\n)+")
MARKERS_HELP = ("User:, Human:, Assistant:, AI:, System: or Tool:, a header such as --- USER ---, "
                "or a heading such as ### User")


def _turn_start(line: str) -> tuple[str, str, str] | None:
    """(role, text after the marker, marker style) when ``line`` starts a turn, else None."""
    if line.startswith("-"):
        m = _DASH_HEADER.match(line)
        return (_SPEAKERS[m.group(1).lower()], "", "header") if m else None
    if line.startswith("#"):
        m = _HEADING.match(line)
        return (_SPEAKERS[m.group(1).lower()], "", "heading") if m else None
    m = _MARKER.match(line)
    return (_ROLE[m.group(1).lower()], line[m.end():], "colon") if m else None


def has_markers(text: str) -> bool:
    """True when some line starts with a turn marker."""
    return any(_turn_start(line) for line in text.splitlines())


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
    if not any(_turn_start(line) for line in lines):
        raise InputError(path, "", f"no turn markers (a turn starts with a line beginning {MARKERS_HELP})")
    turns: list[tuple[str, list[str]]] = []
    style: str | None = None  # the first marker's style; other styles are then content
    skip = _front_matter_end(lines)
    for n, line in enumerate(lines, 1):
        if n <= skip:
            continue
        start = _turn_start(line)
        if start and style in (None, start[2]):
            style = start[2]
            turns.append((start[0], [start[1]]))
        elif turns:
            turns[-1][1].append(line)
        elif line.strip() and not line.startswith("#"):
            raise InputError(path, f"line {n}", f"text before the first turn marker (a turn starts with {MARKERS_HELP})")
    return tuple(Message(i, role, _LEADING_BLANK.sub("", "\n".join(body).rstrip()))
                 for i, (role, body) in enumerate(turns))


def _front_matter_end(lines: list[str]) -> int:
    """The 1-based line closing a YAML front matter block at the top, else 0."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for n, line in enumerate(lines[1:], 2):
        if line.rstrip() in ("---", "..."):
            return n
    return 0


def transcript_from_text(text: str, id: str | None = None) -> Transcript:
    """Library helper: a Transcript from a string in the plain-text format."""
    msgs = parse_text(text)
    return make_transcript(msgs, {}, Source("<memory>", ""), id, "text", None)
