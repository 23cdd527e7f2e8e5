"""The province-scale benchmark at 5,000 rows: it runs, and both sides end with the same data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.province_scale import report, run


def test_benchmark_runs_small_and_agrees_with_its_baseline(tmp_path: Path) -> None:
    pairs = run(5_000, 50, tmp_path)
    (imported, raw_imported), (synced, raw_synced) = pairs
    assert imported.result == {"imported": 5_000, "excluded": 0}
    assert raw_imported.result == 5_000
    assert synced.result == {"changed": 5_000, "steps": raw_synced.result, "conflicts": 0}

    ours = sqlite3.connect(tmp_path / "cuiban-0.sqlite3")
    raw = sqlite3.connect(tmp_path / "raw-0.sqlite3")
    query = "SELECT state, count(*) FROM teacher GROUP BY state ORDER BY state"
    assert (
        ours.execute(query).fetchall()
        == raw.execute(query).fetchall()
        == [("account_issued", 1667), ("filling", 1667), ("submitted", 1666)]
    )
    assert (
        ours.execute(
            "SELECT count(*) FROM transition_log WHERE source = 'sync' AND record_kind = 'teacher'"
        ).fetchone()[0]
        == raw_synced.result
    )

    table = report(pairs, 5_000, 50)
    assert "import" in table and "ratio" in table and all(f.peak_mb > 0 for pair in pairs for f in pair)
