"""A batch run's records in its run folder, written before anything is waited on.

``batches.jsonl`` (append-only, flushed and fsynced line by line) holds one event a line:

- ``{"event": "submitting", "token", "provider", "at", "requests"}`` before a batch is
  created, where the provider lets a created batch be found again (OpenAI: ``token`` is
  the uploaded input file, which names its batch);
- ``{"event": "submitted", "batch_id", "provider", "submitted_at", "requests": {custom_id:
  {"transcript_id", "principle_ids", "sample", "reask"}}, "token"?}`` as soon as the provider
  accepted a batch;
- ``{"event": "abandoned", "token"}`` when a "submitting" turned out never to have made a
  batch (the process died before the provider accepted it);
- ``{"event": "state", "batch_id", "state", "at", "counts"}`` when a poll saw it change;
- ``{"event": "collected", "batch_id", "at", "succeeded", "failed"}`` once its results are
  stored.

``batch_results.sqlite3`` maps each ``custom_id`` (the request's cache key) to its result:
``{"reply": {...}}`` or ``{"failed": reason, "attempts": n}``. A process that exits at any
point loses nothing: a batch without a "collected" line is collected by the next command,
and a request is submitted again only when no open batch holds it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import RunFolderError
from .cache import JudgeCache

LOG = "batches.jsonl"
RESULTS = "batch_results.sqlite3"


@dataclass
class BatchRecord:
    """What the log says about one submitted batch."""

    batch_id: str
    provider: str
    submitted_at: str
    requests: dict[str, dict[str, Any]]
    state: str = "submitted"
    counts: dict[str, int] = field(default_factory=dict)
    collected: bool = False


class BatchLog:
    """The batches of one run folder (read once, appended to as events happen)."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOG
        self.batches: dict[str, BatchRecord] = {}
        self.submissions: dict[str, int] = {}  # custom_id -> batches that held it
        self.intents: dict[str, dict[str, Any]] = {}  # token -> "submitting" event not yet resolved
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        with self.path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    ev = json.loads(line)
                    self._apply(ev)
                except (json.JSONDecodeError, KeyError, TypeError) as e:
                    if not line.endswith("\n"):  # a torn last line: the write never finished
                        break
                    raise RunFolderError(f"{self.path}:{n}: not a batch record ({e})") from None

    def _apply(self, ev: Mapping[str, Any]) -> None:
        kind = ev["event"]
        if kind == "submitting":
            self.intents[ev["token"]] = dict(ev)
        elif kind == "abandoned":
            self.intents.pop(ev["token"])
        elif kind == "submitted":
            if ev.get("token"):
                self.intents.pop(ev["token"], None)
            rec = BatchRecord(ev["batch_id"], ev["provider"], ev["submitted_at"], dict(ev["requests"]))
            self.batches[rec.batch_id] = rec
            for cid in rec.requests:
                self.submissions[cid] = self.submissions.get(cid, 0) + 1
        elif kind == "state":
            rec = self.batches[ev["batch_id"]]
            rec.state, rec.counts = ev["state"], dict(ev.get("counts") or {})
        elif kind == "collected":
            self.batches[ev["batch_id"]].collected = True
        else:
            raise KeyError(kind)

    def append(self, event: Mapping[str, Any]) -> None:
        self._apply(event)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(event, ensure_ascii=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def open_batches(self) -> list[BatchRecord]:
        """Batches not collected yet, in submission order."""
        return [b for b in self.batches.values() if not b.collected]

    def in_open_batch(self) -> set[str]:
        return {cid for b in self.open_batches() for cid in b.requests}


class ResultStore:
    """custom_id -> result of a batched request (SQLite, in the run folder)."""

    def __init__(self, run_dir: str | Path):
        self._db = JudgeCache(Path(run_dir) / RESULTS)

    def get(self, custom_id: str) -> dict[str, Any] | None:
        return self._db.get(custom_id)

    def put_reply(self, custom_id: str, reply: Mapping[str, Any], cacheable: bool) -> None:
        self._db.put(custom_id, "batch", "", {"reply": dict(reply), "cacheable": cacheable})

    def put_failure(self, custom_id: str, reason: str, attempts: int) -> None:
        self._db.put(custom_id, "batch", "", {"failed": reason, "attempts": attempts})

    def close(self) -> None:
        self._db.close()
