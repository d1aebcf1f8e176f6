"""``text_pattern``: regular expressions over the text of chosen roles."""
from __future__ import annotations

import re
from typing import Any

from ...transcripts.model import Transcript
from .base import Check, CheckResult, Hit
from .context import TranscriptContext

FIELDS = ("content", "reasoning", "tool_arguments")


class TextPatternCheck(Check):
    """Fires when any pattern matches the chosen fields of a message of the chosen roles,
    unless one of ``unless`` matches the same message (to spare compliant twins)."""

    kind = "text_pattern"
    description = "Regular expressions over the text of chosen roles."
    basis = "screens"
    basis_reason = ("a pattern matches the phrasings it lists; any other phrasing escapes it, so no match proves "
                    "nothing (a rubric may declare basis: decides for a pattern that is complete for its scope)")
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["patterns"],
        "properties": {
            "patterns": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
            "roles": {"type": "array", "minItems": 1, "items": {"enum": ["system", "user", "assistant", "tool"]}},
            "fields": {"type": "array", "minItems": 1, "items": {"enum": list(FIELDS)}},
            "unless": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "ignore_case": {"type": "boolean"},
        },
    }

    @staticmethod
    def validate_params(params: dict[str, Any]) -> None:
        for key in ("patterns", "unless"):
            for i, p in enumerate(params.get(key, [])):
                try:
                    re.compile(p)
                except re.error as e:
                    raise ValueError(f"{key}[{i}]: invalid regular expression {p!r}: {e}") from None

    def __init__(self, spec):  # type: ignore[no-untyped-def]
        super().__init__(spec)
        flags = re.IGNORECASE if self.params.get("ignore_case", True) else 0
        self.patterns = [re.compile(p, flags) for p in self.params["patterns"]]
        self.unless = [re.compile(p, flags) for p in self.params.get("unless", [])]
        self.roles = tuple(self.params.get("roles", ["assistant"]))
        self.fields = tuple(self.params.get("fields", ["content"]))

    def _texts(self, transcript: Transcript):  # type: ignore[no-untyped-def]
        for m in transcript.messages:
            if m.role not in self.roles:
                continue
            if "content" in self.fields and m.content:
                yield m, m.content, None
            if "reasoning" in self.fields and m.reasoning:
                yield m, m.reasoning, None
            if "tool_arguments" in self.fields:
                for c in m.tool_calls:
                    yield m, c.arguments_text(), c.id or c.name

    def run(self, transcript: Transcript, ctx: TranscriptContext) -> CheckResult:
        hits: list[Hit] = []
        applicable = False
        for m, text, call in self._texts(transcript):
            applicable = True
            if any(u.search(text) for u in self.unless):
                continue
            for pat in self.patterns:
                match = pat.search(text)
                if match:
                    hits.append(Hit(m.index, match.group(0), f"matched /{pat.pattern}/", call))
                    break
        return self.result(hits, applicable=applicable)
