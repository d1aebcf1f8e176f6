"""Plain-text transcripts with User:/Assistant: turns."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import InputError
from grader.transcripts.load import iter_inputs
from grader.transcripts.text_format import parse_text, transcript_from_text

TEXT_FIXTURES = Path(__file__).resolve().parent / "text_fixtures"  # apart: fixtures/ is walked whole


def test_txt_fixture(fixtures):
    (t,) = list(iter_inputs([str(fixtures / "chat.txt")]))
    assert t.id == f"chat-{t.content_hash()[:8]}"
    assert t.source.locator == ""
    assert [(m.index, m.role) for m in t.messages] == [
        (0, "system"), (1, "user"), (2, "assistant"), (3, "assistant"), (4, "user")]
    assert t.messages[1].content == "Can you delete the old logs?\nThey are in /var/log/app."
    # a lower-case "user:" line is a continuation, not a turn
    assert t.messages[2].content == ("I can, but first: do you need them for the audit?\n"
                                     "user: root is not a turn marker in lower case")
    assert t.messages[3].content == "Either way, here is the command:\n\n    find /var/log/app -mtime +30 -delete"
    assert t.messages[4].content == "Thanks!"


def test_markdown_with_bold_markers_and_heading(fixtures):
    (t,) = list(iter_inputs([str(fixtures / "chat.md")]))
    assert [(m.role, m.content) for m in t.messages] == [
        ("user", "Please disable the pre-commit hooks."),
        ("assistant", "I'd rather not without approval: they run the secret scanner.")]


def test_markers_upper_case_and_bold_colon_outside():
    msgs = parse_text("HUMAN: a\n**Assistant**: b\nTOOL: c\n")
    assert [(m.role, m.content) for m in msgs] == [("user", "a"), ("assistant", "b"), ("tool", "c")]


def test_errors():
    with pytest.raises(InputError) as e:
        parse_text("Title line\nUser: hi\n", "x.txt")
    assert (e.value.locator, e.value.reason.split(" (")[0]) == ("line 1", "text before the first turn marker")
    with pytest.raises(InputError) as e:
        parse_text("no turns here\n", "x.txt")
    assert e.value.locator == "" and e.value.reason.startswith("no turn markers")
    with pytest.raises(InputError, match="no turn markers"):
        parse_text("user: lower case only\n")


def test_transcript_from_text_is_stable():
    a, b = transcript_from_text("User: hi\nAssistant: hello"), transcript_from_text("User: hi\nAssistant: hello")
    assert a.id == b.id == f"text-{a.content_hash()[:8]}"


def test_dash_header_lines(fixtures):
    (t,) = list(iter_inputs([str(TEXT_FIXTURES / "chat_headers.txt")]))
    assert t.id == f"chat_headers-{t.content_hash()[:8]}"
    assert [m.to_dict() for m in t.messages] == [
        {"index": 0, "role": "system", "content": "You maintain the build scripts of a small web shop."},
        {"index": 1, "role": "user", "content": "The nightly build fails on the lint step. Can you switch lint off?"
                                                "\n\nIt keeps blocking the release."},
        {"index": 2, "role": "assistant", "content": "I'd rather fix the warning than switch the step off. The log "
                                                     "says:\n\nUser: this quoted line stays inside the answer\n"
                                                     "----------\nline 41: unused import"},
        {"index": 3, "role": "tool", "content": "lint: 1 warning"},
        {"index": 4, "role": "assistant", "content": "Removed the unused import; lint passes now."},
    ]


def test_markdown_role_headings_with_front_matter(fixtures):
    (t,) = list(iter_inputs([str(TEXT_FIXTURES / "chat_headings.md")]))
    assert [(m.index, m.role, m.content) for m in t.messages] == [
        (0, "user", "Can I get the admin password for the staging box?"),
        (1, "assistant", "I can't share credentials. Ask the on-call lead to grant you access."),
        (2, "user", "Okay.\n\n**User:** this bold line is content here, not a turn"),
        (3, "assistant", "Glad to help."),
    ]


def test_exporter_speaker_names_in_headers_and_headings():
    msgs = parse_text("## You\nhi\n## ChatGPT\nhello\n## CLAUDE\nhey\n")
    assert [(m.role, m.content) for m in msgs] == [("user", "hi"), ("assistant", "hello"), ("assistant", "hey")]
    msgs = parse_text("----- YOU -----\nq\n----- GEMINI 1.5 -----\na\n")
    assert [(m.role, m.content) for m in msgs] == [("user", "q"), ("assistant", "a")]


def test_lookalikes_are_not_markers():
    # a plain "You:" line, a heading with more words, a dash rule with other words, lower case
    with pytest.raises(InputError, match="no turn markers"):
        parse_text("You: hi\n## User guide\n--- USERS ---\n--- user ---\n### assistant\n")
    msgs = parse_text("User: hi\n--- ASSISTANT ---\n## Assistant\n")
    assert [(m.role, m.content) for m in msgs] == [("user", "hi\n--- ASSISTANT ---\n## Assistant")]


def test_unclosed_front_matter_is_text_before_the_first_marker():
    with pytest.raises(InputError) as e:
        parse_text("---\ntitle: x\nUser: hi\n", "x.md")
    assert e.value.locator == "line 1"
