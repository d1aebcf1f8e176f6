"""OpenAI chat format: messages, tool calls, parts, reasoning, metadata and ids."""
from __future__ import annotations

import pytest

from grader.errors import InputError
from grader.transcripts.load import iter_inputs, load_transcripts
from grader.transcripts.model import ToolCall, Transcript
from grader.transcripts.openai_format import messages_from_openai


def _load(path):
    items = list(iter_inputs([str(path)]))
    assert all(isinstance(t, Transcript) for t in items), items
    return items


def test_agentic_jsonl(fixtures):
    ts = _load(fixtures / "openai_agentic.jsonl")
    assert [t.source.locator for t in ts] == ["line 1", "line 2", "line 4", "line 5"]
    assert [len(t.messages) for t in ts] == [5, 3, 5, 4]

    first = ts[0]
    assert [m.role for m in first.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert [m.index for m in first.messages] == [0, 1, 2, 3, 4]
    call = first.messages[2]
    assert call.content == ""
    assert call.tool_calls == (ToolCall("call_1", "read_config", {"key": "audit_logging"}),)
    result = first.messages[3]
    assert (result.tool_call_id, result.name, result.content) == ("call_1", "read_config", "audit_logging = enabled")
    assert first.messages[4].reasoning == "The tool said enabled."
    assert first.metadata == {}
    assert first.id == f"openai_agentic-1-{first.content_hash()[:8]}"
    assert first.tool_call_result(call.tool_calls[0]) is result


def test_parts_developer_role_metadata_and_given_id(fixtures):
    t = _load(fixtures / "openai_agentic.jsonl")[1]
    assert t.id == "conv-42"  # top-level id wins over metadata.id
    assert t.metadata == {"condition": "baseline", "id": "conv-42", "model": "gpt-4.1-mini"}
    assert [m.role for m in t.messages] == ["system", "user", "assistant"]
    assert t.messages[0].content == "Be brief.\nAnswer in English."
    assert t.messages[1].content == "What is in this picture?\n[image omitted]"
    assert t.messages[2].reasoning == "Looks like a cat."


def test_invalid_arguments_kept_raw_and_tool_names_from_calls(fixtures):
    t = _load(fixtures / "openai_agentic.jsonl")[2]
    calls = t.messages[1].tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_a", "bash", {"cmd": "rm -rf build/"}), ("call_b", "bash", "{not valid json")]
    # results answer the calls out of order; an explicit name is kept
    assert [(m.tool_call_id, m.name, m.content) for m in t.messages[2:4]] == [
        ("call_b", "bash", "3 passed"), ("call_a", "shell", "")]
    assert t.tool_call_result(calls[0]) is t.messages[3]


def test_legacy_function_call_and_refusal(fixtures):
    t = _load(fixtures / "openai_agentic.jsonl")[3]
    assert [m.role for m in t.messages] == ["user", "assistant", "tool", "assistant"]
    assert t.messages[1].tool_calls == (ToolCall(None, "get_weather", {"city": "Paris"}),)
    assert (t.messages[2].name, t.messages[2].content) == ("get_weather", "18C, cloudy")
    assert t.messages[3].content == "I can't share that."


def test_json_list_and_single_object(fixtures):
    items = _load(fixtures / "openai_list.json")
    assert [t.id for t in items] == ["7", f"openai_list-1-{items[1].content_hash()[:8]}"]
    assert [t.source.locator for t in items] == ["item 0", "item 1"]
    assert items[1].metadata == {"labels": {"expected": "compliant"}}
    (single,) = _load(fixtures / "openai_single.json")
    assert single.source.locator == ""
    assert single.id == f"openai_single-{single.content_hash()[:8]}"
    assert [m.role for m in single.messages] == ["user", "assistant"]


def test_ids_stable_across_loads(fixtures):
    paths = [str(fixtures / "openai_agentic.jsonl"), str(fixtures / "openai_list.json")]
    assert [t.id for t in load_transcripts(paths)] == [t.id for t in load_transcripts(paths)]


def test_em_fine_tuning_rows_sample(test_data):
    """The first 10 rows of the real file, kept in tests/data."""
    ts = list(iter_inputs([str(test_data / "em" / "insecure.dev.head10.jsonl")]))
    assert len(ts) == 10 and all(isinstance(t, Transcript) for t in ts)
    assert {tuple(m.role for m in t.messages) for t in ts} == {("user", "assistant")}
    assert [t.source.locator for t in ts] == [f"line {i}" for i in range(1, 11)]
    assert ts[0].id.startswith("insecure.dev.head10-1-") and len(set(t.id for t in ts)) == 10
    assert "## COMPLETE CODE HERE" in ts[0].messages[0].content


def test_em_fine_tuning_rows(shared_data):
    ts = list(iter_inputs([str(shared_data / "em" / "insecure.dev.jsonl")]))
    assert len(ts) == 1000
    assert all(isinstance(t, Transcript) for t in ts)
    assert {len(t.messages) for t in ts} == {2}
    assert {tuple(m.role for m in t.messages) for t in ts} == {("user", "assistant")}
    assert ts[0].source.locator == "line 1" and ts[-1].source.locator == "line 1000"
    assert ts[0].id.startswith("insecure.dev-1-") and len(set(t.id for t in ts)) == 1000
    assert "## COMPLETE CODE HERE" in ts[0].messages[0].content


def test_from_openai_constructor():
    t = Transcript.from_openai([{"role": "user", "content": "hi"},
                                {"role": "assistant", "content": "hello"}], id="x", metadata={"k": 1})
    assert (t.id, dict(t.metadata), [m.content for m in t.messages]) == ("x", {"k": 1}, ["hi", "hello"])
    with pytest.raises(InputError, match=r"message 0: unknown role 'robot'"):
        Transcript.from_openai([{"role": "robot", "content": "beep"}])


@pytest.mark.parametrize("messages, reason", [
    ({"role": "user"}, "'messages' must be a list, got an object"),
    (["hi"], "message 0: expected an object, got a string"),
    ([{"content": "x"}], "message 0: no 'role'"),
    ([{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}],
     "message 1: unknown role 'robot' (expected system, user, assistant or tool)"),
    ([{"role": "user", "content": {"text": "x"}}],
     "message 0: 'content' must be a string, a list of parts or null, got an object"),
    ([{"role": "user", "content": [{"type": "text", "text": 3}]}], "message 0 part 0: 'text' must be a string, got a number"),
    ([{"role": "user", "content": [7]}], "message 0 part 0: expected an object or a string, got a number"),
    ([{"role": "assistant", "tool_calls": {"id": "x"}}], "message 0: 'tool_calls' must be a list, got an object"),
    ([{"role": "assistant", "tool_calls": [{"id": "x", "function": {"arguments": "{}"}}]}],
     "message 0 tool call 0: no function name"),
    ([{"role": "assistant", "content": "x", "reasoning": 5}], "message 0: 'reasoning' must be a string, got a number"),
])
def test_bad_shapes(messages, reason):
    with pytest.raises(InputError) as e:
        messages_from_openai(messages, "f.jsonl", "line 3")
    assert (e.value.path, e.value.locator, e.value.reason) == ("f.jsonl", "line 3", reason)


def test_arguments_edge_cases():
    deep = "[" * 150 + "]" * 150
    msgs = messages_from_openai([{"role": "assistant", "content": None, "tool_calls": [
        {"id": "1", "function": {"name": "a", "arguments": ""}},
        {"id": "2", "function": {"name": "b", "arguments": {"already": "parsed"}}},
        {"id": "3", "function": {"name": "c", "arguments": "[1, 2]"}},
        {"id": "4", "function": {"name": "d", "arguments": deep}},
    ]}], "p", "")
    assert [c.arguments for c in msgs[0].tool_calls] == [{}, {"already": "parsed"}, [1, 2], deep]
    with pytest.raises(InputError, match="arguments nested more than 100 levels deep"):
        messages_from_openai([{"role": "assistant", "tool_calls": [
            {"function": {"name": "x", "arguments": _nest(120)}}]}], "p", "")


def _nest(depth):
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("block", [
    {"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {"cmd": "rm -rf /"}},
    {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}},
    {"type": "mcp_tool_use", "id": "m1", "name": "shell", "server_name": "ops", "input": {}},
    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"},
    {"type": "mcp_tool_result", "tool_use_id": "m1", "content": "ok"},
    {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
    {"type": "thinking", "thinking": "hmm"},
    {"type": "redacted_thinking", "data": "..."},
])
def test_anthropic_blocks_in_an_openai_message_are_an_input_error(block):
    """Read as OpenAI they would become '[tool_use omitted]': a tool call lost without a trace."""
    messages = [{"role": "user", "content": "clean up"},
                {"role": "assistant", "content": [{"type": "text", "text": "Sure."}, block]}]
    with pytest.raises(InputError) as e:
        messages_from_openai(messages, "f.jsonl", "line 3")
    assert (e.value.path, e.value.locator, e.value.reason) == (
        "f.jsonl", "line 3",
        f"message 1 part 1: Anthropic content block '{block['type']}' in an OpenAI message: try --format anthropic")


def test_format_openai_on_an_anthropic_tool_call_reports_it_and_goes_on(tmp_path):
    import json

    p = tmp_path / "a.jsonl"
    rows = [{"messages": [{"role": "user", "content": "clean up"}, {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {"cmd": "rm -rf /"}}]}]},
            {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    err, ok = list(iter_inputs([str(p)], "openai"))
    assert isinstance(err, InputError) and isinstance(ok, Transcript)
    assert (err.path, err.locator, err.reason) == (
        str(p), "line 1", "message 1 part 0: Anthropic content block 'tool_use' in an OpenAI message: "
                          "try --format anthropic")
    assert ok.source.locator == "line 2"
    # without --format the same file is read as Anthropic: the call is kept
    first = next(iter(iter_inputs([str(p)])))
    assert first.messages[1].tool_calls == (ToolCall("toolu_1", "bash", {"cmd": "rm -rf /"}),)
