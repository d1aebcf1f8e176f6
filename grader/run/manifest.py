"""The run manifest's pieces: the run id and clock the engine stamps a run with, the
``rubrics`` entry and the one ``counts`` builder of ``run.json``."""
from __future__ import annotations

import datetime as _dt
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .folder import Finding

if TYPE_CHECKING:
    from ..rubric import Rubric


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    """A run id in the engine's form: ``20250101T120000Z-1a2b3c``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def rubric_manifest(rubrics: Sequence["Rubric"]) -> list[dict[str, Any]]:
    """The ``rubrics`` entry of run.json (same shape as the engine writes)."""
    return [{"id": r.id, "version": r.version, "sha256": r.sha256, "path": r.path,
             "principles": [p.id for p in r.principles]} for r in rubrics]


class Counts:
    """The ``counts`` entry of run.json, kept as findings arrive: the one builder, fed by the
    engine while it writes findings and by :func:`counts_of` over finished ones."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.flags: Counter[str] = Counter()
        self.by_principle: dict[str, Counter[str]] = {}
        self.transcripts: set[str] = set()

    def add(self, transcript_id: str, principle_id: str, outcome: str, flags: Iterable[str]) -> None:
        self.outcomes[outcome] += 1
        counts = self.by_principle.setdefault(principle_id, Counter())
        counts[outcome] += 1
        self.transcripts.add(transcript_id)
        for fl in flags:
            self.flags[fl] += 1
            if fl == "screened" and outcome == "ungraded":
                counts["screened"] += 1  # of the ungraded pairs, those only screening checks examined

    def per_principle(self, principle_ids: Sequence[str] = ()) -> dict[str, Counter[str]]:
        """Outcome counts per principle: every id of ``principle_ids`` first (even unseen), then
        any other principle seen, in the order seen."""
        out = {pid: self.by_principle.get(pid, Counter()) for pid in principle_ids}
        out.update({k: v for k, v in self.by_principle.items() if k not in out})
        return out

    def as_dict(self, n_input_errors: int, principle_ids: Sequence[str] = (),
                skipped_inputs: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"transcripts": len(self.transcripts), "pairs": sum(self.outcomes.values()),
                               "input_errors": n_input_errors}
        if skipped_inputs is not None:
            out["skipped_inputs"] = skipped_inputs
        out.update({"outcomes": dict(self.outcomes), "flags": dict(self.flags),
                    "by_principle": {k: dict(v) for k, v in self.per_principle(principle_ids).items()}})
        return out


def counts_of(findings: Iterable[Finding], n_input_errors: int,
              principle_ids: Sequence[str] = (), n_skipped: int = 0) -> dict[str, Any]:
    """The ``counts`` entry of run.json: transcripts, pairs, input errors, outcomes,
    flags and outcomes per principle (every id of ``principle_ids`` appears, even unseen; a
    principle's ``screened`` counts those of its ``ungraded`` pairs flagged ``screened``)."""
    counts = Counts()
    for f in findings:
        counts.add(f.transcript_id, f.principle_id, f.outcome, f.flags)
    return counts.as_dict(n_input_errors, principle_ids, skipped_inputs=n_skipped)


__all__ = ["Counts", "counts_of", "new_run_id", "now_iso", "rubric_manifest"]
