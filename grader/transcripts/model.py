"""The transcript model every loader produces and every check and judge reads.

Messages keep their 0-based position (``index``) in ``Transcript.messages``, system
message included: checks, the judge prompt and the report all cite that index.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class ToolCall:
    """A call the assistant made. ``arguments`` is the parsed JSON object when the
    input carried valid JSON, else the raw string exactly as given."""

    id: str | None
    name: str
    arguments: Any = field(default_factory=dict)

    def arguments_text(self) -> str:
        """Arguments as one string, for pattern matching and quoting."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False, sort_keys=True)

    def argument_strings(self) -> Iterator[tuple[str, str]]:
        """Every string leaf of the arguments as (dotted key, value)."""
        yield from _leaves("", self.arguments)


def _leaves(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(f"{prefix}.{k}" if prefix else str(k), v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(f"{prefix}[{i}]", v)
    elif value is not None:
        yield prefix, value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Message:
    index: int
    role: str
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    reasoning: str | None = None
    name: str | None = None  # tool name on tool results, speaker name otherwise
    is_error: bool = False  # a tool result the input marked as an error

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"index": self.index, "role": self.role, "content": self.content}
        if self.tool_calls:
            d["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls
            ]
        for key in ("tool_call_id", "reasoning", "name"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        if self.is_error:
            d["is_error"] = True
        return d


@dataclass(frozen=True)
class Source:
    """Where a transcript came from: the file and a position inside it
    (``line 12``, ``item 3``, ``sample 7 epoch 1``; empty for a whole file)."""

    path: str
    locator: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "locator": self.locator}

    def __str__(self) -> str:
        return f"{self.path}:{self.locator}" if self.locator else self.path


@dataclass(frozen=True)
class Transcript:
    id: str
    messages: tuple[Message, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: Source = field(default_factory=lambda: Source(""))

    # -- convenience views used by checks -------------------------------------------------
    def by_role(self, *roles: str) -> Iterator[Message]:
        return (m for m in self.messages if m.role in roles)

    @property
    def has_tool_calls(self) -> bool:
        return any(m.tool_calls for m in self.messages)

    def tool_call_result(self, call: ToolCall) -> Message | None:
        """The tool message answering ``call`` (by id, else the next tool message)."""
        after = False
        for m in self.messages:
            if m.role == "tool" and call.id and m.tool_call_id == call.id:
                return m
        for m in self.messages:
            if any(c is call for c in m.tool_calls):
                after = True
                continue
            if after and m.role == "tool":
                return m
            if after and m.role != "tool":
                return None
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source.to_dict(),
            "metadata": dict(self.metadata),
            "messages": [m.to_dict() for m in self.messages],
        }

    def content_hash(self) -> str:
        """sha256 of the messages only (not metadata or source): the same conversation
        hashes the same wherever it was read from."""
        payload = json.dumps([m.to_dict() for m in self.messages], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    # -- constructors for library users ---------------------------------------------------
    @classmethod
    def from_openai(cls, messages: list[dict[str, Any]], *, id: str | None = None,
                    metadata: Mapping[str, Any] | None = None) -> "Transcript":
        """Build a transcript from OpenAI chat ``messages``.

        >>> t = Transcript.from_openai([{"role": "user", "content": "hi"},
        ...                             {"role": "assistant", "content": "hello"}])
        >>> [m.role for m in t.messages]
        ['user', 'assistant']
        """
        from .openai_format import messages_from_openai

        msgs = messages_from_openai(messages, "<memory>", "")
        return _finish(msgs, id, metadata, Source("<memory>"))

    @classmethod
    def from_anthropic(cls, system: Any, messages: list[dict[str, Any]], *, id: str | None = None,
                       metadata: Mapping[str, Any] | None = None) -> "Transcript":
        """Build a transcript from an Anthropic Messages ``system`` and ``messages``.

        >>> t = Transcript.from_anthropic("Be brief.", [{"role": "user", "content": "hi"}])
        >>> [m.role for m in t.messages]
        ['system', 'user']
        """
        from .anthropic_format import messages_from_anthropic

        msgs = messages_from_anthropic(system, messages, "<memory>", "")
        return _finish(msgs, id, metadata, Source("<memory>"))


def _finish(msgs: tuple[Message, ...], id: str | None, metadata: Mapping[str, Any] | None,
            source: Source) -> Transcript:
    t = Transcript(id="", messages=msgs, metadata=dict(metadata or {}), source=source)
    return Transcript(id=id or "mem-" + t.content_hash()[:12], messages=msgs,
                      metadata=t.metadata, source=source)
