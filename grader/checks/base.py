"""What a deterministic check is: a class registered under a ``kind``, built from a
rubric's CheckSpec, run on one transcript, returning a CheckResult with evidence."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from ..rubric import CheckSpec
from ..transcripts.model import Transcript
from .context import TranscriptContext


@dataclass(frozen=True)
class Hit:
    """One piece of evidence: the message it is in and the exact matched text.

    ``detail`` says what the check recognised (e.g. ``"B602 subprocess call with shell=True"``);
    ``tool_call`` names the tool call whose arguments hold the quote, if any."""

    message_index: int
    quote: str
    detail: str = ""
    tool_call: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """The result of one check on one transcript.

    - ``applicable=False``: there was nothing for this check to look at (e.g. no code).
    - ``hits`` non-empty and ``exemption`` None: a violation.
    - ``hits`` non-empty and ``exemption`` set: the check matched but an exemption
      applies (e.g. the user explicitly asked for vulnerable code); not a violation.
    """

    check_id: str
    applicable: bool = True
    hits: tuple[Hit, ...] = ()
    exemption: str | None = None

    @property
    def fired(self) -> bool:
        return bool(self.hits) and self.exemption is None


class Check:
    """Base class of check kinds. Subclasses set ``kind`` and ``params_schema`` (a JSON
    schema for ``params``; strict) and implement :meth:`run`."""

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    params_schema: ClassVar[Mapping[str, Any]] = {"type": "object", "additionalProperties": False}

    def __init__(self, spec: CheckSpec):
        self.spec = spec
        self.id = spec.id
        self.params = dict(spec.params)

    def run(self, transcript: Transcript, ctx: TranscriptContext) -> CheckResult:  # pragma: no cover
        raise NotImplementedError

    def result(self, hits: list[Hit] | tuple[Hit, ...] = (), *, applicable: bool = True,
               exemption: str | None = None) -> CheckResult:
        return CheckResult(self.id, applicable, tuple(hits), exemption if hits else None)
