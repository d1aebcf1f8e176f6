"""Old import path, kept only for tests/checks (owned by the checks session, not edited here).
Use :mod:`grader.grading.checkrun`; delete this module once tests/checks imports from there."""
from .grading.checkrun import CheckRunner

__all__ = ["CheckRunner"]
