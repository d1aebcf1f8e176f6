"""transcripts x principles -> findings, written to a run folder as they are produced.

Deterministic checks run first (in worker processes on large runs), then the judge
(asyncio, bounded by the judge's own concurrency). ``--resume`` skips pairs already in
results.jsonl, so an interrupted run (even kill -9) ends with every pair exactly once.
"""
from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from . import __version__
from .checkrun import CheckRunner, CheckStage, findings_for, init_worker, run_chunk
from .errors import InputError, RunFolderError, UsageError
from .judges.base import Judge, JudgeOutcome
from .results import InputErrorRecord, RunFolder, Sink
from .results_api import new_run_id, now_iso, rubric_manifest
from .rubric import Principle, Rubric
from .shards import Shard, ShardFilter, files_digest
from .transcripts.load import input_change, input_files, iter_inputs
from .transcripts.model import Transcript

CHUNK = 64  # transcripts per worker task
POOL_THRESHOLD = 256  # below this many transcripts, checks run in-process


@dataclass(frozen=True)
class GradeOptions:
    """Options of one grading run (see ``grader grade --help``)."""

    format: str | None = None
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    tags: Mapping[str, str] = field(default_factory=dict)
    workers: int | None = None  # None: both cores on large runs; 1: in-process
    resume: bool = False
    shard: Shard | None = None  # grade only this shard of the job (see grader.shards)


@dataclass
class RunSummary:
    """What a finished run produced (also written to run.json)."""

    run_dir: Path
    run_id: str
    transcripts: int
    input_errors: int
    outcomes: Counter
    by_principle: dict[str, Counter]
    flags: Counter
    usage: Mapping[str, Any]

    @property
    def errors(self) -> int:
        return self.outcomes.get("error", 0)

    @property
    def exit_code(self) -> int:
        """0 when everything was read and graded, 3 when inputs or judgments failed."""
        return 3 if (self.input_errors or self.errors) else 0


class _Tally:
    """Counts of a run kept as findings are written (a resumed run starts from the file)."""

    def __init__(self) -> None:
        self.outcomes: Counter = Counter()
        self.flags: Counter = Counter()
        self.by_principle: dict[str, Counter] = {}
        self.transcripts: set[str] = set()

    def add(self, transcript_id: str, principle_id: str, outcome: str, flags: Iterable[str]) -> None:
        self.outcomes[outcome] += 1
        self.by_principle.setdefault(principle_id, Counter())[outcome] += 1
        self.transcripts.add(transcript_id)
        for fl in flags:
            self.flags[fl] += 1


def versions() -> dict[str, str | None]:
    """Versions that decide a run's results: the grader, Python and the libraries the
    checks and judges run on (None when not installed)."""
    import platform
    from importlib import metadata

    out: dict[str, str | None] = {"grader": __version__, "python": platform.python_version()}
    for dist in ("bandit", "openai", "anthropic", "inspect-ai"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _select(items: Iterator[Transcript | InputError], options: GradeOptions,
            on_error: Callable[[InputError], None]) -> Iterator[Transcript]:
    """Apply --limit and --sample (seeded reservoir sampling), pass errors to on_error."""
    def good() -> Iterator[Transcript]:
        for item in items:
            if isinstance(item, InputError):
                on_error(item)
            else:
                yield item

    stream = good()
    if options.sample is not None:
        rng = random.Random(options.seed)
        reservoir: list[tuple[int, Transcript]] = []
        for i, t in enumerate(stream):
            if len(reservoir) < options.sample:
                reservoir.append((i, t))
            else:
                j = rng.randint(0, i)
                if j < options.sample:
                    reservoir[j] = (i, t)
        stream = iter([t for _, t in sorted(reservoir, key=lambda x: x[0])])
    for n, t in enumerate(stream):
        if options.limit is not None and n >= options.limit:
            return
        yield t


class _Ids:
    """Makes transcript ids unique within a run, deterministically: a repeated id ``x``
    becomes ``x#2`` (or the next free ``x#N`` when an input already uses ``x#2``)."""

    def __init__(self) -> None:
        self.issued: set[str] = set()
        self.repeats: dict[str, int] = {}

    def __call__(self, t: Transcript, tags: Mapping[str, str]) -> Transcript:
        new_id = t.id
        if new_id in self.issued:
            n = self.repeats.get(t.id, 1)
            while new_id in self.issued:
                n += 1
                new_id = f"{t.id}#{n}"
            self.repeats[t.id] = n
        self.issued.add(new_id)
        if new_id == t.id and not tags:
            return t
        return replace(t, id=new_id, metadata={**t.metadata, **tags})


class Engine:
    """Grades transcripts against rubrics into a run folder."""

    def __init__(self, rubrics: Sequence[Rubric], judge: Judge | None = None,
                 options: GradeOptions = GradeOptions(),
                 progress: Callable[[int], None] | None = None):
        self.rubrics = list(rubrics)
        self.principles: list[Principle] = [p for r in self.rubrics for p in r.principles]
        self.judge = judge
        self.options = options
        self.progress = progress
        self._tally = _Tally()
        self._shard = ShardFilter(options.shard) if options.shard is not None else None

    # -- public entry points ---------------------------------------------------------------
    def run(self, paths: Sequence[str | Path], run_dir: str | Path) -> RunSummary:
        return asyncio.run(self.arun(paths, run_dir))

    async def arun(self, paths: Sequence[str | Path], run_dir: str | Path) -> RunSummary:
        folder, manifest, done = self._open(paths, run_dir)
        try:
            await self.agrade_into(iter_inputs([str(p) for p in paths], self.options.format),
                                   folder, manifest["run_id"], done)
        finally:
            folder.close()
        return self._finish(folder, manifest)

    async def agrade_into(self, items: Iterable[Transcript | InputError], sink: Sink, run_id: str,
                          done: set[tuple[str, str]] | None = None) -> None:
        """Grade ``items`` (transcripts, or InputErrors to record) into ``sink``, skipping
        pairs in ``done``. Input errors already in the sink are not recorded twice."""
        done = done if done is not None else set()
        known_errors = {(e.path, e.locator) for e in sink.input_errors()}

        def on_error(err: InputError) -> None:
            if (err.path, err.locator) not in known_errors:
                known_errors.add((err.path, err.locator))
                sink.append_input_error(InputErrorRecord(err.path, err.locator, err.reason))

        ids = _Ids()
        selected: Iterable[Transcript] = (ids(t, self.options.tags)
                                          for t in _select(iter(items), self.options, on_error))
        if self._shard is not None:
            selected = self._shard(selected)
        await self._grade_stream(selected, done, sink, run_id)

    # -- run folder ------------------------------------------------------------------------
    def _open(self, paths: Sequence[str | Path], run_dir: str | Path) -> tuple[RunFolder, dict, set]:
        inputs = [str(p) for p in paths]
        settings = {"format": self.options.format, "limit": self.options.limit,
                    "sample": self.options.sample, "seed": self.options.seed,
                    "tags": dict(self.options.tags)}
        if self.options.shard is not None:
            settings["shard"] = str(self.options.shard)
        judge_settings = dict(self.judge.settings()) if self.judge is not None else None
        if self.options.resume:
            folder = RunFolder.open(run_dir, for_append=True)
            manifest = folder.read_manifest()
            want = {r["id"]: r["sha256"] for r in rubric_manifest(self.rubrics)}
            have = {r["id"]: r["sha256"] for r in manifest.get("rubrics", [])}
            if want != have:
                raise RunFolderError(f"{run_dir}: --resume with other rubrics than the run used ({sorted(have)})")
            if manifest.get("inputs") != inputs or manifest.get("options") != settings:
                raise RunFolderError(f"{run_dir}: --resume needs the same inputs and options as the run "
                                     f"(inputs {manifest.get('inputs')}, options {manifest.get('options')})")
            change = input_change(manifest.get("input_files", []), input_files(inputs, self.options.format)) \
                if "input_files" in manifest else None  # (older run folders have none)
            if change:
                raise RunFolderError(f"{run_dir}: --resume needs the inputs as they were: {change} since the run; "
                                     "grade into a new run folder")
            manifest.setdefault("resumed_at", []).append(now_iso())
            manifest["status"] = "running"
            manifest["judge"] = judge_settings
            folder.write_manifest(manifest)
            done = set()
            for row in folder.rows():
                done.add((row["transcript_id"], row["principle_id"]))
                self._tally.add(row["transcript_id"], row["principle_id"], row["outcome"], row["flags"])
            return folder, manifest, done
        folder = RunFolder.create(run_dir)
        manifest = {
            "run_id": new_run_id(),
            "grader_version": __version__, "versions": versions(), "started_at": now_iso(), "ended_at": None,
            "status": "running",
            "inputs": inputs, "input_files": [list(f) for f in input_files(inputs, self.options.format)],
            "options": settings, "rubrics": rubric_manifest(self.rubrics),
            "judge": judge_settings,
        }
        if self._shard is not None:
            manifest["shard"] = self._shard.manifest(files_digest(manifest["input_files"]))
        folder.write_manifest(manifest)
        return folder, manifest, set()

    def _finish(self, folder: RunFolder, manifest: dict) -> RunSummary:
        tally = self._tally
        outcomes, flags, transcripts = tally.outcomes, tally.flags, tally.transcripts
        by_principle = {p.id: tally.by_principle.get(p.id, Counter()) for p in self.principles}
        by_principle.update({k: v for k, v in tally.by_principle.items() if k not in by_principle})
        n_errors = len(folder.input_errors())
        usage = dict(self.judge.usage()) if self.judge is not None else {}
        if self.options.resume and manifest.get("usage"):
            prev = manifest["usage"]
            usage = {k: (usage.get(k) or 0) + (prev.get(k) or 0) for k in set(usage) | set(prev)
                     if isinstance(usage.get(k, 0) or 0, (int, float)) and isinstance(prev.get(k, 0) or 0, (int, float))}
        manifest.update({
            "ended_at": now_iso(), "status": "complete",
            "counts": {"transcripts": len(transcripts), "pairs": sum(outcomes.values()),
                       "input_errors": n_errors, "outcomes": dict(outcomes), "flags": dict(flags),
                       "by_principle": {k: dict(v) for k, v in by_principle.items()}},
            "usage": usage,
        })
        if self._shard is not None:
            manifest["shard"] = self.shard_manifest(manifest.get("shard", {}).get("inputs_sha256"))
        folder.write_manifest(manifest)
        return RunSummary(folder.path, manifest["run_id"], len(transcripts), n_errors, outcomes,
                          by_principle, flags, usage)

    def shard_manifest(self, inputs_sha256: str | None) -> dict[str, Any] | None:
        """run.json's ``shard`` entry (None when the run is not sharded)."""
        return self._shard.manifest(inputs_sha256) if self._shard is not None else None

    # -- grading ---------------------------------------------------------------------------
    def _todo(self, t: Transcript, done: set) -> list[str]:
        return [p.id for p in self.principles if (t.id, p.id) not in done]

    def _workers(self) -> int:
        if self.options.workers is not None:
            return max(1, self.options.workers)
        return min(2, os.cpu_count() or 1)

    async def _checked(self, stream: Iterable[Transcript], done: set, render_run_id: str | None) -> Any:
        """Yield ``("stages", transcript, {pid: CheckStage})`` in input order, or, when
        ``render_run_id`` is given and a pool is in use, ``("rendered", text, tally)`` per
        chunk of findings the workers decided and serialised. A process pool is started
        once the run proves large; in-flight chunks are bounded so memory stays flat."""
        loop = asyncio.get_running_loop()
        runner: CheckRunner | None = None
        pool: ProcessPoolExecutor | None = None
        workers = self._workers()
        pending: list[tuple[list[tuple[Transcript, list[str]]], asyncio.Future]] = []
        buffer: list[tuple[Transcript, list[str]]] = []
        seen = 0

        def unpack(chunk: list[tuple[Transcript, list[str]]], result: Any) -> Iterator[tuple]:
            if render_run_id is not None:
                yield ("rendered", *result, len(chunk))
            else:
                for (tr, _), stages in zip(chunk, result):
                    yield ("stages", tr, stages)

        try:
            for t in stream:
                todo = self._todo(t, done)
                if not todo:
                    continue
                seen += 1
                if workers > 1 and pool is None and seen > POOL_THRESHOLD:
                    pool = ProcessPoolExecutor(workers, initializer=init_worker,
                                               initargs=(self.principles, render_run_id))
                if pool is None:
                    if runner is None:
                        runner = CheckRunner(self.principles)
                    yield ("stages", t, runner.run(t, todo))
                    await asyncio.sleep(0)
                    continue
                buffer.append((t, todo))
                if len(buffer) >= CHUNK:
                    pending.append((buffer, loop.run_in_executor(pool, run_chunk, buffer)))
                    buffer = []
                while len(pending) > 2 * workers:
                    chunk, fut = pending.pop(0)
                    for item in unpack(chunk, await fut):
                        yield item
            if buffer and pool is not None:
                pending.append((buffer, loop.run_in_executor(pool, run_chunk, buffer)))
            for chunk, fut in pending:
                for item in unpack(chunk, await fut):
                    yield item
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    async def _grade_stream(self, stream: Iterable[Transcript], done: set, folder: Sink,
                            run_id: str) -> None:
        count = 0
        in_flight: set[asyncio.Task] = set()
        limit = max(2, 2 * int((self.judge.settings().get("concurrency", 8) if self.judge else 1)))
        # checks-only runs into a run folder: workers decide and serialise findings themselves
        render = run_id if self.judge is None and isinstance(folder, RunFolder) else None

        def tick(n: int = 1) -> None:
            nonlocal count
            count += n
            if self.progress:
                self.progress(count)

        async for item in self._checked(stream, done, render):
            if item[0] == "rendered":
                _, text, tally, n = item
                assert isinstance(folder, RunFolder)
                folder.append_text(text)
                for row in tally:
                    self._tally.add(*row)
                tick(n)
                continue
            _, t, stages = item
            if self.judge is None:
                self._write(folder, run_id, t, stages, {})
                tick()
                continue
            task = asyncio.ensure_future(self._judge_and_write(folder, run_id, t, stages))
            in_flight.add(task)
            while len(in_flight) >= limit:
                finished, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for f in finished:
                    f.result()
                    tick()
        while in_flight:
            finished, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for f in finished:
                f.result()
                tick()

    async def _judge_and_write(self, folder: Sink, run_id: str, t: Transcript,
                               stages: Mapping[str, CheckStage]) -> None:
        assert self.judge is not None
        ask = [p for p in self.principles if p.id in stages and stages[p.id].applies
               and stages[p.id].error is None and p.judge is not None]
        verdicts: Mapping[str, JudgeOutcome] = {}
        if ask:
            verdicts = await self.judge.grade(t, ask)
            missing = [p.id for p in ask if p.id not in verdicts]
            if missing:
                verdicts = {**verdicts, **{pid: JudgeOutcome("error", error="the judge returned no verdict")
                                           for pid in missing}}
        self._write(folder, run_id, t, stages, verdicts)

    def _write(self, folder: Sink, run_id: str, t: Transcript, stages: Mapping[str, CheckStage],
               verdicts: Mapping[str, JudgeOutcome]) -> None:
        for f in findings_for(self.principles, run_id, t, stages, verdicts, self.judge is not None):
            folder.append(f)
            self._tally.add(f.transcript_id, f.principle_id, f.outcome, f.flags)


def parse_tags(pairs: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` -> dict; raises UsageError on a malformed pair."""
    out = {}
    for p in pairs:
        if "=" not in p or not p.split("=", 1)[0].strip():
            raise UsageError(f"--tag {p!r}: expected key=value")
        k, v = p.split("=", 1)
        out[k.strip()] = v
    return out
