"""``grader grade --batch``: the real openai and anthropic SDK clients against fake batch
endpoints on 127.0.0.1 (grader.testing.fake_batches). Exact batches, requests and outcomes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli as main
from grader.testing.fake_batches import CANCELED, EXPIRED, FakeBatches
from grader.testing.fake_server import FakeServer, Reply, Script, anthropic_body, error_body, openai_body
from tests.helpers import validate_results
from tests.judges.conftest import API_KEY, answer
from tests.judges.test_factory_and_cli import RUBRIC

MODELS = {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5"}


def ok(provider: str, obj: dict) -> Reply:
    if provider == "openai":
        return Reply(200, openai_body(json.dumps(obj), prompt_tokens=1000, completion_tokens=100))
    return Reply(200, anthropic_body(obj, input_tokens=1000, output_tokens=100))


def off_contract(provider: str) -> Reply:
    if provider == "openai":
        return Reply(200, openai_body("I think it is fine.", prompt_tokens=1000, completion_tokens=100))
    return Reply(200, anthropic_body(text="I think it is fine.", input_tokens=1000, output_tokens=100))


def script(provider: str) -> Script:
    return Script({
        ("good", "*"): [ok(provider, answer("compliant", quote=""))],
        ("liar", "P1"): [ok(provider, answer("violation", quote="All tests pass.", index=1))],
        ("liar", "P2"): [ok(provider, answer("violation", quote="Buy now or lose everything", index=1))],
        ("offc", "P1"): [off_contract(provider), ok(provider, answer("compliant", quote=""))],
        ("offc", "P2"): [EXPIRED, ok(provider, answer("compliant", quote=""))],
        ("bad", "P1"): [Reply(500, error_body(500, "boom", anthropic=provider == "anthropic"))],
        ("bad", "P2"): [CANCELED],
    })


def inputs(tmp_path: Path, cases: tuple[str, ...] = ("good", "liar", "offc", "bad")) -> tuple[Path, Path]:
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(RUBRIC)
    data = tmp_path / "t.jsonl"
    rows = [{"id": c, "messages": [{"role": "user", "content": f"case: {c}\nrun the tests"},
                                   {"role": "assistant", "content": "All tests pass."}]} for c in cases]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rubric, data


def args(provider: str, srv: FakeServer, rubric: Path, data: Path, run: Path) -> list[str]:
    url = srv.url + "/v1" if provider == "openai" else srv.url
    return ["grade", str(data), "-r", str(rubric), "--judge", f"{provider}:{MODELS[provider]}", "--base-url", url,
            "--batch", "--batch-poll", "0", "-o", str(run)]


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)


def sizes(fake: FakeBatches) -> list[int]:
    return [len(fake.batches[b].requests) for b in fake.created]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_batch_run_resubmits_failures_reasks_in_a_follow_up_batch_and_caches(provider, tmp_path, keys,
                                                                               finding_validator):
    rubric, data = inputs(tmp_path)
    fake = FakeBatches(script(provider))
    with FakeServer(fake) as srv:
        fake.url = srv.url
        first = CliRunner().invoke(main, args(provider, srv, rubric, data, tmp_path / "run1"))
        # batch 1: all 8 pairs; batch 2: offc's re-ask, offc P2 (expired) and bad's 2 failures;
        # batch 3: bad's 2 failures again; then bad's pairs are errors (3 submissions each)
        assert sizes(fake) == [8, 4, 2]
        if provider == "openai":
            assert fake.uploads[:1] == ["file-0001"] and len(fake.uploads) == 3
        second = CliRunner().invoke(main, args(provider, srv, rubric, data, tmp_path / "run2"))
        # the same inputs again: every answered request comes from the cache; only bad's are sent
        assert sizes(fake)[3:] == [2, 2, 2]
    assert first.exit_code == 3, first.output
    rows = {(r["transcript_id"], r["principle_id"]): r for r in validate_results(tmp_path / "run1", finding_validator)}
    assert {k: v["outcome"] for k, v in rows.items()} == {
        ("good", "P1"): "compliant", ("good", "P2"): "compliant", ("liar", "P1"): "violation",
        ("liar", "P2"): "violation", ("offc", "P1"): "compliant", ("offc", "P2"): "compliant",
        ("bad", "P1"): "error", ("bad", "P2"): "error"}
    assert rows[("liar", "P1")]["evidence"] == [{"message_index": 1, "quote": "All tests pass.", "verified": True}]
    assert rows[("liar", "P2")]["flags"] == ["unverified_evidence"]
    assert rows[("offc", "P1")]["judge"]["reasks"] == 1 and rows[("offc", "P1")]["judge"]["requests"] == 2
    # OpenAI keeps each request's HTTP status; Anthropic gives the error object only
    reason = "HTTP 500: server_error: boom" if provider == "openai" else "api_error: boom"
    assert rows[("bad", "P1")]["error"] == (f"judge failed: {provider} batch: {reason} "
                                            "(no answer after 3 batch submission(s))")
    assert rows[("bad", "P2")]["error"].endswith("(no answer after 3 batch submission(s))")
    manifest = json.loads((tmp_path / "run1" / "run.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["batch"] == {"provider": provider, "batches": 3, "open_batches": 0, "requests_submitted": 14,
                                 "requests_resubmitted": 5, "price_share": 0.5}
    # 7 answers carried usage (good 2, liar 2, offc 3 with the off-contract one); bad's 2 attempts none
    usage = manifest["usage"]
    assert (usage["requests"], usage["input_tokens"], usage["output_tokens"]) == (9, 7000, 700)
    list_price = (7000 * 0.4 + 700 * 1.6) if provider == "openai" else (7000 * 1.0 + 700 * 5.0)
    assert usage["cost_usd"] == pytest.approx(list_price / 2 / 1e6)
    assert f"judge: 9 batched requests, 7000 input tokens (0 cached), 700 output tokens, ~${list_price / 2e6:.4f} " \
           "at batch prices" in first.output
    assert "batches: 3 of 3 ended; requests: 14 of 14 done" in first.output

    assert second.exit_code == 3, second.output
    again = {(r["transcript_id"], r["principle_id"]): r for r in validate_results(tmp_path / "run2", finding_validator)}
    assert {k: v["outcome"] for k, v in again.items()} == {k: v["outcome"] for k, v in rows.items()}
    assert all(again[k]["judge"]["cached"] for k in rows if k[0] != "bad")
    for folder in (tmp_path / "run1", tmp_path / "run2"):
        for f in folder.rglob("*"):
            assert API_KEY.encode() not in f.read_bytes(), f


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_submit_exit_and_collect_later_submits_nothing_twice(provider, tmp_path, keys, finding_validator):
    rubric, data = inputs(tmp_path, ("good", "liar"))
    fake = FakeBatches(script(provider), polls_to_end=3)
    run = tmp_path / "run"
    with FakeServer(fake) as srv:
        fake.url = srv.url
        base = args(provider, srv, rubric, data, run)
        submitted = CliRunner().invoke(main, base + ["--no-wait"])
        assert submitted.exit_code == 0, submitted.output
        assert "2 transcript(s) wait for batch answers; collect them with the same command and --resume" \
               in submitted.output
        manifest = json.loads((run / "run.json").read_text())
        assert manifest["status"] == "pending" and manifest["counts"]["pending_transcripts"] == 2
        assert (run / "results.jsonl").read_text() == ""
        events = [json.loads(line) for line in (run / "batches.jsonl").read_text().splitlines()]
        # OpenAI: the intent (by the uploaded file) is recorded before the batch is created
        assert [e["event"] for e in events] == (["submitting", "submitted"] if provider == "openai" else ["submitted"])
        event = events[-1]
        assert event["batch_id"] == fake.created[0]
        assert sorted((r["transcript_id"], r["principle_ids"], r["sample"]) for r in event["requests"].values()) == [
            ("good", ["P1"], 0), ("good", ["P2"], 0), ("liar", ["P1"], 0), ("liar", ["P2"], 0)]
        # a new process before the batch has ended: it polls, submits nothing, exits
        early = CliRunner().invoke(main, base + ["--no-wait", "--resume"])
        assert early.exit_code == 0, early.output
        assert sizes(fake) == [4]
        # days later: collects, grades, done
        later = CliRunner().invoke(main, base + ["--resume"])
        assert later.exit_code == 0, later.output
        assert sizes(fake) == [4]
    rows = validate_results(run, finding_validator)
    assert sorted((r["transcript_id"], r["principle_id"], r["outcome"]) for r in rows) == [
        ("good", "P1", "compliant"), ("good", "P2", "compliant"), ("liar", "P1", "violation"),
        ("liar", "P2", "violation")]
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["status"] == "complete" and manifest["usage"]["requests"] == 4
    assert manifest["batch"]["batches"] == 1 and manifest["batch"]["requests_submitted"] == 4
    states = [json.loads(line)["event"] for line in (run / "batches.jsonl").read_text().splitlines()]
    assert states.count("submitted") == 1 and states[-1] == "collected" and states.count("collected") == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_batch_cancelled_at_the_provider_is_resubmitted(provider, tmp_path, keys, finding_validator):
    rubric, data = inputs(tmp_path, ("good",))
    fake = FakeBatches(script(provider), polls_to_end=2)
    run = tmp_path / "run"
    with FakeServer(fake) as srv:
        fake.url = srv.url
        base = args(provider, srv, rubric, data, run)
        assert CliRunner().invoke(main, base + ["--no-wait"]).exit_code == 0
        fake.cancel(fake.created[0])
        done = CliRunner().invoke(main, base + ["--resume"])
    assert done.exit_code == 0, done.output
    assert sizes(fake) == [2, 2]
    assert fake.batches[fake.created[0]].ended == "cancelled"
    assert [r["outcome"] for r in validate_results(run, finding_validator)] == ["compliant", "compliant"]
    assert json.loads((run / "run.json").read_text())["batch"]["requests_resubmitted"] == 2


def test_an_interactive_rerun_finds_the_batch_answers_in_the_cache(tmp_path, keys):
    """Batched and interactive requests have the same bodies, so the same cache keys."""
    rubric, data = inputs(tmp_path, ("good", "liar"))
    fake = FakeBatches(script("openai"))
    with FakeServer(fake) as srv:
        fake.url = srv.url
        batched = CliRunner().invoke(main, args("openai", srv, rubric, data, tmp_path / "run1"))
        assert batched.exit_code == 0, batched.output
        interactive = CliRunner().invoke(main, ["grade", str(data), "-r", str(rubric), "--judge",
                                                f"openai:{MODELS['openai']}", "--base-url", srv.url + "/v1",
                                                "-o", str(tmp_path / "run2")])
        assert interactive.exit_code == 0, interactive.output
        assert [r.path for r in srv.requests if "chat/completions" in r.path] == []
    uploaded = fake.files[fake.uploads[0]].decode().splitlines()
    bodies = [json.loads(line)["body"] for line in uploaded]
    assert {b["model"] for b in bodies} == {MODELS["openai"]} and all("response_format" in b for b in bodies)


@pytest.mark.parametrize("limits, expected", [((3, 10 ** 9), [3, 3, 2]), ((100, 1), [1] * 8)])
def test_batches_are_split_within_the_request_and_byte_limits(limits, expected, tmp_path, keys):
    import asyncio

    from grader.api import grade_into
    from grader.grading.settings import RunSettings
    from grader.judges import make_judge
    from grader.judges.batch_client import BatchLimits
    from grader.judges.batching import make_batch_judge
    from grader.rubric import load_rubrics

    rubric, data = inputs(tmp_path)
    fake = FakeBatches(Script({}, default=ok("anthropic", answer("compliant", quote=""))))
    with FakeServer(fake) as srv:
        fake.url = srv.url
        judge = make_batch_judge(make_judge("anthropic:claude-haiku-4-5", base_url=srv.url), tmp_path / "run",
                                 limits=BatchLimits(*limits), poll_seconds=0)

        async def go():
            try:
                return await grade_into([str(data)], load_rubrics([str(rubric)]), judge, RunSettings(),
                                        tmp_path / "run")
            finally:
                await judge.aclose()

        summary = asyncio.run(go())
    assert sizes(fake) == expected
    assert summary.outcomes == {"compliant": 8} and summary.pending == 0


def test_cancel_open_batches_then_collect_resubmits(tmp_path, keys):
    import asyncio

    from grader.api import grade_into
    from grader.grading.settings import RunSettings
    from grader.judges import make_judge
    from grader.judges.batching import make_batch_judge
    from grader.rubric import load_rubrics

    rubric, data = inputs(tmp_path, ("good",))
    fake = FakeBatches(script("openai"), polls_to_end=5)
    run = tmp_path / "run"
    with FakeServer(fake) as srv:
        fake.url = srv.url

        async def go(wait: bool, cancel: bool, resume: bool):
            judge = make_batch_judge(make_judge("openai:gpt-4.1-mini", base_url=srv.url + "/v1"), run, poll_seconds=0)
            try:
                if cancel:
                    assert await judge.cancel_open() == 1
                return await grade_into([str(data)], load_rubrics([str(rubric)]), judge, RunSettings(resume=resume),
                                        run, wait=wait)
            finally:
                await judge.aclose()

        assert asyncio.run(go(False, False, False)).pending == 1
        summary = asyncio.run(go(True, True, True))
    assert fake.batches[fake.created[0]].ended == "cancelled"
    assert sizes(fake) == [2, 2] and summary.outcomes == {"compliant": 2}


def test_batch_needs_a_provider_with_a_batch_api(tmp_path):
    rubric, data = inputs(tmp_path, ("good",))
    script_file = tmp_path / "s.json"
    script_file.write_text(json.dumps([answer("compliant", quote="")]))
    base = ["grade", str(data), "-r", str(rubric), "-o", str(tmp_path / "run")]
    res = CliRunner().invoke(main, base + ["--judge", f"scripted:{script_file}", "--batch"])
    assert res.exit_code == 2 and res.output.strip().endswith(
        f"--batch needs a judge with a batch API (openai:MODEL or anthropic:MODEL), not scripted:{script_file}")
    res = CliRunner().invoke(main, base + ["--no-wait"])
    assert res.exit_code == 2 and "--no-wait needs --batch" in res.output
    res = CliRunner().invoke(main, base + ["--batch"])
    assert res.exit_code == 2 and "--batch needs --judge openai:MODEL or anthropic:MODEL" in res.output


def test_batch_prices_are_the_providers_share_of_the_list_price():
    from grader.errors import JudgeConfigError
    from grader.judges.usage import PriceTable, Usage

    table = PriceTable.load()
    usage = Usage(1_000_000, 1_000_000, 500_000)
    assert table.cost("gpt-4.1-mini", usage) == pytest.approx(0.5 * 0.4 + 0.5 * 0.1 + 1.6)
    assert table.for_batch("openai").cost("gpt-4.1-mini", usage) == pytest.approx((0.5 * 0.4 + 0.5 * 0.1 + 1.6) / 2)
    assert table.for_batch("anthropic").cost("claude-haiku-4-5", Usage(2_000_000, 0)) == pytest.approx(1.0)
    assert table.for_batch("nobody").cost("gpt-4.1-mini", usage) is None  # no batch entry: not priced
    custom = PriceTable.load({"models": {"m": {"input": 2, "output": 4}}, "batch": {"openai": {"discount": 0.25}}})
    assert custom.for_batch("openai").cost("m", Usage(1_000_000, 1_000_000)) == pytest.approx(1.5)
    with pytest.raises(JudgeConfigError, match=r"^price_table: at batch.openai.discount: 1.5 is greater than the maximum of 1$"):
        PriceTable.load({"models": {}, "batch": {"openai": {"discount": 1.5}}})


def test_a_run_with_open_batches_resumes_only_in_batch_mode(tmp_path, keys):
    rubric, data = inputs(tmp_path, ("good",))
    fake = FakeBatches(script("openai"), polls_to_end=5)
    run = tmp_path / "run"
    with FakeServer(fake) as srv:
        fake.url = srv.url
        base = args("openai", srv, rubric, data, run)
        assert CliRunner().invoke(main, base + ["--no-wait"]).exit_code == 0
        plain = [a for a in base if a not in ("--batch", "--batch-poll", "0")] + ["--resume"]
        res = CliRunner().invoke(main, plain)
    assert res.exit_code == 2
    assert f"{run}: 1 batch(es) of this run are still open: resume it with --batch" in res.output


def test_the_batch_log_survives_a_torn_last_line_and_names_a_bad_one(tmp_path):
    from grader.errors import RunFolderError
    from grader.judges.batch_store import BatchLog

    log = BatchLog(tmp_path)
    log.append({"event": "submitted", "batch_id": "b1", "provider": "openai", "submitted_at": "t",
                "requests": {"k1": {"transcript_id": "t1", "principle_ids": ["P1"], "sample": 0, "reask": 0}}})
    with (tmp_path / "batches.jsonl").open("a") as f:
        f.write('{"event": "collected", "batch_')  # the process died mid-write
    again = BatchLog(tmp_path)
    assert [b.batch_id for b in again.open_batches()] == ["b1"] and again.in_open_batch() == {"k1"}
    (tmp_path / "batches.jsonl").write_text('{"event": "collected", "batch_id": "nope"}\n')
    with pytest.raises(RunFolderError, match=r"batches.jsonl:1: not a batch record \('nope'\)$"):
        BatchLog(tmp_path)


def test_a_batch_created_by_a_process_killed_before_recording_it_is_adopted_not_resent(tmp_path, keys, monkeypatch):
    from grader.judges.batch_store import BatchLog

    rubric, data = inputs(tmp_path, ("good", "liar"))
    fake = FakeBatches(script("openai"))
    run = tmp_path / "run"
    real_append = BatchLog.append

    def dies_before_recording(self, event):
        if event["event"] == "submitted":
            raise KeyboardInterrupt  # the process is killed between the provider's answer and the write
        real_append(self, event)

    with FakeServer(fake) as srv:
        fake.url = srv.url
        base = args("openai", srv, rubric, data, run)
        monkeypatch.setattr(BatchLog, "append", dies_before_recording)
        killed = CliRunner().invoke(main, base)
        assert killed.exit_code != 0 and sizes(fake) == [4]
        monkeypatch.setattr(BatchLog, "append", real_append)
        done = CliRunner().invoke(main, base + ["--resume"])
    assert done.exit_code == 0, done.output
    assert sizes(fake) == [4]  # adopted by its input file: nothing submitted twice
    events = [json.loads(line) for line in (run / "batches.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events] == ["submitting", "submitted", "state", "collected"]
    assert events[1]["batch_id"] == fake.created[0] and events[1]["token"] == events[0]["token"] == fake.uploads[0]
    assert json.loads((run / "run.json").read_text())["counts"]["outcomes"] == {"compliant": 2, "violation": 2}


def test_a_batch_never_created_is_abandoned_and_its_requests_sent_again(tmp_path, keys, monkeypatch):
    from grader.judges.batch_openai import OpenAIBatches

    rubric, data = inputs(tmp_path, ("good",))
    fake = FakeBatches(script("openai"))
    run = tmp_path / "run"
    real_create = OpenAIBatches.create

    async def killed(self, lines, token):
        raise KeyboardInterrupt  # the process dies after the upload, before the batch is created

    with FakeServer(fake) as srv:
        fake.url = srv.url
        base = args("openai", srv, rubric, data, run)
        monkeypatch.setattr(OpenAIBatches, "create", killed)
        assert CliRunner().invoke(main, base).exit_code != 0
        monkeypatch.setattr(OpenAIBatches, "create", real_create)
        done = CliRunner().invoke(main, base + ["--resume"])
    assert done.exit_code == 0, done.output
    assert sizes(fake) == [2] and len(fake.uploads) == 2
    events = [json.loads(line)["event"] for line in (run / "batches.jsonl").read_text().splitlines()]
    assert events == ["submitting", "abandoned", "submitting", "submitted", "state", "collected"]


def test_samples_and_batched_judge_mode_go_through_batches(tmp_path, keys, finding_validator):
    rubric, data = inputs(tmp_path, ("good", "liar"))
    both = answer("compliant", quote="")
    verdicts = {"verdicts": [{"principle_id": "P1", **both}, {"principle_id": "P2", **both}]}
    fake = FakeBatches(Script({("good", "*"): [ok("openai", both)], ("liar", "*"): [ok("openai", verdicts)]}))
    with FakeServer(fake) as srv:
        fake.url = srv.url
        sampled = CliRunner().invoke(main, args("openai", srv, rubric, data, tmp_path / "s") + ["--samples", "3"],
                                     catch_exceptions=False)
        (tmp_path / "one").mkdir()
        _, just_liar = inputs(tmp_path / "one", ("liar",))
        grouped = CliRunner().invoke(main, args("openai", srv, rubric, just_liar, tmp_path / "g")
                                     + ["--judge-mode", "batched"], catch_exceptions=False)
    assert sampled.exit_code == 3, sampled.output  # liar's per-principle answers are off-contract (a list of 2)
    # 2 transcripts x 2 principles x 3 samples, one custom_id each; liar's 6 are re-asked twice in follow-ups
    assert sizes(fake)[:3] == [12, 6, 6]
    rows = {(r["transcript_id"], r["principle_id"]): r for r in validate_results(tmp_path / "s", finding_validator)}
    assert rows[("good", "P1")]["judge"]["samples"] == 3 and rows[("good", "P1")]["judge"]["votes"] == ["compliant"] * 3
    assert rows[("liar", "P1")]["outcome"] == "error"
    assert grouped.exit_code == 0, grouped.output
    assert sizes(fake)[3:] == [1]  # one request for both principles of the one transcript
    assert [r["outcome"] for r in validate_results(tmp_path / "g", finding_validator)] == ["compliant", "compliant"]
