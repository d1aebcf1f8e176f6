"""One parsed JSON value (a JSONL line, a JSON list item, a whole JSON file) -> Transcript.

A conversation is an object with a ``messages`` list (a bare list of messages is accepted
too). It is read as Anthropic when it has a top-level ``system`` key or any content block of
an Anthropic-only type (tool_use, tool_result, thinking, redacted_thinking, any
``*_tool_result``), else as OpenAI;
a ``format`` given by the caller overrides this.

Metadata: the keys of a top-level ``metadata`` object, then every other top-level key except
``messages``, ``system`` and ``tools`` (so ``id``, ``model``, labels ... are kept).

Id: the input's own ``id`` (top level, else ``metadata.id``) when it is a non-empty string or
an integer; otherwise ``<file stem>-<number>-<first 8 hex of content_hash()>`` where number is
the 1-based line of a JSONL file or the 0-based item of a JSON list, and
``<file stem>-<8 hex>`` for a file holding one conversation. Same input, same id.
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError
from .anthropic_format import is_anthropic_block, messages_from_anthropic
from .common import check_depth, kind
from .model import Message, Source, Transcript
from .openai_format import messages_from_openai

_NOT_METADATA = frozenset({"messages", "system", "tools", "metadata"})


def detect_object_format(obj: dict[str, Any]) -> str:
    """``"anthropic"`` or ``"openai"`` for one conversation object (see module doc)."""
    if "system" in obj:
        return "anthropic"
    messages = obj.get("messages")
    if isinstance(messages, list):
        for m in messages:
            if isinstance(m, dict):
                content = m.get("content")
                if isinstance(content, list):
                    for b in content:
                        if isinstance(b, dict) and is_anthropic_block(b.get("type")):
                            return "anthropic"
    return "openai"


def is_bare_messages(value: Any) -> bool:
    """A list that looks like one conversation's messages rather than a list of conversations."""
    return (isinstance(value, list) and bool(value) and isinstance(value[0], dict)
            and "role" in value[0] and "messages" not in value[0])


def messages_of(obj: dict[str, Any], fmt: str | None, path: str, locator: str) -> tuple[Message, ...]:
    """The messages of a conversation object (``messages`` and, for Anthropic, ``system``)."""
    if (fmt or detect_object_format(obj)) == "anthropic":
        return messages_from_anthropic(obj.get("system"), obj["messages"], path, locator)
    return messages_from_openai(obj["messages"], path, locator)


def transcript_from_value(value: Any, fmt: str | None, path: str, locator: str, stem: str,
                          number: int | None) -> Transcript:
    """Build a Transcript or raise InputError (with ``path`` and ``locator``)."""
    if isinstance(value, dict):
        obj = value
    elif is_bare_messages(value):
        obj = {"messages": value}
    else:
        raise InputError(path, locator, f"expected a conversation object with a 'messages' list, got {kind(value)}")
    if "messages" not in obj:
        keys = ", ".join(sorted(map(str, obj))[:6]) or "none"
        raise InputError(path, locator, f"no 'messages' key in the object (keys: {keys})")
    if (fmt or detect_object_format(obj)) == "anthropic":
        msgs = messages_from_anthropic(obj.get("system"), obj["messages"], path, locator)
    else:
        msgs = messages_from_openai(obj["messages"], path, locator)
    if not msgs:
        raise InputError(path, locator, "conversation has no messages")
    metadata = _metadata(obj, path, locator)
    return make_transcript(msgs, metadata, Source(path, locator), _input_id(metadata), stem, number)


def make_transcript(msgs: tuple[Message, ...], metadata: dict[str, Any], source: Source,
                    given_id: str | None, stem: str, number: int | None) -> Transcript:
    """A Transcript with the given id, or the generated ``<stem>[-<number>]-<hash8>`` one."""
    if given_id is None:
        digest = Transcript("", msgs).content_hash()[:8]
        given_id = f"{stem}-{number}-{digest}" if number is not None else f"{stem}-{digest}"
    return Transcript(given_id, msgs, metadata, source)


def _metadata(obj: dict[str, Any], path: str, locator: str) -> dict[str, Any]:
    if len(obj) == 1:  # the common fine-tuning row: {"messages": [...]}
        return {}
    return metadata_of(obj, _NOT_METADATA, path, locator)


def metadata_of(obj: dict[str, Any], exclude: frozenset[str], path: str, locator: str) -> dict[str, Any]:
    """The keys of ``obj["metadata"]`` (an object), then every top-level key not in ``exclude``."""
    meta: dict[str, Any] = {}
    given = obj.get("metadata")
    if isinstance(given, dict):
        meta.update(given)
    elif given is not None:
        meta["metadata"] = given
    for key, value in obj.items():
        if key not in exclude and key != "metadata":
            meta[key] = value
    check_depth(meta, path, locator, "metadata")
    return meta


def input_id(meta: dict[str, Any]) -> str | None:
    """The input's own id (``id`` in its metadata) when it is a non-empty string or an integer."""
    return _input_id(meta)


def _input_id(meta: dict[str, Any]) -> str | None:
    ident = meta.get("id")
    if isinstance(ident, str) and ident.strip():
        return ident.strip()
    if isinstance(ident, int) and not isinstance(ident, bool):
        return str(ident)
    return None
