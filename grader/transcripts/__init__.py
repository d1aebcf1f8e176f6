"""Transcript model and loaders."""
from .model import Message, Source, ToolCall, Transcript

__all__ = ["Message", "Source", "ToolCall", "Transcript"]
