"""``Results``: the findings of one grading run, in memory.

:func:`grader.grade` returns one, :func:`grader.load_run` reads one back from a run
folder, and :meth:`Results.save` writes one as a run folder that ``grader report``,
``grader checklist`` and ``grader calibrate`` read like any other.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from .. import __version__
from ..errors import RunFolderError
from ..run.folder import Finding, InputErrorRecord, RunFolder, unreadable
from ..run.manifest import counts_of, new_run_id, now_iso

if TYPE_CHECKING:  # pandas is imported only when a frame is asked for
    import pandas as pd

    from ..transcripts.model import Transcript


@dataclass(frozen=True)
class Results:
    """The findings of one grading run (one :class:`~grader.Finding` per transcript x principle).

    >>> import grader
    >>> results = grader.grade("transcripts/")                      # doctest: +SKIP
    >>> results.counts["outcomes"]                                  # doctest: +SKIP
    >>> [(f.transcript_id, f.principle_id) for f in results.violations]   # doctest: +SKIP
    >>> results.summary()                      # per-principle rates  # doctest: +SKIP
    >>> results.save("runs/demo")              # a run folder for the CLI  # doctest: +SKIP

    Attributes:
        findings: every finding, in the order the engine produced them.
        input_errors: inputs that could not be read (file, place, one-line reason).
        manifest: the run's ``run.json`` content (run id, rubrics, judge settings, counts, usage).
        run_dir: the run folder the results live in (None for an in-memory run).
    """

    findings: tuple[Finding, ...]
    input_errors: tuple[InputErrorRecord, ...] = ()
    manifest: Mapping[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None
    #: Transcripts with a violation, by transcript id, when they were graded from memory
    #: (the HTML report shows them in context; runs read from files re-read their inputs).
    transcripts: Mapping[str, "Transcript"] = field(default_factory=dict, repr=False, compare=False)

    # -- views -------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or (self.findings[0].run_id if self.findings else ""))

    @property
    def violations(self) -> tuple[Finding, ...]:
        """The findings whose outcome is ``violation``."""
        return tuple(f for f in self.findings if f.outcome == "violation")

    @property
    def counts(self) -> dict[str, Any]:
        """Transcripts, pairs, input errors, and outcome counts overall and per principle."""
        pids = [p for r in self.manifest.get("rubrics") or [] for p in r.get("principles", [])]
        bad = len(unreadable(self.input_errors))
        return counts_of(self.findings, bad, pids, len(self.input_errors) - bad)

    @property
    def usage(self) -> Mapping[str, Any]:
        """Judge usage totals (requests, tokens, cost_usd); empty without a judge."""
        return dict(self.manifest.get("usage") or {})

    @property
    def exit_code(self) -> int:
        """What ``grader grade`` would exit with: 3 when inputs or pairs failed, else 0."""
        return 3 if unreadable(self.input_errors) or any(f.outcome == "error" for f in self.findings) else 0

    def outcome(self, transcript_id: str, principle_id: str) -> str:
        """The outcome of one pair; KeyError when the run has no such pair."""
        for f in self.findings:
            if f.transcript_id == transcript_id and f.principle_id == principle_id:
                return f.outcome
        raise KeyError((transcript_id, principle_id))

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __repr__(self) -> str:
        c = self.counts
        where = f", run_dir={str(self.run_dir)!r}" if self.run_dir else ""
        return (f"Results(run_id={self.run_id!r}, transcripts={c['transcripts']}, pairs={c['pairs']}, "
                f"outcomes={c['outcomes']}, input_errors={c['input_errors']}{where})")

    # -- pandas --------------------------------------------------------------------------
    def to_dataframe(self) -> "pd.DataFrame":
        """One row per finding. Columns: run_id, transcript_id, source_path, source_locator,
        principle_id, rubric_id, rubric_version, severity, outcome, method, check_ids,
        flags, evidence, rationale, error, judge_model, unverified, screened, then
        ``meta.<key>`` for each transcript metadata key.

        >>> df = results.to_dataframe()                            # doctest: +SKIP
        >>> df[df.outcome == "violation"][["transcript_id", "principle_id"]]  # doctest: +SKIP
        """
        from ..reporting.aggregate import findings_frame

        return findings_frame(self.findings)

    def summary(self, by: Sequence[str] = (), confidence: float = 0.95) -> "pd.DataFrame":
        """Counts and violation rate per principle (and per ``by`` field, e.g. ``["model"]``):
        principle_id, severity, basis, total, n, violations, compliant, not_applicable,
        ungraded, screened, errors, unverified, examined, rate, ci_low, ci_high, lower_bound,
        upper_bound. ``n = violations + compliant`` (the graded pairs); ``rate = violations /
        n`` with a Wilson interval where ``basis`` is ``decided``; where screening checks left
        pairs unjudged (``screened``/``mixed``) the rate is NaN and ``lower_bound`` (and, for
        ``mixed``, ``upper_bound``) bound it (see :func:`grader.reporting.aggregate.per_principle`).

        >>> results.summary()[["principle_id", "violations", "n", "rate"]]  # doctest: +SKIP
        """
        from ..reporting.aggregate import per_principle

        if isinstance(by, str):
            by = [by]
        return per_principle(self.to_dataframe(), by, confidence)

    # -- persistence ---------------------------------------------------------------------
    def save(self, run_dir: "str | os.PathLike[str]") -> Path:
        """Write the results as a run folder (results.jsonl, run.json, input_errors.jsonl)
        that the ``grader`` commands and :func:`grader.load_run` read.

        Raises :class:`~grader.errors.RunFolderError` when ``run_dir`` already holds a run.
        Returns the folder's path.
        """
        path = Path(run_dir)
        if self.run_dir is not None and path.resolve() == Path(self.run_dir).resolve():
            raise RunFolderError(f"{path}: the results already live in this run folder")
        folder = RunFolder.create(path)
        with folder:
            for f in self.findings:
                folder.append(f)
            for e in self.input_errors:
                folder.append_input_error(e)
        manifest = dict(self.manifest)
        manifest.setdefault("run_id", self.run_id or new_run_id())
        manifest.setdefault("grader_version", __version__)
        manifest.setdefault("started_at", now_iso())
        manifest.setdefault("ended_at", now_iso())
        manifest.setdefault("status", "complete")
        manifest.setdefault("inputs", [])
        manifest.setdefault("rubrics", [])
        manifest.setdefault("judge", None)
        manifest.setdefault("usage", {})
        manifest["counts"] = self.counts
        folder.write_manifest(manifest)
        return path

    @classmethod
    def load(cls, run_dir: "str | os.PathLike[str]") -> "Results":
        """Read a run folder written by ``grader grade``, :func:`grader.grade` or :meth:`save`.

        Raises :class:`~grader.errors.RunFolderError` when it is not a run folder."""
        path = Path(run_dir)
        folder = RunFolder.open(path)
        manifest = folder.read_manifest()
        try:
            findings = tuple(folder.findings())
            errors = tuple(folder.input_errors())
        except (ValueError, KeyError, TypeError) as e:
            raise RunFolderError(f"{path}: unreadable results.jsonl or input_errors.jsonl: {e}") from None
        return cls(findings, errors, manifest, path)
