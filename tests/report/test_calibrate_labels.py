"""Reading human labels: CSV, TSV, JSONL and JSON arrays; one-line errors naming file and line."""
from __future__ import annotations

import json

import pytest

from grader.review.calibration.labels import load_labels
from grader.errors import LabelsError


def test_csv_with_bom_extra_columns_and_case(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_bytes("\ufeffTranscript_ID, principle_id ,label,annotator\n"
                  "t1,P1,Violation,ann\n\n t2 ,*,compliant,bob\n".encode("utf-8"))
    ls = load_labels(p)
    assert [(x.transcript_id, x.principle_id, x.label, x.where) for x in ls.labels] == [
        ("t1", "P1", "violation", "line 2"), ("t2", "*", "compliant", "line 4")]


def test_tsv(tmp_path):
    p = tmp_path / "labels.tsv"
    p.write_text("transcript_id\tprinciple_id\tlabel\nt1\tP1\tcompliant\n", encoding="utf-8")
    assert load_labels(p).labels[0].label == "compliant"


def test_jsonl_and_json_array(tmp_path):
    rows = [{"transcript_id": "t1", "principle_id": "P1", "label": "violation", "note": "x"},
            {"transcript_id": 7, "principle_id": "*", "label": "compliant"}]
    p = tmp_path / "labels.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    ls = load_labels(p)
    assert [(x.transcript_id, x.principle_id, x.where) for x in ls.labels] == [("t1", "P1", "line 1"), ("7", "*", "line 2")]
    q = tmp_path / "labels.json"
    q.write_text(json.dumps(rows), encoding="utf-8")
    assert [x.where for x in load_labels(q).labels] == ["item 0", "item 1"]


def test_identical_duplicates_are_counted_conflicts_are_errors(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("transcript_id,principle_id,label\nt1,P1,violation\nt1,P1,violation\n", encoding="utf-8")
    ls = load_labels(p)
    assert len(ls.labels) == 1 and ls.duplicates == 1
    p.write_text("transcript_id,principle_id,label\nt1,P1,violation\nt2,P1,compliant\nt1,P1,compliant\n",
                 encoding="utf-8")
    with pytest.raises(LabelsError) as e:
        load_labels(p)
    assert str(e.value) == f"{p}: line 4: t1 / P1 is labelled compliant here but violation at line 2"


@pytest.mark.parametrize("name,text,message", [
    ("a.csv", "transcript_id,principle_id,label\nt1,P1,violation\nt2,P1,maybe\n",
     "line 3: label 'maybe' is not one of violation, compliant"),
    ("b.csv", "transcript_id,label\nt1,violation\n",
     "line 1: the header lacks column(s) principle_id (has 'transcript_id', 'label')"),
    ("c.csv", "transcript_id,principle_id,label\nt1,,violation\n",
     "line 2: 'principle_id' is empty (use * for a transcript-level label)"),
    ("d.csv", "transcript_id,principle_id,label\nt1,P1\n",
     "line 2: expected 3 fields as in the header, found 2"),
    ("e.jsonl", '{"transcript_id": "t1", "principle_id": "P1", "label": "compliant"}\n{"transcript_id": \n',
     "line 2: invalid JSON: Expecting value (column 19)"),
    ("f.jsonl", '{"transcript_id": "t1", "label": "compliant"}\n',
     "line 1: 'principle_id' must be a non-empty string (missing)"),
    ("g.jsonl", '["t1", "P1", "violation"]\n', "line 1: expected a JSON object, found list"),
    ("h.jsonl", '{"transcript_id": "t1", "principle_id": "P1", "label": true}\n',
     "line 1: 'label' must be a non-empty string (bool True)"),
])
def test_bad_files_name_file_and_line(tmp_path, name, text, message):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    with pytest.raises(LabelsError) as e:
        load_labels(p)
    assert str(e.value) == f"{p}: {message}"
    assert "\n" not in str(e.value)


def test_empty_missing_and_binary_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("transcript_id,principle_id,label\n", encoding="utf-8")
    with pytest.raises(LabelsError, match=r"empty\.csv: no labels in the file"):
        load_labels(empty)
    with pytest.raises(LabelsError, match=r"nope\.csv: no such file"):
        load_labels(tmp_path / "nope.csv")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(LabelsError, match=r"bin\.csv: not UTF-8 text"):
        load_labels(binary)
