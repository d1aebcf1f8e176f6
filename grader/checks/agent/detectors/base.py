"""What a detector returns (:class:`DetectorHit`) and how it is registered (:class:`Detector`)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from ....transcripts.model import Transcript
from ..actions import Actions, CallRef


@dataclass(frozen=True)
class DetectorHit:
    """``quote`` is verbatim argument text; ``topics`` are the object words a request
    for this action would mention (``audit``, ``archive``, ``weights`` ...)."""

    ref: CallRef
    quote: str
    detail: str
    topics: tuple[str, ...] = ()


DetectorFn = Callable[[Actions, Transcript, Any], "list[DetectorHit]"]  # (actions, transcript, ctx or None)


@dataclass(frozen=True)
class Detector:
    name: str
    run: DetectorFn
    verbs: re.Pattern[str]
    description: str
