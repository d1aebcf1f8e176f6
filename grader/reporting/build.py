"""Everything one report shows, gathered from a run folder (the renderers only format it).

Transcript text for the HTML report: the run folder stores findings, not transcripts. The
report reads the transcripts back from the run's inputs (``run.json`` ``inputs`` and
``options.format``, paths as given to ``grader grade``, so relative to where it ran) and
keeps only those with a violation (a relative input path that is not found from the current
folder is also tried from the run folder's ancestors). When an input is gone or unreadable, the report shows
the evidence quotes alone and says so in :attr:`Report.transcripts_note`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from .compare import Comparison, compare_split
from ..errors import GraderError, UsageError
from ..run.folder import InputErrorRecord, RunFolder, unreadable
from ..transcripts.model import Transcript
from .aggregate import findings_frame, per_principle, violations_frame, with_groups


@dataclass(frozen=True)
class Report:
    run_dir: str
    manifest: Mapping[str, Any]
    input_errors: tuple[InputErrorRecord, ...]
    by: tuple[str, ...]                     # column names of the by fields in ``principles``
    findings: pd.DataFrame                  # findings_frame
    principles: pd.DataFrame                # per_principle
    violations: pd.DataFrame                # violations_frame, plus one column per ``by`` field
    comparison: Comparison | None = None
    comparison_note: str = ""
    transcripts: Mapping[str, Transcript] = field(default_factory=dict)  # by transcript_id
    transcripts_note: str = ""
    confidence: float = 0.95

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", ""))


def _same_transcript(recorded_id: str, read_id: str) -> bool:
    """The finding's id is the id read back, or that id with the engine's ``#N`` suffix
    for a repeated id (an input edited since the run reads back under another id)."""
    if recorded_id == read_id:
        return True
    head, sep, n = recorded_id.rpartition("#")
    return bool(sep) and head == read_id and n.isdigit()


def _locate(path: str, run_dir: str | Path | None) -> str | None:
    """Where an input of the run is now: as recorded (relative to the current folder), else,
    for a relative path, relative to one of the run folder's three nearest ancestors (the
    folder ``grader grade`` probably ran in, for ``-o runs/NAME``)."""
    if Path(path).exists():
        return path
    if run_dir is None or Path(path).is_absolute():
        return None
    for base in list(Path(run_dir).resolve().parents)[:3]:
        if (base / path).exists():
            return str(base / path)
    return None


def _as_recorded(source_path: str, present: Mapping[str, str]) -> str:
    """A transcript's source path as the run recorded it (undo :func:`_locate`'s prefix)."""
    for where, recorded in present.items():
        if where != recorded and (source_path == where or source_path.startswith(where.rstrip("/") + "/")):
            return recorded + source_path[len(where):]
    return source_path


def load_transcripts(manifest: Mapping[str, Any], wanted: pd.DataFrame,
                     run_dir: str | Path | None = None) -> tuple[dict[str, Transcript], str]:
    """The transcripts named in ``wanted`` (rows with transcript_id, source_path, source_locator),
    read back from the run's inputs; and a note saying what could not be found (empty if all).
    Relative input paths are tried from the current folder, then from the run folder's ancestors."""
    need: dict[tuple[str, str], list[str]] = {}
    for tid, path, loc in wanted[["transcript_id", "source_path", "source_locator"]].drop_duplicates().itertuples(index=False):
        need.setdefault((str(path), str(loc or "")), []).append(str(tid))
    if not need:
        return {}, ""
    inputs = [str(p) for p in manifest.get("inputs") or []]
    fmt = (manifest.get("options") or {}).get("format")
    located = {p: _locate(p, run_dir) for p in inputs}
    present = {where: p for p, where in located.items() if where is not None}
    missing = [p for p, where in located.items() if where is None]
    found: dict[str, Transcript] = {}
    problem = ""
    if present:
        from ..transcripts.load import iter_inputs

        try:
            for t in iter_inputs(list(present), fmt):
                if not isinstance(t, Transcript):
                    continue
                key = (_as_recorded(t.source.path, present), t.source.locator or "")
                for tid in need.get(key, ()):
                    if _same_transcript(tid, t.id):
                        found.setdefault(tid, t)
                if len(found) == sum(len(v) for v in need.values()):
                    break
        except (GraderError, OSError) as e:
            problem = f"reading the inputs failed ({e})"
    total = sum(len(v) for v in need.values())
    if len(found) == total:
        return found, ""
    parts = [f"{total - len(found)} of {total} transcript(s) with violations could not be read back from the "
             "run's inputs, so only their evidence quotes are shown"]
    if missing:
        parts.append("missing input(s): " + ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""))
    if problem:
        parts.append(problem)
    if not inputs:
        parts.append("the run manifest lists no inputs")
    return found, "; ".join(parts)


@dataclass(frozen=True)
class RunData:
    """What a report reads of a run, already in memory: a run folder's contents opened once,
    or a library caller's in-memory results (``transcripts`` then holds the graded ones, so
    nothing is read back from the inputs)."""

    run_dir: str
    manifest: Mapping[str, Any]
    findings: Sequence[Any]                  # Finding objects or their dicts
    input_errors: Sequence[InputErrorRecord] = ()
    transcripts: Mapping[str, Transcript] = field(default_factory=dict)

    @classmethod
    def open(cls, run_dir: str | Path) -> "RunData":
        """A run folder, read once (RunFolderError for a bad one)."""
        folder = RunFolder.open(run_dir)
        return cls(str(run_dir), folder.read_manifest(), list(folder.findings()), tuple(folder.input_errors()))


def build_report(run: "str | Path | RunData", by: Sequence[str] = (), *, confidence: float = 0.95,
                 method: str = "auto", with_transcripts: bool = False,
                 compare_groups: Sequence[str] | None = None) -> Report:
    """Aggregate a run (a run folder, or :class:`RunData` in memory). With ``by`` fields, when
    the last one has exactly two values (or ``compare_groups`` names two), the report also
    compares them per principle."""
    data = run if isinstance(run, RunData) else RunData.open(run)
    manifest = data.manifest
    df = findings_frame(data.findings)
    principles = per_principle(df, by, confidence)
    _, names = with_groups(df.iloc[:0], by)
    comparison, note = None, ""
    if by:
        values = sorted(set(with_groups(df, [by[-1]])[0][names[-1]])) if not df.empty else []
        if compare_groups is not None or len(values) == 2:
            comparison = compare_split(df, by[-1], by[:-1], compare_groups, method, confidence)
        elif len(values) > 2:
            note = (f"{names[-1]} has {len(values)} values: name two with --compare A,B to test a difference")
    elif compare_groups is not None:
        raise UsageError("--compare needs a --by field whose two values to compare")
    violations = violations_frame(with_groups(df, by)[0])  # carries the by columns too
    transcripts: dict[str, Transcript] = {}
    tnote = ""
    if with_transcripts and not violations.empty:
        wanted = set(violations["transcript_id"])
        transcripts = {k: v for k, v in data.transcripts.items() if k in wanted}
        if len(transcripts) < len(wanted):
            rest = violations[~violations["transcript_id"].isin(list(transcripts))]
            more, tnote = load_transcripts(manifest, rest, Path(data.run_dir) if data.run_dir else None)
            transcripts.update(more)
    return Report(data.run_dir, manifest, tuple(unreadable(data.input_errors)), tuple(names), df, principles,
                  violations, comparison, note, transcripts, tnote, confidence)
