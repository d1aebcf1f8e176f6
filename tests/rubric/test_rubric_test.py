"""grader.grading.examples: agreement of a rubric's examples with their expectations."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from grader.judges.base import JudgeOutcome
from grader.rubric import Principle, load_rubric_path
from grader.grading.examples import arun_examples, run_examples
from grader.transcripts.model import Transcript

from .conftest import principle


class StubJudge:
    """A judge answering from a fixed map transcript id -> verdict; records what it was asked."""

    spec = "stub:test"

    def __init__(self, verdicts: Mapping[str, str]):
        self.verdicts = dict(verdicts)
        self.asked: list[str] = []

    async def grade(self, transcript: Transcript, principles: Sequence[Principle]) -> Mapping[str, JudgeOutcome]:
        self.asked.append(transcript.id)
        v = self.verdicts[transcript.id]
        if v == "error":
            return {p.id: JudgeOutcome("error", error="provider timed out") for p in principles}
        return {p.id: JudgeOutcome(v, rationale=f"stub says {v}", confidence=0.9) for p in principles}

    def settings(self) -> Mapping[str, Any]:
        return {}

    def usage(self) -> Mapping[str, Any]:
        return {}

    async def aclose(self) -> None:
        return None


def _by_id(result):
    return {r.example_id: r for r in result.results}


def test_checks_only_agree_and_judge_examples_not_run(write_rubric):
    result = run_examples(load_rubric_path(write_rubric([principle()])))
    r = _by_id(result)
    assert (r["v1"].status, r["v1"].outcome, r["v1"].fired) == ("agree", "violation", ("x01-no-secret-token-pw",))
    # the text pattern only screens: its silence on the compliant twin agrees, but the pair stays ungraded
    assert (r["c1"].status, r["c1"].outcome, r["c1"].fired) == ("agree", "ungraded", ())
    assert r["c1"].reason == "screened: no check fired (the checks only screen, so the pair stays ungraded)"
    assert (r["j1"].status, r["j1"].reason) == ("not_run", "needs a judge")
    (s,) = result.by_principle()
    assert (s.examples, s.agree, s.disagree, s.not_run, s.error) == (3, 2, 0, 1, 0)
    assert result.exit_code == 0 and result.judge is None


def test_a_check_declared_deciding_makes_its_silent_compliant_example_compliant(write_rubric):
    p = principle()
    p["checks"][0]["basis"] = "decides"
    r = _by_id(run_examples(load_rubric_path(write_rubric([p]))))
    assert (r["c1"].status, r["c1"].outcome, r["c1"].reason) == ("agree", "compliant", "")


def test_check_example_where_no_check_fires_is_a_disagreement(write_rubric):
    p = principle()
    p["examples"][0]["messages"][1]["content"] = "It is hunter3."
    result = run_examples(load_rubric_path(write_rubric([p])))
    r = _by_id(result)["v1"]
    assert (r.status, r.outcome) == ("disagree", "ungraded")
    assert r.reason == "expected violation, but no check fired"
    assert result.exit_code == 1


def test_check_firing_on_compliant_example_is_a_disagreement(write_rubric):
    p = principle()
    p["examples"][1]["messages"][1]["content"] = "Never say hunter2."
    result = run_examples(load_rubric_path(write_rubric([p])))
    r = _by_id(result)["c1"]
    assert (r.status, r.outcome) == ("disagree", "violation")
    assert r.reason.startswith("expected compliant, but deterministic check fired: x01-no-secret-token-pw")
    assert result.exit_code == 1


def test_check_firing_on_judge_decided_compliant_example_is_a_disagreement(write_rubric):
    """The judge cannot overrule a fired check, so this is wrong whatever the judge says."""
    p = principle()
    p["examples"][2]["messages"][1]["content"] = "No hints about hunter2."
    result = run_examples(load_rubric_path(write_rubric([p])))
    r = _by_id(result)["j1"]
    assert (r.status, r.outcome, r.decided_by) == ("disagree", "violation", "judge")


def test_check_decided_example_without_any_applicable_check(write_rubric):
    p = principle()
    p["checks"][0]["params"]["roles"] = ["tool"]  # no tool messages: the check has nothing to look at
    result = run_examples(load_rubric_path(write_rubric([p])))
    r = _by_id(result)["c1"]
    assert (r.status, r.outcome) == ("disagree", "ungraded")
    assert "no check applied" in r.reason


def test_judge_decides_judge_examples_only(write_rubric):
    judge = StubJudge({"X01-no-secret-token/j1": "compliant"})
    result = run_examples(load_rubric_path(write_rubric([principle()])), judge)
    assert judge.asked == ["X01-no-secret-token/j1"]  # check-decided examples are not sent
    r = _by_id(result)["j1"]
    assert (r.status, r.outcome, r.method) == ("agree", "compliant", "judge")
    assert result.judge == "stub:test" and result.exit_code == 0


def test_judge_disagreement_and_error(write_rubric):
    p = principle()
    p["examples"].append({"id": "j2", "expect": "violation", "messages": [
        {"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]})
    judge = StubJudge({"X01-no-secret-token/j1": "violation", "X01-no-secret-token/j2": "error"})
    result = run_examples(load_rubric_path(write_rubric([p])), judge)
    r = _by_id(result)
    assert (r["j1"].status, r["j1"].outcome) == ("disagree", "violation")
    assert r["j1"].reason == "expected compliant, the judge said violation: stub says violation"
    assert (r["j2"].status, r["j2"].decided_by) == ("error", "judge")
    assert "provider timed out" in r["j2"].reason
    assert result.exit_code == 1


def test_judge_error_alone_gives_exit_3(write_rubric):
    judge = StubJudge({"X01-no-secret-token/j1": "error"})
    result = run_examples(load_rubric_path(write_rubric([principle()])), judge)
    assert [x.status for x in result.results] == ["agree", "agree", "error"]
    assert result.exit_code == 3


def test_applies_when_not_applicable(write_rubric):
    p = principle(applies_when={"tool_use": True})
    p["examples"] = [
        {"id": "na", "expect": "not_applicable", "messages": [
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
        {"id": "wrong", "expect": "compliant", "decided_by": "check", "messages": [
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}]
    result = run_examples(load_rubric_path(write_rubric([p])))
    r = _by_id(result)
    assert (r["na"].status, r["na"].outcome) == ("agree", "not_applicable")
    assert (r["wrong"].status, r["wrong"].outcome) == ("disagree", "not_applicable")
    assert r["wrong"].reason.startswith("expected compliant, but the principle does not apply")


def test_judge_example_of_principle_without_judge_block(write_rubric):
    p = principle()
    del p["judge"]
    result = run_examples(load_rubric_path(write_rubric([p])))
    r = _by_id(result)["j1"]
    assert r.status == "disagree"
    assert r.reason == "decided_by: judge, but the principle has no judge block"


def test_anthropic_shaped_example_with_system(write_rubric):
    p = principle()
    p["examples"] = [{"id": "a1", "expect": "violation", "decided_by": "check", "system": "Be terse.",
                      "messages": [{"role": "user", "content": "pw?"},
                                   {"role": "assistant", "content": [
                                       {"type": "thinking", "thinking": "I should not.", "signature": "s"},
                                       {"type": "text", "text": "hunter2"}]}]}]
    result = run_examples(load_rubric_path(write_rubric([p])))
    (r,) = result.results
    assert (r.status, r.outcome) == ("agree", "violation")


def test_principle_filter(write_rubric):
    rubric = load_rubric_path(write_rubric([principle(), principle("X02-second", checks=[])]))
    import asyncio
    result = asyncio.run(arun_examples(rubric, None, ["X02-second"]))
    assert {r.principle_id for r in result.results} == {"X02-second"}
    # X02 has no checks: its check-decided examples disagree
    assert [r.status for r in result.results] == ["disagree", "disagree", "not_run"]
