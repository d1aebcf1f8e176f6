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
import hashlib
import os
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence, Union

from ..errors import InputError, UsageError
from ..run.folder import Finding
from ..run.manifest import counts_of, new_run_id, now_iso, rubric_manifest
from .results import Results

if TYPE_CHECKING:
    from ..judges.base import Judge
    from ..rubric import Rubric
from ..transcripts.model import Transcript

PathLike = Union[str, "os.PathLike[str]"]
#: What :func:`grade` accepts as transcripts: a path (file or folder), a Transcript, or
#: an iterable mixing both (a generator from :func:`load_transcripts` is fine).
Inputs = Union[PathLike, "Transcript", Iterable[Union[PathLike, "Transcript"]]]
#: What :func:`grade` accepts as a rubric: None (the shipped constitution), a Rubric,
#: a path, or several paths/Rubrics (merged into one).
RubricArg = Union[None, "Rubric", PathLike, Sequence[Union["Rubric", PathLike]]]


# -- rubrics and transcripts ---------------------------------------------------------------
def _paths(value: Any) -> list[str]:
    if isinstance(value, (str, os.PathLike)):
        return [os.fspath(value)]
    return [os.fspath(v) for v in value]


def merge_rubrics(rubrics: Sequence["Rubric"]) -> "Rubric":
    """One Rubric holding the principles of several (principle ids must be unique).

    The merged rubric's ``id``/``version``/``title`` join the parts' with ``+``; each
    principle keeps its own ``rubric_id`` and ``rubric_version``, which is what findings
    record. ``sha256`` hashes the parts' hashes in order."""
    from ..errors import RubricError
    from ..rubric import Rubric

    if len(rubrics) == 1:
        return rubrics[0]
    seen: dict[str, str] = {}
    for r in rubrics:
        for p in r.principles:
            if p.id in seen:
                raise RubricError(p.file or r.path, p.id, f"principle id also defined by rubric {seen[p.id]!r}")
            seen[p.id] = r.id
    digest = hashlib.sha256("".join(r.sha256 for r in rubrics).encode()).hexdigest()
    return Rubric(id="+".join(r.id for r in rubrics), version="+".join(r.version for r in rubrics),
                  title=" + ".join(r.title for r in rubrics),
                  principles=tuple(p for r in rubrics for p in r.principles),
                  sources=tuple(s for r in rubrics for s in r.sources),
                  description="\n\n".join(r.description for r in rubrics if r.description),
                  path=os.pathsep.join(r.path for r in rubrics), sha256=digest)


def load_rubric(path_or_paths: PathLike | Sequence[PathLike] | None = None) -> "Rubric":
    """Load a rubric file or folder (the shipped constitution when None), validated
    strictly. Several paths are merged into one :class:`~grader.Rubric` (see
    :func:`merge_rubrics`); principle ids must be unique across them.

    Raises :class:`~grader.errors.RubricError` naming the file, the place and what was expected.

    >>> import grader
    >>> rubric = grader.load_rubric()                 # rubrics/constitution
    >>> rubric.id, len(rubric.principles) > 0
    ('constitution', True)
    """
    from ..rubric import load_rubrics

    paths = None if path_or_paths is None else _paths(path_or_paths)
    return merge_rubrics(load_rubrics(paths or None))


def as_rubric(rubric: Any, principles: Sequence[str] | None) -> "Rubric":
    from ..rubric import Rubric

    if isinstance(rubric, Rubric):
        r = rubric
    elif rubric is None or isinstance(rubric, (str, os.PathLike)):
        r = load_rubric(rubric)
    elif isinstance(rubric, Sequence):
        parts = [x if isinstance(x, Rubric) else load_rubric(x) for x in rubric]
        if not parts:
            r = load_rubric()
        else:
            r = merge_rubrics(parts)
    else:
        raise UsageError(f"rubric must be a Rubric, a path or a list of them, got {type(rubric).__name__}")
    if principles is not None:
        if isinstance(principles, str):
            principles = [principles]
        r = r.select(principles)
    return r


def load_transcripts(path_or_paths: PathLike | Sequence[PathLike], format: str | None = None,
                     on_error: str = "raise", messages_path: str | None = None) -> Iterator["Transcript"]:
    """Read transcripts from files or folders (formats detected per file unless ``format``
    names a row of the format table, e.g. ``openai``, ``claude-code``, ``sharegpt``; see
    README "What it reads"). Lazy: one transcript at a time.

    ``on_error="raise"`` raises the first :class:`~grader.errors.InputError` (it names the
    file and line); ``"skip"`` skips unreadable inputs. ``messages_path`` says where the
    conversations sit inside each JSON value (``"results[].conversation"``; bad syntax is a
    :class:`~grader.errors.UsageError`).

    >>> import grader
    >>> for t in grader.load_transcripts("transcripts/"):   # doctest: +SKIP
    ...     print(t.id, len(t.messages))
    """
    from ..transcripts import load

    return load.load_transcripts(_paths(path_or_paths), format=format, on_error=on_error,
                                 messages_path=messages_path)


# -- grading -------------------------------------------------------------------------------
@dataclass(frozen=True)
class GradeSettings:
    """The keyword options of :func:`grade` (validated; unknown names are a UsageError)."""

    # input selection (as ``grader grade``)
    format: str | None = None
    messages_path: str | None = None
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    tags: Mapping[str, str] | Sequence[str] = field(default_factory=dict)
    principles: Sequence[str] | None = None
    workers: int | None = None
    shard: "str | tuple[int, int] | None" = None
    # run folder
    run_dir: PathLike | None = None
    resume: bool = False
    progress: Callable[[int], None] | None = None
    # judge construction when ``judge`` is a spec string
    base_url: str | None = None
    mode: str = "per-principle"
    concurrency: int = 8
    samples: int = 1
    temperature: float | None = None
    cache: bool = True
    cache_dir: PathLike | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> "GradeSettings":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(f"unknown grade() option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)

    def judge_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"base_url": self.base_url, "mode": self.mode, "concurrency": self.concurrency,
                              "samples": self.samples, "temperature": self.temperature, "cache": self.cache}
        if self.cache_dir is not None:
            kw["cache_dir"] = os.fspath(self.cache_dir)
        return kw

    def tag_dict(self) -> dict[str, str]:
        from ..grading.engine import parse_tags

        if isinstance(self.tags, Mapping):
            return {str(k): str(v) for k, v in self.tags.items()}
        if isinstance(self.tags, str):
            return parse_tags([self.tags])
        return parse_tags(self.tags)


def make_judge(spec: str, **options: Any) -> "Judge":
    """A judge from a spec string: ``openai:MODEL`` (also OpenAI-compatible servers with
    ``base_url=``), ``anthropic:MODEL`` or ``scripted:FILE`` (answers from a file, for tests).

    Options: ``base_url``, ``mode`` (``per-principle`` | ``batched``), ``concurrency``,
    ``samples`` (strict majority vote), ``temperature``, ``cache`` (SQLite, default on),
    ``cache_dir``. Keys come from ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``; a missing key
    raises :class:`~grader.errors.JudgeConfigError` naming the variable. Creating a judge
    makes no network call.

    >>> import grader
    >>> judge = grader.make_judge("anthropic:claude-sonnet-4-5", concurrency=4)  # doctest: +SKIP
    >>> results = grader.grade("transcripts/", judge=judge)                     # doctest: +SKIP
    """
    from ..judges.factory import make_judge as factory

    judge: Judge = factory(spec, **options)
    return judge


def as_judge(judge: Any, opts: GradeSettings) -> tuple["Judge | None", bool]:
    """(judge, owned): a spec string makes a judge this call owns (and closes)."""
    from ..judges.base import Judge

    if judge is None:
        return None, False
    if isinstance(judge, str):
        return make_judge(judge, **opts.judge_kwargs()), True
    if isinstance(judge, Judge):
        from ..judges.checked import CheckedJudge

        return (judge if isinstance(judge, CheckedJudge) else CheckedJudge(judge)), False
    raise UsageError(f"judge must be None, a spec string such as 'anthropic:MODEL' or a Judge "
                     f"(spec, grade, settings, usage, aclose), got {type(judge).__name__}")


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
    from ..grading.engine import Engine, GradeOptions
    from ..grading.shards import parse_shard

    opts = GradeSettings.parse(options)
    rub = as_rubric(rubric, opts.principles)
    tags = opts.tag_dict()
    paths = _all_paths(transcripts)
    if opts.resume and (opts.run_dir is None or paths is None):
        raise UsageError("resume=True needs run_dir= and inputs given as paths")
    from ..transcripts.load import check_messages_path

    check_messages_path(opts.messages_path, opts.format)
    gopts = GradeOptions(format=opts.format, messages_path=opts.messages_path, limit=opts.limit, sample=opts.sample, seed=opts.seed,
                         tags=tags, workers=opts.workers, resume=opts.resume,
                         shard=parse_shard(opts.shard))
    the_judge, owned = as_judge(judge, opts)
    try:
        engine = Engine([rub], the_judge, gopts, progress=opts.progress)
        if opts.run_dir is not None and paths is not None:
            # the CLI's path: streamed to disk, resumable
            await engine.arun(paths, os.fspath(opts.run_dir))
            return Results.load(opts.run_dir)
        return await _grade_objects(engine, transcripts, opts, rub, tags, paths)
    finally:
        if owned and the_judge is not None:
            await the_judge.aclose()


async def _grade_objects(engine: Any, transcripts: Any, opts: GradeSettings, rub: "Rubric", tags: Mapping[str, str],
                         paths: list[str] | None) -> Results:
    """Grade inputs that include Transcript objects: into memory, or into a new run folder
    (findings appended as they are produced) when ``run_dir`` is set."""
    from ..grading.engine import versions
    from ..run.folder import MemorySink, RunFolder, Sink, unreadable

    judge = engine.judge
    run_id = new_run_id()
    manifest: dict[str, Any] = {
        "run_id": run_id, "grader_version": _version(), "versions": versions(), "started_at": now_iso(),
        "ended_at": None,
        "status": "running", "inputs": paths or [],
        "options": {"format": opts.format, "limit": opts.limit, "sample": opts.sample, "seed": opts.seed,
                    "tags": dict(tags)},
        "rubrics": rubric_manifest([rub]),
        "judge": dict(judge.settings()) if judge is not None else None,
    }
    if opts.messages_path is not None:
        manifest["options"]["messages_path"] = opts.messages_path
    if engine.options.shard is not None:
        manifest["options"]["shard"] = str(engine.options.shard)
    kept: dict[str, list[Transcript]] = {}
    folder = RunFolder.create(os.fspath(opts.run_dir)) if opts.run_dir is not None else None
    sink: Sink = folder if folder is not None else MemorySink()
    if folder is not None:
        folder.write_manifest(manifest)
        try:
            await engine.agrade_into(_items(transcripts, opts.format, kept, opts.messages_path), folder, run_id)
        finally:
            folder.close()
        findings, errors = list(folder.findings()), folder.input_errors()
    else:
        await engine.agrade_into(_items(transcripts, opts.format, kept, opts.messages_path), sink, run_id)
        assert isinstance(sink, MemorySink)
        findings, errors = sink.findings, sink.errors
    manifest.update({"ended_at": now_iso(), "status": "complete",
                     "usage": dict(judge.usage()) if judge is not None else {},
                     "counts": counts_of(findings, len(unreadable(errors)), [p.id for p in rub.principles],
                                         len(errors) - len(unreadable(errors)))})
    if engine.options.shard is not None:
        from ..grading.shards import files_digest
        from ..transcripts.load import input_files

        manifest["shard"] = engine.shard_manifest(files_digest(input_files(paths, opts.format)) if paths else None)
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
