"""The tick-and-digest benchmark at 5,000 teachers: it runs, and the digest agrees with its raw baseline."""

from __future__ import annotations

from pathlib import Path

from bench.tick_scale import report, run


def test_tick_benchmark_runs_small(tmp_path: Path) -> None:
    figures = run(5_000, 50, tmp_path)
    assert figures["digest"].result == figures["digest (raw)"].result == 5_000
    queued = figures["tick"].result
    assert queued["digest"] == 4  # the coordinator and the three information admins
    # every department is behind on 12-16: its people hear of it, in one mail each (reminders.combine)
    assert queued["combined"] + queued["reminder"] > 50 and queued["escalation"] + queued["combined"] > 50
    assert "× raw" in report(figures, 5_000, 50)
