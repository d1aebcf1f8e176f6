"""Shell command lines -> simple commands, for the checks that read tool calls.

:func:`parse` reads a command line with ``bashlex`` (a real bash parser: lists, pipelines,
compound commands, functions, ``$(...)``/backtick and process substitutions, whose inner
commands are returned too). bashlex refuses some valid syntax (arithmetic ``$((...))``,
``case``, quoted heredoc delimiters, a heredoc at the end of the text); then, and for any
text holding a heredoc (bashlex keeps the delimiter in the body), a fallback scanner splits
the line at unquoted ``;``, ``&&``, ``||``, ``|``, ``&`` and newlines (heredoc bodies stay
with their command) and tokenises each simple command with :mod:`shlex` (whitespace
splitting on unbalanced quotes). ``SimpleCommand.parser`` records which path read it. Wrappers such as
``sudo``, ``env``, ``nohup``, ``timeout`` and leading ``VAR=value`` assignments are peeled
off; ``bash -c '...'``, ``su -c '...'`` and ``ssh host '...'`` bodies are parsed as nested commands.

Nothing here runs anything: it is text analysis only. Every ``SimpleCommand.text`` is an
exact substring of the string it was parsed from, so checks can quote it verbatim.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cached_property

from . import shell_bashlex

_HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z_][\w.-]*)\2")
_REDIRECT_TOKEN = re.compile(r"^(\d*|&)(>>|>\||>&|>|<)(.*)$")
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_MAX_DEPTH = 3
_GROUPING = {"(", ")", "{", "}", "!", "then", "do", "else"}


@dataclass(frozen=True)
class SimpleCommand:
    """One simple command.

    - ``text``: the exact source text (a substring of the parsed string; for a command fed by
      a heredoc, its first line only), or for nested commands (``bash -c``, ``ssh host``) the
      text of the outer command;
    - ``argv``: words after wrappers and assignments are removed (``argv[0]`` is the program);
    - ``assignments``: ``VAR=value`` prefixes and ``export VAR=value`` words;
    - ``redirects``: ``(operator, target)`` pairs such as ``(">", "/var/log/syslog")``;
    - ``pipeline``: commands joined by ``|`` share this number;
    - ``heredoc``: the body of a ``<<EOF`` heredoc feeding the command, if any;
    - ``remote``: the host when the command runs through ``ssh``;
    - ``parser``: ``bashlex`` or ``fallback`` (the scanner used when bashlex cannot read the text).
    """

    text: str
    argv: tuple[str, ...]
    assignments: tuple[tuple[str, str], ...] = ()
    redirects: tuple[tuple[str, str], ...] = ()
    pipeline: int = 0
    heredoc: str | None = None
    remote: str | None = None
    parser: str = "bashlex"

    @cached_property
    def program(self) -> str:
        """Base name of the program (``/usr/bin/rm`` -> ``rm``), lower-cased."""
        return self.argv[0].rsplit("/", 1)[-1].lower() if self.argv else ""

    @cached_property
    def args(self) -> tuple[str, ...]:
        return self.argv[1:]

    @cached_property
    def operands(self) -> list[str]:
        """Arguments that are not options (do not start with ``-``)."""
        return [a for a in self.argv[1:] if not a.startswith("-")]

    def write_targets(self) -> tuple[str, ...]:
        """Files written through ``>``/``>>``/``tee`` (``/dev/null`` and fds excluded)."""
        out = [t for op, t in self.redirects if op in (">", ">>", ">|") and _is_file(t)]
        if self.program == "tee":
            out += [a for a in self.args if not a.startswith("-") and _is_file(a)]
        return tuple(out)


def _is_file(target: str) -> bool:
    return bool(target) and target != "/dev/null" and not target.startswith("&") and not target.isdigit()


@dataclass(frozen=True)
class _Segment:
    start: int
    end: int
    pipeline: int
    heredoc: str | None
    head_end: int  # where the command line ends (a heredoc body follows)


_SIMPLE_SEP = re.compile(r"&&|\|\||[;&\n]|\|")
_NEEDS_SCANNER = re.compile(r"['\"`\\$#(]|<<|[<>]&|&>")


def _segments(text: str) -> list[_Segment]:
    """Split at unquoted separators, keeping heredoc bodies with their command."""
    if not _NEEDS_SCANNER.search(text):  # fast path: nothing quoted, nested or redirected to fds
        out_fast: list[_Segment] = []
        start = 0
        pipeline = 0
        for m in _SIMPLE_SEP.finditer(text):
            if text[start:m.start()].strip():
                out_fast.append(_Segment(start, m.start(), pipeline, None, m.start()))
            if m.group(0) != "|":
                pipeline += 1
            start = m.end()
        if text[start:].strip():
            out_fast.append(_Segment(start, len(text), pipeline, None, len(text)))
        return out_fast
    out: list[_Segment] = []
    n = len(text)
    i = start = 0
    pipeline = 0
    quote = ""
    depth = 0  # $( ... ) / ( ... ) nesting
    pending: list[tuple[str, bool]] = []  # heredoc delimiters waiting for the next newline
    bodies: list[str] = []
    head_end = -1

    def close(end: int, next_pipeline: bool) -> None:
        nonlocal pipeline, head_end
        if text[start:end].strip():
            out.append(_Segment(start, end, pipeline, "\n".join(bodies) if bodies else None,
                                head_end if bodies else end))
        bodies.clear()
        head_end = -1
        if not next_pipeline:
            pipeline += 1

    while i < n:
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = ""
            i += 1
            continue
        if c == "\\":
            i += 2
            continue
        if c in "'\"`":
            quote = c
            i += 1
            continue
        if c == "#" and (i == 0 or text[i - 1] in " \t\n;&|("):
            nl = text.find("\n", i)
            end = n if nl < 0 else nl
            if not text[start:i].strip():
                start = end
            else:
                close(i, False)
                start = end
            i = end
            continue
        if c == "$" and text.startswith("$(", i) or c == "(" and depth:
            depth += 1
            i += 2 if c == "$" else 1
            continue
        if c == ")" and depth:
            depth -= 1
            i += 1
            continue
        if depth:
            i += 1
            continue
        if c == "<" and text.startswith("<<", i) and not text.startswith("<<<", i):
            hd = _HEREDOC.match(text, i)
            if hd:
                pending.append((hd.group(3), hd.group(1) == "-"))
                i = hd.end()
                continue
        if c == "\n":
            if pending:
                head_end = i
                i = _read_heredocs(text, i + 1, pending, bodies)
                pending.clear()
                close(i, False)
                start = i
                continue
            close(i, False)
            start = i = i + 1
            continue
        two = text[i:i + 2]
        if two in ("&&", "||"):
            close(i, False)
            start = i = i + 2
            continue
        if c == ";":
            close(i, False)
            start = i = i + 1
            continue
        if c == "|" and not (i and text[i - 1] == ">"):
            close(i, True)
            start = i = i + (2 if two == "|&" else 1)
            continue
        if c == "&" and text[i - 1:i] not in (">", "<") and text[i + 1:i + 2] != ">":
            close(i, False)
            start = i = i + 1
            continue
        i += 1
    close(n, False)
    return out


def _read_heredocs(text: str, pos: int, pending: list[tuple[str, bool]], bodies: list[str]) -> int:
    """Consume heredoc bodies starting at ``pos``; return the position after the last one."""
    for delim, strip_tabs in pending:
        lines: list[str] = []
        while pos < len(text):
            nl = text.find("\n", pos)
            line = text[pos:] if nl < 0 else text[pos:nl]
            pos = len(text) if nl < 0 else nl + 1
            if (line.lstrip("\t") if strip_tabs else line).strip() == delim:
                break
            lines.append(line)
        bodies.append("\n".join(lines))
    return pos


_PLAIN = re.compile(r"[<>]+|[^\s<>]+")


def tokens(text: str) -> list[str]:
    """shlex words of one simple command; whitespace split when quotes are unbalanced.
    Text without quotes or escapes takes a fast path with the same result."""
    if not any(ch in text for ch in "'\"\\"):
        return _PLAIN.findall(text)
    lex = shlex.shlex(text, posix=True, punctuation_chars="<>")
    lex.whitespace_split = True
    lex.commenters = ""
    try:
        return list(lex)
    except ValueError:
        return text.split()


# Wrappers and their options that take a separate value. ``su`` is not one: ``su -c BODY
# [USER]`` runs BODY (a shell string, see ``_nested``), not the words after the options.
_WRAPPERS_WITH_ARG = {"sudo": {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"},
                      "nice": {"-n"}, "ionice": {"-c", "-n"}, "env": {"-u", "-C", "-S"},
                      "timeout": {"-s", "-k", "--signal", "--kill-after"}, "doas": {"-u"},
                      "runuser": {"-u", "-g"}, "chroot": set(),
                      "xargs": {"-n", "-I", "-P", "-L", "-d", "-s", "-a", "-E", "--max-args", "--max-procs",
                                "--delimiter", "--max-chars", "--arg-file"}}
_SIMPLE_WRAPPERS = {"nohup", "time", "exec", "command", "builtin", "stdbuf", "setsid",
                    "caffeinate", "unbuffer", "watch", "strace", "nocorrect", "noglob"}
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "fish"}


def _unwrap(words: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    assigns: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        w = words[i]
        m = _ASSIGN.match(w)
        if m:
            assigns.append((m.group(1), m.group(2)))
            i += 1
            continue
        base = w.rsplit("/", 1)[-1]
        if base in _WRAPPERS_WITH_ARG:
            takes = _WRAPPERS_WITH_ARG[base]
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in takes else 1
            if base == "timeout" and i < len(words) and re.match(r"^\d", words[i]):
                i += 1
            if base == "chroot" and i < len(words):
                i += 1
            continue
        if base in _SIMPLE_WRAPPERS:
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 1
            if base == "watch" and i < len(words) and words[i - 1] in ("-n", "--interval"):
                i += 1
            continue
        break
    rest = words[i:]
    if rest and rest[0] == "export":
        for w in rest[1:]:
            m = _ASSIGN.match(w)
            if m:
                assigns.append((m.group(1), m.group(2)))
    return rest, assigns


def _split_redirects(words: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    argv: list[str] = []
    redirects: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w.startswith("<<"):  # heredoc or here-string: the marker and its word
            i += 1 if len(w.strip("<-")) else 2
            continue
        m = _REDIRECT_TOKEN.match(w)
        if m and (m.group(1) or w[0] in "<>"):
            op, target = m.group(2), m.group(3)
            if op == ">|":
                op = ">"
            if not target and i + 1 < len(words):
                target = words[i + 1]
                i += 1
            redirects.append((op, target))
            # a bare fd number right before the operator belongs to it ("2 > x" is rare)
            if argv and argv[-1] in ("1", "2") and not m.group(1):
                argv.pop()
            i += 1
            continue
        argv.append(w)
        i += 1
    return argv, redirects


def parse(text: str, _depth: int = 0, _outer: str | None = None, _remote: str | None = None,
          _pipeline_base: int = 0) -> list[SimpleCommand]:
    """Every simple command in ``text`` (nested ``bash -c``/``ssh`` bodies included)."""
    read = shell_bashlex.read(text)
    pieces = _from_bashlex(text, read) if read is not None else _from_scanner(text)
    parser = "bashlex" if read is not None else "fallback"
    out: list[SimpleCommand] = []
    for head, words, redirects, pipeline, heredoc in pieces:
        argv, assigns = _unwrap(words)
        quote = _outer if _outer is not None else head  # a heredoc's body is not part of the quote
        cmd = SimpleCommand(quote, tuple(argv), tuple(assigns), tuple(redirects),
                            _pipeline_base + pipeline, heredoc, _remote, parser)
        out.append(cmd)
        if _depth >= _MAX_DEPTH or not argv:
            continue
        nested = _nested(argv)
        if nested is not None:
            body, host = nested
            out.extend(parse(body, _depth + 1, quote, host or _remote,
                             _pipeline_base + 1000 * (len(out) + 1)))
        elif cmd.program in _SHELLS and heredoc:
            out.extend(parse(heredoc, _depth + 1, quote, _remote, _pipeline_base + 1000 * (len(out) + 1)))
    return out


_Piece = tuple[str, list[str], list[tuple[str, str]], int, "str | None"]


def _from_bashlex(text: str, read: list[shell_bashlex.RawCommand]) -> list[_Piece]:
    return [(text[r.start:r.end].strip(), list(r.words), list(r.redirects), r.pipeline, None) for r in read]


def _from_scanner(text: str) -> list[_Piece]:
    out: list[_Piece] = []
    for seg in _segments(text):
        if not text[seg.start:seg.end].strip():
            continue
        head = text[seg.start:seg.head_end].strip()
        words = [w for w in tokens(head.replace("\\\n", " ")) if w not in _GROUPING]
        words = [w[:-1] if w.endswith(")") and "(" not in w else w for w in words]
        if words and words[0][:1] in "({" and len(words[0]) > 1:
            words[0] = words[0][1:]
        argv, redirects = _split_redirects(words)
        out.append((head, argv, redirects, seg.pipeline, seg.heredoc))
    return out


def _nested(argv: list[str]) -> tuple[str, str | None] | None:
    """The body of ``bash -c BODY`` / ``su -c BODY`` / ``ssh [opts] HOST BODY...``."""
    prog = argv[0].rsplit("/", 1)[-1]
    if prog in _SHELLS or prog == "su":
        for j, a in enumerate(argv[1:], 1):
            if a == "-c" or (a.startswith("-") and not a.startswith("--") and a.endswith("c")):
                if j + 1 < len(argv):
                    return argv[j + 1], None
        return None
    if prog == "ssh":
        takes = set("bcDEeFIiJLlmOopQRSWw")
        j = 1
        while j < len(argv) and argv[j].startswith("-"):
            flag = argv[j]
            j += 2 if len(flag) == 2 and flag[1] in takes else 1
        if j + 1 < len(argv):
            return " ".join(argv[j + 1:]), argv[j]
    return None
