"""The province-scale benchmark at 5,000 rows, on SQLite and on PostgreSQL: it runs, and both sides
end with the same data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench.province_scale import Store, libpq_url, report, run
from tests.conftest import NO_PG, PG_REQUIRED, PG_URL

STATES = "SELECT state, count(*) FROM teacher GROUP BY state ORDER BY state"
SYNC_LOG = "SELECT count(*) FROM transition_log WHERE source = 'sync' AND record_kind = 'teacher'"


def _sqlite(db: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return [tuple(row) for row in connection.execute(sql).fetchall()]
    finally:
        connection.close()


def _postgres(db: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(libpq_url(db)) as connection:
        return [tuple(row) for row in connection.execute(sql).fetchall()]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_benchmark_runs_small_and_agrees_with_its_baseline(backend: str, tmp_path: Path) -> None:
    url = None
    if backend == "postgres":
        if not PG_URL:
            if PG_REQUIRED:
                pytest.fail("CUIBAN_REQUIRE_PG=1 but CUIBAN_TEST_PG_URL is not set")
            pytest.skip(NO_PG)
        url = PG_URL
    store = Store(tmp_path, url)
    ours, raw = store.db("cuiban", 0), store.db("raw", 0)
    query = _sqlite if url is None else _postgres
    try:
        pairs = run(5_000, 50, tmp_path, url=url)
        (imported, raw_imported), (synced, raw_synced) = pairs
        assert imported.result == {"imported": 5_000, "excluded": 0}
        assert raw_imported.result == 5_000
        assert synced.result == {"changed": 5_000, "steps": raw_synced.result, "conflicts": 0}
        assert (
            query(ours, STATES)  # type: ignore[arg-type]
            == query(raw, STATES)  # type: ignore[arg-type]
            == [("account_issued", 1667), ("filling", 1667), ("submitted", 1666)]
        )
        assert query(ours, SYNC_LOG) == [(raw_synced.result,)]  # type: ignore[arg-type]
    finally:
        store.drop(ours)
        store.drop(raw)

    table = report(pairs, 5_000, 50)
    assert "import" in table and "ratio" in table and "cpu s" in table
    assert all(f.peak_mb > 0 for pair in pairs for f in pair)
    assert imported.cpu > 0 and synced.cpu > 0  # the raw sides' own may round to nothing: the server works
    if url is not None:  # the server runs here (the test's own): its CPU is read too
        assert all(f.server_cpu is not None and f.server_cpu >= 0 for pair in pairs for f in pair)
