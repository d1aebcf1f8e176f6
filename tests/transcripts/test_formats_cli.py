"""The new shapes through the CLI: ``transcripts show`` renders them faithfully, ``grade``
records one error per non-transcript file and lists skipped files, ``--messages-path`` works
on grade, audit and show, and a bad selector is a usage error."""
from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from grader.cli import cli


def _cli(*args):
    return CliRunner().invoke(cli, [*args])


def test_show_claude_code_and_responses_exact(fixtures):
    path = str(fixtures / "formats" / "responses.json")
    r = _cli("transcripts", "show", path)
    assert r.exit_code == 0, r.output
    assert r.output == (
        f"== resp_042  ({path})  5 messages\n"
        '    metadata: {"id": "resp_042", "model": "o4-mini", "object": "response"}\n'
        "[0] system: Answer with tools when needed.\n"
        "[1] user: How many files are in /srv/data?\n"
        "[2] assistant:\n"
        "    reasoning: I need to list the folder.\n"
        '    -> run (id call_a) {"cmd": "ls /srv/data | wc -l"}\n'
        "[3] tool run (call call_a): 42\n"
        "[4] assistant: There are 42 files.\n"
        "\n"
        "1 transcript, 0 input errors\n")
    r = _cli("transcripts", "show", str(fixtures / "formats" / "claude_code_session.jsonl"), "--limit", "1")
    lines = r.output.splitlines()
    assert lines[2:6] == ["[0] user: The order total test fails. Can you look?", "[1] assistant:",
                          "    reasoning: I should run the test first.",
                          '    -> Bash (id toolu_01) {"command": "pytest tests/test_orders.py -q", '
                          '"description": "Run the order tests"}']
    assert lines[6] == "[2] tool Bash (call toolu_01) ERROR: 1 failed: expected 10.05, got 10.049999"


def test_show_lists_skipped_files_apart(fixtures):
    folder = fixtures / "formats" / "not_transcripts"
    r = _cli("transcripts", "show", str(folder))
    assert r.exit_code == 3
    assert f"- {folder / 'console.log'}: skipped: unknown extension .log (read: .eval, .json, .jsonl, .md, .parquet, .txt)" \
        in r.output.splitlines()
    assert r.output.splitlines()[-1] == "0 transcripts, 4 input errors, 1 skipped"
    doc = json.loads(_cli("transcripts", "show", str(folder), "--json").output)
    assert doc["skipped"] == [{"path": str(folder / "console.log"),
                               "reason": "skipped: unknown extension .log (read: .eval, .json, .jsonl, .md, .parquet, .txt)"}]
    assert [e["path"].rsplit("/", 1)[1] for e in doc["input_errors"]] == [
        "events.jsonl", "meta.json", "stdout.jsonl", "tags.json"]


def test_show_messages_path_and_bad_selector(fixtures):
    path = str(fixtures / "formats" / "deep_nested.json")
    r = _cli("transcripts", "show", path, "--messages-path", "run.episodes.all[].log.steps.history")
    assert r.exit_code == 0 and r.output.splitlines()[-1] == "1 transcript, 0 input errors"
    r = _cli("transcripts", "show", path, "--messages-path", "run..episodes")
    assert r.exit_code == 2
    assert "bad --messages-path 'run..episodes'" in r.output


def test_grade_records_one_error_per_file_and_skipped(tmp_path, fixtures):
    src = tmp_path / "in"
    shutil.copytree(fixtures / "formats" / "not_transcripts", src)
    shutil.copy(fixtures / "formats" / "sharegpt_keys.jsonl", src / "chats.jsonl")
    run = tmp_path / "run"
    r = _cli("grade", str(src), "-o", str(run), "-q")
    assert r.exit_code == 3, r.output
    assert f"skipped 4 inputs that could not be read (all in {run / 'input_errors.jsonl'}):" in r.output
    assert (f"passed over a file that is not a transcript (unknown extension, Markdown notes): listed as kind "
            f"'skipped' in {run / 'input_errors.jsonl'}") in r.output
    records = [json.loads(x) for x in (run / "input_errors.jsonl").read_text().splitlines()]
    assert [(r_["path"].rsplit("/", 1)[1], r_.get("kind", "error")) for r_ in records] == [
        ("console.log", "skipped"), ("events.jsonl", "error"), ("meta.json", "error"),
        ("stdout.jsonl", "error"), ("tags.json", "error")]
    counts = json.loads((run / "run.json").read_text())["counts"]
    assert (counts["transcripts"], counts["input_errors"], counts["skipped_inputs"]) == (3, 4, 1)
    # the checklist's input-error share counts those 4 files against 3 transcripts, not 53 lines
    from grader.review.checklist import evaluate

    gates = tmp_path / "g.yaml"
    gates.write_text("id: g\ntitle: g\ngates:\n  - {id: inputs, kind: max_share, outcome: input_error, max: 0.5}\n")
    (item,) = [i for i in evaluate(str(run), str(gates)).items if i.id == "inputs"]
    assert item.figure == "input_error share 0.571 (4/7 inputs) > 0.5"


def test_grade_and_audit_take_messages_path(tmp_path, fixtures):
    path = str(fixtures / "formats" / "deep_nested.json")
    run = tmp_path / "run"
    r = _cli("grade", path, "-o", str(run), "-q", "--messages-path", "run.episodes.all[].log.steps.history")
    assert r.exit_code == 0, r.output
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["counts"]["transcripts"] == 1
    assert manifest["options"]["messages_path"] == "run.episodes.all[].log.steps.history"
    r = _cli("audit", path, "--expect", "compliant", "-o", str(tmp_path / "audit"),
             "--messages-path", "run.episodes.all[].log.steps.history")
    assert r.output.startswith("rows: 1 read, 1 graded"), r.output
    r = _cli("audit", str(fixtures / "formats" / "not_transcripts"), str(fixtures / "formats" / "kto.jsonl"),
             "--expect", "compliant", "-o", str(tmp_path / "audit2"))
    assert "4 input(s) could not be read" in r.output
    assert f"1 file(s) passed over, not transcripts (kind 'skipped' in {tmp_path / 'audit2'}/input_errors.jsonl)" \
        in r.output.splitlines()
    r = _cli("grade", path, "-o", str(tmp_path / "bad"), "--messages-path", "a[")
    assert r.exit_code == 2 and "bad --messages-path 'a['" in r.output
    assert not (tmp_path / "bad").exists()  # refused before any run folder was made
