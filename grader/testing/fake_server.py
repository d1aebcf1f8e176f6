"""A scriptable fake LLM HTTP server on 127.0.0.1 for the judge tests and the benchmark.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) for the real ``openai``
and ``anthropic`` SDK clients. A handler maps each :class:`Request` to a :class:`Reply`
(status, headers, body, delay). The server runs its own event loop in a background
thread, so both async tests and CliRunner tests can use it; it records every request and
the highest number of requests it had in flight at once.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           408: "Request Timeout", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 529: "Overloaded"}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def text(self) -> str:
        """Every text the request's messages carry, joined (to find markers in)."""
        data = self.json or {}
        system = data.get("system")
        parts: list[str] = [system if isinstance(system, str) else ""]
        for m in data.get("messages", []):
            c = m.get("content")
            if isinstance(c, str):
                parts.append(c)
            elif isinstance(c, list):
                parts.extend(b.get("text", "") if isinstance(b.get("text"), str) else json.dumps(b) for b in c)
        return "\n".join(parts)


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection after the delay without answering

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


Handler = Callable[[Request], "Reply | Awaitable[Reply]"]


class FakeServer:
    """``with FakeServer(handler) as srv: ... srv.url ... srv.requests``."""

    def __init__(self, handler: Handler, prefix: str = ""):
        self.handler = handler
        self.prefix = prefix
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def __enter__(self) -> "FakeServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake server did not start")

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=512))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                arrived = asyncio.get_running_loop().time()
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                req = Request(method, path, headers, body)
                self.requests.append(req)
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    reply = self.handler(req)
                    if asyncio.iscoroutine(reply):
                        reply = await reply
                    assert isinstance(reply, Reply)
                    if reply.delay:  # counted from the request's arrival: parsing and the handler included
                        await asyncio.sleep(max(0.0, reply.delay - (asyncio.get_running_loop().time() - arrived)))
                finally:
                    self.in_flight -= 1
                if reply.drop:
                    return
                payload = reply.encoded()
                head = [f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}",
                        "Content-Type: application/json", f"Content-Length: {len(payload)}"]
                head += [f"{k}: {v}" for k, v in reply.headers.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


# -- provider response bodies ---------------------------------------------------------------
def openai_body(content: str | None, *, prompt_tokens: int = 100, completion_tokens: int = 20,
                cached_tokens: int = 0, model: str = "judge-model", refusal: str | None = None,
                finish_reason: str = "stop") -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "finish_reason": finish_reason,
                         "message": {"role": "assistant", "content": content, "refusal": refusal}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens,
                      "prompt_tokens_details": {"cached_tokens": cached_tokens}}}


def anthropic_body(tool_input: Any = None, *, text: str | None = None, input_tokens: int = 100,
                   output_tokens: int = 20, cache_read: int = 0, cache_write: int = 0,
                   model: str = "judge-model", tool_name: str = "record_verdict",
                   stop_reason: str | None = None) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "text", "text": text})
    if tool_input is not None:
        content.append({"type": "tool_use", "id": "toolu_01", "name": tool_name, "input": tool_input})
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason or ("tool_use" if tool_input is not None else "end_turn"), "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                      "cache_read_input_tokens": cache_read, "cache_creation_input_tokens": cache_write}}


def error_body(status: int, message: str = "scripted failure", anthropic: bool = False) -> dict[str, Any]:
    if anthropic:
        return {"type": "error", "error": {"type": "api_error", "message": message}}
    return {"error": {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error",
                      "code": None}}


# -- scripting by (case, principle) --------------------------------------------------------
_CASE = re.compile(r"case: ([\w-]+)")
_PRINCIPLE = re.compile(r"Answer for principle (\S+) following")


def case_of(req: Request) -> str:
    m = _CASE.search(req.text())
    return m.group(1) if m else ""


def principle_of(req: Request) -> str:
    m = _PRINCIPLE.search(req.text())
    return m.group(1) if m else "*"


class Script:
    """Replies per (case, principle): each key has a list of replies given in order, the last
    one repeating. ``"*"`` as principle matches batched requests and any principle. Keys are
    found from ``case: NAME`` in the transcript and ``Answer for principle ID`` in the task."""

    def __init__(self, replies: Mapping[tuple[str, str], list[Reply]], default: Reply | None = None):
        self.replies = {k: list(v) for k, v in replies.items()}
        self.default = default
        self.seen: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()

    def __call__(self, req: Request) -> Reply:
        case, pid = case_of(req), principle_of(req)
        for key in ((case, pid), (case, "*")):
            if key in self.replies:
                with self.lock:
                    n = self.seen.get(key, 0)
                    self.seen[key] = n + 1
                seq = self.replies[key]
                return seq[min(n, len(seq) - 1)]
        if self.default is not None:
            return self.default
        return Reply(500, error_body(500, f"no script for case {case!r} principle {pid!r}"))

    def count(self, case: str, pid: str = "*") -> int:
        return self.seen.get((case, pid), 0)
