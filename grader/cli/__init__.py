"""The ``grader`` command. Library errors (GraderError) become one-line messages here
and nowhere else; anything else is a bug and propagates with its traceback.

Subcommands live in their own modules and are imported only when used.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__

# verb -> "module:attribute" (relative to grader.cli)
COMMANDS = {
    "grade": "grade:grade",
    "report": "report:report",
    "compare": "compare:compare",
    "merge": "merge:merge",
    "checklist": "checklist:checklist",
    "calibrate": "calibrate:calibrate",
    "audit": "audit:audit",
    "rubric": "rubric:rubric",
    "transcripts": "transcripts:transcripts",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Example: grader grade transcripts/ -o runs/demo && grader report runs/demo")
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Check AI transcripts against a constitution.

    Deterministic checks run offline by default; add --judge for an LLM judge.
    Exit status: 0 done, 1 a gate failed, 2 usage error, 3 some inputs or judgments failed.
    """


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="grader")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
