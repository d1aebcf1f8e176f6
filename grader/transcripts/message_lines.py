"""A JSONL file whose lines are each ONE message (``{"role": ..., "content": ...}``, OpenAI or
Anthropic, or a Responses item): the whole file is one conversation, in line order.

Detected when the first line is an object with a ``role`` (and no ``messages``) or a Responses
item ``type``. A line that is not an object is an InputError for that line and is left out;
the messages are read together (OpenAI or Anthropic detected as for one conversation), so a
bad message is one InputError for the file naming the message index. Per-line keys other
than the message's own are not kept. Id ``<file stem>-<8 hex>``; empty locator.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from ..errors import InputError
from .jsonio import iter_jsonl
from .model import Transcript
from .responses_format import is_item
from .shapes import transcripts_from_value


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and "messages" not in value and ("role" in value or is_item(value))


def detect(head: bytes, path: str) -> bool:
    for line in head.split(b"\n"):
        if line.strip():
            try:
                return _is_message(json.loads(line))
            except (ValueError, RecursionError):
                return False
    return False


def read(path: str, stem: str) -> Iterator[Transcript | InputError]:
    messages: list[Any] = []
    for item in iter_jsonl(path):
        if isinstance(item, InputError):
            yield item
            continue
        n, value = item
        if not isinstance(value, dict):
            yield InputError(path, f"line {n}", f"expected one message (an object with a 'role') per line, "
                                                f"got {type(value).__name__}")
            continue
        messages.append(value)
    if not messages:
        return
    try:
        yield from transcripts_from_value(messages, path, "", stem, None)
    except InputError as e:
        yield e
