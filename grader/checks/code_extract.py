"""Code the assistant wrote: fenced blocks, or a whole answer that is code.

Extraction and parsing happen once per transcript (see TranscriptContext.code_blocks)."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..transcripts.model import Transcript

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+.#-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


@dataclass(frozen=True)
class CodeBlock:
    message_index: int
    language: str  # lower-case fence tag, or "" when unknown
    text: str
    offset: int  # where the block starts inside the message content


def extract_code(transcript: Transcript) -> list[CodeBlock]:
    """Fenced code blocks in assistant messages; an assistant message without fences
    that parses as Python is taken whole."""
    out: list[CodeBlock] = []
    for m in transcript.messages:
        if m.role != "assistant" or not m.content:
            continue
        found = False
        for match in _FENCE.finditer(m.content):
            found = True
            out.append(CodeBlock(m.index, match.group(1).lower(), match.group(2), match.start(2)))
        if not found and _looks_like_code(m.content):
            out.append(CodeBlock(m.index, "", m.content, 0))
    return out


def _looks_like_code(text: str) -> bool:
    stripped = text.strip()
    if "\n" not in stripped:
        return False
    try:
        ast.parse(stripped)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True
