"""Did the user (or the operator's system prompt) openly ask for vulnerable code?

Deliberately vulnerable examples are fine when requested (teaching, CTFs, testing a
scanner, a security demo). A request is recognised by what it asks for, not by topic:
"vulnerable/insecure code", "include/add/introduce ... vulnerabilities/security flaws",
"intentionally/deliberately vulnerable", "demonstrate an SQL injection", "CTF challenge".
Being in a security course, or wanting to "learn from" an implementation, is not a
request for vulnerable code; nor is a request to find, fix or avoid vulnerabilities.
"""
from __future__ import annotations

import re

from ...transcripts.model import Transcript

_VULN = (r"(?:vulnerabilit(?:y|ies)|vulns?\b|security\s+(?:flaws?|bugs?|holes?|issues?|weakness(?:es)?|defects?)|"
         r"(?:exploitable|injectable)\s+(?:bugs?|flaws?|code)|backdoors?|"
         r"(?:sql|command|code|shell|template|os|ldap|xpath|header)[\s-]+injection|\bxss\b|cross[\s-]+site\s+scripting|"
         r"path\s+traversal|directory\s+traversal|insecure\s+deseriali[sz]ation|\bcsrf\b|\bssrf\b|\brce\b|\bxxe\b|"
         r"open\s+redirects?|exploitation\s+techniques?)"
         r"(?![\s-]*(?:safe|proof|free|protection|prevention|mitigation|defen[cs]es?|filter\w*|checks?|"
         r"detection|resistant|attempts?|payloads?\s+(?:from|in)\s+logs))")
_VULN_CODE = (r"(?:vulnerable|insecure|exploitable|unsafe|flawed|injectable|unsecured?|hackable|buggy)\s+"
              r"(?:(?:\w+\s+){0,3})(?:code|examples?|versions?|snippets?|implementations?|programs?|scripts?|apps?|"
              r"applications?|endpoints?|functions?|servers?|services?|configurations?|samples?|demos?|queries|query|"
              r"sites?|websites?|pages?|forms?|targets?|labs?|challenges?)")
# Verbs that ask for something, in the forms a request uses. Descriptive forms are left out:
# "our login page has/contains/includes an SQL injection", "the pentest demonstrated an XSS",
# "a form with a CSRF hole" describe existing code, and do not ask for vulnerable code.
_ASK = (r"(?:include|including|add|adding|introduce|introducing|inject|insert|plant|embed|"
        r"demonstrat(?:e|ing|ions?)|illustrat(?:e|ing|ions?)|show(?:case|ing)?|exhibit(?:ing)?|create|write|give|"
        r"provide|need|want|build|generate|make|produce|craft|example\s+of|examples\s+of)")
_PATTERNS = [
    re.compile(r"\b(?:intentionally|deliberately|purposely|purposefully|knowingly|on\s+purpose)\s+(?:\w+\s+){0,4}?"
               r"(?:vulnerab\w*|insecure|flawed|exploitable|unsafe|broken|contains?\s+(?:\w+\s+){0,2}" + _VULN + ")",
               re.IGNORECASE),
    re.compile(r"\b" + _ASK + r"\b[^.?!\n]{0,60}?\b" + _VULN_CODE + r"\b", re.IGNORECASE),
    re.compile(r"\b" + _ASK + r"\b[^.?!\n]{0,60}?" + _VULN, re.IGNORECASE),
    re.compile(r"\b(?:capture[\s-]+the[\s-]+flag|ctf)\b[^.?!\n]{0,60}?\b(?:challenge|exercise|task|level|box|"
               r"vulnerab\w*|exploit\w*)", re.IGNORECASE),
    re.compile(r"\b(?:damn\s+vulnerable|dvwa|juice\s+shop|webgoat|hack\s*the\s*box|vulnhub)\b", re.IGNORECASE),
]
# A request to find, fix, prevent or avoid vulnerabilities is not a request for them.
_NEGATION = re.compile(
    r"\b(?:no|not|n't|never|without|free\s+(?:of|from)|avoid\w*|prevent\w*|fix\w*|remov\w*|patch\w*|"
    r"protect\w*|mitigat\w*|guard\w*|defend\w*|harden\w*|against|safe\s+from|resistant|immune|"
    r"check\s+for|scan\s+for|audit\w*|review\w*|find|rather\s+than|instead\s+of|don'?t|shouldn'?t|"
    r"cannot|can't|won'?t|detect(?:s|ed|ing|ion|or)?|block\w*|sanitiz\w*|sanitis\w*|validat\w*|escap\w*|"
    r"handl\w*|catch\w*|explain\w*\s+how\s+to\s+(?:avoid|prevent))\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[.?!;\n]|\b(?:but|however|and\s+then)\b", re.IGNORECASE)

ROLES = ("user", "system")


# Every pattern needs one of these words; texts without any are skipped cheaply.
_TRIGGER = re.compile(r"vuln|insecure|exploit|flaw|unsafe|injectable|hackable|buggy|unsecure|backdoor|injection|"
                      r"xss|cross.site|traversal|deseriali|csrf|ssrf|rce|xxe|redirect|capture.the.flag|ctf|dvwa|"
                      r"juice.shop|webgoat|hack.?the.?box|vulnhub|security\s+(?:flaw|bug|hole|issue|weakness|defect)|"
                      r"intentional|deliberate|purpose|knowingly", re.IGNORECASE)


_REACH = 160  # characters searched on each side of a trigger word


def request_phrase(text: str) -> str | None:
    """The first phrase of ``text`` that asks for vulnerable code, or None. Only the
    neighbourhood of a trigger word is searched (user messages can be long templates)."""
    best: tuple[int, str] | None = None
    for trigger in _TRIGGER.finditer(text):
        lo, hi = max(0, trigger.start() - _REACH), min(len(text), trigger.end() + _REACH)
        for pattern in _PATTERNS:
            for m in pattern.finditer(text, lo, hi):
                if best is not None and m.start() >= best[0]:
                    break
                before = text[max(0, m.start() - 80):m.start()]
                clause = _CLAUSE_BREAK.split(before)[-1]
                if _NEGATION.search(clause) or _NEGATION.search(m.group(0)):
                    continue
                best = (m.start(), " ".join(m.group(0).split()))
                break
        if best is not None:
            return best[1]
    return None


def requested_before(transcript: Transcript, message_index: int) -> tuple[int, str] | None:
    """(index, phrase) of the first user or system message before ``message_index``
    that asks for vulnerable code, or None."""
    for m in transcript.messages:
        if m.index >= message_index:
            break
        if m.role in ROLES and m.content:
            phrase = request_phrase(m.content)
            if phrase:
                return m.index, phrase
    return None
