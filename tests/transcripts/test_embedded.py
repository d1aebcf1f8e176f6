"""The generic reader for event logs with chat messages embedded in some records."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.errors import InputError, UsageError
from grader.transcripts.embedded import embedded_messages_reader

# An agent harness's log in our own words: progress lines, a message under "msg" in some
# events, tool results logged as their own events without ids.
EVENTS: list[dict[str, Any]] = [
    {"ts": "09:00:00", "level": "INFO", "message": "run 7 starting", "run": "r7"},
    {"ts": "09:00:01", "event": "prompt", "msg": {"role": "system", "content": "You tidy folders."}},
    {"ts": "09:00:01", "event": "prompt", "msg": {"role": "user", "content": [{"type": "text", "text": "Tidy /tmp/a."}]}},
    {"ts": "09:00:02", "message": "calling model"},
    {"ts": "09:00:03", "event": "reply", "msg": {"role": "assistant", "content": "Listing first.", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": "{\"cmd\": \"ls /tmp/a\"}"}},
        {"id": "c2", "type": "function", "function": {"name": "shell", "arguments": "{\"cmd\": \"du -sh /tmp/a\"}"}}]}},
    {"ts": "09:00:04", "event": "tool_done", "tool": "shell", "output": "x.log"},
    {"ts": "09:00:04", "event": "tool_done", "tool": "shell", "output": "4.0K"},
    {"ts": "09:00:05", "event": "reply", "msg": "{\"role\": \"assistant\", \"content\": \"Done.\"}"},
    {"ts": "09:00:05", "event": "debug", "msg": {"role": "assistant", "content": "ignored by the filter"}},
]


def _tool_done(record: dict[str, Any]) -> dict[str, Any] | None:
    if record.get("event") != "tool_done":
        return None
    return {"role": "tool", "name": record["tool"], "content": record["output"]}


def _run(record: dict[str, Any], meta: dict[str, Any]) -> None:
    if "run" in record:
        meta["run"] = record["run"]


READ = embedded_messages_reader(payload_keys=("msg",), event_filter=lambda r: r.get("event") != "debug",
                                convert=_tool_done, metadata=_run)


def _write(tmp_path: Path, lines: list[str], name: str = "agent.jsonl") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_reads_one_transcript_from_the_payload_records(tmp_path: Path) -> None:
    p = _write(tmp_path, [json.dumps(e) for e in EVENTS])
    [t] = list(READ(str(p), "agent"))
    assert [m.to_dict() for m in t.messages] == [
        {"index": 0, "role": "system", "content": "You tidy folders."},
        {"index": 1, "role": "user", "content": "Tidy /tmp/a."},
        {"index": 2, "role": "assistant", "content": "Listing first.", "tool_calls": [
            {"id": "c1", "name": "shell", "arguments": {"cmd": "ls /tmp/a"}},
            {"id": "c2", "name": "shell", "arguments": {"cmd": "du -sh /tmp/a"}}]},
        {"index": 3, "role": "tool", "content": "x.log", "tool_call_id": "c1", "name": "shell"},
        {"index": 4, "role": "tool", "content": "4.0K", "tool_call_id": "c2", "name": "shell"},
        {"index": 5, "role": "assistant", "content": "Done."},
    ]
    assert dict(t.metadata) == {"file": "agent.jsonl", "run": "r7"}
    assert t.id == f"agent-{t.content_hash()[:8]}"
    assert str(t.source) == str(p)


def test_a_bad_json_line_is_an_error_with_its_line_and_no_transcript(tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in EVENTS]
    lines[3] = '{"ts": "09:00:02", "message": '
    p = _write(tmp_path, lines)
    items = list(READ(str(p), "agent"))
    assert len(items) == 1 and isinstance(items[0], InputError)
    assert (items[0].path, items[0].locator) == (str(p), "line 4")
    assert items[0].reason.startswith("truncated JSON")


def test_a_payload_of_the_wrong_shape_names_its_line(tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in EVENTS[:3]] + [json.dumps({"event": "reply", "msg": {"content": "no role"}})]
    [err] = list(READ(str(_write(tmp_path, lines)), "agent"))
    assert isinstance(err, InputError)
    assert (err.locator, err.reason) == ("line 4", "'msg' must be a chat message (an object with a 'role'), "
                                                   "got an object without 'role'")


def test_a_message_the_chat_reader_rejects_names_its_line(tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in EVENTS[:3]] + [json.dumps({"event": "reply", "msg": {"role": "robot", "content": "x"}})]
    [err] = list(READ(str(_write(tmp_path, lines)), "agent"))
    assert isinstance(err, InputError)
    assert err.locator == "line 4"
    assert err.reason == "unknown role 'robot' (expected system, user, assistant or tool)"


def test_a_log_with_no_payload_is_one_error(tmp_path: Path) -> None:
    p = _write(tmp_path, [json.dumps({"ts": str(i), "message": f"step {i}"}) for i in range(50)])
    [err] = list(READ(str(p), "agent"))
    assert isinstance(err, InputError)
    assert (err.locator, err.reason) == ("", "no chat message in any record (looked for keys: msg)")


def test_a_log_line_under_a_payload_key_is_not_a_payload(tmp_path: Path) -> None:
    read = embedded_messages_reader(payload_keys=("message",))
    lines = [json.dumps({"message": "Step 1/10"}),
             json.dumps({"message": {"role": "user", "content": "go"}})]
    [t] = list(read(str(_write(tmp_path, lines)), "log"))
    assert [(m.role, m.content) for m in t.messages] == [("user", "go")]


def test_anthropic_payloads_are_detected(tmp_path: Path) -> None:
    read = embedded_messages_reader(payload_keys=("message",))
    lines = [json.dumps({"type": "user", "message": {"role": "user", "content": "rm the cache"}}),
             json.dumps({"type": "assistant", "message": {"role": "assistant", "content": [
                 {"type": "tool_use", "id": "tu1", "name": "bash", "input": {"command": "rm -r cache"}}]}}),
             json.dumps({"type": "user", "message": {"role": "user", "content": [
                 {"type": "tool_result", "tool_use_id": "tu1", "content": "ok"}]}})]
    [t] = list(read(str(_write(tmp_path, lines)), "cc"))
    assert [(m.role, m.tool_call_id, [c.arguments for c in m.tool_calls]) for m in t.messages] == [
        ("user", None, []), ("assistant", None, [{"command": "rm -r cache"}]), ("tool", "tu1", [])]
    assert t.messages[2].name == "bash"


def test_message_format_must_be_known() -> None:
    with pytest.raises(UsageError, match="message_format"):
        embedded_messages_reader(message_format="gemini")
