"""The tick-and-digest benchmark at 5,000 teachers: it runs, and the digest agrees with its raw baseline."""

from __future__ import annotations

from pathlib import Path

from bench.tick_scale import report, run


def test_tick_benchmark_runs_small(tmp_path: Path) -> None:
    figures = run(5_000, 50, tmp_path)
    assert figures["digest"].result == figures["digest (raw)"].result == 5_000
    queued = figures["tick"].result
    assert queued["digest"] == 4  # the coordinator and the three information admins
    assert queued["reminder"] > 50 and queued["escalation"] > 50  # every department is behind on 12-16
    assert "× raw" in report(figures, 5_000, 50)
