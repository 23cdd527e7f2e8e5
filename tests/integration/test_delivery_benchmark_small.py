"""The delivery benchmark at 300 messages: every side delivers each message exactly once, the ratio is
computed. No speed is asserted here (the machine is shared); the figures come from the full size."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.delivery import mix, report, run
from tests.conftest import NO_PG, PG_REQUIRED, PG_URL

N = 300


def _check(best, rounds, weights) -> None:  # type: ignore[no-untyped-def]
    assert set(best) == {"raw", "cuiban", "cli"}
    for figure in best.values():
        assert figure.arrived["received"] == figure.arrived["distinct"] == N
        assert figure.arrived["most copies"] == 1
        assert figure.seconds > 0 and figure.cpu > 0 and figure.peak_mb > 0 and figure.per_second > 0
    assert best["raw"].result == N
    assert best["cuiban"].result == {"sent": N, "retried": 0, "failed": 0}
    assert best["cli"].result.startswith(f"sent {N}, to retry 0, failed 0")
    counts = {kind: count for kind, (count, _) in weights.items()}
    assert counts == mix(N) == {"digest": 4, "escalation": 148, "reminder": 148}
    assert weights["digest"][1] > 40  # the progress chart goes with every digest
    table = report(best, rounds, N, None)
    ratio = best["cuiban"].per_second / best["raw"].per_second
    assert "× raw rate" in table and f"{ratio:.2f}" in table


def test_delivery_benchmark_sqlite(tmp_path: Path) -> None:
    _check(*run(N, tmp_path))


@pytest.mark.postgres
def test_delivery_benchmark_postgres(tmp_path: Path) -> None:
    if not PG_URL:
        if PG_REQUIRED:
            pytest.fail("CUIBAN_REQUIRE_PG=1 but CUIBAN_TEST_PG_URL is not set")
        pytest.skip(NO_PG)
    _check(*run(N, tmp_path, db=PG_URL))
