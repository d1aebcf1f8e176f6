"""Verifying the judge's quotes against the transcript.

Order: the cited message exactly, then whitespace-insensitively (typographic quotes,
JSON escapes and ``...`` elisions tolerated), then fuzzily; then the same three stages on
the neighbouring messages. Each message is searched in its content, reasoning, its
rendering in the prompt (neutralised text included) and its tool calls' arguments.

A quote found in another message than the one cited is recorded at the message where it
was found (the report then points the reader at the right place); a quote found nowhere
keeps the cited index and ``verified=False``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from rapidfuzz import fuzz

from ..run.folder import Evidence
from ..transcripts.model import Message, Transcript
from .prompt import MARKER

FUZZY_MIN_LEN = 16  # shorter quotes must match exactly or whitespace-insensitively
SHORT_QUOTE = 8  # shorter quotes count only as whole words in the cited message itself
MIN_PIECE = 3  # each part of an elided quote ("a ... b") must be at least this long
FUZZY_SCORE = 92.0  # rapidfuzz partial_ratio (0-100) needed for a fuzzy match
NEIGHBOURS = 1  # how many messages either side of the cited one are searched

_TYPO = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                       "\u2014": "-", "\u00a0": " ", "\u2039": "<", "\u203a": ">"})
_WS = re.compile(r"\s+")
_ELLIPSIS = re.compile(r"\.\.\.|\u2026|\[\.\.\.\]")
# Words and figures whose loss or change flips what was said: a fuzzy or elided match must
# keep them ("I did delete" is not a slip for "I did not delete", nor "3 failed" for "0 failed").
_NEGATION = re.compile(r"\b(?:not|no|never|none|nothing|nobody|neither|nor|cannot|without)\b|n't\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_LABELS = re.compile(r"^(?:\[tool call[^\n]*\]|\[/?reasoning\]|\(empty\))$\n?", re.M)
_SQUASHED_NEGATION = re.compile(r"not|n't|never|cannot", re.I)  # in text with whitespace removed


@dataclass(frozen=True)
class _Target:
    text: str
    tool_call: str | None = None


def _targets(m: Message, rendered: str | None) -> list[_Target]:
    out = [_Target(m.content)]
    if m.reasoning:
        out.append(_Target(m.reasoning))
    for call in m.tool_calls:
        label = call.id or call.name
        out.append(_Target(call.arguments_text(), label))
        out.extend(_Target(v, label) for _, v in call.argument_strings())
        out.append(_Target(call.name, label))
    if rendered:
        out.append(_Target(_without_header(rendered)))
    return [t for t in out if t.text]


def _without_header(rendered: str) -> str:
    """The prompt's rendering of a message without the lines the grader adds: the
    ``### message N · role`` header and the ``[tool call ...]``, ``[reasoning]`` and
    ``(empty)`` labels (the transcript's own text is searched in the other targets)."""
    if rendered.startswith("### message"):
        rendered = rendered.partition("\n")[2]
    return _LABELS.sub("", rendered)


def _squash(text: str) -> str:
    """Whitespace removed, typographic characters folded, JSON escapes undone."""
    text = text.translate(_TYPO).replace("\\n", "\n").replace("\\t", "\t").replace('\\"', '"')
    return _WS.sub("", text)


def _fold(text: str) -> str:
    return _WS.sub(" ", text.translate(_TYPO)).strip().casefold()


def clean_quote(quote: str) -> str:
    """The quote without grader markers and surrounding quotation marks or whitespace."""
    q = quote.replace(MARKER, "").replace(MARKER.strip(), "").strip()
    if len(q) >= 2 and q[0] == q[-1] and q[0] in "\"'\u201c\u201d":
        q = q[1:-1].strip()
    return q


def _exact(q: str, text: str) -> bool:
    return q in text


def _whitespace(q: str, text: str) -> bool:
    hay = _squash(text)
    pieces = [p for p in (_squash(x) for x in _ELLIPSIS.split(q)) if p]
    if not pieces or (len(pieces) > 1 and min(map(len, pieces)) < MIN_PIECE):
        return False
    pos = 0
    for i, p in enumerate(pieces):
        found = hay.find(p, pos)
        if found < 0:
            return False
        if i and _SQUASHED_NEGATION.search(hay, pos, found):
            return False  # the elision drops a negation ("I will ... delete" for "I will not delete")
        pos = found + len(p)
    return True


def _fuzzy(q: str, text: str) -> bool:
    a, b = _fold(q), _fold(text)
    if len(a) < FUZZY_MIN_LEN or len(a) > len(b) + 2:
        return False
    hit = fuzz.partial_ratio_alignment(a, b, score_cutoff=FUZZY_SCORE)
    if hit is None or hit.score < FUZZY_SCORE:
        return False
    # the matched stretch, widened by a word either side (the alignment may stop short of one)
    left, right = b[:hit.dest_start].split(" ")[-2:], b[hit.dest_end:].split(" ")[:2]
    span = " ".join(left) + b[hit.dest_start:hit.dest_end] + " ".join(right)
    return _critical(a) == _critical(span)


def _critical(text: str) -> tuple[list[str], list[str]]:
    return sorted(_NEGATION.findall(text)), _NUMBER.findall(text)


_STAGES: tuple[Callable[[str, str], bool], ...] = (_exact, _whitespace, _fuzzy)


def _order(cited: int, n: int) -> Iterator[int]:
    if 0 <= cited < n:
        yield cited
    for d in range(1, NEIGHBOURS + 1):
        for i in (cited - d, cited + d):
            if 0 <= i < n:
                yield i


def locate(transcript: Transcript, cited: int, quote: str,
           rendered: Sequence[str] | None = None) -> tuple[int, str | None] | None:
    """``(message_index, tool_call)`` where the quote is found, or None."""
    q = clean_quote(quote)
    if not q:
        return None
    msgs = transcript.messages
    if len(q) < SHORT_QUOTE:  # "e" or "No" is found almost anywhere: whole words, cited message only
        if not 0 <= cited < len(msgs):
            return None
        word = re.compile(rf"(?<!\w){re.escape(q)}(?!\w)")
        for t in _targets(msgs[cited], None):
            if word.search(t.text):
                return msgs[cited].index, t.tool_call
        return None
    order = list(_order(cited, len(msgs)))
    groups = [order[:1], order[1:]] if order and order[0] == cited else [[], order]
    for group in groups:
        for stage in _STAGES:
            for i in group:
                body = rendered[i] if rendered is not None and i < len(rendered) else None
                for t in _targets(msgs[i], body):
                    if stage(q, t.text):
                        return msgs[i].index, t.tool_call
    return None


def verify(transcript: Transcript, evidence: Sequence[tuple[int, str]],
           rendered: Sequence[str] | None = None) -> tuple[Evidence, ...]:
    """Each (cited index, quote) as an :class:`Evidence` with ``verified`` set."""
    out = []
    for cited, quote in evidence:
        where = locate(transcript, cited, quote, rendered)
        if where is None:
            out.append(Evidence(cited, quote, False))
        else:
            out.append(Evidence(where[0], quote, True, None, where[1]))
    return tuple(out)
