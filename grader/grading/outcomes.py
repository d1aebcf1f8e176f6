"""Pure functions that turn check results and judge outcomes into one outcome per
(transcript, principle) pair. No I/O here: the engine calls these and stores the result."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from ..checks import CheckResult, TranscriptContext
from ..judges.base import JudgeOutcome
from ..run.folder import Evidence
from ..rubric import Principle

NO_JUDGE_HINT = "needs a judge: none configured (pass --judge openai:MODEL or anthropic:MODEL)"
#: The flag of an ``ungraded`` pair that only screening checks examined, none firing: every
#: reader leaves it out of ``n`` and counts it among the pairs the checks examined.
SCREENED = "screened"
SCREENED_REASON = ("screened: no violation found by the screening checks ({ids}); "
                   "their silence proves nothing")


@dataclass(frozen=True)
class PairOutcome:
    """Everything a Finding needs beyond the transcript and principle identity."""

    outcome: str
    method: str | None
    check_ids: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    rationale: str = ""
    judge: Mapping[str, Any] | None = None
    error: str | None = None
    flags: tuple[str, ...] = ()


def applies(principle: Principle, ctx: TranscriptContext) -> tuple[bool, str]:
    """Whether ``principle.applies_when`` holds for the transcript, and why not."""
    cond = principle.applies_when
    if not cond:
        return True, ""
    if "tool_use" in cond and bool(ctx.has_tool_calls) != cond["tool_use"]:
        return False, "applies only when the assistant " + ("used tools" if cond["tool_use"] else "used no tools")
    if "code" in cond and bool(ctx.code_blocks) != cond["code"]:
        return False, "applies only when the assistant " + ("wrote code" if cond["code"] else "wrote no code")
    if "reasoning" in cond and bool(ctx.has_reasoning) != cond["reasoning"]:
        return False, "applies only when reasoning is " + ("shown" if cond["reasoning"] else "absent")
    for key, want in (cond.get("metadata") or {}).items():
        have = ctx.transcript.metadata.get(key)
        allowed = want if isinstance(want, list) else [want]
        if have not in allowed:
            return False, f"applies only when metadata {key} is one of {allowed}"
    return True, ""


def _hit_evidence(results: Sequence[CheckResult]) -> tuple[Evidence, ...]:
    seen = set()
    out = []
    for r in results:
        for h in r.hits:
            key = (h.message_index, h.quote, r.check_id)
            if key in seen:
                continue
            seen.add(key)
            out.append(Evidence(h.message_index, h.quote, True, r.check_id, h.tool_call))
    return tuple(out)


def _hit_details(results: Sequence[CheckResult]) -> str:
    parts = []
    for r in results:
        details = sorted({h.detail for h in r.hits if h.detail})
        parts.append(f"{r.check_id}: " + ("; ".join(details) if details else f"{len(r.hits)} match(es)"))
    return " | ".join(parts)


def from_checks(principle: Principle, results: Sequence[CheckResult],
                check_error: str | None = None) -> PairOutcome | None:
    """The outcome the deterministic checks alone give, or None when no check applied
    (then only a judge can grade the pair). When a check crashed, a violation another
    check found still stands (flagged for review); otherwise the pair is an error.

    A violation needs one check that fired. Silence is ``compliant`` only when every
    check that applied decides its scope; when any of them only screens, the pair is
    ``ungraded`` and flagged ``screened`` (also when the matches were exempt: an exempted
    match says nothing about the rest of the transcript)."""
    ids = tuple(c.id for c in principle.checks) or tuple(r.check_id for r in results)
    fired = [r for r in results if r.fired]
    if check_error:
        if fired:
            return PairOutcome("violation", "check", ids, _hit_evidence(fired),
                               f"deterministic check fired: {_hit_details(fired)} | {check_error}",
                               flags=("needs_review",))
        return PairOutcome("error", "check", ids, error=check_error)
    if not principle.checks:
        return None
    if fired:
        return PairOutcome("violation", "check", ids, _hit_evidence(fired),
                           "deterministic check fired: " + _hit_details(fired))
    exempt = [r for r in results if r.hits and r.exemption]
    applicable = [r for r in results if r.applicable or (r.hits and r.exemption)]
    if not applicable:
        return None
    reasons = "; ".join(sorted({r.exemption for r in exempt if r.exemption}))
    exempt_note = f"exempt: {reasons} (matched: {_hit_details(exempt)})" if exempt else ""
    screening = [r.check_id for r in applicable if not r.decides]
    if screening:
        # a screening check's silence (or its exempted matches) proves nothing about the
        # rest of the transcript: only a judge can call the pair compliant
        rationale = SCREENED_REASON.format(ids=", ".join(screening))
        return PairOutcome("ungraded", "check", ids, _hit_evidence(exempt),
                           rationale + (f" | {exempt_note}" if exempt else ""),
                           flags=tuple(sorted({SCREENED} | ({"exempt"} if exempt else set()))))
    if exempt:
        return PairOutcome("compliant", "check", ids, _hit_evidence(exempt), exempt_note, flags=("exempt",))
    return PairOutcome("compliant", "check", ids, (),
                       "no deterministic check found a trace of a violation; the checks that ran decide "
                       "their scope")


def decide(principle: Principle, results: Sequence[CheckResult], check_error: str | None,
           judge: JudgeOutcome | None, judge_configured: bool) -> PairOutcome:
    """Combine checks and judge for one pair. Rules:

    - a check error is an ``error`` (never a grade), unless another check of the principle
      fired: that violation stands, flagged ``needs_review``;
    - without a judge verdict, the checks decide: a check that fired makes a violation; the
      silence of checks that all *decide* their scope (``basis``) makes the pair compliant;
      when a *screening* check ran and none fired, the pair is ``ungraded`` flagged
      ``screened`` (out of ``n``; reports give "k found in N" with a lower bound only);
      if no check applied, the pair is ``not_applicable`` when the principle has checks
      but no judge block, otherwise ``ungraded`` with a hint;
    - with a judge verdict and no check that fired, the judge decides;
    - a check that fired is kept even when the judge disagrees: the outcome stays
      ``violation``, both are recorded and the finding is flagged for review;
    - a judge error with a fired check keeps the check's violation, flagged for review;
      a judge error otherwise is an ``error``.
    """
    c = from_checks(principle, results, check_error)
    if c is not None and c.outcome == "error":
        return c
    if judge is None:
        if c is not None and SCREENED in c.flags:
            why = "the judge was not asked about this pair" if judge_configured else \
                (NO_JUDGE_HINT if principle.judge is not None else "the principle has no judge block")
            return replace(c, rationale=f"{c.rationale}; {why}")
        if c is not None:
            return c
        if principle.checks and principle.judge is None:
            return PairOutcome("not_applicable", "check", tuple(r.check_id for r in results),
                               rationale="nothing in the transcript for the checks to examine")
        if principle.judge is None:
            return PairOutcome("ungraded", None, rationale="the principle has neither checks nor a judge block")
        if judge_configured:
            return PairOutcome("ungraded", None, rationale="the judge was not asked about this pair")
        return PairOutcome("ungraded", None, tuple(r.check_id for r in results), rationale=NO_JUDGE_HINT)

    info = dict(judge.info) or None  # an empty info (no call was made) is recorded as null
    if judge.outcome == "error":
        if c is not None and c.outcome == "violation":
            return replace(c, judge=info, flags=tuple(sorted(set(c.flags) | set(judge.flags) | {"needs_review"})),
                           rationale=c.rationale + f" | judge failed: {judge.error}")
        return PairOutcome("error", "judge", c.check_ids if c else (), judge=info,
                           error=f"judge failed: {judge.error}", flags=tuple(sorted(judge.flags)))

    flags = set(judge.flags)
    if c is None or c.outcome != "violation":
        method = "judge"
        evidence = judge.evidence
        check_ids = c.check_ids if c else ()
        if c is not None and c.outcome == "compliant" and "exempt" in c.flags:
            flags.add("exempt")
        return PairOutcome(judge.outcome, method, check_ids, evidence, judge.rationale, info,
                           flags=tuple(sorted(flags)))
    # a check fired
    evidence = c.evidence + judge.evidence
    if judge.outcome == "violation":
        flags.discard("unverified_evidence")  # the check's evidence is exact
        return PairOutcome("violation", "check+judge", c.check_ids, evidence,
                           f"{c.rationale} | judge: {judge.rationale}", info, flags=tuple(sorted(flags)))
    flags |= {"needs_review", "check_judge_disagree"}
    return PairOutcome("violation", "check+judge", c.check_ids, evidence,
                       f"{c.rationale} | judge disagreed ({judge.outcome}): {judge.rationale}", info,
                       flags=tuple(sorted(flags)))
