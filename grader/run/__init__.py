"""The stored run: the finding record, the run folder on disk and :class:`Results` in memory.

``folder`` holds :class:`Finding`, :class:`Evidence`, :class:`InputErrorRecord` and
:class:`RunFolder` (results.jsonl, run.json, input_errors.jsonl); ``results`` holds
:class:`Results`, the manifest's ``counts``/``rubrics`` builders and the run id and clock
(``new_run_id``, ``now_iso``) the engine stamps runs with.
"""
from __future__ import annotations

from .folder import (OUTCOMES, Evidence, Finding, InputErrorRecord, MemorySink, RunFolder, Sink, finding_line,
                     unreadable)
from .results import Results, counts_of, new_run_id, now_iso, rubric_manifest

__all__ = ["OUTCOMES", "Evidence", "Finding", "InputErrorRecord", "MemorySink", "RunFolder", "Sink", "Results",
           "counts_of", "finding_line", "new_run_id", "now_iso", "rubric_manifest", "unreadable"]
