"""The web benchmark at 3,000 teachers over 30 units: it runs, both sides of each pair agree, the load
against a real `cuiban serve` meets no error, and the figures are printed. Timings are not checked."""

from __future__ import annotations

from pathlib import Path

from bench.web_pages import load, report, run, write_plan


def test_the_plan_has_the_synthetic_departments_and_no_others(tmp_path: Path) -> None:
    plan, _ = load(write_plan(tmp_path / "plan.yaml", 30))
    assert plan.departments() == [f"d{n}" for n in range(30)]
    assert plan.units["d7"].collector == "c7" and plan.people["c7"].unit == "d7"
    assert {u.kind for u in plan.units.values()} == {"office", "department"}


def test_web_benchmark_runs_small(tmp_path: Path) -> None:
    found = run(3_000, 30, f"sqlite:///{tmp_path / 'web.sqlite3'}", repeat=2, clients=5, duration=3)

    timings = found.side.timings
    assert timings["digest_data"].result == timings["figures (raw)"].result == 3_000
    assert found.side.unit_teachers == 100
    assert timings["unit_page"].result == timings["teachers (raw)"].result == found.side.unfinished > 0
    assert all(t.wall > 0 and t.cpu >= 0 for t in [*timings.values(), *found.served.values()])
    assert [f.step for f in found.built] == ["import", "sync", "tick"]

    assert found.load is not None
    assert found.load.errors == []
    assert found.load.requests > 20
    assert {"dashboard", "unit page", "search", "timeline", "teacher page"} <= set(found.load.latencies)

    printed = report(found)
    for line in ("dashboard page", "figures (raw)", "unit page (served)", "teachers (raw)", "goal: unit page",
                 "errors 0", "requests/s", "p95 s"):
        assert line in printed
