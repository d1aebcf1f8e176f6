"""transcripts x principles -> findings, written to a run folder as they are produced.

Deterministic checks run first (in worker processes on large runs), then the judge
(asyncio, bounded by the judge's own concurrency). ``--resume`` skips pairs already in
results.jsonl, so an interrupted run (even kill -9) ends with every pair exactly once.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from .. import __version__
from .checkrun import CheckRunner, CheckStage, findings_for, init_worker, run_chunk
from ..errors import InputError, RunFolderError, SkippedInput, UsageError
from .inputs_check import check_inputs
from ..judges.base import Judge, JudgeOutcome, JudgePending
from .problems import ReasonTally
from ..run.folder import InputErrorRecord, RunFolder, Sink, unreadable
from ..run.manifest import Counts, new_run_id, now_iso, rubric_manifest
from ..rubric import Principle, Rubric
from .selection import UniqueIds, select
from .settings import RunSettings, parse_tags  # noqa: F401  (parse_tags: re-exported)
from .shards import ShardFilter, files_digest
from ..transcripts.load import input_change, input_files, iter_inputs
from ..transcripts.model import Transcript
from .workerguard import new_children, stop_workers

CHUNK = 64  # transcripts per worker task
POOL_THRESHOLD = 256  # below this many transcripts, checks run in-process


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
    pending: int = 0  # transcripts whose judge answers wait in a provider batch (batch mode)
    skipped: int = 0  # files a folder walk passed over (listed in input_errors.jsonl, not errors)
    error_reasons: ReasonTally = field(default_factory=ReasonTally)  # pairs that ended in error
    input_error_reasons: ReasonTally = field(default_factory=ReasonTally)  # inputs skipped

    @property
    def errors(self) -> int:
        return self.outcomes.get("error", 0)

    @property
    def exit_code(self) -> int:
        """0 when everything was read and graded, 3 when inputs or judgments failed."""
        return 3 if (self.input_errors or self.errors) else 0


class _Tally(Counts):
    """Counts of a run kept as findings are written (a resumed run starts from the file), and
    the reasons of the pairs that ended in error."""

    def __init__(self) -> None:
        super().__init__()
        self.errors = ReasonTally()

    def add(self, transcript_id: str, principle_id: str, outcome: str, flags: Iterable[str],
            error: str | None = None) -> None:
        if outcome == "error":
            self.errors.add(error, f"{transcript_id} {principle_id}")
        super().add(transcript_id, principle_id, outcome, flags)


def versions() -> dict[str, str | None]:
    """Versions that decide a run's results: the grader, Python and the libraries the
    checks and judges run on (None when not installed)."""
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str | None]:
    import platform
    from importlib import metadata

    out: dict[str, str | None] = {"grader": __version__, "python": platform.python_version()}
    for dist in ("bandit", "openai", "anthropic", "inspect-ai"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


class Engine:
    """Grades transcripts against rubrics into a run folder."""

    def __init__(self, rubrics: Sequence[Rubric], judge: Judge | None = None,
                 options: RunSettings = RunSettings(),
                 progress: Callable[[int], None] | None = None):
        self.rubrics = list(rubrics)
        self.principles: list[Principle] = [p for r in self.rubrics for p in r.principles]
        self.judge = judge
        self.options = options
        self.progress = progress
        self._tally = _Tally()
        self.pending = 0  # transcripts left for a later pass (their answers wait in a batch)
        self._shard = ShardFilter(options.shard) if options.shard is not None else None

    # -- public entry points ---------------------------------------------------------------
    def run(self, paths: Sequence[str | Path], run_dir: str | Path, run_id: str | None = None) -> RunSummary:
        return asyncio.run(self.arun(paths, run_dir, run_id))

    async def arun(self, paths: Sequence[str | Path], run_dir: str | Path, run_id: str | None = None) -> RunSummary:
        """Grade ``paths`` into the run folder ``run_dir`` (a new run gets ``run_id``, or a new id)."""
        folder, manifest, done = self._open(paths, run_dir, run_id)
        try:
            await self.agrade_into(iter_inputs([str(p) for p in paths], self.options.format,
                                               self.options.messages_path),
                                   folder, manifest["run_id"], done)
        except (asyncio.CancelledError, KeyboardInterrupt):
            # Ctrl-C, SIGTERM (through grader.grading.runstop) or a caller's cancel: every finding
            # written so far is flushed; run.json says the run stopped, --resume continues it
            folder.close()
            self._finish(folder, manifest, status="interrupted")
            raise
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
                kind = "skipped" if isinstance(err, SkippedInput) else "error"
                sink.append_input_error(InputErrorRecord(err.path, err.locator, err.reason, kind))

        ids = UniqueIds()
        o = self.options
        selected: Iterable[Transcript] = (ids(t, o.tags) for t in select(iter(items), o.limit, o.sample, o.seed, on_error))
        if self._shard is not None:
            selected = self._shard(selected)
        await self._grade_stream(selected, done, sink, run_id)

    # -- run folder ------------------------------------------------------------------------
    def _open(self, paths: Sequence[str | Path], run_dir: str | Path,
              run_id: str | None = None) -> tuple[RunFolder, dict, set]:
        inputs = [str(p) for p in paths]
        settings = {"format": self.options.format, "limit": self.options.limit,
                    "sample": self.options.sample, "seed": self.options.seed,
                    "tags": dict(self.options.tags)}
        if self.options.messages_path is not None:  # (absent otherwise: older run folders resume)
            settings["messages_path"] = self.options.messages_path
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
                self._tally.add(row["transcript_id"], row["principle_id"], row["outcome"], row["flags"],
                               row.get("error"))
            return folder, manifest, done
        files = check_inputs(inputs, self.options.format)  # before any run folder exists
        folder = RunFolder.create(run_dir)
        manifest = {
            "run_id": run_id or new_run_id(),
            "grader_version": __version__, "versions": versions(), "started_at": now_iso(), "ended_at": None,
            "status": "running",
            "inputs": inputs, "input_files": [list(f) for f in files],
            "options": settings, "rubrics": rubric_manifest(self.rubrics),
            "judge": judge_settings,
        }
        if self._shard is not None:
            manifest["shard"] = self._shard.manifest(files_digest(manifest["input_files"]))
        folder.write_manifest(manifest)
        return folder, manifest, set()

    def _finish(self, folder: RunFolder, manifest: dict, status: str = "complete") -> RunSummary:
        tally = self._tally
        principle_ids = [p.id for p in self.principles]
        records = folder.input_errors()
        bad = unreadable(records)
        input_reasons = ReasonTally()
        for rec in bad:
            input_reasons.add(rec.reason, f"{rec.path}:{rec.locator}" if rec.locator else rec.path)
        n_errors = len(bad)
        n_skipped = len(records) - n_errors
        usage = dict(self.judge.usage()) if self.judge is not None else {}
        if self.options.resume and manifest.get("usage"):
            prev = manifest["usage"]
            usage = {k: (usage.get(k) or 0) + (prev.get(k) or 0) for k in set(usage) | set(prev)
                     if isinstance(usage.get(k, 0) or 0, (int, float)) and isinstance(prev.get(k, 0) or 0, (int, float))}
        manifest.update({
            "ended_at": now_iso(),
            "status": "pending" if status == "complete" and self.pending else status,
            "counts": tally.as_dict(n_errors, principle_ids, skipped_inputs=n_skipped),
            "usage": usage,
        })
        if self.pending:
            manifest["counts"]["pending_transcripts"] = self.pending
        if self._shard is not None:
            manifest["shard"] = self.shard_manifest(manifest.get("shard", {}).get("inputs_sha256"))
        folder.write_manifest(manifest)
        return RunSummary(folder.path, manifest["run_id"], len(tally.transcripts), n_errors, tally.outcomes,
                          tally.per_principle(principle_ids), tally.flags, usage, self.pending, n_skipped, error_reasons=tally.errors,
                          input_error_reasons=input_reasons)

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

        before = multiprocessing.active_children()
        finished = False
        try:
            for t in stream:
                todo = self._todo(t, done)
                if not todo:
                    continue
                seen += 1
                if workers > 1 and pool is None and seen > POOL_THRESHOLD:
                    pool = ProcessPoolExecutor(workers, initializer=init_worker,
                                               initargs=(self.principles, render_run_id, os.getpid()))
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
            finished = True
        finally:
            if pool is not None and finished:
                pool.shutdown()
            elif pool is not None:  # interrupted or failed: drop queued chunks, stop the workers now
                for _, fut in pending:
                    fut.cancel()
                pool.shutdown(wait=False, cancel_futures=True)
                stop_workers(new_children(before))

    async def _grade_stream(self, stream: Iterable[Transcript], done: set, folder: Sink,
                            run_id: str) -> None:
        count = 0
        limit = max(2, 2 * int((self.judge.settings().get("concurrency", 8) if self.judge else 1)))
        # checks-only runs into a run folder: workers decide and serialise findings themselves
        render = run_id if self.judge is None and isinstance(folder, RunFolder) else None

        def tick(n: int = 1) -> None:
            nonlocal count
            count += n
            if self.progress:
                self.progress(count)

        in_flight: set[asyncio.Task] = set()
        checked = self._checked(stream, done, render)
        try:
            async with contextlib.aclosing(checked):  # an interruption stops the pool here, not at loop shutdown
                await self._consume(checked, in_flight, folder, run_id, tick, limit)
        finally:  # interrupted: judge calls in flight are dropped (their pairs are graded on --resume)
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _consume(self, checked: Any, in_flight: set[asyncio.Task], folder: Sink, run_id: str,
                       tick: Callable[..., None], limit: int) -> None:
        async for item in checked:
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
                await self._reap(in_flight, tick)
        while in_flight:
            await self._reap(in_flight, tick)

    @staticmethod
    async def _reap(in_flight: set[asyncio.Task], tick: Callable[..., None]) -> None:
        finished, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for f in finished:
            in_flight.discard(f)
            f.result()
            tick()

    async def _judge_and_write(self, folder: Sink, run_id: str, t: Transcript,
                               stages: Mapping[str, CheckStage]) -> None:
        assert self.judge is not None
        ask = [p for p in self.principles if p.id in stages and stages[p.id].applies
               and stages[p.id].error is None and p.judge is not None]
        verdicts: Mapping[str, JudgeOutcome] = {}
        if ask:
            try:
                verdicts = await self.judge.grade(t, ask)
            except JudgePending:  # batch mode: graded by a later pass, once the answers are in
                self.pending += 1
                return
            missing = [p.id for p in ask if p.id not in verdicts]
            if missing:
                verdicts = {**verdicts, **{pid: JudgeOutcome("error", error="the judge returned no verdict")
                                           for pid in missing}}
        self._write(folder, run_id, t, stages, verdicts)

    def _write(self, folder: Sink, run_id: str, t: Transcript, stages: Mapping[str, CheckStage],
               verdicts: Mapping[str, JudgeOutcome]) -> None:
        for f in findings_for(self.principles, run_id, t, stages, verdicts, self.judge is not None):
            folder.append(f)
            self._tally.add(f.transcript_id, f.principle_id, f.outcome, f.flags, f.error)
