"""Run a rubric's own ``examples`` through its checks (and a judge, when one is given)
and measure agreement with each example's ``expect``.

An example says which layer should decide it (``decided_by``):

- ``check``: the deterministic checks alone must give ``expect``. A check that does not
  fire on a violating example, fires on a compliant one, or does not apply at all is a
  disagreement. A compliant example whose checks only *screen* (their silence proves
  nothing, so the pair stays ``ungraded``, flagged ``screened``) agrees when no check
  fires: that silence is all the checks can be asked for.
- ``judge`` (or unset): a check that fires on an example not expected to be a violation is a
  disagreement (the judge cannot overrule a fired check). Otherwise, without a judge the
  example is *not run* (it needs a judge), unless a check already decided it as a violation
  or ``applies_when`` rules the principle out; with a judge, the combined outcome
  (:func:`grader.grading.outcomes.decide`, as the engine does it) is compared with ``expect``.

Pure apart from the judge's network calls: nothing is printed or written.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from .checkrun import CheckRunner, CheckStage
from ..errors import InputError, RubricError
from ..judges.base import Judge, JudgeOutcome
from .outcomes import SCREENED, PairOutcome, decide
from ..rubric import Example, Principle, Rubric
from ..transcripts.model import Transcript

AGREE = "agree"
DISAGREE = "disagree"
NOT_RUN = "not_run"
ERROR = "error"
STATUSES = (AGREE, DISAGREE, NOT_RUN, ERROR)


@dataclass(frozen=True)
class ExampleResult:
    """What happened to one example.

    ``outcome`` is the outcome obtained (None when not run); ``method`` the layer that gave
    it (``check``, ``judge``, ``check+judge``); ``fired`` the ids of checks that fired;
    ``reason`` one line explaining a disagreement, a skip or an error."""

    principle_id: str
    example_id: str
    expect: str
    decided_by: str
    status: str
    outcome: str | None = None
    method: str | None = None
    fired: tuple[str, ...] = ()
    reason: str = ""

    @property
    def label(self) -> str:
        return f"{self.principle_id}/{self.example_id}"


@dataclass(frozen=True)
class PrincipleSummary:
    principle_id: str
    examples: int
    agree: int
    disagree: int
    not_run: int
    error: int


@dataclass(frozen=True)
class RubricTestResult:
    """Agreement of a rubric's examples with their expectations."""

    rubric_id: str
    rubric_version: str
    judge: str | None
    results: tuple[ExampleResult, ...]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def disagreements(self) -> tuple[ExampleResult, ...]:
        return tuple(r for r in self.results if r.status == DISAGREE)

    @property
    def errors(self) -> tuple[ExampleResult, ...]:
        return tuple(r for r in self.results if r.status == ERROR)

    def by_principle(self) -> tuple[PrincipleSummary, ...]:
        order: dict[str, list[ExampleResult]] = {}
        for r in self.results:
            order.setdefault(r.principle_id, []).append(r)
        return tuple(
            PrincipleSummary(pid, len(rs), *(sum(1 for r in rs if r.status == s) for s in STATUSES))
            for pid, rs in order.items())

    @property
    def exit_code(self) -> int:
        """1 when an example disagrees, else 3 when the judge failed on some example, else 0."""
        if self.disagreements:
            return 1
        if self.errors:
            return 3
        return 0


def example_transcript(principle: Principle, example: Example) -> Transcript:
    """The example as a Transcript (Anthropic-shaped when it has a ``system``).
    Raises InputError when the messages do not have a valid shape."""
    tid = f"{principle.id}/{example.id}"
    if example.system is not None:
        return Transcript.from_anthropic(example.system, [dict(m) for m in example.messages], id=tid)
    return Transcript.from_openai([dict(m) for m in example.messages], id=tid)


def _where(rubric: Rubric, principle: Principle) -> str:
    """``principles[i]`` of ``principle`` inside its own file."""
    same_file = [p for p in rubric.principles if p.file == principle.file]
    return f"principles[{same_file.index(principle)}]"


def example_transcripts(rubric: Rubric, principle_ids: Iterable[str] | None = None
                        ) -> list[tuple[Principle, Example, Transcript]]:
    """Every example of the rubric as a transcript. Raises RubricError naming the file and
    the example whose messages cannot be read, and on duplicate example ids in a principle."""
    wanted = set(principle_ids) if principle_ids is not None else None
    if wanted is not None:
        unknown = sorted(wanted - {p.id for p in rubric.principles})
        if unknown:
            raise RubricError(rubric.path, "principles", f"unknown principle id(s): {', '.join(unknown)}")
    out = []
    for p in rubric.principles:
        if wanted is not None and p.id not in wanted:
            continue
        seen: set[str] = set()
        for j, ex in enumerate(p.examples):
            where = f"{_where(rubric, p)}.examples[{j}]"
            if ex.id in seen:
                raise RubricError(p.file, f"{where}.id", f"duplicate example id {ex.id!r} in {p.id}")
            seen.add(ex.id)
            try:
                out.append((p, ex, example_transcript(p, ex)))
            except InputError as e:
                raise RubricError(p.file, f"{where}.messages", e.reason) from None
    return out


def _fired(stage: CheckStage) -> tuple[str, ...]:
    return tuple(r.check_id for r in stage.results if r.fired)


def _check_only(principle: Principle, stage: CheckStage, judge_configured: bool) -> PairOutcome:
    if not stage.applies:
        return PairOutcome("not_applicable", "check", (), rationale=stage.not_applicable_reason)
    return decide(principle, stage.results, stage.error, None, judge_configured)


def _fired_reason(out: PairOutcome) -> str:
    return out.rationale or "a check fired"


def classify(principle: Principle, example: Example, stage: CheckStage,
             verdict: JudgeOutcome | None, judge_configured: bool) -> ExampleResult:
    """Compare the outcome of one example with its expectation (see the module doc)."""
    decided_by = example.decided_by or "judge"
    fired = _fired(stage)

    def result(status: str, outcome: str | None = None, method: str | None = None,
               reason: str = "") -> ExampleResult:
        return ExampleResult(principle.id, example.id, example.expect, decided_by, status, outcome,
                             method, fired, reason)

    checks = _check_only(principle, stage, judge_configured)
    if checks.outcome == "error":
        return result(DISAGREE, "error", "check", f"a check failed: {checks.error}")
    if decided_by == "check":
        if checks.outcome == example.expect:
            return result(AGREE, checks.outcome, checks.method)
        if example.expect == "compliant" and SCREENED in checks.flags:
            return result(AGREE, checks.outcome, checks.method,
                          "screened: no check fired (the checks only screen, so the pair stays ungraded)")
        return result(DISAGREE, checks.outcome, checks.method, _check_disagreement(principle, example, checks))
    if checks.outcome == "violation" and example.expect != "violation":
        return result(DISAGREE, "violation", "check", f"expected {example.expect}, but {_fired_reason(checks)}")
    if checks.outcome == "violation" or not stage.applies:
        if checks.outcome == example.expect:
            return result(AGREE, checks.outcome, "check")
        return result(DISAGREE, checks.outcome, "check", f"expected {example.expect}, but {checks.rationale}")
    if principle.judge is None:
        return result(DISAGREE, checks.outcome, checks.method,
                      "decided_by: judge, but the principle has no judge block")
    if verdict is None:
        return result(NOT_RUN, reason="needs a judge")
    full = decide(principle, stage.results, stage.error, verdict, True)
    if full.outcome == "error":
        return result(ERROR, "error", full.method, full.error or "the judge failed")
    if full.outcome == example.expect:
        return result(AGREE, full.outcome, full.method)
    return result(DISAGREE, full.outcome, full.method,
                  f"expected {example.expect}, the judge said {full.outcome}: {full.rationale}")


def _check_disagreement(principle: Principle, example: Example, checks: PairOutcome) -> str:
    if not principle.checks:
        return "decided_by: check, but the principle has no checks"
    if checks.outcome == "violation":
        return f"expected {example.expect}, but {_fired_reason(checks)}"
    if checks.outcome == "compliant" or SCREENED in checks.flags:
        return f"expected {example.expect}, but no check fired"
    if checks.outcome == "not_applicable":
        return f"expected {example.expect}, but the principle does not apply: {checks.rationale}"
    return f"expected {example.expect}, but no check applied to the example, so the checks alone cannot decide it"


async def arun_examples(rubric: Rubric, judge: Judge | None = None,
                        principle_ids: Sequence[str] | None = None) -> RubricTestResult:
    """Run the rubric's examples (all, or those of ``principle_ids``) and compare each with
    its expectation. The judge, when given, is asked only about examples the checks did not
    already decide. Raises RubricError for an example that cannot be read."""
    items = example_transcripts(rubric, principle_ids)
    runner = CheckRunner([p for p in rubric.principles if principle_ids is None or p.id in principle_ids])
    stages = [runner.run(t, [p.id])[p.id] for p, _, t in items]

    async def verdict(i: int) -> JudgeOutcome | None:
        p, ex, t = items[i]
        stage = stages[i]
        if judge is None or p.judge is None or not stage.applies or stage.error is not None:
            return None
        if any(r.fired for r in stage.results) or (ex.decided_by == "check"):
            return None
        got: Mapping[str, JudgeOutcome] = await judge.grade(t, [p])
        return got.get(p.id) or JudgeOutcome("error", error="the judge returned no verdict")

    verdicts = await asyncio.gather(*(verdict(i) for i in range(len(items))))
    results = tuple(classify(p, ex, stages[i], verdicts[i], judge is not None)
                    for i, (p, ex, _) in enumerate(items))
    return RubricTestResult(rubric.id, rubric.version, getattr(judge, "spec", None) if judge else None, results)


def run_examples(rubric: Rubric, judge: Judge | None = None,
                 principle_ids: Sequence[str] | None = None) -> RubricTestResult:
    """Synchronous :func:`arun_examples` (not for use inside a running event loop)."""
    return asyncio.run(arun_examples(rubric, judge, principle_ids))
