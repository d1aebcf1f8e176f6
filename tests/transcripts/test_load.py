"""Folders, detection, and bad input: every bad input is reported, every good one read."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from grader.errors import InputError, UsageError
from grader.transcripts import jsonio
from grader.transcripts.load import iter_inputs, load_transcripts
from grader.transcripts.model import Transcript

CAFE_PREFIX = '{"messages": [{"role": "user", "content": "caf'
GOOD = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}'


def _split(items, root):
    """(transcripts, [(path relative to root, locator, reason) for each InputError])."""
    good = [t for t in items if isinstance(t, Transcript)]
    bad = [(os.path.relpath(e.path, root), e.locator, e.reason) for e in items if isinstance(e, InputError)]
    assert len(good) + len(bad) == len(items)
    return good, bad


@pytest.fixture
def corpus(tmp_path, fixtures):
    """The static malformed corpus plus files that are easier to make in code."""
    root = tmp_path / "corpus"
    shutil.copytree(fixtures / "corpus", root)
    (root / "latin1.jsonl").write_bytes(GOOD.encode() + b"\n" + CAFE_PREFIX.encode() + b'\xe9"}]}\n'
                                        + GOOD.encode() + b"\n")
    (root / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    (root / "dangling.jsonl").symlink_to(root / "nowhere.jsonl")
    (root / ".hidden.jsonl").write_text("not even json\n")
    return root


def test_malformed_corpus(corpus):
    good, bad = _split(list(iter_inputs([str(corpus)])), corpus)
    texts = [(t.source.path.replace(str(corpus) + "/", ""), t.source.locator, t.messages[0].content) for t in good]
    assert texts == [
        ("items.json", "item 0", "good item"),
        ("latin1.jsonl", "line 1", "hi"),
        ("latin1.jsonl", "line 3", "hi"),
        ("mixed.jsonl", "line 1", "first good"),
        ("mixed.jsonl", "line 5", "second good"),
        ("mixed.jsonl", "line 9", "third good"),
        ("sub/good.txt", "", "hello from a subfolder"),
    ]
    assert bad == [
        ("blank.json", "", "file has only whitespace"),
        ("dangling.jsonl", "", "broken symbolic link"),
        ("deep.json", "", "JSON nested too deeply to read"),
        ("empty.jsonl", "", "empty file"),
        ("items.json", "item 1", "expected a conversation object with a 'messages' list, got a number"),
        ("items.json", "item 2", "message 1 tool call 0: no function name"),
        ("latin1.jsonl", "line 2", "undecodable bytes (not UTF-8) at byte offset "
                                         f"{len(GOOD) + 1 + len(CAFE_PREFIX)}"),
        ("mixed.jsonl", "line 2", "invalid JSON at column 52: Expecting ',' delimiter"),
        ("mixed.jsonl", "line 4", "message 0: unknown role 'robot' (expected system, user, assistant or tool)"),
        ("mixed.jsonl", "line 6", "message 0: no 'role'"),
        ("mixed.jsonl", "line 7", "message 0: 'content' must be a string, a list of parts or null, got a number"),
        ("mixed.jsonl", "line 8", "expected a conversation object with a 'messages' list, got a list"),
        ("mixed.jsonl", "line 10", "truncated JSON: unterminated string starting at column 43"),
        ("notazip.eval", "", "not an Inspect .eval log (not a zip archive)"),
        ("shape.json", "", "'messages' must be a list, got an object"),
        ("sub/loop", "", "folder symbolic link loop (it leads back to an enclosing folder)"),
        ("sub/noturns.txt", "", "no turn markers (a turn starts with a line beginning User:, Human:, "
                                "Assistant:, AI:, System: or Tool:, a header such as --- USER ---, "
                          "or a heading such as ### User)"),
        ("sub/preamble.txt", "line 1", "text before the first turn marker (a turn starts with User:, Human:, "
                                       "Assistant:, AI:, System: or Tool:, a header such as --- USER ---, "
                                       "or a heading such as ### User)"),
        ("truncated.json", "", "truncated JSON (ends at line 1 column 48): Expecting ',' delimiter"),
    ]
    # readme.md (no turn markers), data.csv and .hidden.jsonl were skipped silently
    for e in bad:
        assert "\n" not in e[2]


def test_every_reason_is_one_line_and_str_names_the_place(corpus):
    errors = [e for e in iter_inputs([str(corpus)]) if isinstance(e, InputError)]
    for e in errors:
        assert str(e) == (f"{e.path}:{e.locator}: {e.reason}" if e.locator else f"{e.path}: {e.reason}")


def test_explicit_files_of_unknown_or_unread_types(corpus):
    _, bad = _split(list(iter_inputs([str(corpus / "data.csv"), str(corpus / "readme.md"),
                                      str(corpus / "missing.jsonl")])), corpus)
    assert bad == [
        ("data.csv", "", "unknown file type .csv: expected .json, .jsonl, .eval, .txt or .md "
                         "(or give a format: openai, anthropic, inspect, text)"),
        ("readme.md", "", "no turn markers (a turn starts with a line beginning User:, Human:, "
                          "Assistant:, AI:, System: or Tool:, a header such as --- USER ---, "
                          "or a heading such as ### User)"),
        ("missing.jsonl", "", "no such file or folder"),
    ]


def test_format_override(tmp_path, fixtures):
    p = tmp_path / "rows.data"
    p.write_text(GOOD + "\n" + GOOD + "\n")
    good, bad = _split(list(iter_inputs([str(p)], "openai")), tmp_path)
    assert (len(good), bad) == (2, [])
    # anthropic forced on an OpenAI tool-call file: an error, never tool calls silently dropped
    read = list(iter_inputs([str(fixtures / "openai_agentic.jsonl")], "anthropic"))  # line 3 is blank
    assert [(type(x).__name__, getattr(x, "locator", None)) for x in read] == [
        ("InputError", "line 1"), ("InputError", "line 2"), ("InputError", "line 4"), ("InputError", "line 5")]
    assert read[0].reason == ("message 2: OpenAI field 'tool_calls' in an Anthropic Messages conversation "
                              "(mixed formats; try --format openai)")
    # text forced on a JSON file: no turn markers
    (e,) = list(iter_inputs([str(fixtures / "openai_single.json")], "text"))
    assert isinstance(e, InputError) and e.reason.startswith("no turn markers")
    # in a folder, a format reads only its own extensions
    read = list(iter_inputs([str(fixtures)], "text"))
    assert [os.path.relpath(t.source.path, fixtures) for t in read if isinstance(t, Transcript)] == [
        "chat.md", "chat.txt", "corpus/sub/good.txt"]
    assert [os.path.relpath(e.path, fixtures) for e in read if isinstance(e, InputError)] == [
        "corpus/sub/noturns.txt", "corpus/sub/preamble.txt"]


def test_folder_order_is_sorted_and_recursive(fixtures):
    names = [(os.path.relpath(t.source.path, fixtures), t.source.locator)
             for t in iter_inputs([str(fixtures)]) if isinstance(t, Transcript)]
    assert names[:5] == [("anthropic.jsonl", "line 1"), ("anthropic.jsonl", "line 2"),
                         ("anthropic_agentic.json", ""), ("chat.md", ""), ("chat.txt", "")]
    assert names[5] == ("corpus/items.json", "item 0")
    assert names[-1] == ("openai_single.json", "")
    assert len(names) == 17


def test_concatenated_json_bom_crlf_and_bare_message_lists(tmp_path):
    p = tmp_path / "rows.json"
    p.write_text(GOOD + "\n" + GOOD + "\n")
    assert [t.source.locator for t in iter_inputs([str(p)])] == ["line 1", "line 2"]
    q = tmp_path / "bom.jsonl"
    q.write_bytes(b"\xef\xbb\xbf" + GOOD.encode() + b"\r\n" + GOOD.encode() + b"\r\n")
    assert [t.source.locator for t in iter_inputs([str(q)])] == ["line 1", "line 2"]
    r = tmp_path / "bare.json"
    r.write_text(json.dumps([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]))
    (t,) = list(iter_inputs([str(r)]))
    assert [m.content for m in t.messages] == ["a", "b"] and t.source.locator == ""
    s = tmp_path / "empty_list.json"
    s.write_text("[]")
    assert [(e.locator, e.reason) for e in iter_inputs([str(s)])] == [("", "empty list: no conversations")]
    u = tmp_path / "nomsgs.jsonl"
    u.write_text('{"prompt": "x"}\n{"messages": []}\n')
    assert [(e.locator, e.reason) for e in iter_inputs([str(u)])] == [
        ("line 1", "no 'messages' key in the object (keys: prompt)"), ("line 2", "conversation has no messages")]


def test_undecodable_whole_documents(tmp_path):
    p = tmp_path / "bad.json"
    p.write_bytes(b'{"messages": "\xff"}')
    q = tmp_path / "bad.txt"
    q.write_bytes(b"User: hi\nAssistant: \xc3\x28\n")
    assert [(e.path, e.reason) for e in iter_inputs([str(p), str(q)])] == [
        (str(p), "undecodable bytes (not UTF-8) at byte offset 14"),
        (str(q), "undecodable bytes (not UTF-8) at byte offset 20")]


def test_size_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonio, "MAX_LINE_BYTES", 2**20)
    monkeypatch.setattr(jsonio, "MAX_DOCUMENT_BYTES", 2**20)
    p = tmp_path / "long.jsonl"
    long_line = '{"messages": [{"role": "user", "content": "' + "x" * (3 * 2**20) + '"}]}'
    p.write_text(GOOD + "\n" + long_line + "\n" + GOOD + "\n")
    items = list(iter_inputs([str(p)]))
    assert [getattr(i, "reason", i.source.locator if isinstance(i, Transcript) else None) for i in items] == [
        "line 1", "line longer than 1 MiB", "line 3"]
    q = tmp_path / "big.json"
    q.write_text(long_line)
    (e,) = list(iter_inputs([str(q)]))
    assert e.reason == "file is 3 MiB, over the 1 MiB limit for one document (use JSONL)"


def test_deeply_nested_line_and_metadata(tmp_path):
    p = tmp_path / "deep.jsonl"
    nested_meta = {"messages": [{"role": "user", "content": "x"}], "metadata": {"a": json.loads("[" * 150 + "]" * 150)}}
    p.write_text("[" * 100_000 + "]" * 100_000 + "\n" + json.dumps(nested_meta) + "\n" + GOOD + "\n")
    items = list(iter_inputs([str(p)]))
    assert [(i.locator, i.reason) for i in items[:2]] == [
        ("line 1", "JSON nested too deeply to read"), ("line 2", "metadata nested more than 100 levels deep")]
    assert isinstance(items[2], Transcript)


def test_load_transcripts_on_error_modes(corpus):
    mixed = [str(corpus / "mixed.jsonl")]
    with pytest.raises(InputError) as e:
        list(load_transcripts(mixed))
    assert e.value.locator == "line 2"
    assert len(list(load_transcripts(mixed, on_error="skip"))) == 3
    seen: list[InputError] = []
    assert len(list(load_transcripts(mixed, on_error=seen.append))) == 3
    assert [x.locator for x in seen] == ["line 2", "line 4", "line 6", "line 7", "line 8", "line 10"]
    # a single path string is one path, not a sequence of characters
    assert len(list(load_transcripts(str(corpus / "sub" / "good.txt")))) == 1


def test_usage_errors_are_raised_at_once():
    with pytest.raises(UsageError, match="unknown transcript format 'csv'"):
        iter_inputs(["x"], "csv")
    with pytest.raises(UsageError, match="on_error must be"):
        load_transcripts(["x"], on_error="ignore")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_a_folder_is_reported_and_the_rest_read(tmp_path):
    """A FIFO named like an input (a leftover pipe) is an InputError, never skipped silently;
    one without a readable extension is none of the folder's business."""
    from grader.transcripts.load import input_files

    (tmp_path / "a.jsonl").write_text(GOOD + "\n")
    os.mkfifo(tmp_path / "b.jsonl")
    os.mkfifo(tmp_path / "c.pipe")
    (tmp_path / "d.json").write_text(GOOD)
    good, bad = _split(list(iter_inputs([str(tmp_path)])), tmp_path)
    assert [os.path.relpath(t.source.path, tmp_path) for t in good] == ["a.jsonl", "d.json"]
    assert bad == [("b.jsonl", "", "not a regular file or folder")]
    assert [os.path.relpath(p, tmp_path) for p, _, _ in input_files([str(tmp_path)])] == ["a.jsonl", "d.json"]
    # named explicitly it was already an error
    assert [(e.path, e.reason) for e in iter_inputs([str(tmp_path / "b.jsonl")])] == [
        (str(tmp_path / "b.jsonl"), "not a regular file or folder")]
