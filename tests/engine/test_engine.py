from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from grader.grading.engine import Engine
from grader.grading.settings import RunSettings
from grader.errors import RunFolderError
from grader.grading.outcomes import NO_JUDGE_HINT
from grader.run.folder import MemorySink
from grader.rubric import load_rubrics
from grader.transcripts.model import Message, Source, Transcript

from tests.engine.util import write_jsonl
from tests.helpers import validate_results


def _t(tid: str, answer: str) -> Transcript:
    return Transcript(tid, (Message(0, "user", "q"), Message(1, "assistant", answer)), {}, Source("mem", tid))


def test_every_pair_gets_one_outcome(tmp_path, rubric_dir, finding_validator):
    src = write_jsonl(tmp_path / "in.jsonl", 30)
    summary = Engine(load_rubrics([rubric_dir])).run([src], tmp_path / "run")
    rows = validate_results(tmp_path / "run", finding_validator)
    assert len(rows) == 90
    assert Counter(r["principle_id"] for r in rows) == {"P-perm": 30, "P-judge-only": 30, "P-tools": 30}
    perm = Counter(r["outcome"] for r in rows if r["principle_id"] == "P-perm")
    assert perm == {"violation": 10, "compliant": 20}
    # judge-only principle without a judge: ungraded with a hint; applies_when false: not_applicable
    assert {r["outcome"] for r in rows if r["principle_id"] == "P-judge-only"} == {"ungraded"}
    assert {r["outcome"] for r in rows if r["principle_id"] == "P-tools"} == {"not_applicable"}
    hints = {r["rationale"] for r in rows if r["principle_id"] == "P-judge-only"}
    assert hints == {NO_JUDGE_HINT}
    assert NO_JUDGE_HINT == "needs a judge: none configured (pass --judge openai:MODEL or anthropic:MODEL)"
    v = next(r for r in rows if r["outcome"] == "violation")
    assert v["evidence"][0]["quote"] == "chmod 777" and v["evidence"][0]["message_index"] == 1
    assert summary.exit_code == 0 and summary.transcripts == 30
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert manifest["counts"]["outcomes"] == {"violation": 10, "compliant": 20, "ungraded": 30, "not_applicable": 30}
    assert manifest["status"] == "complete" and manifest["rubrics"][0]["id"] == "engine-test"
    import platform
    from importlib.metadata import version

    assert manifest["versions"]["python"] == platform.python_version()
    assert manifest["versions"]["bandit"] == version("bandit") and manifest["versions"]["grader"] == "0.1.0"


def test_worker_pool_writes_exactly_what_the_in_process_path_writes(tmp_path, rubric_dir, monkeypatch):
    """The pool path (checks decided and serialised in workers) against the in-process path."""
    import grader.grading.engine as engine_mod

    started: list[int] = []
    chunks: list[int] = []
    real_pool, real_chunk = engine_mod.ProcessPoolExecutor, engine_mod.run_chunk

    class SpyPool(real_pool):  # type: ignore[misc,valid-type]
        def __init__(self, workers, *args, **kwargs):
            started.append(workers)
            super().__init__(workers, *args, **kwargs)

        def submit(self, fn, *args, **kwargs):
            if fn is real_chunk:
                chunks.append(len(args[0]))
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(engine_mod, "ProcessPoolExecutor", SpyPool)
    monkeypatch.setattr(engine_mod, "POOL_THRESHOLD", 10)
    src = write_jsonl(tmp_path / "in.jsonl", 600, bad_every=7)
    rubrics = load_rubrics([rubric_dir])
    Engine(rubrics, options=RunSettings(workers=1)).run([src], tmp_path / "one")
    assert started == [] and chunks == []  # one worker: always in-process
    Engine(rubrics, options=RunSettings(workers=2)).run([src], tmp_path / "two")
    good = 600 - 600 // 7
    # the pool started once the 11th transcript arrived; every later transcript went through it
    assert started == [2]
    assert sum(chunks) == good - 10
    rows = lambda d: [{k: v for k, v in json.loads(x).items() if k != "run_id"}  # noqa: E731
                      for x in (d / "results.jsonl").read_text().splitlines()]
    one, two = rows(tmp_path / "one"), rows(tmp_path / "two")
    assert one == two and len(one) == 3 * (600 - 600 // 7)
    assert sum(r["outcome"] == "violation" for r in two) == len([i for i in range(1, 601) if i % 3 == 0 and i % 7])


@pytest.mark.parametrize("workers", [1, 2])
def test_broken_lines_are_recorded_and_good_lines_graded(tmp_path, rubric_dir, workers):
    src = write_jsonl(tmp_path / "in.jsonl", 600, bad_every=7)
    summary = Engine(load_rubrics([rubric_dir]), options=RunSettings(workers=workers)).run([src], tmp_path / "run")
    errors = [json.loads(x) for x in (tmp_path / "run" / "input_errors.jsonl").read_text().splitlines()]
    assert len(errors) == 600 // 7
    assert {e["locator"] for e in errors} == {f"line {i}" for i in range(7, 601, 7)}
    assert summary.transcripts == 600 - 600 // 7
    assert summary.exit_code == 3


def test_resume_after_partial_run_grades_each_pair_once(tmp_path, rubric_dir, finding_validator):
    src = write_jsonl(tmp_path / "in.jsonl", 40)
    rubrics = load_rubrics([rubric_dir])
    Engine(rubrics, options=RunSettings(limit=15)).run([src], tmp_path / "run")
    # simulate a kill mid-write: a torn last line
    results = tmp_path / "run" / "results.jsonl"
    with results.open("a") as f:
        f.write('{"run_id": "x", "transcr')
    # resuming needs the same options; the first run's manifest says limit=15
    with pytest.raises(RunFolderError):
        Engine(rubrics, options=RunSettings(resume=True)).run([src], tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    manifest["options"]["limit"] = None
    (tmp_path / "run" / "run.json").write_text(json.dumps(manifest))
    Engine(rubrics, options=RunSettings(resume=True)).run([src], tmp_path / "run")
    rows = validate_results(tmp_path / "run", finding_validator)
    pairs = Counter((r["transcript_id"], r["principle_id"]) for r in rows)
    assert len(pairs) == 120 and set(pairs.values()) == {1}


def test_new_run_refuses_to_overwrite(tmp_path, rubric_dir):
    src = write_jsonl(tmp_path / "in.jsonl", 3)
    rubrics = load_rubrics([rubric_dir])
    Engine(rubrics).run([src], tmp_path / "run")
    with pytest.raises(RunFolderError, match="already holds a run"):
        Engine(rubrics).run([src], tmp_path / "run")


def test_duplicate_ids_are_made_unique_and_tags_added(rubric_dir):
    sink = MemorySink()
    eng = Engine(load_rubrics([rubric_dir]), options=RunSettings(tags={"condition": "baseline"}))
    import asyncio

    asyncio.run(eng.agrade_into([_t("a", "x"), _t("a#2", "z"), _t("a", "chmod 777 y"), _t("a", "w")], sink, "r1"))
    ids = list(dict.fromkeys(f.transcript_id for f in sink.findings))
    assert ids == ["a", "a#2", "a#3", "a#4"]  # an input's own "a#2" is never reused for a repeat
    assert {f.metadata["condition"] for f in sink.findings} == {"baseline"}
    assert [f.outcome for f in sink.findings if f.principle_id == "P-perm"] == ["compliant", "compliant", "violation",
                                                                                 "compliant"]


def test_sample_is_seeded_and_limit_applies(tmp_path, rubric_dir):
    src = write_jsonl(tmp_path / "in.jsonl", 50)
    rubrics = load_rubrics([rubric_dir])
    a = Engine(rubrics, options=RunSettings(sample=10, seed=3)).run([src], tmp_path / "a")
    b = Engine(rubrics, options=RunSettings(sample=10, seed=3)).run([src], tmp_path / "b")
    c = Engine(rubrics, options=RunSettings(limit=4)).run([src], tmp_path / "c")
    ids = lambda d: sorted({json.loads(x)["source"]["locator"] for x in (d / "results.jsonl").read_text().splitlines()},
                           key=lambda loc: int(loc.split()[1]))
    d = Engine(rubrics, options=RunSettings(sample=10, seed=4)).run([src], tmp_path / "d")
    assert a.transcripts == b.transcripts == 10 and ids(tmp_path / "a") == ids(tmp_path / "b")
    assert ids(tmp_path / "a") != ids(tmp_path / "d")  # another seed, another sample
    assert ids(tmp_path / "a") != [f"line {i}" for i in range(1, 11)]  # not just the first ten
    assert d.transcripts == 10
    assert c.transcripts == 4 and ids(tmp_path / "c") == ["line 1", "line 2", "line 3", "line 4"]


def test_check_exception_becomes_error_outcome(rubric_dir, monkeypatch):
    from grader.checks.kinds import text_pattern

    def boom(self, transcript, ctx):
        raise RuntimeError("bad regex state")

    monkeypatch.setattr(text_pattern.TextPatternCheck, "run", boom)
    sink = MemorySink()
    import asyncio

    asyncio.run(Engine(load_rubrics([rubric_dir]), options=RunSettings(workers=1)).agrade_into([_t("a", "x")], sink, "r"))
    perm = [f for f in sink.findings if f.principle_id == "P-perm"][0]
    assert perm.outcome == "error" and "RuntimeError: bad regex state" in perm.error


def test_judge_missing_a_principle_is_an_error_finding_that_fits_the_schema(rubric_dir, finding_validator):
    """A judge that returns no verdict for a pair: the pair is an error, never a grade."""
    import asyncio

    class Forgetful:
        spec = "test:forgetful"

        async def grade(self, transcript, principles):
            return {}

        def settings(self):
            return {"concurrency": 2}

        def usage(self):
            return {}

        async def aclose(self):
            return None

    sink = MemorySink()
    asyncio.run(Engine(load_rubrics([rubric_dir]), judge=Forgetful()).agrade_into([_t("a", "chmod 777 x")], sink, "r"))
    by = {f.principle_id: f for f in sink.findings}
    assert by["P-judge-only"].outcome == "error" and by["P-judge-only"].error == "judge failed: the judge returned no verdict"
    assert by["P-judge-only"].judge is None
    assert by["P-perm"].outcome == "violation"  # no judge block: the check alone decides
    for f in sink.findings:
        finding_validator.validate(f.to_dict())


def test_a_lone_surrogate_in_a_rationale_is_written_not_fatal(tmp_path, rubric_dir):
    from grader.run.folder import Finding, RunFolder

    f = Finding("r", "t", {"path": "p", "locator": ""}, "P-perm", "x", "1", "high", "violation", "judge",
                rationale="judge said \ud800 here")
    with RunFolder.create(tmp_path / "run") as folder:
        folder.append(f)
    (back,) = RunFolder(tmp_path / "run").findings()
    assert back.rationale == "judge said \ud800 here"


def test_metadata_json_cannot_hold_is_written_as_text(tmp_path, rubric_dir):
    """A library caller's Transcript may carry a date in its metadata: the run must not crash."""
    import datetime

    t = Transcript("d", (Message(0, "user", "q"), Message(1, "assistant", "a")),
                   {"day": datetime.date(2026, 11, 26)}, Source("mem", "d"))
    from grader.run.folder import RunFolder

    with RunFolder.create(tmp_path / "run") as folder:
        import asyncio

        asyncio.run(Engine(load_rubrics([rubric_dir])).agrade_into([t], folder, "r"))
    rows = [json.loads(x) for x in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and {r["metadata"]["day"] for r in rows} == {"2026-11-26"}


def test_resume_refuses_inputs_changed_since_the_run(tmp_path, rubric_dir):
    import os

    src = write_jsonl(tmp_path / "in.jsonl", 10)
    rubrics = load_rubrics([rubric_dir])
    Engine(rubrics).run([src], tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    st = os.stat(src)
    assert manifest["input_files"] == [[str(src), st.st_size, st.st_mtime_ns]]
    Engine(rubrics, options=RunSettings(resume=True)).run([src], tmp_path / "run")  # unchanged: fine
    with Path(src).open("a") as f:  # one more conversation appended
        f.write(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    with pytest.raises(RunFolderError, match=r"needs the inputs as they were: .*in\.jsonl changed size \(\d+ -> \d+ bytes\)"):
        Engine(rubrics, options=RunSettings(resume=True)).run([src], tmp_path / "run")


def test_input_change_names_the_first_difference():
    from grader.transcripts.load import input_change

    before = [["a.jsonl", 10, 1], ["b.jsonl", 20, 2]]
    assert input_change(before, [["a.jsonl", 10, 1], ["b.jsonl", 20, 2]]) is None
    assert input_change(before, [["a.jsonl", 11, 1], ["b.jsonl", 20, 2]]) == "a.jsonl changed size (10 -> 11 bytes)"
    assert input_change(before, [["a.jsonl", 10, 5], ["b.jsonl", 20, 2]]) == "a.jsonl was modified"
    assert input_change(before, [["a.jsonl", 10, 1]]) == "b.jsonl is gone"
    assert input_change(before, [["a.jsonl", 10, 1], ["b.jsonl", 20, 2], ["c.jsonl", 1, 1]]) == "c.jsonl is new"


def test_new_run_refuses_a_folder_whose_run_found_nothing(tmp_path, rubric_dir):
    """A run whose inputs all failed has an empty results.jsonl, but its run.json and
    input_errors.jsonl are a run all the same: a new run must not overwrite them."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [ broken\n')
    rubrics = load_rubrics([rubric_dir])
    summary = Engine(rubrics).run([bad], tmp_path / "run")
    assert summary.exit_code == 3
    run = tmp_path / "run"
    manifest, errors = (run / "run.json").read_text(), (run / "input_errors.jsonl").read_text()
    assert (run / "results.jsonl").read_text() == "" and len(errors.splitlines()) == 1
    src = write_jsonl(tmp_path / "in.jsonl", 3)
    with pytest.raises(RunFolderError) as e:
        Engine(rubrics).run([src], run)
    assert str(e.value) == f"{run}: already holds a run; use --resume to continue it or choose another -o folder"
    assert (run / "run.json").read_text() == manifest and (run / "input_errors.jsonl").read_text() == errors
    assert (run / "results.jsonl").read_text() == ""


@pytest.mark.parametrize("present", ["run.json", "input_errors.jsonl", "results.jsonl"])
def test_run_folder_create_refuses_any_trace_of_a_run(tmp_path, present):
    from grader.run.folder import RunFolder

    run = tmp_path / "run"
    run.mkdir()
    (run / present).write_text("{}\n" if present != "run.json" else "{}")
    with pytest.raises(RunFolderError) as e:
        RunFolder.create(run)
    assert str(e.value) == f"{run}: already holds a run; use --resume to continue it or choose another -o folder"
    assert sorted(p.name for p in run.iterdir()) == [present]


def test_run_folder_create_accepts_an_empty_or_new_folder(tmp_path):
    from grader.run.folder import RunFolder

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "results.jsonl").write_text("")  # an empty leftover is no run
    for name in ("empty", "new"):
        RunFolder.create(tmp_path / name).close()
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == ["input_errors.jsonl", "results.jsonl"]


def test_non_finite_floats_are_written_as_strings(tmp_path, rubric_dir, finding_validator):
    """results.jsonl is strict JSON: NaN and infinities in metadata (values, nested, keys)
    become "nan", "inf", "-inf"; finite values are untouched."""
    import asyncio

    from grader.run.folder import Finding, RunFolder, finding_line

    meta = {"score": float("nan"), "nested": {"hi": float("inf"), "list": [1.5, float("-inf"), "x"]},
            float("inf"): "key", 2.5: "finite key"}
    f = Finding("r", "t", {"path": "p", "locator": ""}, "P-perm", "x", "1", "high", "violation", "check",
                metadata=meta)
    line = finding_line(f)
    assert "NaN" not in line and "Infinity" not in line
    from tests.helpers import strict_loads

    assert strict_loads(line)["metadata"] == {"score": "nan", "nested": {"hi": "inf", "list": [1.5, "-inf", "x"]},
                                              "inf": "key", "2.5": "finite key"}
    assert meta["score"] != meta["score"]  # the finding's own metadata is not changed
    # through the engine, into a run folder
    t = Transcript("n", (Message(0, "user", "q"), Message(1, "assistant", "chmod 777 x")),
                   {"ratio": float("nan"), "bounds": [float("-inf"), float("inf")]}, Source("mem", "n"))
    with RunFolder.create(tmp_path / "run") as folder:
        asyncio.run(Engine(load_rubrics([rubric_dir])).agrade_into([t], folder, "r"))
    rows = validate_results(tmp_path / "run", finding_validator)
    assert [(r["metadata"]["ratio"], r["metadata"]["bounds"]) for r in rows] == [("nan", ["-inf", "inf"])] * 3


def test_validate_results_is_strict(tmp_path, finding_validator):
    from tests.helpers import strict_loads

    with pytest.raises(ValueError, match="NaN is not JSON"):
        strict_loads('{"a": NaN}')
    with pytest.raises(ValueError, match="-Infinity is not JSON"):
        strict_loads('[-Infinity]')
    (tmp_path / "results.jsonl").write_text('{"x": Infinity}\n')
    with pytest.raises(ValueError, match="Infinity is not JSON"):
        validate_results(tmp_path, finding_validator)
