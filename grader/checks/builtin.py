"""Imports every built-in check kind so that each registers itself."""
from . import text_pattern  # noqa: F401
