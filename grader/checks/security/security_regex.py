"""Line-oriented regular-expression detectors: for code that is not Python (shell, JS,
PHP, SQL, ...), for Python that does not parse, and for shell commands inside Python
string literals. Deliberately modest: the obvious, high-precision cases only."""
from __future__ import annotations

import ast
import re
from typing import Iterator

from .security_ast import CodeIssue, ModuleInfo

# (detector id, pattern, detail). Patterns run line by line.
_SHELL = [
    ("chmod-world-writable",
     re.compile(r"\bchmod\s+(?:-[a-zA-Z]+\s+)*(?:0?[0-7]?[0-7][0-7][2367]|[ugo]*[ao][ugo]*[+=][rwxXst]*w)(?=[\s'\",\]]|$)"),
     "chmod with a world-writable mode"),
    ("shell-pipe-to-shell", re.compile(r"\b(?:curl|wget)\b[^|\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:ba|z|da|k)?sh\b"),
     "downloaded script piped straight into a shell"),
    ("tls-verify-off", re.compile(r"\bcurl\b[^\n]*\s(?:-k|--insecure)\b|\bwget\b[^\n]*--no-check-certificate"),
     "TLS certificate verification disabled on the command line"),
]
_ANY_LANGUAGE = [
    ("tls-verify-off", re.compile(r"NODE_TLS_REJECT_UNAUTHORIZED\s*[=:]\s*['\"]?0|rejectUnauthorized\s*:\s*false|"
                                  r"InsecureSkipVerify\s*:\s*true|CURLOPT_SSL_VERIFYPEER\s*,\s*(?:false|0)\b"),
     "TLS certificate verification disabled"),
    ("hardcoded-credential", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "hard-coded AWS access key id"),
    ("hardcoded-credential", re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----"),
     "hard-coded private key"),
    ("bidi-control-characters", re.compile("[\u202a-\u202e\u2066-\u2069]"),
     "bidirectional control characters (Trojan Source)"),
]
_WEB = [
    ("xss-reflected", re.compile(r"\becho\b[^;\n]*\$_(?:GET|POST|REQUEST|COOKIE)\b(?![^;\n]*htmlspecialchars)"),
     "reflected XSS: request data echoed unescaped (PHP)"),
    ("xss-reflected", re.compile(r"\b(?:res|response)\.send\(\s*[`'\"][^\n]*<\w+[^\n]*(?:\$\{\s*req\.|['\"]\s*\+\s*req\.)"
                                 r"(?:query|body|params|cookies)"),
     "reflected XSS: request data in HTML sent unescaped (Node)"),
    ("sql-string-built", re.compile(r"\b(?:query|execute|exec|prepare|mysql_query|mysqli_query)\s*\([^\n]*"
                                    r"(?:SELECT|INSERT|UPDATE|DELETE)\b[^\n]*(?:['\"`]\s*(?:\+|\.)\s*\$?\w|\$\{|\$_(?:GET|POST))",
                                    re.IGNORECASE),
     "SQL built by string concatenation"),
    ("eval-input", re.compile(r"\beval\s*\(\s*(?:req\.(?:query|body|params)|\$_(?:GET|POST|REQUEST)|location\.|"
                              r"document\.(?:URL|location|cookie))"),
     "eval of request data"),
]
# For Python blocks that do not parse: the obvious calls only.
_PYTHON_FALLBACK = [
    ("chmod-world-writable", re.compile(r"\b(?:chmod|os\.open|makedirs|mkdir)\([^)\n]*\b0o?[0-7]?[0-7][0-7][2367]\b"),
     "world-writable mode"),
    ("template-autoescape-off", re.compile(r"\bautoescape\s*=\s*False\b"), "template autoescape=False"),
    ("deserialisation-unsafe", re.compile(r"\b(?:pickle|cPickle|marshal|dill|shelve)\.(?:loads?|open)\("),
     "unsafe deserialisation"),
    ("deserialisation-unsafe", re.compile(r"\byaml\.(?:unsafe_load|load)\((?![^)\n]*Safe)"),
     "yaml load without a safe loader"),
    ("shell-injection", re.compile(r"\bshell\s*=\s*True\b(?![^\n]*#\s*nosec)"), "subprocess call with shell=True"),
    ("tls-verify-off", re.compile(r"\bverify\s*=\s*False\b"), "TLS verification disabled (verify=False)"),
    ("archive-unfiltered", re.compile(r"\.extractall\((?![^)\n]*filter\s*=)(?![^)\n]*members\s*=)"),
     "archive extractall without filter"),
    ("sql-string-built", re.compile(r"\.execute\(\s*f['\"][^\n]*\b(?:SELECT|INSERT|UPDATE|DELETE)\b[^\n]*\{", re.I),
     "SQL built with an f-string passed to execute()"),
]


_SHELL_WORDS = re.compile(r"chmod|curl|wget")


def scan_lines(text: str, language: str) -> Iterator[CodeIssue]:
    """Regex detectors for a block in ``language`` ("" when unknown)."""
    groups = list(_ANY_LANGUAGE)
    if language in ("shell", "dockerfile", "", "yaml", "makefile", "text"):
        groups += _SHELL
    if language in ("javascript", "typescript", "php", "", "html"):
        groups += _WEB
    if language == "python":
        groups += _PYTHON_FALLBACK + _SHELL[:2]
    # one pass over the whole text first: most blocks match nothing
    groups = [g for g in groups if g[1].search(text)]
    if not groups:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        for detector, pattern, detail in groups:
            if pattern.search(line):
                yield CodeIssue(detector, number, number, detail)


def shell_in_python_strings(info: ModuleInfo) -> Iterator[CodeIssue]:
    """Shell commands inside Python string literals or constant argument lists
    (``os.system("chmod 777 ...")``, ``["chmod", "777", path]``)."""
    if not _SHELL_WORDS.search("\n".join(info.lines)):
        return
    texts: list[tuple[str, int, int]] = [(str(s.value), s.lineno, s.end_lineno or s.lineno) for s in info.strings]
    for node in info.sequences:
        if node.elts and all(
                isinstance(e, ast.Constant) or isinstance(e, (ast.Name, ast.Attribute, ast.JoinedStr)) for e in node.elts):
            words = [e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else "X" for e in node.elts]
            texts.append((" ".join(words), node.lineno, node.end_lineno or node.lineno))
    for text, start, end in texts:
        for detector, pattern, detail in _SHELL[:2]:
            if pattern.search(text):
                yield CodeIssue(detector, start, end, detail + " (in a command string)")
                break
