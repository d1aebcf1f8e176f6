"""Reading a finished run: :func:`load_run`, :func:`report`, :func:`checklist`,
:func:`calibrate` (re-exported by :mod:`grader`).

Each accepts a :class:`~grader.Results` (from :func:`grader.grade` or :func:`load_run`)
or a run folder path.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence, Union

from ..errors import UsageError
from ..run.folder import unreadable
from .results import Results

if TYPE_CHECKING:
    from ..reporting.build import RunData
    from ..review.calibration import CalibrationResult
    from ..review.checklist import ChecklistResult

PathLike = Union[str, "os.PathLike[str]"]
REPORT_FORMATS = ("table", "md", "csv", "json", "html")


def load_run(run_dir: PathLike) -> Results:
    """Read a run folder (written by ``grader grade``, :func:`grade` with ``run_dir=`` or
    :meth:`Results.save`). Raises :class:`~grader.errors.RunFolderError` if it is not one.

    >>> results = grader.load_run("runs/demo")          # doctest: +SKIP
    >>> results.summary()                               # doctest: +SKIP
    """
    return Results.load(os.fspath(run_dir))


# -- reading a run ---------------------------------------------------------------------------
def report(results: Results | PathLike, format: str = "md", by: Sequence[str] = (), *,
           confidence: float = 0.95, test: str = "auto", compare: Sequence[str] | None = None,
           table: str = "principles") -> str:
    """The report of a run as text, exactly as ``grader report`` writes it: ``table``
    (plain text), ``md``, ``csv``, ``json`` or ``html`` (one self-contained page;
    everything from a transcript is escaped).

    Args:
        results: a :class:`~grader.Results` or a run folder path.
        format: ``table`` | ``md`` | ``csv`` | ``json`` | ``html``.
        by: metadata keys (``model``, ``condition``, ...), ``source`` or finding fields to
            group the per-principle table by; when the last one has two values, the report
            also compares them (difference, p-value with Holm correction).
        confidence: level of the Wilson intervals. test: ``auto`` | ``fisher`` | ``z``
            (see ``grader report --help``). compare: the two values of the last ``by``
            field to compare when it has more. table: with ``csv``, which table
            (``principles``, ``comparison``, ``violations``).

    Raises :class:`~grader.errors.UsageError` for an unknown format or ``by`` field.

    >>> print(grader.report(results, format="md"))                  # doctest: +SKIP
    >>> data = json.loads(grader.report(results, format="json"))    # doctest: +SKIP
    """
    from ..reporting.build import build_report
    from ..reporting.render import render_report

    if format not in REPORT_FORMATS:
        raise UsageError(f"unknown report format {format!r}; choose one of {', '.join(REPORT_FORMATS)}")
    by = [by] if isinstance(by, str) else list(by)
    groups = None
    if compare is not None:
        groups = tuple(compare)
        if len(groups) != 2:
            raise UsageError(f"compare= needs exactly two values, got {list(groups)}")
    rep = build_report(_run_data(results), by, confidence=confidence, method=test,
                       with_transcripts=format == "html", compare_groups=groups)
    return render_report(rep, format, table)


def _run_data(results: Results | PathLike) -> "RunData":
    """The run as the report reads it: in-memory results as they are (nothing is written to a
    temporary folder to be read back), a path opened once."""
    from ..reporting.build import RunData

    if isinstance(results, Results):
        if results.run_dir is not None:
            data = RunData.open(results.run_dir)
            return replace(data, transcripts=dict(results.transcripts))
        return RunData("", results.manifest, list(results.findings), tuple(results.input_errors),
                       dict(results.transcripts))
    if isinstance(results, (str, os.PathLike)):
        return RunData.open(os.fspath(results))
    raise UsageError(f"expected Results or a run folder path, got {type(results).__name__}")


def checklist(results: Results | PathLike, checklist_path: PathLike | None = None, *,
              signoffs: PathLike | None = None, calibration: PathLike | Mapping[str, Any] | None = None
              ) -> "ChecklistResult":
    """Evaluate a checklist's gates over a run (default checklist:
    ``rubrics/checklists/pre-deployment.yaml``).

    The result has ``.passed`` (True only when every gate passed; an open sign-off is not
    a pass, nor is an undetermined gate unless the checklist sets ``allow_undetermined``) and
    ``.items`` (one :class:`~grader.review.checklist.model.ChecklistItem` per gate with ``id``,
    ``status`` = passed | failed | undetermined | open, ``figure`` and ``detail``).
    ``signoffs`` is a sign-off records file; ``calibration`` a ``grader calibrate`` result
    (file or dict) for judge-agreement gates.

    Raises :class:`~grader.errors.ChecklistError` for an invalid checklist file.

    >>> result = grader.checklist(results)                          # doctest: +SKIP
    >>> result.passed, [(i.id, i.status) for i in result.items]     # doctest: +SKIP
    """
    from ..review.checklist import evaluate

    path = os.fspath(checklist_path) if checklist_path is not None else None
    sign = os.fspath(signoffs) if signoffs is not None else None
    cal = calibration if isinstance(calibration, Mapping) or calibration is None else os.fspath(calibration)
    if isinstance(results, Results) and results.run_dir is None:
        return evaluate(list(results.findings), path, signoffs=sign, calibration=cal,
                        input_errors=len(unreadable(results.input_errors)))
    run_dir = results.run_dir if isinstance(results, Results) else results
    if isinstance(run_dir, (str, os.PathLike)):
        return evaluate(os.fspath(run_dir), path, signoffs=sign, calibration=cal)
    raise UsageError(f"expected Results or a run folder path, got {type(results).__name__}")


def calibrate(results: Results | PathLike, labels: PathLike, **options: Any) -> "CalibrationResult":
    """Agreement of a run with human labels (a CSV/JSONL/JSON labels file): precision,
    recall, F1, Cohen's kappa per principle with bootstrap intervals. Options go to
    :func:`grader.review.calibration.compute.calibrate` (``bootstrap``, ``seed``, ``confidence``, ``not_applicable``).

    >>> cal = grader.calibrate(results, "transcripts/labels.csv")   # doctest: +SKIP
    """
    from ..review.calibration import calibrate as _calibrate

    source: Any = list(results.findings) if isinstance(results, Results) else os.fspath(results)
    result: CalibrationResult = _calibrate(source, os.fspath(labels), **options)
    return result
