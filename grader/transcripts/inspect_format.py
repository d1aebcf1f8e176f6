"""Inspect AI eval logs (``.eval`` zip logs and ``.json`` logs), read through ``inspect_ai.log``.

One transcript per sample and epoch, in the log's order (sample ids x epochs). ``.eval`` logs
are read one sample at a time (flat memory); ``.json`` logs are read whole (that is how the
format is stored). Reading happens in a private worker thread, so it also works when the
caller is inside a running asyncio loop (the engine is) without touching that loop.

- messages: ``sample.messages`` (system, user, assistant, tool). Text parts are joined with
  newlines; reasoning parts go to ``Message.reasoning`` (``[redacted thinking]`` when
  redacted); other parts (images, audio, ...) become ``[image omitted]``-style placeholders.
  Assistant ``tool_calls`` keep their ids, names and argument objects (arguments that failed to
  parse are kept as the raw string from ``parse_error``, as the JSON loaders keep invalid JSON);
  a tool message keeps ``tool_call_id``, ``function`` as its name and ``error`` as ``is_error``
  (the error message is the content when the tool returned nothing else). A server-side tool
  use in the content (``ContentToolUse``: web search, MCP, code execution) is a ToolCall
  followed by a ``tool`` message with its result (and error, ``is_error``): the message is
  split after it, so the result sits between the call and what the model said next.
- missing samples: when the header lists the sample ids, ids x epochs samples are expected
  (``.eval`` and ``.json`` alike); fewer is an InputError "N of M samples are missing".
- metadata: ``task``, ``model``, ``sample_id``, ``epoch``, ``run_id``, ``eval_id``, ``log``
  (file name), ``scores`` ({scorer: value}) and ``target`` when present, ``sample_error`` when
  the sample failed, plus the sample's own metadata (which never overrides those keys).
  Non-finite score values (NaN, infinities) are kept as the strings "nan", "inf", "-inf".
- id ``<task>/<sample id>/<epoch>``; source locator ``sample <id> epoch <n>``.

Without the ``inspect`` extra every Inspect input is an InputError carrying the
MissingExtraError message.
"""
from __future__ import annotations

import json
import math
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Sequence, TypeVar

from ..errors import InputError, MissingExtraError
from .anthropic_format import REDACTED
from .common import PLACEHOLDER, check_depth, parse_arguments
from .model import Message, Source, ToolCall, Transcript

T = TypeVar("T")

# What inspect_ai raises for a damaged or foreign log: a bad zip, a corrupt deflate or zstd
# member (zlib.error, zstandard.ZstdError: added when zstandard is importable), a missing
# member (KeyError), invalid JSON or a pydantic ValidationError (both ValueError), I/O errors,
# "log cannot be read" conditions (RuntimeError), a truncated stream (EOFError).
_BASE_READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zlib.error, ValueError, KeyError, OSError, RuntimeError, EOFError)


def _read_errors() -> tuple[type[BaseException], ...]:
    try:
        from zstandard import ZstdError
    except ImportError:
        return _BASE_READ_ERRORS
    return _BASE_READ_ERRORS + (ZstdError,)


def inspect_log_module() -> ModuleType:
    """``inspect_ai.log``, or MissingExtraError when the extra is not installed."""
    try:
        import inspect_ai.log as log
    except ImportError:
        raise MissingExtraError("inspect", "inspect-ai", "reading Inspect AI logs") from None
    return log


def iter_inspect(path: str, stem: str) -> Iterator[Transcript | InputError]:
    """Transcripts (and InputErrors for unreadable samples) of one Inspect log."""
    try:
        log = inspect_log_module()
    except MissingExtraError as e:
        yield InputError(path, "", str(e))
        return
    is_zip = zipfile.is_zipfile(path)
    if not is_zip and path.lower().endswith(".eval"):
        yield InputError(path, "", "not an Inspect .eval log (not a zip archive)")
        return
    fmt = "eval" if is_zip else "json"
    read_errors = _read_errors()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="grader-inspect") as pool:
        def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
            return pool.submit(fn, *args, **kwargs).result()

        try:
            header = call(log.read_eval_log, path, header_only=True, format=fmt)
        except read_errors as e:
            yield InputError(path, "", f"not a readable Inspect log: {_reason(e)}")
            return
        ids = header.eval.dataset.sample_ids
        if fmt == "json" or ids is None:
            try:
                samples = call(log.read_eval_log, path, resolve_attachments=True, format=fmt).samples or []
            except read_errors as e:
                yield InputError(path, "", f"not a readable Inspect log: {_reason(e)}")
                return
            for s in samples:
                yield _transcript(s, header, path, stem)
            if ids is None:
                expected = len(samples)
            else:  # the header names the samples: report the ones the log no longer holds
                expected = len(ids) * (header.eval.config.epochs or 1)
                if len(samples) < expected:
                    yield _missing(path, header, expected - len(samples), expected)
        else:
            epochs = header.eval.config.epochs or 1
            expected = len(ids) * epochs
            found = 0
            for sid in ids:
                for epoch in range(1, epochs + 1):
                    try:
                        s = call(log.read_eval_log_sample, path, id=sid, epoch=epoch,
                                 resolve_attachments=True, format=fmt)
                    except IndexError:
                        continue
                    except read_errors as e:
                        found += 1
                        yield InputError(path, f"sample {sid} epoch {epoch}", f"unreadable sample: {_reason(e)}")
                        continue
                    found += 1
                    yield _transcript(s, header, path, stem)
            if found < expected:
                yield _missing(path, header, expected - found, expected)
        if expected == 0:
            yield InputError(path, "", f"log has no samples (status {header.status!r})")


def _missing(path: str, header: Any, missing: int, expected: int) -> InputError:
    return InputError(path, "", f"log status {header.status!r}: {missing} of {expected} samples are missing")


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def _transcript(sample: Any, header: Any, path: str, stem: str) -> Transcript | InputError:
    locator = f"sample {sample.id} epoch {sample.epoch}"
    try:
        msgs = messages_from_inspect(sample.messages)
        if not msgs:
            raise InputError(path, locator, "sample has no messages")
        meta = _metadata(sample, header, path)
        check_depth(meta, path, locator, "metadata")
        for m in msgs:
            for c in m.tool_calls:
                check_depth(c.arguments, path, locator, f"message {m.index} tool call {c.name!r} arguments")
    except InputError as e:
        return e
    task = header.eval.task or stem
    return Transcript(f"{task}/{sample.id}/{sample.epoch}", msgs, meta, Source(path, locator))


def messages_from_inspect(messages: Sequence[Any]) -> tuple[Message, ...]:
    """Inspect ChatMessage objects (a log sample's or a live TaskState's) as Messages."""
    out: list[Message] = []
    for m in messages:
        _message(m, out)
    return tuple(out)


def _message(m: Any, out: list[Message]) -> None:
    """Append the Message(s) of one Inspect message to ``out``: one, or, when its content
    holds server-side tool uses (``ContentToolUse``), the message split after each of them
    with a ``tool`` message carrying that use's result in between."""
    calls = tuple(_tool_call(c) for c in (getattr(m, "tool_calls", None) or ()))
    call_id = getattr(m, "tool_call_id", None)
    name = getattr(m, "function", None)
    error = getattr(m, "error", None)
    segments: list[_Segment] = [(m.content, None, (), None)] if isinstance(m.content, str) else _segments(m.content)
    for k, (text, reasoning, seg_calls, result) in enumerate(segments):
        last = k == len(segments) - 1
        if last:
            seg_calls = seg_calls + calls
            if error is not None and not text:
                text = f"{error.type}: {error.message}"
        if not last or text or seg_calls or reasoning is not None or k == 0:
            out.append(Message(len(out), m.role, text, seg_calls, call_id, reasoning, name,
                               last and error is not None))
        if result is not None:
            text, use_id, use_name, failed = result
            out.append(Message(len(out), "tool", text, tool_call_id=use_id, name=use_name, is_error=failed))


def _tool_call(c: Any) -> ToolCall:
    args = c.arguments if c.arguments is not None else {}
    parse_error = getattr(c, "parse_error", None)
    if parse_error and not args:  # kept as the raw string, as the JSON loaders keep invalid JSON
        args = _raw_arguments(parse_error)
    return ToolCall(c.id, c.function, args)


# inspect_ai's parse_error text: "Error parsing the following tool call arguments:\n\n{raw}\n\nError details: {ex}"
_PARSE_HEAD = "Error parsing the following tool call arguments:\n\n"
_PARSE_TAIL = "\n\nError details: "


def _raw_arguments(parse_error: str) -> str:
    """The raw argument text inside an Inspect ``ToolCall.parse_error`` (the whole message
    when it is not in the shape inspect_ai writes)."""
    if parse_error.startswith(_PARSE_HEAD):
        end = parse_error.rfind(_PARSE_TAIL)
        if end >= len(_PARSE_HEAD):
            return parse_error[len(_PARSE_HEAD):end]
    return parse_error


# (text, tool_call_id, name, is_error) of the tool message answering a server-side tool use
_Result = tuple[str, str, str, bool]
# (text, reasoning, tool calls, result) of a stretch of one message's content
_Segment = tuple[str, str | None, tuple[ToolCall, ...], _Result | None]


def _segments(content: Any) -> list[_Segment]:
    """``(text, reasoning, calls, result)`` per stretch of content ending at a server-side
    tool use (the last stretch has no result)."""
    segments: list[_Segment] = []
    texts: list[str] = []
    thoughts: list[str] = []
    for part in content:
        ptype = getattr(part, "type", "content")
        if ptype == "text":
            texts.append(part.text)
        elif ptype == "reasoning":
            thoughts.append(REDACTED if part.redacted else part.reasoning)
        elif ptype == "tool_use" and hasattr(part, "result"):  # ContentToolUse: a server-side call and its result
            call = ToolCall(part.id, part.name, parse_arguments(part.arguments))
            text = part.result or ""
            if part.error:
                text = f"{text}\n{part.error}" if text else part.error
            segments.append(("\n".join(texts), "\n".join(thoughts) if thoughts else None, (call,),
                             (text, part.id, part.name, part.error is not None)))
            texts, thoughts = [], []
        else:
            texts.append(PLACEHOLDER.format(kind=ptype))
    segments.append(("\n".join(texts), "\n".join(thoughts) if thoughts else None, (), None))
    return segments


def _metadata(sample: Any, header: Any, path: str) -> dict[str, Any]:
    ev = header.eval
    meta: dict[str, Any] = {k: v for k, v in (sample.metadata or {}).items()}
    ours: dict[str, Any] = {"task": ev.task, "model": ev.model, "sample_id": sample.id,
                            "epoch": sample.epoch, "run_id": ev.run_id, "eval_id": ev.eval_id,
                            "log": Path(path).name}
    if sample.scores:
        ours["scores"] = {name: _jsonable(score.value) for name, score in sample.scores.items()}
    if sample.target not in (None, "", []):
        ours["target"] = sample.target
    if sample.error is not None:
        ours["sample_error"] = sample.error.message
    meta.update(ours)
    return meta


def _jsonable(value: Any) -> Any:
    """A score value as strict JSON: NaN and infinities become "nan", "inf", "-inf";
    anything JSON cannot hold becomes its str()."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return str(value)
    return value
