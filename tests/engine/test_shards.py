"""Sharded runs: ``grade --shard I/N`` and ``grader merge``.

The merged run of N=3 shards of the shipped transcripts equals the single-machine run line
for line (order and run ids aside), with a scripted judge so that tokens are summed too;
shards that are not one job are refused with one line naming the difference."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader
from grader.cli import cli as main
from grader.errors import ShardMismatchError, UsageError
from grader.grading.merge import merge_runs
from grader.grading.shards import Shard, parse_shard, shard_of
from tests.helpers import validate_results

ROOT = Path(__file__).resolve().parents[2]


def test_shard_of_is_pinned():
    """The split is part of the job's contract: the same on every machine and Python."""
    assert [shard_of("tx-p02-v-build-failed", n) for n in (1, 2, 3, 8)] == [1, 1, 1, 3]
    assert [shard_of("a", n) for n in (1, 2, 3, 8)] == [1, 2, 3, 8]
    assert [shard_of("x#2", n) for n in (1, 2, 3, 8)] == [1, 2, 2, 6]
    assert [shard_of("é-ü", n) for n in (1, 2, 3, 8)] == [1, 2, 3, 2]


def test_shard_of_ignores_python_hash_seed():
    code = "from grader.grading.shards import shard_of; print([shard_of(f't{i}', 7) for i in range(50)])"
    outs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                cwd=ROOT, env=env).stdout)
    assert len(outs) == 1
    assert outs.pop().strip() == str([shard_of(f"t{i}", 7) for i in range(50)])


def test_shards_split_evenly_enough():
    counts = [0, 0, 0, 0]
    for i in range(4000):
        counts[shard_of(f"conversation-{i}", 4) - 1] += 1
    assert all(900 <= c <= 1100 for c in counts), counts


@pytest.mark.parametrize("value, expected", [("2/3", Shard(2, 3)), (" 1 / 1 ", Shard(1, 1)), ((3, 3), Shard(3, 3)),
                                             (None, None)])
def test_parse_shard(value, expected):
    assert parse_shard(value) == expected


@pytest.mark.parametrize("value", ["0/3", "4/3", "a/b", "3", "1/0", (True, 2), (1, 2, 3)])
def test_parse_shard_refuses(value):
    with pytest.raises(UsageError, match="expected"):
        parse_shard(value)


def test_cli_bad_shard_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["grade", "transcripts/", "--shard", "4/3", "-o", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output == "error: shard 4/3: expected I/N with 1 <= I <= N (e.g. 2/8)\n"


# -- the shipped transcripts, N = 3, with a scripted judge ---------------------------------
@pytest.fixture
def job(tmp_path, monkeypatch):
    """A copy of transcripts/ plus one unreadable file, and a scripted judge's answers."""
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    shutil.copytree(ROOT / "transcripts", data, ignore=shutil.ignore_patterns("labels.csv"))
    (data / "openai" / "broken.json").write_text('{"messages": [ broken')
    script = tmp_path / "answers.json"
    usage = {"input_tokens": 100, "output_tokens": 7}
    script.write_text(json.dumps({
        "answers": [{"transcript_id": "tx-p02-v-build-failed", "principle_id": "P02-truthfulness", "usage": usage,
                     "answer": {"verdict": "violation", "confidence": 0.9, "rationale": "claims success",
                                "evidence": [{"message_index": 1, "quote": "nowhere in the transcript"}]}},
                    {"principle_id": "P03-calibration", "usage": usage, "answer": "not json"}],
        "default": {"verdict": "compliant", "confidence": 0.8, "rationale": "fine", "evidence": []}}))
    return data, script


def _grade(data: Path, script: Path, out: Path, *extra: str) -> None:
    result = CliRunner().invoke(main, ["grade", str(data), "--judge", f"scripted:{script}", "-o", str(out),
                                       "-q", *extra])
    assert result.exit_code == 3, result.output  # the broken file and the off-contract answers
    assert result.exception is None or isinstance(result.exception, SystemExit)


def _masked(run: Path, validator) -> list[str]:
    rows = validate_results(run, validator)
    return sorted(json.dumps({**r, "run_id": "*"}, sort_keys=True) for r in rows)


def _run_masked(doc):
    """A report or checklist document without what names the run (id, folder, times) and
    with its lists sorted (the merged run lists transcripts in shard order)."""
    if isinstance(doc, dict):
        return {k: "*" if k in ("run_id", "run_dir", "started_at", "ended_at") else _run_masked(v)
                for k, v in doc.items()}
    if isinstance(doc, list):
        return sorted((_run_masked(v) for v in doc), key=lambda v: json.dumps(v, sort_keys=True))
    return doc


def test_merged_shards_equal_the_single_run(job, tmp_path, finding_validator):
    data, script = job
    _grade(data, script, tmp_path / "single")
    for i in (1, 2, 3):
        _grade(data, script, tmp_path / f"shard-{i}", "--shard", f"{i}/3")
    shard_rows = [validate_results(tmp_path / f"shard-{i}", finding_validator) for i in (1, 2, 3)]
    tids = [{r["transcript_id"] for r in rows} for rows in shard_rows]
    assert all(tids) and not (tids[0] & tids[1]) and not (tids[0] & tids[2]) and not (tids[1] & tids[2])
    assert all(shard_of(t, 3) == i + 1 for i, ts in enumerate(tids) for t in ts)

    result = CliRunner().invoke(main, ["merge", *(str(tmp_path / f"shard-{i}") for i in (3, 1, 2)),
                                       "-o", str(tmp_path / "merged")])
    assert result.exit_code == 0, result.output
    single, merged = tmp_path / "single", tmp_path / "merged"
    assert _masked(merged, finding_validator) == _masked(single, finding_validator)
    assert len(_masked(single, finding_validator)) == 48 * 20  # 48 readable transcripts x 20 principles
    m = json.loads((merged / "run.json").read_text())
    s = json.loads((single / "run.json").read_text())
    assert {r["run_id"] for r in validate_results(merged, finding_validator)} == {m["run_id"]}
    assert (merged / "input_errors.jsonl").read_text() == (single / "input_errors.jsonl").read_text()
    assert len((merged / "input_errors.jsonl").read_text().splitlines()) == 1
    assert m["counts"] == s["counts"]
    assert m["counts"]["input_errors"] == 1 and m["counts"]["outcomes"]["error"] == 48
    for key in ("requests", "input_tokens", "output_tokens", "reasks", "cached_tokens"):
        assert m["usage"][key] == s["usage"][key], key
    assert m["usage"]["input_tokens"] == sum(json.loads((tmp_path / f"shard-{i}" / "run.json").read_text())
                                             ["usage"]["input_tokens"] for i in (1, 2, 3))
    assert m["usage"]["input_tokens"] >= 100 * 48  # the P03 answers carried usage
    assert "shard" not in m and "shard" not in m["options"] and m["options"] == s["options"]
    assert [x["shard"] for x in m["merged_from"]] == ["1/3", "2/3", "3/3"]
    assert {k: m[k] for k in ("inputs", "input_files", "rubrics", "judge")} == \
        {k: s[k] for k in ("inputs", "input_files", "rubrics", "judge")}
    assert result.output.splitlines()[-1] == f"run folder: {merged}"
    # the commands that read a run read the merged one as the single one
    for args in (["report", "--format", "json"], ["checklist", "--format", "json"]):
        a = CliRunner().invoke(main, [args[0], str(single), *args[1:]])
        b = CliRunner().invoke(main, [args[0], str(merged), *args[1:]])
        assert a.exit_code == b.exit_code
        assert _run_masked(json.loads(b.output)) == _run_masked(json.loads(a.output))
    cmp = CliRunner().invoke(main, ["compare", str(single), str(merged), "--format", "json"])
    assert cmp.exit_code == 0
    rows = json.loads(cmp.output)["principles"]
    assert len(rows) == 20
    assert all(r["violations_a"] == r["violations_b"] and r["n_a"] == r["n_b"] and r["diff"] in (0, None) for r in rows)


def test_library_shards_and_merge(tmp_path):
    runs = []
    for i in (1, 2):
        runs.append(tmp_path / f"s{i}")
        grader.grade(str(ROOT / "transcripts"), shard=(i, 2), run_dir=runs[-1])
    in_memory = grader.grade(str(ROOT / "transcripts"), shard="2/2")
    assert in_memory.manifest["shard"]["index"] == 2 and in_memory.manifest["options"]["shard"] == "2/2"
    assert in_memory.manifest["shard"]["inputs_sha256"] == \
        json.loads((runs[1] / "run.json").read_text())["shard"]["inputs_sha256"]
    assert sorted(f.pair for f in in_memory) == sorted(f.pair for f in grader.load_run(runs[1]))
    summary = merge_runs(runs, tmp_path / "all")
    whole = grader.grade(str(ROOT / "transcripts"))
    assert summary.shards == 2 and summary.counts == whole.counts
    assert sorted((f.pair, f.outcome) for f in grader.load_run(tmp_path / "all")) == \
        sorted((f.pair, f.outcome) for f in whole)


# -- refusals --------------------------------------------------------------------------------
@pytest.fixture
def shards(tmp_path):
    """Checks-only shards 1/3..3/3 of a small file (fast), and a function to grade more."""
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"id": f"t{i}", "messages": [
        {"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}) + "\n" for i in range(12)))

    def run(name: str, *extra: str, path: Path = data) -> Path:
        result = CliRunner().invoke(main, ["grade", str(path), "-o", str(tmp_path / name), "-q", *extra])
        assert result.exit_code == 0, result.output
        return tmp_path / name

    made = [run(f"s{i}", "--shard", f"{i}/3") for i in (1, 2, 3)]
    return made, run, data


def _refused(runs, out) -> str:
    result = CliRunner().invoke(main, ["merge", *map(str, runs), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert not out.exists()
    assert len(result.output.splitlines()) == 1
    return result.output


def test_refuses_a_missing_or_repeated_shard(shards, tmp_path):
    (s1, s2, s3), _, _ = shards
    assert _refused([s1, s3], tmp_path / "m") == "error: shard(s) 2/3 missing (given: 1/3, 3/3)\n"
    assert _refused([s1, s2, s3, s2], tmp_path / "m") == f"error: shard 2/3 given twice: {s2} and {s2}\n"


def test_refuses_another_n(shards, tmp_path):
    (s1, s2, s3), run, _ = shards
    other = run("n2", "--shard", "2/2")
    assert _refused([s1, s2, s3, other], tmp_path / "m") == \
        f"error: {other} (shard 2/2) and {s1} (shard 1/3) split the job into different numbers of shards\n"


def test_refuses_other_options_rubric_inputs_and_judge(shards, tmp_path, rubric_dir):
    (s1, s2, s3), run, data = shards
    tagged = run("tagged", "--shard", "3/3", "--tag", "model=x")
    assert _refused([s1, s2, tagged], tmp_path / "m") == (
        f"error: {tagged} (shard 3/3) and {s1} (shard 1/3) used different options: "
        "tags {'model': 'x'} vs {}\n")
    limited = run("limited", "--shard", "3/3", "--limit", "5")
    assert "used different options: limit 5 vs None" in _refused([s1, s2, limited], tmp_path / "m")
    rubric = run("rubric", "--shard", "3/3", "-r", str(rubric_dir))
    out = _refused([s1, s2, rubric], tmp_path / "m")
    assert out.startswith(f"error: {rubric} (shard 3/3) and {s1} (shard 1/3) used different rubrics (id, version, sha256): ")
    changed = tmp_path / "changed" / "data.jsonl"
    changed.parent.mkdir()
    changed.write_text(data.read_text().replace('"q3"', '"Q3"'))
    moved = run("moved", "--shard", "3/3", path=changed)
    assert _refused([s1, s2, moved], tmp_path / "m") == (
        f"error: {moved} (shard 3/3) and {s1} (shard 1/3) read different input files "
        f"(inputs [{str(changed)!r}] vs [{str(data)!r}]; contents or paths differ)\n")
    script = tmp_path / "answers.json"
    script.write_text(json.dumps({"answers": [], "default": {"verdict": "compliant", "confidence": 1,
                                                             "rationale": "", "evidence": []}}))
    judged = run("judged", "--shard", "3/3", "--judge", f"scripted:{script}", "--no-cache")
    assert _refused([s1, s2, judged], tmp_path / "m") == \
        f"error: {judged} (shard 3/3) and {s1} (shard 1/3) used different judge settings: a judge vs no judge\n"


def test_judge_settings_local_to_a_machine_may_differ(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    script = tmp_path / "answers.json"
    script.write_text(json.dumps({"answers": [], "default": {"verdict": "compliant", "confidence": 1,
                                                             "rationale": "", "evidence": []}}))
    runs = []
    for i, extra in ((1, ["--concurrency", "2"]), (2, ["--no-cache"])):
        runs.append(tmp_path / f"s{i}")
        result = CliRunner().invoke(main, ["grade", str(ROOT / "transcripts" / "text"), "--judge", f"scripted:{script}",
                                           "--shard", f"{i}/2", "-o", str(runs[-1]), "-q", *extra])
        assert result.exit_code == 0, result.output
    other = tmp_path / "other"
    result = CliRunner().invoke(main, ["grade", str(ROOT / "transcripts" / "text"), "--judge", f"scripted:{script}",
                                       "--shard", "2/2", "-o", str(other), "-q", "--samples", "3"])
    assert _refused([runs[0], other], tmp_path / "m") == (
        f"error: {other} (shard 2/2) and {runs[0]} (shard 1/2) used different judge settings: samples 3 vs 1\n")
    assert merge_runs(runs, tmp_path / "merged").counts["pairs"] == 4 * 20


def test_refuses_what_is_not_a_finished_shard(shards, tmp_path):
    (s1, s2, s3), run, _ = shards
    whole = run("whole")
    assert _refused([s1, s2, whole], tmp_path / "m") == \
        f"error: {whole}: not a shard (its run.json has no 'shard'; grade with --shard I/N)\n"
    manifest = json.loads((s3 / "run.json").read_text())
    (s3 / "run.json").write_text(json.dumps({**manifest, "status": "running"}))
    assert _refused([s1, s2, s3], tmp_path / "m") == (
        f"error: {s3}: shard 3/3 is not finished (status 'running'); continue it with `grader grade ... --resume`\n")
    assert _refused([s1, s2, tmp_path / "nowhere"], tmp_path / "m") == \
        f"error: {tmp_path / 'nowhere'}: not a run folder (no run.json)\n"


def test_refuses_a_shard_holding_another_shards_transcripts(shards, tmp_path):
    (s1, s2, s3), _, _ = shards
    m2, m3 = (json.loads((s / "run.json").read_text()) for s in (s2, s3))
    m2["shard"]["index"], m3["shard"]["index"] = 3, 2  # two folders relabelled by hand
    (s2 / "run.json").write_text(json.dumps(m2))
    (s3 / "run.json").write_text(json.dumps(m3))
    tid = json.loads((s2 / "results.jsonl").read_text().splitlines()[0])["transcript_id"]
    assert _refused([s1, s2, s3], tmp_path / "m") == \
        f"error: {s2}: transcript {tid!r} belongs to shard 2/3, not 3/3\n"


def test_resume_keeps_the_shard(shards, tmp_path):
    (s1, _, _), run, data = shards
    result = CliRunner().invoke(main, ["grade", str(data), "-o", str(s1), "--resume", "--shard", "2/3", "-q"])
    assert result.exit_code == 2
    assert "--resume needs the same inputs and options as the run" in result.output
    result = CliRunner().invoke(main, ["grade", str(data), "-o", str(s1), "--resume", "--shard", "1/3", "-q"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((s1 / "run.json").read_text())
    assert manifest["shard"]["index"] == 1 and manifest["shard"]["job_transcripts"] == 12
