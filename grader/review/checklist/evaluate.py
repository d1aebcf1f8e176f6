"""Evaluate a checklist's gates over a run (the entry point of ``grader checklist``)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from ...run.folder import Finding
from .model import (Checklist, ChecklistResult, Signoff, checklist_error, load_calibration, load_checklist,
                    load_signoffs, run_data)


def evaluate(findings_or_run_dir: "str | Path | Iterable[Finding | Mapping[str, Any]]",
             checklist_path: str | Path | Checklist | None = None,
             signoffs: "str | Path | Iterable[Signoff] | None" = None,
             calibration: "str | Path | Mapping[str, Any] | None" = None,
             input_errors: int | None = None) -> ChecklistResult:
    """Evaluate a checklist (default: the shipped pre-deployment one) over a run.

    ``signoffs`` is a sign-off file or records; ``calibration`` a calibration result file
    (or its dict) that overrides the checklist's own ``calibration`` paths. ``input_errors``
    overrides the count read from the run folder (needed when findings are passed directly).
    Raises :class:`ChecklistError` for invalid files, :class:`~grader.errors.RunFolderError` for a bad run.
    """
    from .gates import evaluate_gate, make_context

    checklist = checklist_path if isinstance(checklist_path, Checklist) else load_checklist(checklist_path)
    if signoffs is None:
        records: tuple[Signoff, ...] = ()
    elif isinstance(signoffs, (str, Path)):
        records = load_signoffs(signoffs)
    else:
        records = tuple(signoffs)
    if isinstance(calibration, (str, Path)):
        if not Path(calibration).exists():
            raise checklist_error(calibration, "", "no such calibration result file")
        calibration = load_calibration(calibration)
    run = run_data(findings_or_run_dir, input_errors)
    ctx = make_context(run, checklist, records, calibration)
    items = tuple(replace(evaluate_gate(g, ctx),
                          undetermined_allowed=bool(g.get("allow_undetermined", checklist.allow_undetermined)))
                  for g in checklist.gates)
    signoff_ids = {g["id"] for g in checklist.gates if g["kind"] == "signoff"}
    unused = tuple(sorted({s.id for s in records} - signoff_ids))
    return ChecklistResult(checklist.id, checklist.title, checklist.path, run.run_dir, run.run_id, items, unused)


__all__ = ["evaluate"]
