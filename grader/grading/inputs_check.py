"""Inputs that cannot make a run at all, refused before a run folder is created: a path that
does not exist, and a folder with nothing the grader reads in it. (A file that exists but
cannot be read is an input error of the run instead: recorded, and the rest is graded.)"""
from __future__ import annotations

import os
from typing import Sequence

from ..errors import UsageError
from ..transcripts.load import input_files
from ..transcripts.table import detecting_extensions, get_format


def looked_for(fmt: str | None) -> str:
    """The file kinds a folder walk reads, in words: ``.eval, .json, ... files``."""
    exts = get_format(fmt).extensions if fmt else detecting_extensions()
    return ", ".join(sorted(exts)) + " files"


def check_inputs(paths: Sequence[str], fmt: str | None) -> list[tuple[str, int, int]]:
    """:func:`~grader.transcripts.load.input_files` of ``paths``, after refusing a path that
    does not exist (``no such file or folder: PATH``) and a folder in which the walk finds
    no file to read (``no transcripts found in FOLDER (looked for ...)``): UsageError."""
    files: list[tuple[str, int, int]] = []
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"no such file or folder: {path}")
        found = input_files([path], fmt)
        if not found and os.path.isdir(path) and os.access(path, os.R_OK | os.X_OK):
            raise UsageError(f"no transcripts found in {path} (looked for {looked_for(fmt)})")
        files.extend(found)
    return files
