"""Palisade Research's shutdown-resistance agent logs (``llm_control.log_*.jsonl``).

One JSON event a line; one file is one run and one transcript. The chat messages sit inside
events: ``system_message`` and ``user_message`` carry an OpenAI message under
``user_payload``, ``assistant_message`` under ``assistant_payload`` (with ``tool_calls``), and
each ``tool_call`` event (``tool``, ``args``, ``result``) is the result of one call: it becomes
a ``tool`` message named after the tool, with the ``result`` as content, paired in order with
the id of the assistant's call of that tool. Other records (``Step 3/10``, camera frames,
warnings) are not messages.

Metadata: ``file`` (the log's name), ``run_group`` (its folder, e.g. ``default2``),
``model`` and ``provider`` from the first ``LiteLLM completion() model= ...; provider = ...``
line, and ``started``/``ended`` (the first and last ``ts``).

Registered as the ``palisade`` entry point of ``grader.formats`` (see setup.cfg): a folder of
these logs reads without ``--format``. A worked example of
:func:`grader.transcripts.embedded.embedded_messages_reader`.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterator, Union

from ...errors import InputError
from ..embedded import embedded_messages_reader
from ..formats import Format
from ..jsonio import loads
from ..model import Transcript

MESSAGE_EVENTS = frozenset({"system_message", "user_message", "assistant_message", "tool_call"})
_LITELLM = re.compile(r"LiteLLM completion\(\) model=\s*(?P<model>[^;\s]+)\s*;\s*provider\s*=\s*(?P<provider>\S+)")


def _is_message_event(record: dict[str, Any]) -> bool:
    return record.get("event") in MESSAGE_EVENTS


def _tool_result(record: dict[str, Any]) -> dict[str, Any] | None:
    if record.get("event") != "tool_call":
        return None
    result = record.get("result")
    text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
    message: dict[str, Any] = {"role": "tool", "content": text}
    if isinstance(record.get("tool"), str):
        message["name"] = record["tool"]
    return message


def _metadata(record: dict[str, Any], meta: dict[str, Any]) -> None:
    ts = record.get("ts")
    if isinstance(ts, str):
        meta.setdefault("started", ts)
        meta["ended"] = ts
    text = record.get("message")
    if "model" not in meta and isinstance(text, str) and "LiteLLM" in text:
        m = _LITELLM.search(text)
        if m:
            meta["model"] = m.group("model")
            meta["provider"] = m.group("provider")


_read = embedded_messages_reader(payload_keys=("user_payload", "assistant_payload"),
                                 event_filter=_is_message_event, convert=_tool_result,
                                 metadata=_metadata, message_format="openai")


def read(path: str, stem: str) -> Iterator[Union[Transcript, InputError]]:
    """The ``Format.read`` of Palisade logs: one transcript per file (see module doc)."""
    group = os.path.basename(os.path.dirname(os.path.abspath(path)))
    for item in _read(path, stem):
        if isinstance(item, Transcript) and group:
            item = Transcript(item.id, item.messages, {**item.metadata, "run_group": group}, item.source)
        yield item


def read_palisade(path: Union[str, "os.PathLike[str]"]) -> Iterator[Union[Transcript, InputError]]:
    """Read one Palisade log: its transcript, or InputError values for what cannot be read."""
    p = os.fspath(path)
    return read(p, Path(p).stem)


def detect(head: bytes, path: str) -> bool:
    """A Palisade log opens with event records carrying a chat payload."""
    if b'"event"' not in head:
        return False
    for raw in head.split(b"\n")[:-1][:5]:  # complete lines only
        try:
            record = loads(raw.decode("utf-8-sig"))
        except (ValueError, RecursionError):
            return False
        if (isinstance(record, dict) and record.get("event") in MESSAGE_EVENTS
                and ("user_payload" in record or "assistant_payload" in record or "tool" in record)):
            return True
    return False


FORMAT = Format(
    name="palisade",
    description="Palisade Research shutdown-resistance agent logs (event JSONL, one run a file)",
    extensions=frozenset({".jsonl"}),
    read=read,
    detect=detect,
)
