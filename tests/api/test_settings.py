"""The two settings objects: JudgeSettings (how a judge spec becomes a judge) and RunSettings
(what a run grades), built once from grade()'s keyword options or the CLI's."""
from __future__ import annotations

import dataclasses

import pytest

import grader.api as api
from grader.api import GradeSettings, JudgeSettings, RunSettings
from grader.errors import JudgeConfigError, UsageError
from grader.grading.shards import Shard


def test_grade_options_split_into_run_and_judge_settings() -> None:
    s = GradeSettings.parse({"format": "openai", "limit": 3, "tags": ["a=b", "c=d=e"], "shard": "2/4",
                             "concurrency": 4, "samples": 3, "cache": False, "principles": ["P01"],
                             "run_dir": "runs/x"})
    assert s.run == RunSettings(format="openai", limit=3, tags={"a": "b", "c": "d=e"}, shard=Shard(2, 4))
    assert s.judge == JudgeSettings(concurrency=4, samples=3, cache=False)
    assert (s.principles, s.run_dir, s.progress) == (["P01"], "runs/x", None)
    assert GradeSettings.parse({"tags": {"k": 1}}).run.tags == {"k": "1"}
    assert GradeSettings.parse({"tags": "k=v"}).run.tags == {"k": "v"}


def test_unknown_or_bad_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match=r"unknown grade\(\) option\(s\): colour, size; known: .*base_url"):
        GradeSettings.parse({"colour": "red", "size": 1})
    with pytest.raises(UsageError, match="--tag 'novalue': expected key=value"):
        GradeSettings.parse({"tags": ["novalue"]})


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        JudgeSettings().concurrency = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunSettings().limit = 2  # type: ignore[misc]


def test_make_judge_takes_the_settings_object_or_keywords(tmp_path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text("", encoding="utf-8")
    by_object = api.make_judge(f"scripted:{answers}", JudgeSettings(concurrency=3, samples=3, cache=False))
    by_keywords = api.make_judge(f"scripted:{answers}", concurrency=3, samples=3, cache=False)
    overridden = api.make_judge(f"scripted:{answers}", JudgeSettings(concurrency=3, cache=False), samples=3)
    assert by_object.settings() == by_keywords.settings() == overridden.settings()
    assert (by_object.settings()["concurrency"], by_object.settings()["samples"]) == (3, 3)
    with pytest.raises(JudgeConfigError, match="judge mode must be one of"):
        api.make_judge(f"scripted:{answers}", JudgeSettings(mode="sideways"))
    with pytest.raises(TypeError):
        api.make_judge(f"scripted:{answers}", colour="red")


def test_a_batch_judge_is_not_hidden_behind_the_checked_wrapper_and_needs_a_run_folder():
    import grader
    from grader.api import as_judge
    from grader.errors import UsageError
    from grader.judges.batching import BatchJudge

    bj = BatchJudge.__new__(BatchJudge)  # (no provider needed: only its type matters here)
    bj.spec = "openai:m"
    assert as_judge(bj) == (bj, False)  # grade_into must see a BatchJudge to run batch passes
    t = grader.Transcript.from_openai([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])
    with pytest.raises(UsageError, match="a batch judge grades files into a run folder"):
        grader.grade([t], judge=bj)
