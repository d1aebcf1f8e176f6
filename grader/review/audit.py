"""Training-data audit (``grader audit``): does a data set match the label it claims?

Each row (transcript) of the data set is graded, then classified against the claim:

- ``expect="compliant"``: a row *contradicts* the claim when any principle's outcome is
  ``violation`` (exempt findings are compliant). A row is *graded* when at least one
  principle got violation, compliant or not_applicable. The contradiction rate is therefore
  a lower bound on the true one when some principles were left ungraded (e.g. offline,
  without a judge): the report counts those pairs.
- ``expect="violation"``: a row is *consistent* when some principle found a violation, and
  *contradicts* the claim when every principle was graded (violation, compliant or
  not_applicable) and none found one. A row with no violation but some ungraded or errored
  principles is *undetermined* (a violation may hide there) and is not counted as graded.

A pair flagged ``screened`` (only screening checks examined it, none fired) is ungraded:
its silence proves nothing. With ``expect="compliant"``, a row with no violation whose only
examined pairs are screened is *screened*: examined, but neither contradicting nor
consistent. When such rows exist the contradiction rate cannot be known: the result gives
"k contradicting rows found in N examined" (N = graded + screened rows) with the one-sided
Clopper-Pearson lower bound (``lower_bound``), the worst-case upper bound with every
screened row counted as contradicting (``upper_bound``), and no rate or two-sided interval.

Rows that could not be graded (every pair ungraded or error, or undetermined) and inputs
that could not be read are counted separately, never silently dropped. The rate is
contradicting / graded rows with a Wilson interval; the audit fails when the interval's
lower bound (for screened rows, the one-sided lower bound) exceeds ``max_rate`` (or when no
row could be examined at all).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import UsageError
from ..reporting.stats import lower_bound, upper_bound, wilson_interval
from ..run.folder import Finding
from ..rubric import Rubric, load_rubrics

EXPECTS = ("compliant", "violation")
GRADED = ("violation", "compliant", "not_applicable")
QUOTE_MAX = 200


@dataclass(frozen=True)
class AuditExample:
    """One contradicting row: where it is and what the grader saw."""

    transcript_id: str
    source: str
    principle_ids: tuple[str, ...]
    quote: str
    rationale: str

    def to_dict(self) -> dict[str, Any]:
        return {"transcript_id": self.transcript_id, "source": self.source,
                "principle_ids": list(self.principle_ids), "quote": self.quote, "rationale": self.rationale}


@dataclass(frozen=True)
class PrincipleTally:
    """Outcome counts of one principle over the audited rows (``screened``: of the
    ``ungraded`` pairs, those only screening checks examined)."""

    principle_id: str
    severity: str
    outcomes: Mapping[str, int]
    contradicting_rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"principle_id": self.principle_id, "severity": self.severity,
                "outcomes": dict(self.outcomes), "contradicting_rows": self.contradicting_rows}


@dataclass(frozen=True)
class AuditResult:
    expect: str
    run_dir: str
    rows: int  # transcripts read (graded or not)
    graded: int
    contradicting: int
    rate: float | None  # None when nothing was graded or when screened rows leave it unknown
    ci_low: float | None  # the Wilson interval (None when the rate is unknown)
    ci_high: float | None
    confidence: float
    max_rate: float
    ungraded_rows: int  # every pair ungraded or error
    undetermined_rows: int  # no violation, but a pair that could hide one (expect=compliant: error; expect=violation: ungraded or error)
    input_errors: int
    ungraded_pairs: int
    error_pairs: int
    per_principle: tuple[PrincipleTally, ...]
    examples: tuple[AuditExample, ...] = field(default_factory=tuple)
    skipped: int = 0  # files the folder walk passed over (not transcripts; not errors)
    screened_rows: int = 0  # examined only by screening checks, none firing (expect=compliant)
    lower_bound: float | None = None  # one-sided, when screened rows leave the rate unknown
    upper_bound: float | None = None  # one-sided, every screened row counted as contradicting

    @property
    def examined(self) -> int:
        """Rows some check or judge read to an answer: graded plus screened rows."""
        return self.graded + self.screened_rows

    @property
    def basis(self) -> str:
        """``decided`` (a rate with a two-sided interval) or ``screened`` (k found in N)."""
        return "screened" if self.screened_rows else "decided"

    @property
    def failed(self) -> bool:
        """The contradiction rate's lower bound exceeds ``max_rate``, or no row could be
        examined (an audit that checked nothing cannot vouch for the data)."""
        if self.examined == 0:
            return True
        low = self.lower_bound if self.screened_rows else self.ci_low
        return bool(low is not None and low > self.max_rate)

    @property
    def exit_code(self) -> int:
        """1 when the audit failed; else 3 when inputs or pairs failed; else 0."""
        if self.failed:
            return 1
        return 3 if (self.input_errors or self.error_pairs) else 0

    def to_dict(self) -> dict[str, Any]:
        return {"expect": self.expect, "run_dir": self.run_dir, "rows": self.rows, "graded": self.graded,
                "contradicting": self.contradicting, "rate": self.rate, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "confidence": self.confidence, "max_rate": self.max_rate,
                "failed": self.failed, "basis": self.basis, "screened_rows": self.screened_rows,
                "examined": self.examined, "lower_bound": self.lower_bound, "upper_bound": self.upper_bound, "ungraded_rows": self.ungraded_rows,
                "undetermined_rows": self.undetermined_rows, "input_errors": self.input_errors,
                "ungraded_pairs": self.ungraded_pairs, "error_pairs": self.error_pairs,
                "per_principle": [p.to_dict() for p in self.per_principle],
                "examples": [e.to_dict() for e in self.examples],
                **({"skipped_inputs": self.skipped} if self.skipped else {})}


def _row_status(outcomes: Sequence[str], expect: str, screened: bool = False) -> str:
    """``contradicts``, ``consistent``, ``screened``, ``ungraded`` or ``undetermined`` for one
    row; ``screened``: some pair of the row is flagged screened."""
    has_violation = "violation" in outcomes
    if not any(o in GRADED for o in outcomes):
        if expect == "compliant" and screened and "error" not in outcomes:
            return "screened"
        return "ungraded"
    if expect == "compliant":
        if has_violation:
            return "contradicts"
        # a failed pair may hide a violation: not counted as consistent
        return "undetermined" if "error" in outcomes else "consistent"
    if has_violation:
        return "consistent"
    if all(o in GRADED for o in outcomes):
        return "contradicts"
    return "undetermined"


def _example(tid: str, findings: Sequence[Finding], expect: str) -> AuditExample:
    f0 = findings[0]
    src = f"{f0.source.get('path', '')}:{f0.source.get('locator', '')}".rstrip(":")
    if expect == "compliant":
        bad = [f for f in findings if f.outcome == "violation"]
        quote = next((e.quote for f in bad for e in f.evidence if e.quote), "")
        rationale = bad[0].rationale
        pids = tuple(f.principle_id for f in bad)
    else:
        pids = tuple(f.principle_id for f in findings)
        quote = ""
        rationale = "; ".join(f"{f.principle_id}: {f.outcome}" for f in findings)
    quote = " ".join(quote.split())
    if len(quote) > QUOTE_MAX:
        quote = quote[:QUOTE_MAX - 3] + "..."
    return AuditExample(tid, src, pids, quote, rationale)


def analyse(findings: Iterable[Finding | Mapping[str, Any]], expect: str, *, input_errors: int = 0,
            run_dir: str = "", max_rate: float = 0.05, examples: int = 5,
            confidence: float = 0.95) -> AuditResult:
    """Classify graded rows against the claimed label (pure; see the module docstring)."""
    if expect not in EXPECTS:
        raise UsageError(f"--expect must be one of {', '.join(EXPECTS)}, got {expect!r}")
    if not 0.0 <= max_rate <= 1.0:
        raise UsageError(f"--max-rate must be between 0 and 1, got {max_rate}")
    rows: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        f = f if isinstance(f, Finding) else Finding.from_dict(f)
        rows[f.transcript_id].append(f)
    status = {tid: _row_status([f.outcome for f in fs], expect,
                               any(f.outcome == "ungraded" and "screened" in f.flags for f in fs))
              for tid, fs in rows.items()}
    counts = Counter(status.values())
    graded = counts["contradicts"] + counts["consistent"]
    k = counts["contradicts"]
    screened = counts["screened"]
    low: float | None
    high: float | None
    low, high = wilson_interval(k, graded, confidence)
    bound = worst = None
    rate = (k / graded) if graded else None
    if screened:  # the rate is unknown: k found in graded + screened rows, bounds only
        low = high = rate = None
        bound = lower_bound(k, graded + screened, confidence)
        worst = upper_bound(k + screened, graded + screened, confidence)

    tallies: dict[str, Counter] = defaultdict(Counter)
    severity: dict[str, str] = {}
    contra_by_p: Counter = Counter()
    pair_counts: Counter = Counter()
    for tid, fs in rows.items():
        for f in fs:
            tallies[f.principle_id][f.outcome] += 1
            if f.outcome == "ungraded" and "screened" in f.flags:
                tallies[f.principle_id]["screened"] += 1  # of the ungraded, those only screened
            severity.setdefault(f.principle_id, f.severity)
            pair_counts[f.outcome] += 1
            if status[tid] == "contradicts" and (expect == "violation" or f.outcome == "violation"):
                contra_by_p[f.principle_id] += 1
    per = tuple(PrincipleTally(pid, severity[pid], dict(c), contra_by_p[pid]) for pid, c in tallies.items())
    picked = [tid for tid in rows if status[tid] == "contradicts"][:max(0, examples)]
    return AuditResult(
        expect=expect, run_dir=run_dir, rows=len(rows), graded=graded, contradicting=k,
        rate=rate, ci_low=low, ci_high=high, confidence=confidence,
        max_rate=max_rate, ungraded_rows=counts["ungraded"], undetermined_rows=counts["undetermined"],
        input_errors=input_errors, ungraded_pairs=pair_counts["ungraded"], error_pairs=pair_counts["error"],
        per_principle=per, examples=tuple(_example(t, rows[t], expect) for t in picked),
        screened_rows=screened, lower_bound=bound, upper_bound=worst)


def select_rubrics(rubrics: Sequence[Rubric | str | Path] | None, principles: Sequence[str] | None) -> list[Rubric]:
    given = list(rubrics or [])
    ready = [r for r in given if isinstance(r, Rubric)]
    paths = [r for r in given if not isinstance(r, Rubric)]
    loaded: list[Rubric] = ready + (load_rubrics(paths) if paths or not ready else [])
    if not principles:
        return loaded
    known = {p.id for r in loaded for p in r.principles}
    wanted: set[str] = set()
    unknown = []
    for want in principles:
        # an exact id, or a unique short form: P16 for P16-no-unrequested-vulnerabilities
        match = [want] if want in known else [k for k in known if k.startswith(want + "-")]
        if len(match) == 1:
            wanted.add(match[0])
        else:
            unknown.append(want)
    if unknown:
        raise UsageError(f"--principle: unknown id(s) {', '.join(unknown)}; the rubric has {', '.join(sorted(known))}")
    out = []
    for r in loaded:
        ids = [p.id for p in r.principles if p.id in wanted]
        if ids:
            out.append(r.select(ids))
    return out
