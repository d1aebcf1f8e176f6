"""Transcript formats added by other packages: the ``grader.formats`` entry point group.

A package adds a format by naming, in its packaging metadata, a :class:`Format` object (or a
zero-argument callable returning one)::

    [options.entry_points]
    grader.formats =
        mylog = mypackage.mylog:FORMAT

:func:`plugin_formats` loads every entry point of the group once (the result is cached) and
checks each: it must import, be (or return) a ``Format`` whose ``name`` is a lower-case word
(letters, digits, ``-``, ``_``), whose ``extensions`` are lower-case suffixes starting with a
dot, whose ``read`` is callable and whose ``detect`` is callable or None. Two plug-ins with one
name, or a plug-in named like a built-in format, are errors too. Any of these raises
:class:`~grader.errors.FormatPluginError` naming the entry point (``mylog =
mypackage.mylog:FORMAT``) and the distribution that declared it.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Iterable

from ..errors import FormatPluginError
from .formats import Format

GROUP = "grader.formats"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")


def plugin_formats() -> list[Format]:
    """The formats installed through the ``grader.formats`` entry point group, in name order.
    Raises FormatPluginError for a plug-in that cannot be used."""
    return list(_load_all())


@lru_cache(maxsize=1)
def _load_all() -> tuple[Format, ...]:
    builtin = _builtin_names()
    seen: dict[str, str] = {}
    out = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        fmt = load_format(ep)
        where = describe(ep)
        if fmt.name in builtin:
            raise FormatPluginError(f"format plug-in {where}: its name {fmt.name!r} is a built-in format's")
        if fmt.name in seen:
            raise FormatPluginError(f"format plug-in {where}: its name {fmt.name!r} is already taken by {seen[fmt.name]}")
        seen[fmt.name] = where
        out.append(fmt)
    return tuple(sorted(out, key=lambda f: f.name))


def clear_cache() -> None:
    """Forget the loaded plug-ins (after installing one in a running process, and in tests)."""
    _load_all.cache_clear()


def load_format(ep: EntryPoint) -> Format:
    """Load and check one entry point (see module doc); raises FormatPluginError."""
    where = describe(ep)
    try:
        obj = ep.load()
    except Exception as e:  # third-party code: any failure to import it is the plug-in's fault
        raise FormatPluginError(f"format plug-in {where} failed to load: {type(e).__name__}: {e}") from e
    if not isinstance(obj, Format) and callable(obj):
        try:
            obj = obj()
        except Exception as e:
            raise FormatPluginError(f"format plug-in {where}: calling it failed: {type(e).__name__}: {e}") from e
    if not isinstance(obj, Format):
        raise FormatPluginError(f"format plug-in {where} is {type(obj).__name__}, not a "
                                f"grader.transcripts.formats.Format (or a callable returning one)")
    problem = _problem(obj)
    if problem:
        raise FormatPluginError(f"format plug-in {where}: {problem}")
    return obj


def _problem(fmt: Format) -> str | None:
    if not isinstance(fmt.name, str) or not _NAME.match(fmt.name):
        return f"name {fmt.name!r} must be a lower-case word (letters, digits, '-', '_')"
    if not isinstance(fmt.description, str) or not fmt.description.strip():
        return "description must be a non-empty string"
    if not isinstance(fmt.extensions, (frozenset, set)):
        return f"extensions must be a frozenset of suffixes such as '.jsonl', got {type(fmt.extensions).__name__}"
    bad = sorted(e for e in fmt.extensions if not _is_suffix(e))
    if bad:
        return f"extension {bad[0]!r} must be a lower-case suffix starting with a dot, such as '.jsonl'"
    if not callable(fmt.read):
        return "read must be callable as read(path, stem)"
    if fmt.detect is not None and not callable(fmt.detect):
        return "detect must be callable as detect(head, path), or None"
    return None


def _is_suffix(ext: Any) -> bool:
    return isinstance(ext, str) and len(ext) > 1 and ext.startswith(".") and ext == ext.lower()


def describe(ep: EntryPoint) -> str:
    """``name = module:attr`` (and the distribution that declared it, when known)."""
    dist = getattr(ep, "dist", None)
    origin = f" (from {dist.name} {dist.version})" if dist is not None else ""
    return f"'{ep.name} = {ep.value}'{origin}"


def _builtin_names() -> Iterable[str]:
    from .load import FORMATS  # the built-in names (imported here: load imports this module)
    from .tabular import TABULAR_FORMATS

    return frozenset(FORMATS) | {f.name for f in TABULAR_FORMATS}
