"""Fake batch endpoints for :class:`~grader.testing.fake_server.FakeServer`: OpenAI Files and
Batches (``/v1/files``, ``/v1/batches``) and Anthropic Message Batches
(``/v1/messages/batches``), in memory, enough for the official SDK clients.

Each batched request is answered, when its batch ends, by the same kind of handler as an
interactive call (a :class:`~grader.testing.fake_server.Script`, say) given a
:class:`~grader.testing.fake_server.Request` carrying the request's body; a handler may
return :data:`EXPIRED` or :data:`CANCELED` for a request instead of an answer. A batch ends
on its ``polls_to_end``-th retrieve; a cancelled batch ends on the next retrieve with its
requests cancelled. Interactive calls (every other path) get the same handler's answers,
and a batched request reaches the handler as a POST to ``/v1/chat/completions`` or
``/v1/messages``. Everything the grader sent is kept (``uploads``, ``created``).
"""
from __future__ import annotations

import email.parser
import email.policy
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .fake_server import Reply, Request, error_body

EXPIRED = Reply(status=-1)  # the request expires unanswered
CANCELED = Reply(status=-2)  # the request is cancelled unanswered

_OPENAI_BATCH = re.compile(r"^/v1/batches/([\w-]+)(/cancel)?$")
_OPENAI_FILE = re.compile(r"^/v1/files/([\w-]+)/content$")
_ANTHROPIC_BATCH = re.compile(r"^/v1/messages/batches/([\w-]+)(/cancel|/results)?$")


@dataclass
class FakeBatch:
    id: str
    provider: str
    requests: list[dict[str, Any]]  # {"custom_id", "body"}
    polls: int = 0
    cancelling: bool = False
    ended: str | None = None  # the end state
    results: list[dict[str, Any]] = field(default_factory=list)  # per request: kind, status, body
    input_file_id: str = ""  # OpenAI
    output: tuple[str | None, str | None] | None = None  # OpenAI: output and error file ids, once ended


class FakeBatches:
    """The handler: ``FakeServer(FakeBatches(script))``; OpenAI clients use ``url + "/v1"``,
    Anthropic clients ``url``. ``url`` must be set to the server's URL (for results_url)."""

    def __init__(self, answer: Callable[[Request], Reply], *, polls_to_end: int = 1):
        self.answer = answer
        self.polls_to_end = polls_to_end
        self.url = ""
        self.files: dict[str, bytes] = {}
        self.uploads: list[str] = []  # file ids, in order
        self.batches: dict[str, FakeBatch] = {}
        self.created: list[str] = []  # batch ids, in order
        self.lock = threading.Lock()

    def __call__(self, req: Request) -> Reply:
        path = req.path.split("?", 1)[0]
        if not path.startswith(("/v1/files", "/v1/batches", "/v1/messages/batches")):
            return self.answer(req)  # an interactive call: the same answers
        with self.lock:
            if path == "/v1/files" and req.method == "POST":
                return self._upload(req)
            m = _OPENAI_FILE.match(path)
            if m and req.method == "GET":
                data = self.files.get(m.group(1))
                return Reply(200, data) if data is not None else Reply(404, error_body(404, "no such file"))
            if path == "/v1/batches" and req.method == "POST":
                return self._create_openai(req.json)
            if path == "/v1/batches" and req.method == "GET":  # newest first, one page
                listed = [self._openai_object(self.batches[b]) for b in reversed(self.created)
                          if self.batches[b].provider == "openai"]
                return Reply(200, {"object": "list", "data": listed, "has_more": False,
                                   "first_id": listed[0]["id"] if listed else None,
                                   "last_id": listed[-1]["id"] if listed else None})
            m = _OPENAI_BATCH.match(path)
            if m:
                return self._openai(m.group(1), cancel=bool(m.group(2)))
            if path == "/v1/messages/batches" and req.method == "POST":
                return self._create_anthropic(req.json)
            m = _ANTHROPIC_BATCH.match(path)
            if m:
                return self._anthropic(m.group(1), m.group(2) or "")
        return Reply(404, error_body(404, f"no route {req.method} {path}"))

    # -- shared ------------------------------------------------------------------------------
    def _new(self, provider: str, requests: list[dict[str, Any]]) -> FakeBatch:
        bid = f"{'batch' if provider == 'openai' else 'msgbatch'}_{len(self.created) + 1:04d}"
        batch = FakeBatch(bid, provider, requests)
        self.batches[bid] = batch
        self.created.append(bid)
        return batch

    def _advance(self, batch: FakeBatch) -> None:
        if batch.ended:
            return
        batch.polls += 1
        if not batch.cancelling and batch.polls < self.polls_to_end:
            return
        kinds = []
        for r in batch.requests:
            if batch.cancelling:
                batch.results.append({"custom_id": r["custom_id"], "kind": "canceled"})
                kinds.append("canceled")
                continue
            path = "/v1/chat/completions" if batch.provider == "openai" else "/v1/messages"
            reply = self.answer(Request("POST", path, {}, json.dumps(r["body"]).encode()))
            kind = ("expired" if reply is EXPIRED else "canceled" if reply is CANCELED
                    else "ok" if reply.status == 200 else "error")
            body = None if kind in ("expired", "canceled") else json.loads(reply.encoded() or b"null")
            batch.results.append({"custom_id": r["custom_id"], "kind": kind, "status": reply.status, "body": body})
            kinds.append(kind)
        if batch.cancelling:
            batch.ended = "cancelled"
        elif "expired" in kinds:
            batch.ended = "expired"
        else:
            batch.ended = "completed"

    def cancel(self, batch_id: str) -> None:
        """Cancel a batch from the provider's side (as a user in the console would)."""
        with self.lock:
            self.batches[batch_id].cancelling = True

    # -- OpenAI ------------------------------------------------------------------------------
    def _upload(self, req: Request) -> Reply:
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + req.headers["content-type"].encode() + b"\r\n\r\n" + req.body)
        data, purpose, name = b"", "", "file"
        for part in msg.iter_parts():
            field_name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            if field_name == "file":
                data, name = content, part.get_filename() or "file"
            elif field_name == "purpose":
                purpose = content.decode()
        fid = f"file-{len(self.files) + 1:04d}"
        self.files[fid] = data
        self.uploads.append(fid)
        return Reply(200, {"id": fid, "object": "file", "bytes": len(data), "created_at": 0, "filename": name,
                           "purpose": purpose, "status": "processed"})

    def _create_openai(self, body: dict[str, Any]) -> Reply:
        data = self.files.get(body.get("input_file_id", ""))
        if data is None:
            return Reply(400, error_body(400, "no such input file"))
        lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        if any(line.get("url") != body.get("endpoint") or line.get("method") != "POST" for line in lines):
            return Reply(400, error_body(400, "every line must POST to the batch's endpoint"))
        ids = [line["custom_id"] for line in lines]
        if len(set(ids)) != len(ids):
            return Reply(400, error_body(400, "duplicate custom_id in the input file"))
        batch = self._new("openai", [{"custom_id": line["custom_id"], "body": line["body"]} for line in lines])
        batch.input_file_id = body["input_file_id"]
        return Reply(200, self._openai_object(batch))

    def _openai(self, bid: str, cancel: bool) -> Reply:
        batch = self.batches.get(bid)
        if batch is None or batch.provider != "openai":
            return Reply(404, error_body(404, "no such batch"))
        if cancel:
            batch.cancelling = True
            return Reply(200, self._openai_object(batch, "cancelling"))
        self._advance(batch)
        return Reply(200, self._openai_object(batch))

    def _openai_object(self, batch: FakeBatch, state: str | None = None) -> dict[str, Any]:
        out_id = err_id = None
        completed = failed = 0
        if batch.ended and batch.output is None:
            ok_lines, err_lines = [], []
            for i, r in enumerate(batch.results):
                if r["kind"] == "ok":
                    ok_lines.append({"id": f"req_{i}", "custom_id": r["custom_id"], "error": None,
                                     "response": {"status_code": 200, "request_id": f"r{i}", "body": r["body"]}})
                elif r["kind"] == "error":
                    ok_lines.append({"id": f"req_{i}", "custom_id": r["custom_id"], "error": None,
                                     "response": {"status_code": r["status"], "request_id": f"r{i}", "body": r["body"]}})
                else:
                    code = "batch_expired" if r["kind"] == "expired" else "batch_cancelled"
                    err_lines.append({"id": f"req_{i}", "custom_id": r["custom_id"], "response": None,
                                      "error": {"code": code, "message": f"This request was not run ({code})."}})
            batch.output = (self._file(ok_lines), self._file(err_lines))
        if batch.ended and batch.output is not None:
            out_id, err_id = batch.output
            completed = sum(1 for r in batch.results if r["kind"] == "ok")
            failed = len(batch.results) - completed
        return {"id": batch.id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": None,
                "input_file_id": batch.input_file_id, "completion_window": "24h",
                "status": state or batch.ended or ("cancelling" if batch.cancelling else "in_progress"),
                "output_file_id": out_id, "error_file_id": err_id, "created_at": 0,
                "request_counts": {"total": len(batch.requests), "completed": completed, "failed": failed}}

    def _file(self, rows: list[dict[str, Any]]) -> str | None:
        if not rows:
            return None
        fid = f"file-{len(self.files) + 1:04d}"
        self.files[fid] = "".join(json.dumps(r) + "\n" for r in rows).encode()
        return fid

    # -- Anthropic ---------------------------------------------------------------------------
    def _create_anthropic(self, body: dict[str, Any]) -> Reply:
        requests = body.get("requests") or []
        ids = [r.get("custom_id") for r in requests]
        if not requests or len(set(ids)) != len(ids):
            return Reply(400, error_body(400, "requests must be non-empty with unique custom_ids", anthropic=True))
        batch = self._new("anthropic", [{"custom_id": r["custom_id"], "body": r["params"]} for r in requests])
        return Reply(200, self._anthropic_object(batch))

    def _anthropic(self, bid: str, action: str) -> Reply:
        batch = self.batches.get(bid)
        if batch is None or batch.provider != "anthropic":
            return Reply(404, error_body(404, "no such batch", anthropic=True))
        if action == "/cancel":
            batch.cancelling = True
            return Reply(200, self._anthropic_object(batch))
        if action == "/results":
            if not batch.ended:
                return Reply(400, error_body(400, "the batch has not ended", anthropic=True))
            return Reply(200, "".join(json.dumps(self._anthropic_result(r)) + "\n" for r in batch.results))
        self._advance(batch)
        return Reply(200, self._anthropic_object(batch))

    @staticmethod
    def _anthropic_result(r: dict[str, Any]) -> dict[str, Any]:
        if r["kind"] == "ok":
            result: dict[str, Any] = {"type": "succeeded", "message": r["body"]}
        elif r["kind"] == "error":
            result = {"type": "errored", "error": r["body"]}
        else:
            result = {"type": r["kind"]}
        return {"custom_id": r["custom_id"], "result": result}

    def _anthropic_object(self, batch: FakeBatch) -> dict[str, Any]:
        counts = {"processing": 0 if batch.ended else len(batch.requests), "succeeded": 0, "errored": 0,
                  "canceled": 0, "expired": 0}
        for r in batch.results:
            counts[{"ok": "succeeded", "error": "errored"}.get(r["kind"], r["kind"])] += 1
        ended = batch.ended is not None
        return {"id": batch.id, "type": "message_batch", "created_at": "2026-01-01T00:00:00Z",
                "expires_at": "2026-01-02T00:00:00Z", "ended_at": "2026-01-01T01:00:00Z" if ended else None,
                "cancel_initiated_at": None, "archived_at": None,
                "processing_status": "ended" if ended else ("canceling" if batch.cancelling else "in_progress"),
                "request_counts": counts,
                "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results" if ended else None}
