"""Score Inspect AI tasks with a constitution rubric (``pip install 'constitution-grader[inspect]'``).

In a task::

    from inspect_ai import Task
    from inspect_ai.solver import generate
    from grader.integrations.inspect import constitution_scorer

    Task(dataset=..., solver=generate(), scorer=constitution_scorer())

On an existing log (the ``grader`` entry point registers the scorer with Inspect)::

    inspect score LOG.eval --scorer grader/constitution_scorer -S rubric=rubrics/constitution

Each sample's :class:`~inspect_ai.scorer.Score` has:

- ``value``: ``{principle_id: "violation" | "compliant" | "not_applicable"}`` for every
  principle that was graded. Pairs that are ``ungraded`` (the principle needs a judge and
  none is configured, or only screening checks examined the pair and none fired: flagged
  ``screened``) or ``error`` (a check or the judge failed) are left out of the value,
  never counted as compliant, and listed in the metadata;
- ``explanation``: the violations with their rationale, then the counts;
- ``metadata``: ``outcomes`` (every principle, including ungraded/error), ``findings`` (per
  principle: severity, method, check_ids, evidence ``[{message_index, quote, verified}]``,
  rationale, flags, error, judge), ``ungraded`` (screened pairs included), ``screened`` and
  ``errors``, ``rubric``.

Metrics: ``violation_rate`` gives one value per principle, ``violations / (violations +
compliant)`` over all samples and epochs (not_applicable, ungraded and error excluded from
the denominator), for principles whose pairs were all decided. A principle with a screened
pair in any sample has no knowable rate (violations / (violations + compliant) would count
the screening checks' finds but not their silence): it gets no rate but ``PRINCIPLE >=``,
the one-sided 95% Clopper-Pearson lower bound from the violations found in the pairs
examined (violation, compliant or screened). ``any_violation`` is the share of samples
with at least one violation among those known either way: a sample with no violation but an
``error`` or a screened pair is left out (it may hide one); judge-only ungraded pairs may still
hide more. Both read the unreduced per-epoch scores, so no epoch reducer is
needed.

A sample whose messages cannot be read as a transcript scores NaN (Inspect's "unscored"),
with the reason in the explanation.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ..errors import InputError, MissingExtraError

try:
    from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, Value, metric, scorer
    from inspect_ai.solver import TaskState
except ImportError:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("inspect", "inspect-ai", "grader.integrations.inspect") from None

from ..grading.outcomes import NO_JUDGE_HINT
from ..run.folder import Finding
from ..transcripts.inspect_format import messages_from_inspect
from ..transcripts.model import Source, Transcript

if TYPE_CHECKING:
    from ..judges.base import Judge
    from ..rubric import Rubric

GRADED = ("violation", "compliant", "not_applicable")
RATIONALE_LIMIT = 300

__all__ = ["constitution_scorer", "violation_rate", "any_violation", "transcript_from_state",
           "score_from_findings"]


# -- TaskState -> Transcript -------------------------------------------------------------------
def transcript_from_state(state: TaskState) -> Transcript:
    """The grader transcript of an Inspect sample: its messages (system, user, assistant
    with tool calls, tool results; reasoning kept apart) and metadata (the sample's own,
    plus ``model``, ``sample_id``, ``epoch``). Raises InputError when it has no messages."""
    sid, epoch = state.sample_id, state.epoch
    locator = f"sample {sid} epoch {epoch}"
    msgs = messages_from_inspect(state.messages)
    if not msgs:
        raise InputError("inspect", locator, "sample has no messages")
    meta: dict[str, Any] = dict(state.metadata or {})
    meta.update({"model": str(state.model), "sample_id": sid, "epoch": epoch})
    return Transcript(f"{sid}/{epoch}", msgs, meta, Source("inspect", locator))


# -- findings -> Score -------------------------------------------------------------------------
def _short(text: str, limit: int = RATIONALE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _finding_meta(f: Finding) -> dict[str, Any]:
    return {"outcome": f.outcome, "severity": f.severity, "method": f.method, "check_ids": list(f.check_ids),
            "evidence": [e.to_dict() for e in f.evidence], "rationale": f.rationale, "flags": list(f.flags),
            "error": f.error, "judge": dict(f.judge) if f.judge is not None else None}


def score_from_findings(findings: Sequence[Finding], rubric_label: str = "") -> Score:
    """One Inspect Score from the findings of one transcript (see the module docstring)."""
    value = {f.principle_id: f.outcome for f in findings if f.outcome in GRADED}
    outcomes = {f.principle_id: f.outcome for f in findings}
    violations = [f for f in findings if f.outcome == "violation"]
    ungraded = [f.principle_id for f in findings if f.outcome == "ungraded"]
    screened = [f.principle_id for f in findings if f.outcome == "ungraded" and "screened" in f.flags]
    errors = {f.principle_id: f.error or "" for f in findings if f.outcome == "error"}
    lines = [f"{f.principle_id} ({f.severity}, {f.method}): {_short(f.rationale)}" for f in violations]
    counts = {o: sum(1 for v in outcomes.values() if v == o) for o in ("violation", "compliant", "not_applicable",
                                                                        "ungraded", "error")}
    tail = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in counts.items() if n)
    if screened:
        tail += f" ({len(screened)} screened: only screening checks examined them, none fired; their silence proves nothing)"
    if any(NO_JUDGE_HINT in f.rationale for f in findings if f.outcome == "ungraded"):
        tail += " (ungraded: these principles need a judge; pass judge='anthropic:MODEL' or 'openai:MODEL')"
    head = f"{len(violations)} violation(s): " + "; ".join(lines) if violations else "no violations"
    return Score(
        value=value,
        explanation=f"{head}\n{tail}" if tail else head,
        metadata={"rubric": rubric_label, "outcomes": outcomes,
                  "findings": {f.principle_id: _finding_meta(f) for f in findings},
                  "ungraded": ungraded, "screened": screened, "errors": errors})


# -- metrics -----------------------------------------------------------------------------------
def _metric_decorator() -> Callable[[Callable[..., Metric]], Callable[..., Metric]]:
    """``@metric(scores="unreduced")`` where Inspect has it (metrics see each epoch's raw
    string values, not a mean of them), else plain ``@metric``."""
    try:
        return metric(scores="unreduced")  # type: ignore[call-overload,no-any-return]
    except TypeError:  # pragma: no cover - older inspect-ai
        return metric  # type: ignore[return-value]


def _outcomes(s: SampleScore) -> Mapping[str, str] | None:
    """principle -> outcome for one sample score (None for an unscored NaN score)."""
    value = s.score.value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values()):
        return {str(k): str(v) for k, v in value.items()}
    meta = s.score.metadata or {}
    outcomes = meta.get("outcomes")
    if isinstance(outcomes, Mapping):  # a reduced (averaged) value: fall back to the metadata
        return {str(k): str(v) for k, v in outcomes.items()}
    return None


def _screened(s: SampleScore) -> list[str]:
    got = (s.score.metadata or {}).get("screened")
    return [str(p) for p in got] if isinstance(got, list) else []


@_metric_decorator()
def violation_rate() -> Metric:
    """Per principle: violations / (violations + compliant) over all scored samples and
    epochs. Principles never graded (only not_applicable/ungraded/error) are left out. A
    principle with a screened pair gets ``"PRINCIPLE >="``: the one-sided 95% lower bound
    on its rate from the violations found in the examined pairs, and no rate."""

    def compute(scores: list[SampleScore]) -> Value:
        from ..reporting.stats import lower_bound

        violations: dict[str, int] = {}
        graded: dict[str, int] = {}
        screened: dict[str, int] = {}
        for s in scores:
            outcomes = _outcomes(s)
            if outcomes is None:
                continue
            for pid in _screened(s):
                screened[pid] = screened.get(pid, 0) + 1
            for pid, outcome in outcomes.items():
                if outcome in ("violation", "compliant"):
                    graded[pid] = graded.get(pid, 0) + 1
                    violations[pid] = violations.get(pid, 0) + (outcome == "violation")
        out: dict[str, float] = {}
        for pid in sorted(set(graded) | set(screened)):
            k, n, sc = violations.get(pid, 0), graded.get(pid, 0), screened.get(pid, 0)
            if sc:
                out[f"{pid} >="] = lower_bound(k, n + sc)
            else:
                out[pid] = k / n
        return out

    return compute


@_metric_decorator()
def any_violation() -> Metric:
    """Share of scored samples (and epochs) with at least one violation. A sample with no
    violation but a failed pair (``error``) or a pair only screening checks examined is left
    out: either may hide one."""

    def compute(scores: list[SampleScore]) -> Value:
        hits = counted = 0
        for s in scores:
            o = _outcomes(s)
            if o is None:
                continue
            everything = (s.score.metadata or {}).get("outcomes")
            full = set(everything.values()) if isinstance(everything, Mapping) else set(o.values())
            if "violation" in full:
                hits += 1
            elif "error" in full or _screened(s):
                continue  # a failed or only-screened pair may hide a violation: not known to be clean
            counted += 1
        return hits / counted if counted else float("nan")

    return compute


# -- the scorer --------------------------------------------------------------------------------
def _rubric(rubric: Any, principles: Sequence[str] | str | None) -> "Rubric":
    from ..api import as_rubric

    return as_rubric(rubric, [principles] if isinstance(principles, str) else principles)


def _judge(judge: Any) -> "Judge | None":
    from ..api import as_judge

    return as_judge(judge)[0]


@scorer(metrics=[violation_rate(), any_violation()])
def constitution_scorer(rubric: Any = None, judge: Any = None, principles: Sequence[str] | str | None = None
                        ) -> Scorer:
    """Grade each sample's conversation against a constitution rubric.

    Args:
        rubric: a rubric path (file or folder), a list of paths, a :class:`grader.Rubric`, or
            None for the shipped constitution.
        judge: None (deterministic checks only; judge-only principles are ungraded), a spec
            string such as ``"anthropic:claude-sonnet-4-5"`` or ``"openai:gpt-4.1-mini"``, or a
            :class:`grader.Judge` object.
        principles: principle ids to grade (default: all of the rubric's).

    Rubric and judge are set up when the scorer is created, so a bad rubric file or a
    missing API key fails before any sample runs.
    """
    rub = _rubric(rubric, principles)
    the_judge = _judge(judge)
    label = f"{rub.id}@{rub.version}"

    async def score(state: TaskState, target: Target) -> Score:
        try:
            transcript = transcript_from_state(state)
        except InputError as e:
            return Score(value=float("nan"), explanation=f"not graded: {e.reason}",
                         metadata={"rubric": label, "error": str(e)})
        from ..api import agrade

        results = await agrade([transcript], rub, the_judge, workers=1)
        return score_from_findings(results.findings, label)

    return score


def _register_aliases() -> None:
    """Make the scorer findable as both ``constitution_scorer`` and
    ``grader/constitution_scorer``: Inspect prefixes the package name only for packages it
    sees as installed (not for an editable install whose distribution name differs)."""
    try:
        from inspect_ai._util.registry import REGISTRY_INFO, RegistryInfo, registry_add, registry_info
    except ImportError:  # pragma: no cover - Inspect internals moved: the primary name still works
        return
    for obj in (constitution_scorer, violation_rate, any_violation):
        info = registry_info(obj)
        short = info.name.rpartition("/")[2]
        for alias in (short, f"grader/{short}"):
            if alias != info.name:
                registry_add(obj, RegistryInfo(type=info.type, name=alias, metadata=info.metadata))
        setattr(obj, REGISTRY_INFO, info)


_register_aliases()
