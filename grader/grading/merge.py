"""``grader merge``: join the run folders of one sharded job into one run folder.

The shards (``grader grade --shard I/N``) must be one job: the same N, every shard 1..N
exactly once and finished, the same grader version, input files (by content), selected
transcripts, options, rubrics and judge settings (settings that are local to a machine —
concurrency and the cache — may differ). Anything else is a :class:`ShardMismatchError`
whose one line names the run folder and what differs. The merged folder is a plain run
(results.jsonl, input_errors.jsonl, run.json with counts, tokens and cost summed) that
report, compare, checklist and calibrate read like any other.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ..errors import ShardMismatchError, UsageError
from ..run.folder import Finding, InputErrorRecord, RunFolder, unreadable
from ..run.manifest import counts_of, new_run_id, now_iso
from .shards import shard_of

#: judge settings that belong to the machine, not to the job
MACHINE_LOCAL_JUDGE_SETTINGS = frozenset({"concurrency", "cache", "cache_path"})


@dataclass(frozen=True)
class MergeSummary:
    """What :func:`merge_runs` wrote."""

    run_dir: Path
    run_id: str
    shards: int
    counts: Mapping[str, Any]
    usage: Mapping[str, Any]


@dataclass(frozen=True)
class _Part:
    path: str
    folder: RunFolder
    manifest: Mapping[str, Any]
    index: int
    count: int


def _open(path: str) -> _Part:
    folder = RunFolder.open(path)
    m = folder.read_manifest()
    shard = m.get("shard")
    if not isinstance(shard, Mapping):
        raise ShardMismatchError(f"{path}: not a shard (its run.json has no 'shard'; grade with --shard I/N)")
    if m.get("status") != "complete":
        raise ShardMismatchError(f"{path}: shard {shard.get('index')}/{shard.get('count')} is not finished "
                                 f"(status {m.get('status')!r}); continue it with `grader grade ... --resume`")
    return _Part(path, folder, m, int(shard["index"]), int(shard["count"]))


def _judge_job(settings: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if settings is None:
        return None
    return {k: v for k, v in settings.items() if k not in MACHINE_LOCAL_JUDGE_SETTINGS}


def _options_job(options: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (options or {}).items() if k != "shard"}


def _rubrics_job(rubrics: Sequence[Mapping[str, Any]] | None) -> list[tuple[Any, ...]]:
    return [(r.get("id"), r.get("version"), r.get("sha256")) for r in rubrics or []]


def _first_difference(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> str:
    if a is None or b is None:
        return f"{'a judge' if a is not None else 'no judge'} vs {'a judge' if b is not None else 'no judge'}"
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            return f"{k} {a.get(k)!r} vs {b.get(k)!r}"
    return "same"  # pragma: no cover - only called when they differ


def _check_same_job(parts: Sequence[_Part]) -> None:
    ref = parts[0]
    r, rs = ref.manifest, ref.manifest["shard"]
    for p in parts[1:]:
        m, s = p.manifest, p.manifest["shard"]
        where = f"{p.path} (shard {p.index}/{p.count}) and {ref.path} (shard {ref.index}/{ref.count})"
        if p.count != ref.count:
            raise ShardMismatchError(f"{where} split the job into different numbers of shards")
        if m.get("grader_version") != r.get("grader_version"):
            raise ShardMismatchError(f"{where} ran different grader versions "
                                     f"({m.get('grader_version')} vs {r.get('grader_version')})")
        if s.get("inputs_sha256") != rs.get("inputs_sha256"):
            raise ShardMismatchError(f"{where} read different input files (inputs {m.get('inputs')} vs "
                                     f"{r.get('inputs')}; contents or paths differ)")
        if _options_job(m.get("options")) != _options_job(r.get("options")):
            raise ShardMismatchError(f"{where} used different options: "
                                     f"{_first_difference(_options_job(m.get('options')), _options_job(r.get('options')))}")
        if s.get("job_transcripts_sha256") != rs.get("job_transcripts_sha256"):
            raise ShardMismatchError(f"{where} selected different transcripts ({s.get('job_transcripts')} vs "
                                     f"{rs.get('job_transcripts')} in the job)")
        if _rubrics_job(m.get("rubrics")) != _rubrics_job(r.get("rubrics")):
            raise ShardMismatchError(f"{where} used different rubrics (id, version, sha256): "
                                     f"{_rubrics_job(m.get('rubrics'))} vs {_rubrics_job(r.get('rubrics'))}")
        if _judge_job(m.get("judge")) != _judge_job(r.get("judge")):
            raise ShardMismatchError(f"{where} used different judge settings: "
                                     f"{_first_difference(_judge_job(m.get('judge')), _judge_job(r.get('judge')))}")
    seen: dict[int, str] = {}
    for p in parts:
        if p.index in seen:
            raise ShardMismatchError(f"shard {p.index}/{p.count} given twice: {seen[p.index]} and {p.path}")
        seen[p.index] = p.path
    missing = [i for i in range(1, ref.count + 1) if i not in seen]
    if missing:
        raise ShardMismatchError(f"shard(s) {', '.join(f'{i}/{ref.count}' for i in missing)} missing "
                                 f"(given: {', '.join(f'{i}/{ref.count}' for i in sorted(seen))})")


def _check_members(part: _Part) -> None:
    """Every finding of a shard is of a transcript of that shard (catches a folder graded
    with another N or renamed by hand), and no pair is there twice."""
    pairs: set[tuple[str, str]] = set()
    for row in part.folder.rows():
        tid, pid = str(row.get("transcript_id")), str(row.get("principle_id"))
        if shard_of(tid, part.count) != part.index:
            raise ShardMismatchError(f"{part.path}: transcript {tid!r} belongs to shard "
                                     f"{shard_of(tid, part.count)}/{part.count}, not {part.index}/{part.count}")
        if (tid, pid) in pairs:
            raise ShardMismatchError(f"{part.path}: pair ({tid!r}, {pid!r}) is in results.jsonl twice")
        pairs.add((tid, pid))


def _sum_usage(usages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for u in usages:
        for k, v in (u or {}).items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            out[k] = out.get(k, 0) + v
    return out


def merge_runs(run_dirs: Sequence["str | os.PathLike[str]"], out: "str | os.PathLike[str]") -> MergeSummary:
    """Check that ``run_dirs`` are all the shards of one job and write them as one run
    folder at ``out`` (which must not hold a run). Findings keep their content; their
    ``run_id`` becomes the merged run's. Input errors (every shard reads all inputs) are
    kept once per file and place.

    Raises :class:`~grader.errors.ShardMismatchError` (one line naming the folder and the
    difference) or :class:`~grader.errors.RunFolderError` for an unreadable folder."""
    if not run_dirs:
        raise UsageError("merge needs the run folders of the shards")
    given = [_open(os.fspath(p)) for p in run_dirs]
    _check_same_job(given)
    for p in given:
        _check_members(p)
    parts = sorted(given, key=lambda p: p.index)
    ref = parts[0].manifest
    errors: dict[tuple[str, str | None], InputErrorRecord] = {}
    for p in parts:
        for e in p.folder.input_errors():
            errors.setdefault((e.path, e.locator), e)
    run_id = new_run_id()
    folder = RunFolder.create(os.fspath(out))
    principle_ids = [pid for r in ref.get("rubrics") or [] for pid in r.get("principles", [])]

    def written() -> Iterator[Finding]:
        for p in parts:
            for f in p.folder.findings():
                f = replace(f, run_id=run_id)
                folder.append(f)
                yield f

    with folder:
        for e in errors.values():
            folder.append_input_error(e)
        bad = unreadable(list(errors.values()))
        counts = counts_of(written(), len(bad), principle_ids, len(errors) - len(bad))
    usage = _sum_usage([p.manifest.get("usage") or {} for p in parts])
    manifest = {k: v for k, v in ref.items() if k not in ("shard", "resumed_at")}
    manifest.update({
        "run_id": run_id, "status": "complete", "options": _options_job(ref.get("options")),
        "started_at": min(str(p.manifest.get("started_at")) for p in parts),
        "ended_at": max(str(p.manifest.get("ended_at")) for p in parts),
        "merged_at": now_iso(),
        "merged_from": [{"run_dir": p.path, "run_id": p.manifest.get("run_id"), "shard": f"{p.index}/{p.count}",
                         "started_at": p.manifest.get("started_at"), "ended_at": p.manifest.get("ended_at"),
                         "counts": {"transcripts": (p.manifest.get("counts") or {}).get("transcripts"),
                                    "pairs": (p.manifest.get("counts") or {}).get("pairs")},
                         "usage": p.manifest.get("usage") or {}}
                        for p in parts],
        "counts": counts, "usage": usage,
    })
    folder.write_manifest(manifest)
    return MergeSummary(folder.path, run_id, len(parts), counts, usage)
