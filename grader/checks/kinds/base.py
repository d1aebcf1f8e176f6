"""What a deterministic check is: a class named by its ``kind``, built from a
rubric's CheckSpec, run on one transcript, returning a CheckResult with evidence.

Every kind declares what its silence means (``basis``):

- ``decides``: the check is complete for its scope, so a run that applied and found nothing
  makes the pair ``compliant`` (code security over Python the assistant wrote);
- ``screens``: the check can find a violation but its silence proves nothing (patterns
  over free text, detectors of known tool-call shapes), so it never makes a pair
  ``compliant`` on its own: the pair stays ``ungraded``, flagged ``screened``.

A rubric's check spec may override the kind's basis (``basis:``). A deciding check may also
narrow one result to ``screens`` when part of what it looked at lies outside its scope.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, TYPE_CHECKING

DECIDES = "decides"
SCREENS = "screens"
BASES = (DECIDES, SCREENS)

from ...transcripts.model import Transcript
from .context import TranscriptContext

if TYPE_CHECKING:
    from ...rubric import CheckSpec


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
    - ``basis``: ``decides`` when silence here means compliant, ``screens`` (the default,
      the safe side for results built by hand) when it proves nothing.
    """

    check_id: str
    applicable: bool = True
    hits: tuple[Hit, ...] = ()
    exemption: str | None = None
    basis: str = SCREENS

    @property
    def decides(self) -> bool:
        return self.basis == DECIDES

    @property
    def fired(self) -> bool:
        return bool(self.hits) and self.exemption is None


class Check:
    """Base class of check kinds. Subclasses set ``kind``, ``params_schema`` (a JSON
    schema for ``params``; strict), ``basis`` with ``basis_reason`` (see the module doc;
    a kind that does not say screens) and implement :meth:`run`."""

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    params_schema: ClassVar[Mapping[str, Any]] = {"type": "object", "additionalProperties": False}
    basis: ClassVar[str] = SCREENS
    basis_reason: ClassVar[str] = "a custom check is taken to screen unless it declares basis = 'decides'"

    def __init__(self, spec: CheckSpec):
        self.spec = spec
        self.id = spec.id
        self.params = dict(spec.params)
        #: this instance's basis: the rubric's override, else the kind's declaration
        self.effective_basis = spec.basis or type(self).basis

    def run(self, transcript: Transcript, ctx: TranscriptContext) -> CheckResult:  # pragma: no cover
        raise NotImplementedError

    def result(self, hits: list[Hit] | tuple[Hit, ...] = (), *, applicable: bool = True,
               exemption: str | None = None, screened_only: bool = False) -> CheckResult:
        """The result of a run. ``screened_only``: part of what was examined lies outside
        the scope this check decides, so its silence here proves nothing."""
        basis = SCREENS if screened_only else self.effective_basis
        return CheckResult(self.id, applicable, tuple(hits), exemption if hits else None, basis)
