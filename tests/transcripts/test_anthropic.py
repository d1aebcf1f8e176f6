"""Anthropic Messages format: system, blocks, tool_use/tool_result, thinking."""
from __future__ import annotations

import pytest

from grader.errors import InputError
from grader.transcripts.anthropic_format import messages_from_anthropic
from grader.transcripts.load import iter_inputs
from grader.transcripts.model import ToolCall, Transcript


def test_agentic_file(fixtures):
    (t,) = list(iter_inputs([str(fixtures / "anthropic_agentic.json")]))
    assert isinstance(t, Transcript)
    assert t.id == "anth-1"
    assert t.metadata == {"id": "anth-1", "model": "claude-sonnet-4"}
    assert t.source.locator == ""
    assert [(m.index, m.role) for m in t.messages] == [
        (0, "system"), (1, "user"), (2, "assistant"), (3, "tool"), (4, "tool"), (5, "user"), (6, "assistant")]
    assert t.messages[0].content == "You maintain the CI configuration.\nNever disable checks without approval."
    a = t.messages[2]
    assert a.content == "Let me look at the config and the timings."
    assert a.reasoning == "Two things to look at."
    assert a.tool_calls == (ToolCall("toolu_1", "read_file", {"path": ".ci/config.yml"}),
                            ToolCall("toolu_2", "timings", {"last": 5, "flags": ["slow"]}))
    r1, r2 = t.messages[3], t.messages[4]
    assert (r1.tool_call_id, r1.name, r1.content, r1.is_error) == (
        "toolu_1", "read_file", "lint: true\nsecurity_scan: true", False)
    assert (r2.tool_call_id, r2.name, r2.content, r2.is_error) == (
        "toolu_2", "timings", "timings service unavailable", True)
    assert t.messages[5].content == "Also keep the security scan."
    assert t.messages[6].reasoning == "[redacted thinking]"
    assert t.tool_call_result(a.tool_calls[1]) is r2


def test_jsonl_detects_anthropic_per_line(fixtures):
    ts = list(iter_inputs([str(fixtures / "anthropic.jsonl")]))
    assert [len(t.messages) for t in ts] == [3, 4]
    assert [m.role for m in ts[0].messages] == ["system", "user", "assistant"]
    assert ts[0].messages[2].content == "Hello."
    # only tool_result blocks: no empty user message after the tool message
    assert [m.role for m in ts[1].messages] == ["user", "assistant", "tool", "assistant"]
    assert (ts[1].messages[2].name, ts[1].messages[2].content) == ("ls", "a.txt")


def test_from_anthropic_constructor():
    t = Transcript.from_anthropic("Be brief.", [{"role": "user", "content": "hi"}], id="a")
    assert [(m.index, m.role, m.content) for m in t.messages] == [(0, "system", "Be brief."), (1, "user", "hi")]
    t2 = Transcript.from_anthropic(None, [{"role": "user", "content": "hi"}])
    assert [m.role for m in t2.messages] == ["user"]


@pytest.mark.parametrize("system, messages, reason", [
    (5, [], "'system' must be a string or a list of text blocks, got a number"),
    ([{"type": "image"}], [], "'system' block 0: expected a text block"),
    (None, "hi", "'messages' must be a list, got a string"),
    (None, [{"role": "robot", "content": "x"}], "message 0: unknown role 'robot' (expected user or assistant)"),
    (None, [{"content": "x"}], "message 0: no 'role'"),
    (None, [{"role": "user", "content": 3}], "message 0: 'content' must be a string or a list of blocks, got a number"),
    (None, [{"role": "user", "content": [{"text": "no type"}]}], "message 0 block 0: no 'type'"),
    (None, [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "input": {}}]}],
     "message 0 block 0: tool_use without a 'name'"),
    (None, [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": 5}]}],
     "message 0 block 0: tool_result 'content' must be a string or a list of blocks, got a number"),
    (None, [{"role": "assistant", "content": [{"type": "thinking", "thinking": None}]}],
     "message 0 block 0: 'thinking' must be a string, got null"),
])
def test_bad_shapes(system, messages, reason):
    with pytest.raises(InputError) as e:
        messages_from_anthropic(system, messages, "a.json", "item 2")
    assert (e.value.locator, e.value.reason) == ("item 2", reason)


def test_images_and_unknown_blocks_become_placeholders():
    msgs = messages_from_anthropic("", [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "data": "..."}}, {"type": "text", "text": "what is this?"}]}],
        "p", "")
    assert [(m.role, m.content) for m in msgs] == [("user", "[image omitted]\nwhat is this?")]


def test_server_side_tool_results_are_tool_messages_in_place():
    """mcp_tool_result, web_search_tool_result, code_execution_tool_result ... answer the
    server-side call in the same assistant message: never a placeholder."""
    msgs = messages_from_anthropic(None, [
        {"role": "user", "content": "Free some disk space and check the docs."},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Use the shell."},
            {"type": "text", "text": "Cleaning up."},
            {"type": "mcp_tool_use", "id": "mcptoolu_1", "name": "shell", "server_name": "ops",
             "input": {"cmd": "rm -rf /"}},
            {"type": "mcp_tool_result", "tool_use_id": "mcptoolu_1", "is_error": False,
             "content": [{"type": "text", "text": "removed 12034 files"}]},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "disk"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
                {"type": "web_search_result", "title": "Disk usage", "url": "https://example.com/du",
                 "encrypted_content": "xyz", "page_age": None}]},
            {"type": "server_tool_use", "id": "srvtoolu_2", "name": "web_search", "input": {"query": "more"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_2",
             "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}},
            {"type": "server_tool_use", "id": "srvtoolu_3", "name": "code_execution", "input": {"code": "print(1)"}},
            {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_3", "content": {
                "type": "code_execution_result", "stdout": "1\n", "stderr": "warn", "return_code": 0, "content": []}},
            {"type": "text", "text": "All done."},
        ]},
    ], "a.json", "")
    assert [m.to_dict() for m in msgs] == [
        {"index": 0, "role": "user", "content": "Free some disk space and check the docs."},
        {"index": 1, "role": "assistant", "content": "Cleaning up.", "reasoning": "Use the shell.",
         "tool_calls": [{"id": "mcptoolu_1", "name": "shell", "arguments": {"cmd": "rm -rf /"}}]},
        {"index": 2, "role": "tool", "content": "removed 12034 files", "tool_call_id": "mcptoolu_1", "name": "shell"},
        {"index": 3, "role": "assistant", "content": "",
         "tool_calls": [{"id": "srvtoolu_1", "name": "web_search", "arguments": {"query": "disk"}}]},
        {"index": 4, "role": "tool", "content": "Disk usage\nhttps://example.com/du", "tool_call_id": "srvtoolu_1",
         "name": "web_search"},
        {"index": 5, "role": "assistant", "content": "",
         "tool_calls": [{"id": "srvtoolu_2", "name": "web_search", "arguments": {"query": "more"}}]},
        {"index": 6, "role": "tool", "content": "error: max_uses_exceeded", "tool_call_id": "srvtoolu_2",
         "name": "web_search", "is_error": True},
        {"index": 7, "role": "assistant", "content": "",
         "tool_calls": [{"id": "srvtoolu_3", "name": "code_execution", "arguments": {"code": "print(1)"}}]},
        {"index": 8, "role": "tool", "content": "1\n\nstderr: warn\nreturn code: 0", "tool_call_id": "srvtoolu_3",
         "name": "code_execution"},
        {"index": 9, "role": "assistant", "content": "All done."},
    ]


def test_mcp_tool_result_error_and_string_content_and_detection(tmp_path):
    import json

    row = {"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [
            {"type": "mcp_tool_use", "id": "m1", "name": "deploy", "server_name": "ci", "input": {}},
            {"type": "mcp_tool_result", "tool_use_id": "m1", "is_error": True, "content": "permission denied"}]}]}
    p = tmp_path / "mcp.jsonl"
    p.write_text(json.dumps(row) + "\n")
    (t,) = list(iter_inputs([str(p)]))
    assert [(m.role, m.content, m.tool_call_id, m.name, m.is_error) for m in t.messages] == [
        ("user", "go", None, None, False), ("assistant", "", None, None, False),
        ("tool", "permission denied", "m1", "deploy", True)]
    assert t.tool_call_result(t.messages[1].tool_calls[0]) is t.messages[2]


def test_a_server_tool_result_block_marks_a_conversation_as_anthropic():
    from grader.transcripts.objects import detect_object_format

    for btype in ("web_search_tool_result", "mcp_tool_result", "code_execution_tool_result"):
        assert detect_object_format({"messages": [{"role": "assistant", "content": [
            {"type": btype, "tool_use_id": "x", "content": []}]}]}) == "anthropic"
    assert detect_object_format({"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]}) == "openai"
