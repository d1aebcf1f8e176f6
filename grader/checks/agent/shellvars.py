"""What the transcript's own shell state says a command means: variables and scripts.

- :class:`ShellState` follows ``VAR=value``, ``export VAR=value`` and ``declare``/``readonly``
  assignments made earlier in the transcript (in any shell call or in a script the agent
  ran) and expands ``$VAR`` / ``${VAR}`` / ``${VAR:-x}`` in later commands' words, so
  ``VOLUME_PATH=/srv/data`` then ``rm -rf "$VOLUME_PATH/"*`` reads as ``rm -rf /srv/data/*``.
  Only values written in the transcript are used (never the grader's own environment);
  a value that itself holds a command substitution is left alone.
- scripts the agent wrote (``cat > cleanup.sh <<EOF``, an editor tool) are remembered with
  their content, and a later ``bash cleanup.sh`` / ``./cleanup.sh`` / ``python job.py`` is
  read as the script's commands or code (see :meth:`ShellState.script_for`).

Nothing is executed.
"""
from __future__ import annotations

import re
from dataclasses import replace

from .shell import SimpleCommand

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=]([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_UNSAFE_VALUE = re.compile(r"\$\(|`")
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "source", "."}
_PY = re.compile(r"^(python[\d.]*|pypy3?)$")
_SCRIPT_EXT = re.compile(r"\.(sh|bash|zsh|py)$")


def _key(path: str) -> str:
    p = path.strip("\"'")
    return p[2:] if p.startswith("./") else p


class ShellState:
    """Variables and scripts known so far in one transcript (mutable; one per extraction)."""

    def __init__(self) -> None:
        self.env: dict[str, str] = {}
        self.scripts: dict[str, str] = {}

    def expand(self, cmd: SimpleCommand) -> SimpleCommand:
        """``cmd`` with known variables expanded in its words and redirect targets; then the
        command's own assignments are recorded for later commands."""
        out = cmd
        if self.env and any("$" in w for w in cmd.argv + tuple(t for _, t in cmd.redirects)):
            argv = tuple(self._sub(w) for w in cmd.argv)
            redirects = tuple((op, self._sub(t)) for op, t in cmd.redirects)
            out = replace(cmd, argv=argv, redirects=redirects)
        self._record(out)
        return out

    def _sub(self, word: str) -> str:
        def one(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(3)
            if name in self.env:
                return self.env[name]
            if m.group(2) is not None and m.group(1):
                return m.group(2)  # ${X:-default} with X unknown: the default
            return m.group(0)
        return _VAR.sub(one, word)

    def _record(self, cmd: SimpleCommand) -> None:
        standalone = not cmd.argv or cmd.program in ("export", "declare", "readonly", "typeset", "local")
        if not standalone:
            return  # "VAR=x prog" sets VAR for prog only
        for name, value in cmd.assignments:
            if _UNSAFE_VALUE.search(value):
                self.env.pop(name, None)
                continue
            self.env[name] = self._sub(value)
        if cmd.program in ("declare", "readonly", "typeset", "local"):
            for w in cmd.args:
                if "=" in w and not w.startswith("-"):
                    name, value = w.split("=", 1)
                    if re.fullmatch(r"[A-Za-z_]\w*", name) and not _UNSAFE_VALUE.search(value):
                        self.env[name] = self._sub(value)

    def remember(self, path: str, content: str | None) -> None:
        """A file the agent wrote, with its content when known (appends extend it)."""
        if content is not None and _SCRIPT_EXT.search(path.strip("\"'")):
            self.scripts[_key(path)] = content

    def script_for(self, cmd: SimpleCommand) -> tuple[str, str, str] | None:
        """(kind ``shell``|``python``, path, content) when ``cmd`` runs a script written earlier."""
        prog, argv = cmd.program, cmd.argv
        if not argv:
            return None
        if prog in _SHELLS or _PY.match(prog):
            operands = [a for a in argv[1:] if not a.startswith("-")]
            if not operands or (prog in _SHELLS and "-c" in argv) or (_PY.match(prog) and ("-c" in argv or "-m" in argv)):
                return None
            path = operands[0]
        else:
            path = argv[0]
            if "/" not in path and not _SCRIPT_EXT.search(path):
                return None
        content = self.scripts.get(_key(path))
        if content is None:
            return None
        kind = "python" if path.endswith(".py") or _PY.match(prog) or content.startswith("#!/usr/bin/env python") else "shell"
        return kind, path, content
