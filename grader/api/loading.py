"""Loading rubrics and transcripts for the public API (re-exported by :mod:`grader`)."""
from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence, Union

from ..errors import UsageError

if TYPE_CHECKING:
    from ..rubric import Rubric
from ..transcripts.model import Transcript

PathLike = Union[str, "os.PathLike[str]"]
#: What :func:`grade` accepts as transcripts: a path (file or folder), a Transcript, or
#: an iterable mixing both (a generator from :func:`load_transcripts` is fine).
Inputs = Union[PathLike, "Transcript", Iterable[Union[PathLike, "Transcript"]]]
#: What :func:`grade` accepts as a rubric: None (the shipped constitution), a Rubric,
#: a path, or several paths/Rubrics (merged into one).
RubricArg = Union[None, "Rubric", PathLike, Sequence[Union["Rubric", PathLike]]]


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


