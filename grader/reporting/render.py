"""One entry point per kind of output, shared by ``grader report``/``compare`` and the
library's ``grader.report`` (renderers are imported only for the format asked)."""
from __future__ import annotations

from typing import Any


def render_report(rep: Any, fmt: str, table: str = "principles") -> str:
    """A built report as ``table``, ``md``, ``json``, ``csv`` (``table`` picks which) or ``html``."""
    if fmt == "table":
        from .render_text import render_table

        return render_table(rep)
    if fmt == "md":
        from .render_text import render_md

        return render_md(rep)
    if fmt == "json":
        from .render_data import render_json

        return render_json(rep)
    if fmt == "csv":
        from .render_data import render_csv

        return render_csv(rep, table)
    from .html import render_html

    return render_html(rep)


def render_comparison(cmp: Any, fmt: str) -> str:
    """A comparison as ``table``, ``md``, ``json`` or ``csv``."""
    if fmt == "table":
        from .render_text import comparison_table

        return comparison_table(cmp)
    if fmt == "md":
        from .render_text import render_comparison_md

        return render_comparison_md(cmp)
    if fmt == "json":
        from .render_data import render_comparison_json

        return render_comparison_json(cmp)
    from .render_data import render_comparison_csv

    return render_comparison_csv(cmp)
