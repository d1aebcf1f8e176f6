"""Grading: inputs selected and checked, checks and the judge run per (transcript, principle)
pair, outcomes decided and findings streamed to a sink (``engine`` drives it; ``checkrun``,
``outcomes``, ``selection``, ``inputs_check``, ``problems``, ``workerguard``, ``runstop``,
``batch_run`` and ``examples`` (``grader rubric test``) are its parts)."""
