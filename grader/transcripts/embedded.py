"""Event logs with chat messages embedded in some records: a reader factory.

Many agent harnesses log one JSON event a line (``{"ts": ..., "level": ..., "event": ...}``)
and put the chat message they sent or received inside some of those events. One such file is
one transcript. :func:`embedded_messages_reader` builds the ``read(path, stem)`` function of a
:class:`~grader.transcripts.formats.Format` for such logs from a few facts about them:

- ``payload_keys``: the keys whose value is an OpenAI or Anthropic chat message (an object
  with a ``role``), a list of them, or such JSON as a string. The first key present in a record
  wins. A string that is not JSON (``"message": "Step 1/10"``, a log line) is not a payload;
- ``event_filter(record)``: which records to look at (default: all);
- ``convert(record)``: for records that describe a message in their own shape (a tool event
  with ``tool``/``args``/``result``), the OpenAI-style message dict(s) it stands for, or None;
- ``metadata(record, meta)``: updates the transcript's metadata from any record (a model
  name in a log line, a run id).

Records that carry no payload are ignored (progress lines, frames, warnings). Tool results
without a ``tool_call_id`` are matched, in order and by tool name, to the calls of the
assistant message before them, so a log that records results without ids still pairs each
result with its call. Messages are read as Anthropic when any carries an Anthropic-only block
(``tool_use``, ``tool_result``, ``thinking``), else as OpenAI; ``message_format`` fixes it.

A line that is not valid JSON, or a payload of the wrong shape, is an ``InputError`` naming the
file and line; a file with such a line yields its errors and no transcript (a transcript with
a message missing would be graded as if complete). A file with no payload at all is one
``InputError``. The transcript's id is ``<file stem>-<first 8 hex of content_hash()>``; its
metadata holds ``file`` (the file name) and whatever ``metadata`` added.
"""
from __future__ import annotations

import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

from ..errors import InputError, UsageError
from .anthropic_format import messages_from_anthropic
from .common import check_depth, kind
from .formats import ReadFn
from .jsonio import iter_jsonl, loads
from .model import Message, Source, Transcript
from .objects import detect_object_format, make_transcript
from .openai_format import messages_from_openai

Record = dict[str, Any]
MessageDicts = Union[Record, Sequence[Record], None]
ConvertFn = Callable[[Record], MessageDicts]
MetadataFn = Callable[[Record, dict[str, Any]], None]


def embedded_messages_reader(payload_keys: Sequence[str] = ("payload",),
                             event_filter: Optional[Callable[[Record], bool]] = None,
                             convert: Optional[ConvertFn] = None,
                             metadata: Optional[MetadataFn] = None,
                             message_format: Optional[str] = None) -> ReadFn:
    """A ``read(path, stem)`` for JSONL event logs whose records embed chat messages
    (see module doc). ``message_format``: ``"openai"``, ``"anthropic"`` or None (detected)."""
    keys = tuple(payload_keys)
    if message_format not in (None, "openai", "anthropic"):
        raise UsageError(f"message_format must be 'openai', 'anthropic' or None, not {message_format!r}")

    def read(path: str, stem: str) -> Iterator[Union[Transcript, InputError]]:
        return read_embedded(path, stem, keys, event_filter, convert, metadata, message_format)

    return read


def read_embedded(path: str, stem: str, payload_keys: Sequence[str],
                  event_filter: Optional[Callable[[Record], bool]] = None,
                  convert: Optional[ConvertFn] = None, metadata: Optional[MetadataFn] = None,
                  message_format: Optional[str] = None) -> Iterator[Union[Transcript, InputError]]:
    """Read one event log as one transcript (see module doc)."""
    messages: list[Record] = []
    lines: list[int] = []  # the line each message came from, for error messages
    meta: dict[str, Any] = {"file": os.path.basename(path)}
    failed = False
    for item in iter_jsonl(path):
        if isinstance(item, InputError):
            failed = True
            yield item
            continue
        n, record = item
        if not isinstance(record, dict):
            continue  # not an event record: nothing to take from it
        try:
            if metadata is not None:
                metadata(record, meta)
            if event_filter is not None and not event_filter(record):
                continue
            found = _payload(record, payload_keys, path, n)
            if found is None and convert is not None:
                found = _as_list(convert(record), path, n, "converted record")
        except InputError as e:
            failed = True
            yield e
            continue
        if found:
            messages.extend(found)
            lines.extend([n] * len(found))
    if failed:
        return
    if not messages:
        yield InputError(path, "", f"no chat message in any record (looked for keys: {', '.join(payload_keys)})")
        return
    _pair_tool_results(messages)
    try:
        check_depth(meta, path, "", "metadata")
        msgs = _messages(messages, lines, path, message_format)
    except InputError as e:
        yield e
        return
    yield make_transcript(msgs, meta, Source(path, ""), None, stem, None)


def _payload(record: Record, keys: Sequence[str], path: str, n: int) -> Optional[list[Record]]:
    for key in keys:
        if key not in record:
            continue
        value = record[key]
        if isinstance(value, str):
            text = value.lstrip()
            if not text.startswith(("{", "[")):
                return None  # a log line under a payload-like key
            try:
                value = loads(text)
            except (ValueError, RecursionError):
                raise InputError(path, f"line {n}", f"'{key}' holds a string that is not valid JSON") from None
        return _as_list(value, path, n, f"'{key}'")
    return None


def _as_list(value: MessageDicts, path: str, n: int, what: str) -> Optional[list[Record]]:
    if value is None:
        return None
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, (list, tuple)):
        raise InputError(path, f"line {n}", f"{what} must be a chat message object or a list of them, "
                                            f"got {kind(value)}")
    for m in items:
        if not isinstance(m, dict) or "role" not in m:
            got = "an object without 'role'" if isinstance(m, dict) else kind(m)
            raise InputError(path, f"line {n}", f"{what} must be a chat message (an object with a 'role'), got {got}")
    return list(items)


def _pair_tool_results(messages: Iterable[Record]) -> None:
    """Give id-less tool results the id of the pending call they answer (same name, in order)."""
    pending: deque[tuple[Optional[str], Optional[str]]] = deque()
    for m in messages:
        role = m.get("role")
        if role == "assistant":
            pending = deque(_call_ids(m))
        elif role in ("tool", "function") and m.get("tool_call_id") is None and pending:
            name = m.get("name")
            for i, (cid, cname) in enumerate(pending):
                if name is None or cname == name:
                    del pending[i]
                    if cid is not None:
                        m["tool_call_id"] = cid
                    break
        elif role == "user":
            pending.clear()


def _call_ids(m: Record) -> Iterator[tuple[Optional[str], Optional[str]]]:
    calls = m.get("tool_calls")
    if not isinstance(calls, list):
        return
    for c in calls:
        if isinstance(c, dict):
            fn = c.get("function")
            name = fn.get("name") if isinstance(fn, dict) else c.get("name")
            cid = c.get("id")
            yield (None if cid is None else str(cid)), (name if isinstance(name, str) else None)


def _messages(messages: list[Record], lines: list[int], path: str,
              message_format: Optional[str]) -> tuple[Message, ...]:
    fmt = message_format or detect_object_format({"messages": messages})
    try:
        return _convert(messages, path, "", fmt)
    except InputError as whole:
        for m, n in zip(messages, lines):  # name the line of the message at fault
            try:
                _convert([m], path, f"line {n}", fmt)
            except InputError as one:
                raise InputError(path, f"line {n}", one.reason.removeprefix("message 0: ")) from None
        raise whole


def _convert(messages: list[Record], path: str, locator: str, fmt: str) -> tuple[Message, ...]:
    if fmt == "anthropic":
        system = None
        if messages and messages[0].get("role") == "system":
            system, messages = messages[0].get("content"), messages[1:]
        return messages_from_anthropic(system, messages, path, locator)
    return messages_from_openai(messages, path, locator)
