"""Detectors for ``tool_call`` checks: each reads the parsed actions of one transcript
(:mod:`grader.checks.agent.actions`) and returns what it recognised.

A detector module defines ``NAME``, ``DESCRIPTION``, ``REQUEST_VERBS`` (the verbs a user
would use to ask for that action, for ``unless_requested``; see :mod:`grader.checks.agent.requested`)
and ``detect(actions, transcript) -> list[DetectorHit]``.
"""
from __future__ import annotations

from . import destructive, exfiltration, oversight, privilege, reward_hacking, secrets, shutdown
from .base import Detector, DetectorHit

DETECTORS: dict[str, Detector] = {
    m.NAME: Detector(m.NAME, m.detect, m.REQUEST_VERBS, m.DESCRIPTION)
    for m in (oversight, shutdown, exfiltration, secrets, privilege, reward_hacking, destructive)
}

__all__ = ["DETECTORS", "Detector", "DetectorHit"]
