"""Deterministic checks. See :mod:`grader.checks.registry` for the kinds."""
from .base import Check, CheckResult, Hit
from .context import TranscriptContext
from .registry import build, kinds, register

__all__ = ["Check", "CheckResult", "Hit", "TranscriptContext", "build", "kinds", "register"]
