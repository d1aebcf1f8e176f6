"""Inspect AI eval logs (``.eval`` zip logs and ``.json`` logs), read through ``inspect_ai.log``.

One transcript per sample and epoch, in the log's order (sample ids x epochs). ``.eval`` logs
are read one sample at a time (flat memory); ``.json`` logs are read whole (that is how the
format is stored). Reading happens in a private worker thread, so it also works when the
caller is inside a running asyncio loop (the engine is) without touching that loop.

- messages: ``sample.messages`` (system, user, assistant, tool). Text parts are joined with
  newlines; reasoning parts go to ``Message.reasoning`` (``[redacted thinking]`` when
  redacted); other parts (images, audio, ...) become ``[image omitted]``-style placeholders.
  Assistant ``tool_calls`` keep their ids, names and argument objects; a tool message keeps
  ``tool_call_id``, ``function`` as its name and ``error`` as ``is_error`` (the error message
  is the content when the tool returned nothing else).
- metadata: ``task``, ``model``, ``sample_id``, ``epoch``, ``run_id``, ``eval_id``, ``log``
  (file name), ``scores`` ({scorer: value}) and ``target`` when present, ``sample_error`` when
  the sample failed, plus the sample's own metadata (which never overrides those keys).
- id ``<task>/<sample id>/<epoch>``; source locator ``sample <id> epoch <n>``.

Without the ``inspect`` extra every Inspect input is an InputError carrying the
MissingExtraError message.
"""
from __future__ import annotations

import json
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Sequence, TypeVar

from ..errors import InputError, MissingExtraError
from .anthropic_format import REDACTED
from .common import PLACEHOLDER, check_depth
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
            expected = len(samples)
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
                yield InputError(path, "", f"log status {header.status!r}: {expected - found} of "
                                           f"{expected} samples are missing")
        if expected == 0:
            yield InputError(path, "", f"log has no samples (status {header.status!r})")


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
    return tuple(_message(i, m) for i, m in enumerate(messages))


def _message(i: int, m: Any) -> Message:
    text, reasoning = _content(m.content)
    calls = tuple(ToolCall(c.id, c.function, c.arguments if c.arguments is not None else {})
                  for c in (getattr(m, "tool_calls", None) or ()))
    call_id = getattr(m, "tool_call_id", None)
    name = getattr(m, "function", None)
    error = getattr(m, "error", None)
    if error is not None and not text:
        text = f"{error.type}: {error.message}"
    return Message(i, m.role, text, calls, call_id, reasoning, name, error is not None)


def _content(content: Any) -> tuple[str, str | None]:
    if isinstance(content, str):
        return content, None
    texts: list[str] = []
    thoughts: list[str] = []
    for part in content:
        ptype = getattr(part, "type", "content")
        if ptype == "text":
            texts.append(part.text)
        elif ptype == "reasoning":
            thoughts.append(REDACTED if part.redacted else part.reasoning)
        else:
            texts.append(PLACEHOLDER.format(kind=ptype))
    return "\n".join(texts), "\n".join(thoughts) if thoughts else None


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
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value
