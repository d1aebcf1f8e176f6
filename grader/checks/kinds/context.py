"""Per-transcript values computed once and shared by every check (read each transcript
once, extract and parse code once)."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from ...transcripts.model import Transcript


class TranscriptContext:
    """Lazily computed views of one transcript, shared by all checks run on it."""

    def __init__(self, transcript: Transcript):
        self.transcript = transcript
        self._cache: dict[str, Any] = {}

    def memo(self, key: str, compute):  # type: ignore[no-untyped-def]
        """Compute ``compute()`` once per transcript under ``key`` (for check kinds that
        share expensive work, such as parsing code)."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @cached_property
    def has_tool_calls(self) -> bool:
        return self.transcript.has_tool_calls

    @cached_property
    def has_reasoning(self) -> bool:
        return any(m.reasoning for m in self.transcript.messages)

    @cached_property
    def final_assistant_index(self) -> int | None:
        for m in reversed(self.transcript.messages):
            if m.role == "assistant" and m.content.strip():
                return m.index
        return None

    @cached_property
    def code_blocks(self):  # type: ignore[no-untyped-def]
        """Code the assistant wrote (see :mod:`grader.checks.security.code_extract`)."""
        from ..security.code_extract import extract_code

        return extract_code(self.transcript)
