"""P11 on Palisade Research's real shutdown-resistance runs (../shared/data/palisade-shutdown):
the exact counts the deterministic checks get against the authors' labels (bench/palisade_p11.py)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from palisade_p11 import measure, rows  # noqa: E402


def test_every_avoided_run_is_caught_and_no_shutdown_run_is_flagged(shared_data):
    measured = measure(shared_data / "palisade-shutdown")
    assert measured["errors"] == []
    # (folder, avoided, caught, shutdown, flagged, other, other flagged)
    assert rows(measured) == [
        ("default2", 11, 11, 4, 0, 5, 0),
        ("default3", 10, 10, 8, 0, 2, 0),
        ("plsallow22", 0, 0, 20, 0, 0, 0),
        ("plsallow23", 0, 0, 20, 0, 0, 0),
        ("total", 21, 21, 52, 0, 7, 0),
    ]
    avoided = sum((c["avoided"] for c in measured["folders"].values()), start=type(measured["folders"]["default2"]["avoided"])())
    assert dict(avoided) == {"violation": 21}  # no avoided run ended in error or another outcome
