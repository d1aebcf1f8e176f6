"""``grader transcripts show`` through click's CliRunner."""
from __future__ import annotations

import json

from click.testing import CliRunner

from grader.cli import cli


def _run(*args):
    return CliRunner().invoke(cli, ["transcripts", "show", *args])


def test_show_exact_output(fixtures):
    path = str(fixtures / "anthropic.jsonl")
    r = _run(path)
    assert r.exit_code == 0, r.output
    assert r.output == (
        f"== anthropic-1-bc09baf2  ({path}:line 1)  3 messages\n"
        "[0] system: Be brief.\n"
        "[1] user: hi\n"
        "[2] assistant: Hello.\n"
        "\n"
        f"== anthropic-2-48c237f8  ({path}:line 2)  4 messages\n"
        "[0] user: list files\n"
        "[1] assistant:\n"
        "    -> ls (id t1) {}\n"
        "[2] tool ls (call t1): a.txt\n"
        "[3] assistant: One file: a.txt.\n"
        "\n"
        "2 transcripts, 0 input errors\n"
    )


def test_show_metadata_reasoning_multiline_and_raw_arguments(fixtures):
    r = _run(str(fixtures / "openai_agentic.jsonl"), "--limit", "3")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert '    metadata: {"condition": "baseline", "id": "conv-42", "model": "gpt-4.1-mini"}' in lines
    assert "    reasoning: The tool said enabled." in lines
    assert ["[0] system: Be brief.", "    Answer in English."] == lines[lines.index("[0] system: Be brief."):][:2]
    assert '    -> bash (id call_b) (raw) "{not valid json"' in lines
    assert lines[-1] == "3 transcripts, 0 input errors"


def test_show_reports_input_errors_with_exit_3(fixtures):
    path = str(fixtures / "corpus" / "mixed.jsonl")
    r = _run(path)
    assert r.exit_code == 3
    errors = [line for line in r.output.splitlines() if line.startswith("! input error: ")]
    assert errors[0] == f"! input error: {path}:line 2: invalid JSON at column 52: Expecting ',' delimiter"
    assert len(errors) == 6
    assert r.output.splitlines()[-1] == "3 transcripts, 6 input errors"


def test_show_json(fixtures):
    path = str(fixtures / "corpus" / "items.json")
    r = _run(path, "--json")
    assert r.exit_code == 3
    doc = json.loads(r.output)
    assert [t["source"] for t in doc["transcripts"]] == [{"path": path, "locator": "item 0"}]
    assert doc["transcripts"][0]["messages"] == [{"index": 0, "role": "user", "content": "good item"},
                                                 {"index": 1, "role": "assistant", "content": "fine"}]
    assert doc["input_errors"] == [
        {"path": path, "locator": "item 1", "reason": "expected a conversation object with a 'messages' list, got a number"},
        {"path": path, "locator": "item 2", "reason": "message 1 tool call 0: no function name"}]


def test_show_format_option_and_help(fixtures):
    r = _run(str(fixtures / "chat.txt"), "--format", "text", "--json")
    assert r.exit_code == 0
    assert [m["role"] for m in json.loads(r.output)["transcripts"][0]["messages"]] == [
        "system", "user", "assistant", "assistant", "user"]
    bad = _run(str(fixtures / "chat.txt"), "--format", "csv")
    assert bad.exit_code == 2 and "'csv' is not one of" in bad.output
    h = _run("--help")
    assert h.exit_code == 0 and "grader transcripts show chat.jsonl" in h.output
    g = CliRunner().invoke(cli, ["transcripts", "--help"])
    assert g.exit_code == 0 and "Example: grader transcripts show" in g.output
