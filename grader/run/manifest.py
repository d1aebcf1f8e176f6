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


def counts_of(findings: Iterable[Finding], n_input_errors: int,
              principle_ids: Sequence[str] = ()) -> dict[str, Any]:
    """The ``counts`` entry of run.json: transcripts, pairs, input errors, outcomes,
    flags and outcomes per principle (every id of ``principle_ids`` appears, even unseen; a
    principle's ``screened`` counts those of its ``ungraded`` pairs flagged ``screened``)."""
    outcomes: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    by_principle: dict[str, Counter[str]] = {pid: Counter() for pid in principle_ids}
    transcripts: set[str] = set()
    for f in findings:
        outcomes[f.outcome] += 1
        counts = by_principle.setdefault(f.principle_id, Counter())
        counts[f.outcome] += 1
        transcripts.add(f.transcript_id)
        for fl in f.flags:
            flags[fl] += 1
            if fl == "screened" and f.outcome == "ungraded":
                counts["screened"] += 1  # of the ungraded pairs, those only screening checks examined
    return {"transcripts": len(transcripts), "pairs": sum(outcomes.values()), "input_errors": n_input_errors,
            "outcomes": dict(outcomes), "flags": dict(flags),
            "by_principle": {k: dict(v) for k, v in by_principle.items()}}


__all__ = ["counts_of", "new_run_id", "now_iso", "rubric_manifest"]
