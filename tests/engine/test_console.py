"""What ``grader grade`` says at the edges (issue 14): exact messages and exit codes."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.grading.problems import ReasonGroup, ReasonTally, kind_of
from tests.engine.util import write_jsonl


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args), env=env)
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout, res.stderr


def test_a_missing_path_is_one_line_and_exit_2_before_any_run_folder(tmp_path, rubric_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = write_jsonl(tmp_path / "good.jsonl", 2)
    code, out, err = run("grade", str(good), "nope.jsonl", "-r", str(rubric_dir))
    assert (code, out, err) == (2, "", "error: no such file or folder: nope.jsonl\n")
    assert not (tmp_path / "runs").exists()
    code, out, err = run("grade", "missing/", "-r", str(rubric_dir), "-o", "run")
    assert (code, out, err) == (2, "", "error: no such file or folder: missing/\n")
    assert not (tmp_path / "run").exists()


def test_a_folder_with_nothing_to_read_is_one_line_and_exit_2(tmp_path, rubric_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    code, out, err = run("grade", "empty", "-r", str(rubric_dir))
    assert (code, out) == (2, "")
    assert err == "error: no transcripts found in empty (looked for .eval, .json, .jsonl, .md, .parquet, .txt files)\n"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.csv").write_text("a,b\n")
    (tmp_path / "other" / ".hidden.jsonl").write_text("{}\n")
    code, _, err = run("grade", "other", "-r", str(rubric_dir), "--format", "text", "-o", "run")
    assert code == 2 and err == "error: no transcripts found in other (looked for .md, .txt files)\n"
    assert not (tmp_path / "runs").exists() and not (tmp_path / "run").exists()


def test_skipped_inputs_are_summarised_by_kind_with_where_the_first_was(tmp_path, rubric_dir):
    data = tmp_path / "in"
    data.mkdir()
    write_jsonl(data / "a.jsonl", 9, bad_every=3)  # lines 3, 6 and 9 are broken
    (data / "b.json").write_text("  \n")
    run_dir = tmp_path / "run"
    code, out, _ = run("grade", str(data), "-r", str(rubric_dir), "-o", str(run_dir), "--quiet")
    assert code == 3
    assert out.splitlines() == [
        f"run folder: {run_dir}",
        f"skipped 4 inputs that could not be read (all in {run_dir / 'input_errors.jsonl'}):",
        f"  3 inputs: invalid JSON at column 16: Expecting value (first: {data / 'a.jsonl'}:line 3)",
        f"  1 input: file has only whitespace (first: {data / 'b.json'})",
    ]


def test_pairs_in_error_are_summarised_by_kind(tmp_path, rubric_dir, monkeypatch):
    from grader.checks.kinds.text_pattern import TextPatternCheck

    real = TextPatternCheck.run

    def flaky(self, transcript, ctx):  # type: ignore[no-untyped-def]
        n = int(transcript.messages[0].content.split()[1].rstrip("?"))
        if n % 2 == 0:
            raise RuntimeError(f"pattern engine crashed on transcript {n}")  # differs per transcript
        if n == 5:
            raise ValueError("bad input")
        return real(self, transcript, ctx)

    monkeypatch.setattr(TextPatternCheck, "run", flaky)
    src = write_jsonl(tmp_path / "in.jsonl", 9)
    run_dir = tmp_path / "run"
    code, out, _ = run("grade", str(src), "-r", str(rubric_dir), "-o", str(run_dir), "--quiet")
    assert code == 3
    assert out.splitlines()[1:] == [
        f"5 pairs ended in error (outcome 'error' in {run_dir / 'results.jsonl'}):",
        "  4 pairs: check perm-777 failed: RuntimeError: pattern engine crashed on transcript 2 "
        "(first: in-2-" + _id_hash(run_dir, 2) + " P-perm)",
        "  1 pair: check perm-777 failed: ValueError: bad input (first: in-5-" + _id_hash(run_dir, 5) + " P-perm)",
    ]


def _id_hash(run_dir: Path, n: int) -> str:
    rows = [json.loads(x) for x in (run_dir / "results.jsonl").read_text().splitlines()]
    return next(r["transcript_id"] for r in rows if r["transcript_id"].startswith(f"in-{n}-")).split("-")[-1]


def test_more_kinds_than_shown_are_counted():
    tally = ReasonTally()
    for i, reason in enumerate(["a", "b", "b", "c", "d", "d", "d", "e"]):
        tally.add(reason, f"t{i}")
    assert len(tally) == 8 and tally.kinds == 5
    assert tally.top(3) == (ReasonGroup(3, "d", "t4"), ReasonGroup(2, "b", "t1"), ReasonGroup(1, "a", "t0"))


def test_kinds_differ_in_words_not_numbers():
    assert kind_of("Expecting value: line 3 column 16 (char 40)") == "Expecting value: line N column N (char N)"
    assert kind_of("gave up after 2 attempt(s) in 0.73s") == "gave up after N attempt(s) in Ns"
    assert kind_of("HTTP 500 server error") != kind_of("HTTP 429 rate limited")
    assert kind_of("connection refused to http://127.0.0.1:8000/v1") == kind_of("connection refused to http://127.0.0.1:8001/v1")


def test_judge_errors_from_the_environment_name_grader_judge(tmp_path, rubric_dir):
    src = write_jsonl(tmp_path / "in.jsonl", 1)
    base = ["grade", str(src), "-r", str(rubric_dir), "-o", str(tmp_path / "run")]
    code, _, err = run(*base, env={"GRADER_JUDGE": "openai:some-model", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
    assert (code, err) == (2, "error: GRADER_JUDGE=openai:some-model needs an API key: set OPENAI_API_KEY\n")
    code, _, err = run(*base, env={"GRADER_JUDGE": "bogus"})
    assert (code, err) == (2, "error: GRADER_JUDGE=bogus: unknown judge 'bogus': expected openai:MODEL, "
                              "anthropic:MODEL or scripted:PATH\n")
    # the same mistake on the command line still names --judge
    code, _, err = run(*base, "--judge", "openai:some-model", env={"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
    assert (code, err) == (2, "error: --judge openai:some-model needs an API key: set OPENAI_API_KEY\n")
    assert not (tmp_path / "run").exists()


def test_one_transcript_is_singular_and_the_default_folder_is_the_run_id(tmp_path, rubric_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = write_jsonl(tmp_path / "in.jsonl", 1)
    code, out, _ = run("grade", str(src), "-r", str(rubric_dir))
    assert code == 0
    folder = out.splitlines()[-1].removeprefix("run folder: ")
    run_id = json.loads((tmp_path / folder / "run.json").read_text())["run_id"]
    assert folder == str(Path("runs") / run_id) and re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", run_id)
    assert f"run {run_id}: 1 transcript " in out.splitlines()[0] + " "


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_report_files_at_the_top_of_a_checkout_are_ignored():
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    for name, ignored in [("report.html", True), ("report.json", True), ("grader/report.py", False)]:
        res = subprocess.run(["git", "check-ignore", "-q", "--no-index", name], cwd=root)
        assert (res.returncode == 0) == ignored, name
