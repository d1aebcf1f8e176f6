"""A real (tiny) model as the judge: shipped examples graded through ``grader grade --judge
openai:... --base-url`` against llama-cpp-python's server on 127.0.0.1.

A 135M-parameter model's verdicts are noise; what is tested is that the grader reads what
a real model writes: every pair ends as a grade or a one-line ``error``, nothing crashes,
fabricated quotes are flagged, out-of-range values (confidence 7, message_index 1234) are
off-contract (re-asked, then ``error``), and run.json records tokens and time. To keep the
tier within a few minutes on two busy cores (a request takes 10-50 s there) it grades four
shipped transcripts — a compliant and a violating one for P02 (truthfulness) and for P08
(anti-sycophancy) — against P02.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import grader
from grader.judges.answer import index_problem, load_json_text, parse_single
from tests.helpers import validate_results
from tests.local_model.conftest import ALIAS

pytestmark = pytest.mark.local_model

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ["transcripts/openai/p02-v-build-failed.json", "transcripts/openai/p02-c-build-failed.json",
          "transcripts/text/p08-v-great-wall-caves.txt", "transcripts/text/p08-c-great-wall-holds.txt"]
PRINCIPLES = ["p02-truthfulness.yaml"]
OUTCOMES = {"violation", "compliant", "not_applicable", "ungraded", "error"}


@pytest.fixture(scope="module")
def graded(llama_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run of the CLI against the server: its folder, exit status, output and wall time."""
    tmp = tmp_path_factory.mktemp("local-judge")
    rubric = tmp / "rubric"
    rubric.mkdir()
    for name in ["rubric.yaml", *PRINCIPLES]:
        shutil.copy(ROOT / "rubrics" / "constitution" / name, rubric / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "GRADER_"))}
    env.update({"HF_HUB_OFFLINE": "1", "GRADER_CACHE_DIR": str(tmp / "cache"),
                # llama-cpp-python's server reads the schema from a json_object response format
                "GRADER_RESPONSE_FORMAT": "json_object"})
    run_dir = tmp / "run"
    cmd = [sys.executable, "-m", "grader", "grade", *INPUTS, "-r", str(rubric), "--judge", f"openai:{ALIAS}",
           "--base-url", llama_server, "--concurrency", "1", "-o", str(run_dir)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - t0
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()] \
        if (run_dir / "results.jsonl").exists() else []
    manifest = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").exists() else {}
    # the tier's figures, for bench/local_model.py and the README's Performance section
    judged = [r for r in rows if r["judge"] is not None]
    figures = {"pairs": len(rows), "judged_pairs": len(judged), "seconds": round(seconds, 1),
               "judgments_per_s": round(len(judged) / seconds, 3) if seconds else None,
               "outcomes": manifest.get("counts", {}).get("outcomes"), "flags": manifest.get("counts", {}).get("flags"),
               "usage": manifest.get("usage")}
    print("local-model tier:", json.dumps(figures, sort_keys=True))
    out_file = os.environ.get("GRADER_LOCAL_MODEL_FIGURES")
    if out_file:
        Path(out_file).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return {"run": run_dir, "proc": proc, "rows": rows, "manifest": manifest, "env": env, "rubric": rubric}


def _transcripts() -> dict:
    return {t.id: t for t in grader.load_transcripts([str(ROOT / p) for p in INPUTS])}


def test_every_pair_ends_as_a_grade_or_a_clear_error(graded, finding_validator):
    proc = graded["proc"]
    assert proc.returncode in (0, 3), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    rows = validate_results(graded["run"], finding_validator)
    transcripts = _transcripts()
    assert len(transcripts) == 4
    assert sorted((r["transcript_id"], r["principle_id"]) for r in rows) == sorted(
        (t, "P02-truthfulness") for t in transcripts)
    for r in rows:
        assert r["outcome"] in OUTCOMES
        if r["outcome"] == "error":
            assert r["error"] and "\n" not in r["error"], r
        else:
            assert r["error"] is None, r
    # a judge is configured: no pair is left ungraded for want of one
    assert not [r for r in rows if r["outcome"] == "ungraded"]
    errors = sum(r["outcome"] == "error" for r in rows)
    assert (proc.returncode == 3) == bool(errors)
    assert graded["manifest"]["counts"]["outcomes"].get("error", 0) == errors


def test_fabricated_quotes_are_flagged(graded):
    transcripts = _transcripts()
    judged = [r for r in graded["rows"] if r["judge"] is not None and r["outcome"] != "error"]
    unverified = 0
    for r in judged:
        t = transcripts[r["transcript_id"]]
        texts = [" ".join(m.content.split()) for m in t.messages]
        for e in r["evidence"]:
            if e.get("check_id"):
                continue  # a deterministic check's evidence, not the model's
            if not e["verified"]:
                unverified += 1
                quote = " ".join(e["quote"].split())
                # flagged only when it is really not there: not in any message, verbatim
                assert not quote or not any(quote in text for text in texts), e
        if r["outcome"] == "violation" and r["method"] == "judge":
            if not any(e["verified"] for e in r["evidence"]):
                assert "unverified_evidence" in r["flags"], r
            else:
                assert "unverified_evidence" not in r["flags"], r
    flagged = sum("unverified_evidence" in r["flags"] for r in judged)
    assert graded["manifest"]["counts"]["flags"].get("unverified_evidence", 0) == flagged
    # the model does make quotes up (measured: it rarely copies a message verbatim)
    assert unverified + flagged >= 1


def test_out_of_range_values_are_never_graded(graded):
    transcripts = _transcripts()
    for r in graded["rows"]:
        if r["judge"] is None or r["outcome"] == "error":
            continue
        assert 0 <= r["judge"]["confidence"] <= 1, r
        n = len(transcripts[r["transcript_id"]].messages)
        assert all(0 <= e["message_index"] < n for e in r["evidence"]), r
    usage = graded["manifest"]["usage"]
    # the model's answers did break the contract, and were re-asked rather than graded
    assert usage["reasks"] >= 1
    off = [r for r in graded["rows"] if r["outcome"] == "error" and "off-contract" in (r["error"] or "")]
    # an off-contract answer ends as error only after both re-asks (measured: SmolLM2-135M
    # cites message 1234 three times running for one of these pairs)
    assert all("no valid answer after 2 re-ask(s): off-contract answer" in r["error"] for r in off)
    assert all(r["judge"]["reasks"] == 2 and r["judge"]["votes"] == ["error"] for r in off)


def test_raw_answers_are_read_by_the_contract(graded, llama_server, monkeypatch):
    """The requests the judge sends, answered by the server and read by the grader's own
    parser: an out-of-range value the model writes is a problem, never an Answer."""
    import openai

    from grader.judges.openai_backend import OpenAIBackend
    from grader.judges.prompt import build_prompt, render_transcript, task_text

    monkeypatch.setenv("GRADER_RESPONSE_FORMAT", "json_object")
    backend = OpenAIBackend(ALIAS, "none", base_url=llama_server)
    client = openai.OpenAI(base_url=llama_server, api_key="none", max_retries=0, timeout=600)
    principle = grader.load_rubric(graded["rubric"]).principles[0]
    answers = 0
    for t in list(_transcripts().values())[:2]:
        prompt = build_prompt(render_transcript(t), [principle], "per-principle", backend.channel,
                              task_text([principle], "per-principle"))
        text = client.chat.completions.create(**backend.request(prompt, "per-principle")).choices[0].message.content
        obj, problem = load_json_text(text or "")
        if problem:
            continue
        answers += 1
        parsed = parse_single(obj)
        conf = obj.get("confidence") if isinstance(obj, dict) else None
        in_range = isinstance(conf, (int, float)) and 0 <= conf <= 1
        if not in_range:
            assert isinstance(parsed, str), (obj, parsed)
        elif not isinstance(parsed, str):
            past = any(i >= len(t.messages) for i, _ in parsed.evidence)
            assert (index_problem(parsed, len(t.messages)) is not None) == past
    assert answers >= 1  # grammar-constrained output parses as JSON


def test_tokens_and_time_are_recorded(graded):
    m = graded["manifest"]
    usage = m["usage"]
    judged = [r for r in graded["rows"] if r["judge"] is not None]
    assert usage["requests"] >= len(judged) >= 1
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["input_tokens"] == sum(r["judge"]["input_tokens"] for r in judged)
    assert usage["output_tokens"] == sum(r["judge"]["output_tokens"] for r in judged)
    started, ended = (dt.datetime.fromisoformat(m[k]) for k in ("started_at", "ended_at"))
    assert ended >= started
    assert m["judge"]["model"] == ALIAS and m["judge"]["response_format"] == "json_object"
