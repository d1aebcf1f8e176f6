"""The library entry points re-exported by :mod:`grader` (see ``grader/__init__.py``).

Three lines grade a folder::

    import grader
    results = grader.grade("transcripts/", grader.load_rubric())
    print(grader.report(results, format="md"))

Library code never prints, exits or reads ``sys.argv``; every failure it means to report
is a :class:`grader.errors.GraderError` subclass.
"""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Mapping, Sequence

from ..errors import InputError, UsageError
from ..grading.settings import RunSettings, parse_tags
from ..judges.settings import JudgeSettings
from ..run.folder import Finding
from ..run.manifest import counts_of, new_run_id, now_iso, rubric_manifest
from .loading import Inputs, PathLike, RubricArg, as_rubric
from .results import Results

if TYPE_CHECKING:
    from ..grading.engine import Engine, RunSummary
    from ..judges.base import Judge
    from ..rubric import Rubric
from ..transcripts.model import Transcript


# -- settings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class GradeSettings:
    """Everything one grading call is told: the run's settings, the judge's (used when the
    judge is a spec string), the principles to keep, the run folder and a progress
    callback. :meth:`parse` builds it from :func:`grade`'s keyword options."""

    run: RunSettings = field(default_factory=RunSettings)
    judge: JudgeSettings = field(default_factory=JudgeSettings)
    principles: Sequence[str] | None = None
    run_dir: PathLike | None = None
    progress: Callable[[int], None] | None = None

    OWN: ClassVar[tuple[str, ...]] = ("principles", "run_dir", "progress")

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> "GradeSettings":
        """From keyword options (unknown names are a UsageError): ``tags`` as a mapping,
        ``"k=v"`` or a list of them, ``shard`` as ``(i, n)`` or ``"i/n"``."""
        from ..grading.shards import parse_shard

        run_names, judge_names = RunSettings.names(), JudgeSettings.names()
        known = run_names | judge_names | set(cls.OWN)
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(f"unknown grade() option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        run = {k: v for k, v in options.items() if k in run_names}
        if "tags" in run:
            run["tags"] = _tag_dict(run["tags"])
        run["shard"] = parse_shard(run.get("shard"))
        judge = {k: v for k, v in options.items() if k in judge_names}
        if judge.get("cache_dir") is not None:
            judge["cache_dir"] = os.fspath(judge["cache_dir"])
        return cls(RunSettings(**run), JudgeSettings(**judge), options.get("principles"), options.get("run_dir"),
                   options.get("progress"))


def _tag_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    if isinstance(tags, str):
        return parse_tags([tags])
    return parse_tags(tags)


# -- judges --------------------------------------------------------------------------------
def make_judge(spec: str, settings: JudgeSettings | None = None, **options: Any) -> "Judge":
    """A judge from a spec string: ``openai:MODEL`` (also OpenAI-compatible servers with
    ``base_url=``), ``anthropic:MODEL`` or ``scripted:FILE`` (answers from a file, for tests).

    ``settings`` is a :class:`~grader.JudgeSettings`; keyword ``options`` build one (or
    replace some of its fields): ``base_url``, ``mode`` (``per-principle`` | ``batched``),
    ``concurrency``, ``samples`` (strict majority vote), ``temperature``, ``cache`` (SQLite,
    default on), ``cache_dir``, ``price_table``, ``timeout``, ``max_attempts``. Keys come from
    ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``; a missing key raises
    :class:`~grader.errors.JudgeConfigError` naming the variable. Creating a judge makes no
    network call.

    >>> import grader
    >>> judge = grader.make_judge("anthropic:claude-sonnet-4-5", concurrency=4)  # doctest: +SKIP
    >>> results = grader.grade("transcripts/", judge=judge)                     # doctest: +SKIP
    """
    from ..judges.factory import make_judge as factory

    judge: Judge = factory(spec, settings, **options)
    return judge


def as_judge(judge: Any, settings: JudgeSettings | None = None) -> tuple["Judge | None", bool]:
    """(judge, owned): a spec string makes a judge (configured by ``settings``) that this
    call owns (and closes); a Judge object is checked and stays the caller's."""
    from ..judges.base import Judge

    if judge is None:
        return None, False
    if isinstance(judge, str):
        return make_judge(judge, settings), True
    if isinstance(judge, Judge):
        from ..judges.batching import BatchJudge
        from ..judges.checked import CheckedJudge

        if isinstance(judge, (CheckedJudge, BatchJudge)):  # (a batch judge is ours, and grade_into must see it)
            return judge, False
        return CheckedJudge(judge), False
    raise UsageError(f"judge must be None, a spec string such as 'anthropic:MODEL' or a Judge "
                     f"(spec, grade, settings, usage, aclose), got {type(judge).__name__}")


# -- the one place a grading engine is built -----------------------------------------------
def _engine(rubrics: Sequence["Rubric"], judge: "Judge | None", run: RunSettings,
            progress: Callable[[int], None] | None) -> "Engine":
    from ..grading.engine import Engine

    return Engine(rubrics, judge, run, progress=progress)


async def grade_into(paths: Sequence[PathLike], rubrics: Sequence["Rubric"], judge: "Judge | None",
                     run: RunSettings, run_dir: PathLike, *, progress: Callable[[int], None] | None = None,
                     run_id: str | None = None, wait: bool = True) -> "RunSummary":
    """Grade the input ``paths`` into the run folder ``run_dir`` (streamed, resumable with
    ``run.resume``); a new run gets ``run_id`` (or a new id). A batch judge
    (:func:`grader.judges.batching.make_batch_judge`) runs batch passes; ``wait=False``
    returns once its requests are submitted. The CLI's ``grade`` and :func:`grade` with
    ``run_dir`` both come here."""
    from ..judges.batching import BatchJudge

    files, run_dir = [os.fspath(p) for p in paths], os.fspath(run_dir)
    if isinstance(judge, BatchJudge):
        from ..grading.batch_run import run_batched

        def one_pass(resume: bool, pass_run_id: str | None) -> Any:
            return _engine(rubrics, judge, replace(run, resume=resume), progress).arun(files, run_dir,
                                                                                        run_id=pass_run_id)

        return await run_batched(one_pass, judge, run.resume, run_dir, wait=wait, run_id=run_id)
    return await _engine(rubrics, judge, run, progress).arun(files, run_dir, run_id=run_id)


# -- grading -------------------------------------------------------------------------------
def _items(transcripts: Any, fmt: str | None, kept: dict[str, list["Transcript"]],
           messages_path: str | None = None) -> Iterator["Transcript | InputError"]:
    """Transcripts and InputErrors from paths, Transcript objects or an iterable of both.
    Transcript objects are also kept in ``kept`` (by id) for the HTML report."""
    from ..transcripts.load import iter_inputs
    from ..transcripts.model import Transcript

    if isinstance(transcripts, (str, os.PathLike, Transcript)):
        transcripts = [transcripts]
    for item in transcripts:
        if isinstance(item, Transcript):
            kept.setdefault(item.id, []).append(item)
            yield item
        elif isinstance(item, (str, os.PathLike)):
            yield from iter_inputs([os.fspath(item)], fmt, messages_path)
        else:
            raise UsageError(f"grade() takes paths or Transcript objects, got {type(item).__name__}")


def _all_paths(transcripts: Any) -> list[str] | None:
    """The inputs as a list of paths when every one is a path, else None."""
    if isinstance(transcripts, (str, os.PathLike)):
        return [os.fspath(transcripts)]
    if isinstance(transcripts, (list, tuple)) and transcripts and all(
            isinstance(x, (str, os.PathLike)) for x in transcripts):
        return [os.fspath(x) for x in transcripts]
    return None


def grade(transcripts: Inputs, rubric: RubricArg = None, judge: "Judge | str | None" = None,
          **options: Any) -> Results:
    """Grade transcripts against a rubric; return the :class:`~grader.Results`.

    Args:
        transcripts: a file or folder path, a :class:`~grader.Transcript`, or an iterable of
            either (e.g. ``grader.load_transcripts(...)`` or ``[Transcript.from_openai(m)]``).
        rubric: a :class:`~grader.Rubric`, a rubric path, a list of them, or None for the
            shipped constitution.
        judge: None (deterministic checks only; judge-only principles come out
            ``ungraded``), a spec string (``"openai:MODEL"``, ``"anthropic:MODEL"``; this
            call creates and closes the judge), or any object implementing :class:`~grader.Judge`
            (the caller keeps ownership). ``GRADER_JUDGE`` is not read: the library never
            starts paid calls on its own.
        **options: ``format``, ``messages_path`` (where conversations sit inside JSON
            values, e.g. ``"results[].conversation"``), ``limit``, ``sample``, ``seed``, ``tags`` (``{"k": "v"}`` or
            ``["k=v"]``), ``principles`` (ids to keep), ``workers`` (processes for the
            checks; default: up to 2 on runs of more than 256 transcripts), ``shard``
            (``(i, n)`` or ``"i/n"``: grade only shard i of n, see ``grader merge``), ``run_dir`` (also write a run folder there, streamed as
            findings are produced), ``resume`` (continue ``run_dir``; paths only),
            ``progress`` (callable receiving the count of graded transcripts), and for a
            spec-string judge ``base_url``, ``mode``, ``concurrency``, ``samples``,
            ``temperature``, ``cache``, ``cache_dir``.

    Unreadable inputs do not stop the run: they are in ``Results.input_errors``.
    Raises :class:`~grader.errors.UsageError` when called inside a running event loop
    (use :func:`agrade` there) or with bad options.

    >>> import grader
    >>> t = grader.Transcript.from_openai([
    ...     {"role": "user", "content": "My deploy script fails with permission denied."},
    ...     {"role": "assistant", "content": "Run `chmod -R 777 /srv/app` and it will work."}])
    >>> results = grader.grade([t])                                     # doctest: +SKIP
    >>> [(f.principle_id, f.outcome) for f in results.violations]       # doctest: +SKIP
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise UsageError("grade() was called inside a running event loop (Jupyter, an async harness): "
                         "use `await grader.agrade(...)` there")
    return asyncio.run(agrade(transcripts, rubric, judge, **options))


async def agrade(transcripts: Inputs, rubric: RubricArg = None, judge: "Judge | str | None" = None,
                 **options: Any) -> Results:
    """The async form of :func:`grade`, for callers already in an event loop.

    >>> results = await grader.agrade("transcripts/", judge=my_judge)   # doctest: +SKIP
    """
    opts = GradeSettings.parse(options)
    rub = as_rubric(rubric, opts.principles)
    run = opts.run
    paths = _all_paths(transcripts)
    if run.resume and (opts.run_dir is None or paths is None):
        raise UsageError("resume=True needs run_dir= and inputs given as paths")
    from ..transcripts.load import check_messages_path

    check_messages_path(run.messages_path, run.format)
    the_judge, owned = as_judge(judge, opts.judge)
    from ..judges.batching import BatchJudge

    if isinstance(the_judge, BatchJudge) and (opts.run_dir is None or paths is None):
        # its answers arrive hours later: only a run folder can hold the pending pairs
        raise UsageError("a batch judge grades files into a run folder: give paths and run_dir=")
    try:
        if opts.run_dir is not None and paths is not None:
            # the CLI's path: streamed to disk, resumable
            await grade_into(paths, [rub], the_judge, run, opts.run_dir, progress=opts.progress)
            return Results.load(opts.run_dir)
        return await _grade_objects(_engine([rub], the_judge, run, opts.progress), transcripts, opts, rub, paths)
    finally:
        if owned and the_judge is not None:
            await the_judge.aclose()


async def _grade_objects(engine: "Engine", transcripts: Any, opts: GradeSettings, rub: "Rubric",
                         paths: list[str] | None) -> Results:
    """Grade inputs that include Transcript objects: into memory, or into a new run folder
    (findings appended as they are produced) when ``run_dir`` is set."""
    from ..grading.engine import versions
    from ..run.folder import MemorySink, RunFolder, Sink, unreadable

    judge, run = engine.judge, opts.run
    run_id = new_run_id()
    manifest: dict[str, Any] = {
        "run_id": run_id, "grader_version": _version(), "versions": versions(), "started_at": now_iso(),
        "ended_at": None,
        "status": "running", "inputs": paths or [],
        "options": {"format": run.format, "limit": run.limit, "sample": run.sample, "seed": run.seed,
                    "tags": dict(run.tags)},
        "rubrics": rubric_manifest([rub]),
        "judge": dict(judge.settings()) if judge is not None else None,
    }
    if run.messages_path is not None:
        manifest["options"]["messages_path"] = run.messages_path
    if engine.options.shard is not None:
        manifest["options"]["shard"] = str(engine.options.shard)
    kept: dict[str, list[Transcript]] = {}
    folder = RunFolder.create(os.fspath(opts.run_dir)) if opts.run_dir is not None else None
    sink: Sink = folder if folder is not None else MemorySink()
    if folder is not None:
        folder.write_manifest(manifest)
        try:
            await engine.agrade_into(_items(transcripts, run.format, kept, run.messages_path), folder, run_id)
        finally:
            folder.close()
        findings, errors = list(folder.findings()), folder.input_errors()
    else:
        await engine.agrade_into(_items(transcripts, run.format, kept, run.messages_path), sink, run_id)
        assert isinstance(sink, MemorySink)
        findings, errors = sink.findings, sink.errors
    manifest.update({"ended_at": now_iso(), "status": "complete",
                     "usage": dict(judge.usage()) if judge is not None else {},
                     "counts": counts_of(findings, len(unreadable(errors)), [p.id for p in rub.principles],
                                         len(errors) - len(unreadable(errors)))})
    if engine.options.shard is not None:
        from ..grading.shards import files_digest
        from ..transcripts.load import input_files

        manifest["shard"] = engine.shard_manifest(files_digest(input_files(paths, run.format)) if paths else None)
    if folder is not None:
        folder.write_manifest(manifest)
    return Results(tuple(findings), tuple(errors), manifest, folder.path if folder is not None else None,
                   transcripts=_violating(findings, kept))


def _violating(findings: Sequence[Finding], kept: Mapping[str, list["Transcript"]]) -> dict[str, "Transcript"]:
    """Transcripts (given as objects) that have a violation, by the id the engine gave
    them (a repeated id ``x`` is ``x#2`` for its second occurrence)."""
    out: dict[str, Transcript] = {}
    for f in findings:
        if f.outcome != "violation" or f.transcript_id in out:
            continue
        base, _, n = f.transcript_id.rpartition("#")
        if base and n.isdigit() and base in kept:
            group, pos = kept[base], int(n) - 1
        else:
            group, pos = kept.get(f.transcript_id, []), 0
        if group:
            out[f.transcript_id] = group[pos] if pos < len(group) else group[0]
    return out


def _version() -> str:
    from .. import __version__

    return __version__
