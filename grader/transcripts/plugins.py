"""Formats from outside the package (plug-ins). ``plugin_formats()`` returns their ``Format``
rows; the table (``table.all_formats``) appends them after the built-in formats that detect
specific files and before the generic JSON and text readers."""
from __future__ import annotations

from .formats import Format


def plugin_formats() -> list[Format]:
    """The plug-in format rows (none yet: the ``grader.formats`` entry points are read here)."""
    return []
