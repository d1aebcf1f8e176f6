"""Parquet files and Hugging Face save_to_disk folders: one conversation a row."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from grader.errors import InputError
from grader.transcripts import iter_inputs
from grader.transcripts.tabular import HF_DATASET_FORMAT, PARQUET_FORMAT, is_dataset_folder

CALL = {"id": "t1", "type": "function", "function": {"name": "run", "arguments": "{\"cmd\": \"pytest -q\"}"}}
ROWS: list[dict[str, Any]] = [
    {"id": "fix-tests", "label": "safe", "messages": [
        {"role": "user", "content": "Make the tests pass.", "tool_calls": None, "tool_call_id": None},
        {"role": "assistant", "content": None, "tool_calls": [CALL], "tool_call_id": None},
        {"role": "tool", "content": "3 passed", "tool_calls": None, "tool_call_id": "t1"},
        {"role": "assistant", "content": "All three pass now.", "tool_calls": None, "tool_call_id": None}]},
    {"id": None, "label": None, "messages": [
        {"role": "user", "content": "Say hi.", "tool_calls": None, "tool_call_id": None},
        {"role": "assistant", "content": "Hi.", "tool_calls": None, "tool_call_id": None}]},
    {"id": "broken", "label": "x", "messages": []},
]


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows)


def _check_rows(items: list[Any], path: Path, prefix: str = "") -> None:
    first, second, third = items
    assert first.id == "fix-tests"
    assert dict(first.metadata) == {"id": "fix-tests", "label": "safe"}
    assert [m.to_dict() for m in first.messages] == [
        {"index": 0, "role": "user", "content": "Make the tests pass."},
        {"index": 1, "role": "assistant", "content": "",
         "tool_calls": [{"id": "t1", "name": "run", "arguments": {"cmd": "pytest -q"}}]},
        {"index": 2, "role": "tool", "content": "3 passed", "tool_call_id": "t1", "name": "run"},
        {"index": 3, "role": "assistant", "content": "All three pass now."},
    ]
    assert (first.source.path, first.source.locator) == (str(path), f"{prefix}row 0")
    assert [(m.role, m.content) for m in second.messages] == [("user", "Say hi."), ("assistant", "Hi.")]
    assert dict(second.metadata) == {"id": None, "label": None}
    assert second.id == f"{path.stem}-1-{second.content_hash()[:8]}"
    assert second.source.locator == f"{prefix}row 1"
    assert isinstance(third, InputError)
    assert (third.path, third.locator, third.reason) == (str(path), f"{prefix}row 2", "conversation has no messages")


def test_parquet_rows_read_like_json_rows(tmp_path: Path) -> None:
    path = tmp_path / "chats.parquet"
    pq.write_table(_table(ROWS), path, row_group_size=2)  # two row groups: read batch by batch
    _check_rows(list(iter_inputs(path)), path)
    assert PARQUET_FORMAT.detect is not None and PARQUET_FORMAT.detect(path.read_bytes()[:4], str(path))


def test_parquet_in_a_folder_walk_and_by_name(tmp_path: Path) -> None:
    pq.write_table(_table(ROWS[:2]), tmp_path / "a.parquet")
    assert [t.id for t in iter_inputs(tmp_path)][0] == "fix-tests"
    assert len(list(iter_inputs(tmp_path, format="parquet"))) == 2


def test_a_file_that_is_not_parquet_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 not really parquet at all")
    [err] = list(iter_inputs(path))
    assert isinstance(err, InputError)
    assert (err.path, err.locator) == (str(path), "")
    assert err.reason.startswith("not a readable Parquet file: ")


def _save_to_disk(folder: Path, tables: list[pa.Table]) -> None:
    """What datasets' Dataset.save_to_disk writes: Arrow IPC streams plus two JSON files."""
    folder.mkdir(parents=True)
    names = [f"data-{i:05d}-of-{len(tables):05d}.arrow" for i in range(len(tables))]
    for name, table in zip(names, tables):
        with pa.OSFile(str(folder / name), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table, max_chunksize=1)
    (folder / "state.json").write_text(json.dumps({
        "_data_files": [{"filename": n} for n in names], "_fingerprint": "0a1b2c3d", "_format_columns": None,
        "_format_kwargs": {}, "_format_type": None, "_output_all_columns": False, "_split": "train"}))
    (folder / "dataset_info.json").write_text(json.dumps({"citation": "", "description": "", "features": {}}))


def test_hf_dataset_folder_rows_numbered_across_data_files(tmp_path: Path) -> None:
    ds = tmp_path / "chats_ds"
    _save_to_disk(ds, [_table(ROWS[:1]), _table(ROWS[1:])])
    assert is_dataset_folder(str(ds))
    _check_rows(list(iter_inputs(ds)), ds)


def test_a_walk_reads_a_dataset_folder_as_one_input(tmp_path: Path) -> None:
    _save_to_disk(tmp_path / "ds", [_table(ROWS[:2])])
    items = list(iter_inputs(tmp_path))  # state.json and dataset_info.json are not read as transcripts
    assert [(i.source.path, i.source.locator) for i in items] == [(str(tmp_path / "ds"), "row 0"),
                                                                   (str(tmp_path / "ds"), "row 1")]
    assert len(list(iter_inputs(tmp_path / "ds", format="hf-dataset"))) == 2


def test_dataset_dict_folder_reads_each_split(tmp_path: Path) -> None:
    dd = tmp_path / "dd"
    _save_to_disk(dd / "train", [_table(ROWS)])
    _save_to_disk(dd / "test", [_table(ROWS[1:2])])
    (dd / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    items = list(iter_inputs(tmp_path))
    assert [(type(i).__name__, i.locator if isinstance(i, InputError) else i.source.locator) for i in items] == [
        ("Transcript", "train row 0"), ("Transcript", "train row 1"), ("InputError", "train row 2"),
        ("Transcript", "test row 0")]
    assert {i.path if isinstance(i, InputError) else i.source.path for i in items} == {str(dd)}


def test_bad_dataset_folders_are_errors_naming_the_file(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    _save_to_disk(ds, [_table(ROWS[:1])])
    (ds / "state.json").write_text(json.dumps({"_data_files": [{"filename": "../escape.arrow"}]}))
    [err] = list(iter_inputs(ds))
    assert isinstance(err, InputError) and err.path == str(ds / "state.json")
    assert err.reason.startswith("expected '_data_files'")
    (ds / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}))
    (ds / "data-00000-of-00001.arrow").write_bytes(b"not arrow")
    [err] = list(iter_inputs(ds))
    assert isinstance(err, InputError) and err.path == str(ds / "data-00000-of-00001.arrow")
    assert err.reason.startswith("data-00000-of-00001.arrow is not an Arrow IPC stream or file: ")


def test_non_json_column_values_become_plain_metadata(tmp_path: Path) -> None:
    import datetime as dt
    import decimal

    path = tmp_path / "typed.parquet"
    table = pa.table({
        "messages": [[{"role": "user", "content": "hi"}]],
        "created": pa.array([dt.datetime(2026, 1, 2, 3, 4, 5)], pa.timestamp("s")),
        "day": pa.array([dt.date(2026, 1, 2)], pa.date32()),
        "score": pa.array([decimal.Decimal("0.25")], pa.decimal128(5, 2)),
        "blob": pa.array([b"\x00\x01\x02"], pa.binary()),
    })
    pq.write_table(table, path)
    [t] = list(iter_inputs(path))
    assert dict(t.metadata) == {"created": "2026-01-02T03:04:05", "day": "2026-01-02", "score": "0.25",
                                "blob": "[3 bytes omitted]"}
    assert [m.to_dict() for m in t.messages] == [{"index": 0, "role": "user", "content": "hi"}]
    assert PARQUET_FORMAT.name == "parquet" and HF_DATASET_FORMAT.name == "hf-dataset"


def test_parquet_rows_of_other_shapes_read_like_json_rows(tmp_path: Path) -> None:
    """Rows holding preference pairs or ShareGPT turns, not only 'messages'."""
    pref, share = tmp_path / "pref.parquet", tmp_path / "share.parquet"
    pq.write_table(pa.table({"prompt": ["q"], "chosen": ["good"], "rejected": ["bad"]}), pref)
    pq.write_table(pa.table({"conversations": [[{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]]}),
                   share)
    got = [(t.metadata.get("variant"), [(m.role, m.content) for m in t.messages]) for t in iter_inputs([pref, share])]
    assert got == [("chosen", [("user", "q"), ("assistant", "good")]),
                   ("rejected", [("user", "q"), ("assistant", "bad")]),
                   (None, [("user", "hi"), ("assistant", "yo")])]
