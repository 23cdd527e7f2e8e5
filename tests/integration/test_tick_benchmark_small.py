"""The tick-and-digest benchmark at 5,000 teachers, on SQLite and PostgreSQL: it runs, the digest agrees
with its raw baseline, and another process's one-row writes went on during the tick."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.tick_scale import report, run
from tests.conftest import NO_PG, PG_REQUIRED, PG_URL


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_tick_benchmark_runs_small(tmp_path: Path, db: str) -> None:
    url = None
    if db == "postgres":
        if not PG_URL:
            if PG_REQUIRED:
                pytest.fail("CUIBAN_REQUIRE_PG=1 but CUIBAN_TEST_PG_URL is not set")
            pytest.skip(NO_PG)
        url = PG_URL
    figures = run(5_000, 50, tmp_path, url)
    assert figures["digest"].result == figures["digest (raw)"].result == 5_000
    queued = figures["tick"].result
    assert queued["digest"] == 4  # the coordinator and the three information admins
    # every department is behind on 12-16: its people hear of it, in one mail each (reminders.combine)
    assert queued["combined"] + queued["reminder"] > 50 and queued["escalation"] + queued["combined"] > 50
    assert figures["waits"].writes and figures["tick"].cpu > 0
    text = report(figures, 5_000, 50)
    assert "× raw" in text and "one-row writes by another process during the tick" in text
