"""The stored run: the finding record and the run folder on disk, and the manifest's parts.

``folder`` holds :class:`Finding`, :class:`Evidence`, :class:`InputErrorRecord` and
:class:`RunFolder` (results.jsonl, run.json, input_errors.jsonl); ``manifest`` holds the one
``counts`` builder, the ``rubrics`` entry and the run id and clock (``new_run_id``,
``now_iso``) the engine stamps runs with. The in-memory :class:`~grader.Results` is part of
the public face (:mod:`grader.api.results`): its tables come from reporting, which reads this
package, so it cannot live here without an import cycle.
"""
from __future__ import annotations

from .folder import (OUTCOMES, Evidence, Finding, InputErrorRecord, MemorySink, RunFolder, Sink, finding_line,
                     unreadable)
from .manifest import Counts, counts_of, new_run_id, now_iso, rubric_manifest

__all__ = ["OUTCOMES", "Counts", "Evidence", "Finding", "InputErrorRecord", "MemorySink", "RunFolder", "Sink",
           "counts_of", "finding_line", "new_run_id", "now_iso", "rubric_manifest", "unreadable"]
