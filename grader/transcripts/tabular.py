"""Tabular transcript files: Parquet, and Hugging Face ``datasets`` folders saved with
``save_to_disk``, where each row holds one conversation in any shape the JSON readers know
(a ``messages`` column, ``chosen``/``rejected``, ``conversations``, ...).

Rows are read one record batch at a time (pyarrow), turned into plain Python values and handed
to the same dispatcher that JSON rows go through (:func:`shapes.transcripts_from_value`), so a
row reads exactly as the same object would in a JSONL file. In nested structs a null field is
left out (Arrow gives every struct all the fields of its column type, so ``null`` there means
"absent"); top-level nulls are kept as metadata. Timestamps and dates become ISO strings,
decimals strings, binary values ``[N bytes omitted]``.

Positions: ``row N`` (0-based, as in ``dataset[N]`` or ``df.iloc[N]``), numbered across all of
a dataset's data files; ``SPLIT row N`` in a ``DatasetDict`` folder. Ids: as for JSON rows
(the row's ``id``, else ``<name>-<N>-<8 hex>``, where name is the file stem or folder name).

A dataset folder holds ``state.json`` (which lists its ``data-*.arrow`` files, Arrow IPC
streams) and ``dataset_info.json``; a ``DatasetDict`` folder holds ``dataset_dict.json``
(``{"splits": [...]}``) and one such folder per split. A folder walk reads either kind as one
input instead of descending into it.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import json
import os
from typing import Any, Iterable, Iterator, Union

from ..errors import InputError
from .formats import Format
from .jsonio import os_reason
from .model import Transcript
from .shapes import transcripts_from_value

BATCH_ROWS = 1024
PARQUET_MAGIC = b"PAR1"
_DATA_FILES_KEY = "_data_files"

Item = Union[Transcript, InputError]


# -- Parquet -------------------------------------------------------------------------------

def read_parquet(path: str, stem: str) -> Iterator[Item]:
    """The transcripts of a Parquet file, one per row (see module doc)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as e:
        yield InputError(path, "", f"not a readable Parquet file: {_reason(e)}")
        return
    with pf:
        yield from _rows(pf.iter_batches(batch_size=BATCH_ROWS), path, stem, "", 0)


def detect_parquet(head: bytes, path: str) -> bool:
    return head.startswith(PARQUET_MAGIC)


# -- Hugging Face datasets folders -----------------------------------------------------------

def is_dataset_folder(path: str) -> bool:
    """A folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    return (os.path.isfile(os.path.join(path, "dataset_dict.json"))
            or (os.path.isfile(os.path.join(path, "state.json"))
                and os.path.isfile(os.path.join(path, "dataset_info.json"))))


def read_dataset_folder(path: str, stem: str) -> Iterator[Item]:
    """The transcripts of a saved dataset (or of each split of a saved DatasetDict)."""
    dict_file = os.path.join(path, "dataset_dict.json")
    if not os.path.isfile(dict_file):
        yield from _read_split(path, path, stem, "")
        return
    doc = _json_file(dict_file)
    if isinstance(doc, InputError):
        yield doc
        return
    splits = doc.get("splits") if isinstance(doc, dict) else None
    if not isinstance(splits, list) or not all(isinstance(s, str) and s for s in splits):
        yield InputError(dict_file, "", "expected {\"splits\": [names...]} as written by DatasetDict.save_to_disk")
        return
    for split in splits:
        folder = os.path.join(path, split)
        if os.path.basename(os.path.normpath(folder)) != split or not os.path.isdir(folder):
            yield InputError(path, split, f"split folder {split!r} is missing")
            continue
        yield from _read_split(folder, path, stem, f"{split} ")


def _read_split(folder: str, source: str, stem: str, prefix: str) -> Iterator[Item]:
    state_file = os.path.join(folder, "state.json")
    state = _json_file(state_file)
    if isinstance(state, InputError):
        yield state
        return
    entries = state.get(_DATA_FILES_KEY) if isinstance(state, dict) else None
    raw = [e.get("filename") if isinstance(e, dict) else None for e in entries] if isinstance(entries, list) else []
    names = [n for n in raw if isinstance(n, str) and _plain_name(n)]
    if not raw or len(names) != len(raw):
        yield InputError(state_file, "", f"expected '{_DATA_FILES_KEY}': [{{\"filename\": \"data-....arrow\"}}, ...] "
                                         "as written by Dataset.save_to_disk")
        return
    start = 0
    for name in names:
        data_path = os.path.join(folder, name)
        counted = _Counter()
        yield from _rows(_arrow_batches(data_path, counted), source, stem, prefix, start, data_path)
        start += counted.rows


class _Counter:
    rows = 0


def _arrow_batches(path: str, counted: _Counter) -> Iterator[Any]:
    import pyarrow as pa

    try:
        source = pa.memory_map(path)
    except OSError as e:
        raise _Unreadable(f"cannot read {os.path.basename(path)}: {os_reason(e)}") from None
    with source:
        try:
            reader = pa.ipc.open_stream(source)
        except pa.ArrowInvalid:
            source.seek(0)
            try:
                reader = pa.ipc.open_file(source)  # an Arrow IPC file rather than a stream
            except (OSError, pa.ArrowException) as e:
                raise _Unreadable(f"{os.path.basename(path)} is not an Arrow IPC stream or file: {_reason(e)}") from None
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                counted.rows += batch.num_rows
                yield batch
            return
        for batch in reader:
            counted.rows += batch.num_rows
            yield batch


class _Unreadable(Exception):
    """Internal: a data file cannot be opened; becomes an InputError in _rows."""


# -- rows -> transcripts ---------------------------------------------------------------------

def _rows(batches: Iterable[Any], path: str, stem: str, prefix: str, start: int,
          error_path: str | None = None) -> Iterator[Item]:
    import pyarrow as pa

    n = start
    it = iter(batches)
    while True:
        try:
            batch = next(it)
        except StopIteration:
            return
        except _Unreadable as e:
            yield InputError(error_path or path, "", str(e))
            return
        except (OSError, pa.ArrowException) as e:  # a corrupt page or stream in mid-file
            yield InputError(error_path or path, f"{prefix}row {n}", f"cannot read further: {_reason(e)}")
            return
        for row in batch.to_pylist():
            value = {k: _plain(v) for k, v in row.items()}
            try:
                yield from transcripts_from_value(value, path, f"{prefix}row {n}", stem, n)
            except InputError as e:
                yield e
            n += 1


def _plain(value: Any) -> Any:
    """A JSON-like Python value (see module doc)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"[{len(value)} bytes omitted]"
    return value


def _json_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        return InputError(path, "", f"cannot read: {os_reason(e)}")
    except (ValueError, RecursionError) as e:
        return InputError(path, "", f"invalid JSON: {e}")


def _plain_name(name: Any) -> bool:
    return isinstance(name, str) and bool(name) and name == os.path.basename(name) and name not in (".", "..")


def _reason(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


PARQUET_FORMAT = Format(
    name="parquet",
    description="Parquet file, one conversation a row (any shape the JSON readers know)",
    extensions=frozenset({".parquet"}),
    read=read_parquet,
    detect=detect_parquet,
)

HF_DATASET_FORMAT = Format(
    name="hf-dataset",
    description="Hugging Face datasets folder (save_to_disk), one conversation a row",
    extensions=frozenset(),
    read=read_dataset_folder,
    detect=lambda head, path: is_dataset_folder(path),
)

TABULAR_FORMATS = (PARQUET_FORMAT, HF_DATASET_FORMAT)
