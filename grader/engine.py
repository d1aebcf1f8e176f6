"""Old import path, kept only for tests/checks (owned by the checks session, not edited here).
Use :mod:`grader.grading.engine`; delete this module once tests/checks imports from there."""
from .grading.engine import Engine, GradeOptions

__all__ = ["Engine", "GradeOptions"]
