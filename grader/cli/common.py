"""Helpers shared by the subcommands: turning library errors into messages at the edge."""
from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

import click

from ..errors import GraderError

F = TypeVar("F", bound=Callable[..., Any])


class GraderClickError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def edge(fn: F) -> F:
    """Decorator for command callbacks: a GraderError becomes ``error: <message>`` and
    exit status 2. Other exceptions are bugs and keep their traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraderError as e:
            raise GraderClickError(str(e)) from None

    return wrapper  # type: ignore[return-value]


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 transcript``, ``2 transcripts`` (``many`` for irregular plurals)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
