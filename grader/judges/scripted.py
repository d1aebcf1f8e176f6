"""The scripted judge: answers from a list instead of a model (tests, demos, offline runs).

``scripted:PATH`` reads a JSON file (a list, or ``{"answers": [...], "default": ...}``) or a
JSONL file (one item a line). An item is either a bare answer (an object with ``verdict``
or ``verdicts``, or a string sent as the raw answer text) or an entry::

    {"transcript_id": "t1", "principle_id": "P05-non-deception", "answer": {...}}
    {"transcript_id": "t1", "answer": {"verdicts": [...]}}       # batched mode
    {"principle_id": "P02-truthfulness", "answer": "not json"}    # any transcript
    {"transcript_id": "t2", "status": 429, "retry_after": 1}      # a provider error
    {"timeout": true}                                             # a timeout

Lookup for a request: entries for (transcript, principle), then (transcript, any principle),
then (any transcript, principle), each consumed in order with the last one repeating; then
the unkeyed queue, consumed in order; then ``default``. Nothing left is a per-pair error.
Entries may carry ``usage`` ({"input_tokens": .., "output_tokens": ..}).
"""
from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import JudgeConfigError, JudgeError, TransientProviderError
from .prompt import CHANNEL_JSON, Prompt
from .transport import Reply, RequestContext, status_error
from .usage import Usage

_ENTRY_KEYS = {"transcript_id", "principle_id", "answer", "status", "message", "retry_after", "timeout", "usage"}


@dataclass(frozen=True)
class ScriptEntry:
    transcript_id: str | None = None
    principle_id: str | None = None
    answer: Any = None
    status: int | None = None
    message: str = ""
    retry_after: float | None = None
    timeout: bool = False
    usage: Usage = Usage()


def entry(item: Any, where: str = "answers") -> ScriptEntry:
    """One script item -> :class:`ScriptEntry`; raises JudgeConfigError naming ``where``."""
    if isinstance(item, str) or (isinstance(item, dict) and ("verdict" in item or "verdicts" in item)):
        return ScriptEntry(answer=item)
    if not isinstance(item, dict):
        raise JudgeConfigError(f"{where}: expected an answer object, a string or an entry object, got {type(item).__name__}")
    unknown = sorted(set(item) - _ENTRY_KEYS)
    if unknown:
        raise JudgeConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (expected {', '.join(sorted(_ENTRY_KEYS))})")
    if sum(k in item for k in ("answer", "status", "timeout")) != 1:
        raise JudgeConfigError(f"{where}: an entry needs exactly one of 'answer', 'status' or 'timeout'")
    for key in ("transcript_id", "principle_id"):
        if key in item and not isinstance(item[key], str):
            raise JudgeConfigError(f"{where}: '{key}' must be a string")
    status = item.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599):
        raise JudgeConfigError(f"{where}: 'status' must be an HTTP error status (400-599)")
    usage = item.get("usage") or {}
    if not isinstance(usage, dict):
        raise JudgeConfigError(f"{where}: 'usage' must be an object")
    return ScriptEntry(item.get("transcript_id"), item.get("principle_id"), item.get("answer"), status,
                       str(item.get("message", "")), item.get("retry_after"), bool(item.get("timeout")),
                       Usage.from_dict(usage))


def load_script(path: str | Path) -> tuple[list[ScriptEntry], ScriptEntry | None]:
    """Entries and the default entry of a scripted-answers file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise JudgeConfigError(f"{p}: cannot read the scripted answers: {e.strerror}") from None
    except UnicodeDecodeError:
        raise JudgeConfigError(f"{p}: the scripted answers are not UTF-8 text") from None
    items: list[tuple[Any, str]] = []
    default = None
    if p.suffix == ".jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append((json.loads(line), f"{p}: line {n}"))
                except json.JSONDecodeError as e:
                    raise JudgeConfigError(f"{p}: line {n}: invalid JSON: {e.msg}") from None
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise JudgeConfigError(f"{p}: line {e.lineno} column {e.colno}: invalid JSON: {e.msg}") from None
        if isinstance(doc, dict) and ("answers" in doc or "default" in doc) and set(doc) <= {"answers", "default"}:
            if "default" in doc:
                default = entry(doc["default"], f"{p}: default")
            doc = doc.get("answers", [])
        if not isinstance(doc, list):
            raise JudgeConfigError(f"{p}: expected a list of answers or {{\"answers\": [...], \"default\": ...}}")
        items = [(item, f"{p}: answers[{i}]") for i, item in enumerate(doc)]
    return [entry(item, where) for item, where in items], default


class ScriptedBackend:
    """A backend answering from a script; records every request it was sent."""

    name = "scripted"
    channel = CHANNEL_JSON
    cacheable = False

    def __init__(self, items: Iterable[Any] = (), default: Any = None, model: str = "scripted"):
        entries = [i if isinstance(i, ScriptEntry) else entry(i, f"answers[{n}]") for n, i in enumerate(items)]
        self.model = model
        self.default = default if default is None or isinstance(default, ScriptEntry) else entry(default, "default")
        self.keyed: dict[tuple[str | None, str | None], deque[ScriptEntry]] = {}
        self.queue: deque[ScriptEntry] = deque()
        for e in entries:
            if e.transcript_id is None and e.principle_id is None:
                self.queue.append(e)
            else:
                self.keyed.setdefault((e.transcript_id, e.principle_id), deque()).append(e)
        self.requests: list[tuple[RequestContext, Mapping[str, Any]]] = []

    @classmethod
    def from_spec(cls, target: str, *, answers: Iterable[Any] | None = None, **_: Any) -> "ScriptedBackend":
        """``scripted:PATH`` (``answers``, an in-memory list, replaces the file)."""
        if answers is not None:
            return cls(answers)
        entries, default = load_script(target)
        return cls(entries, default)

    def params(self) -> dict[str, Any]:
        return {}

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model}

    def request(self, prompt: Prompt, mode: str) -> dict[str, Any]:
        return {"system": prompt.system, "user": prompt.transcript + "\n\n" + prompt.task, "mode": mode}

    def reask(self, body: Mapping[str, Any], reply: Reply, correction: str) -> dict[str, Any]:
        return {**body, "reasks": [*body.get("reasks", []), {"answer": reply.text, "correction": correction}]}

    def _next(self, ctx: RequestContext) -> ScriptEntry | None:
        pid = ctx.principle_ids[0] if len(ctx.principle_ids) == 1 else None
        keys: list[tuple[str | None, str | None]] = [(ctx.transcript_id, pid)] if pid is not None else []
        keys.append((ctx.transcript_id, None))
        if pid is not None:
            keys.append((None, pid))
        for key in keys:
            q = self.keyed.get(key)
            if q:
                return q.popleft() if len(q) > 1 else q[0]
        if self.queue:
            return self.queue.popleft()
        return self.default

    async def send(self, body: Mapping[str, Any], ctx: RequestContext) -> Reply:
        self.requests.append((ctx, body))
        e = self._next(ctx)
        if e is None:
            raise JudgeError(f"scripted judge: no answer left for transcript {ctx.transcript_id} "
                             f"principle(s) {', '.join(ctx.principle_ids)}")
        if e.timeout:
            raise TransientProviderError("scripted: no response (timeout)")
        if e.status is not None:
            headers = {"retry-after": str(e.retry_after)} if e.retry_after is not None else {}
            raise status_error("scripted", e.status, e.message, headers)
        text = e.answer if isinstance(e.answer, str) else json.dumps(e.answer)
        return Reply(text=text, usage=e.usage, model=self.model, assistant=text)

    async def aclose(self) -> None:
        return None
