"""Acceptance 4: the SLA report of the demo campaign matches the transition log.

The expected figures are recomputed here from the raw rows (sqlite3 on the file, plain Python),
without `workflow.sla` or `models.sla_store`, and compared with every figure of the workbook that
`cuiban report sla` writes, at three moments of the campaign (only log entries by then count).
The rules restated here (docs/sla.md): `done` is on time, `done_late` late, anything else past its
due time overdue; working days late from the due date to the completion date (or to now's date);
a stage is reached the first time a record entered it or a later state of the progress order.
"""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pendulum
import pytest

from cuiban.cli.bootstrap import packaged_plan
from cuiban.models.database import open_engine
from cuiban.planfile.loader import load_plan
from cuiban.services.sla import SlaRequest, write_sla_report
from tests.web_support import campaign_file

TZ = "Asia/Shanghai"
MOMENTS = ["2016-12-06T12:00+08:00", "2016-12-21T00:30+08:00", "2016-12-30T18:00+08:00"]
RANK = {
    "pending": 0, "account_issued": 1, "filling": 2, "returned": 2, "submitted": 3, "reviewed": 4,
    "confirmed": 5, "reported": 6, "correction_requested": 6,
}  # fmt: skip
SPANS = [("account_issued", "submitted"), ("submitted", "reviewed")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return campaign_file(tmp_path_factory.mktemp("sla"), date(2016, 12, 30))


@pytest.fixture(scope="module")
def plan_calendar():
    return load_plan(packaged_plan())


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def day(moment: datetime) -> date:
    return pendulum.instance(moment).in_timezone(TZ).date()


def mid(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def expected_rows(path: Path, plan, calendar, now: datetime) -> dict[str, list]:
    """Department name → the row the report should have, from the log's rows by `now`."""
    db = sqlite3.connect(path)
    log = [
        (kind, key, state, utc(at))
        for kind, key, state, at in db.execute(
            "SELECT record_kind, record_key, to_state, at FROM transition_log ORDER BY id"
        )
    ]
    log = [entry for entry in log if entry[3] <= now]
    last_task: dict[str, tuple[str, datetime]] = {}
    reached: dict[str, dict[str, datetime]] = defaultdict(dict)
    for kind, key, state, at in log:
        if kind == "task":
            last_task[key] = (state, at)
        elif kind == "teacher" and state in RANK:
            for stage, rank in RANK.items():
                if rank <= RANK[state] and stage not in reached[key]:
                    reached[key][stage] = at
    counts = defaultdict(lambda: {"on_time": 0, "late": 0, "overdue": 0, "pending": 0})
    late_days = defaultdict(list)
    for milestone, unit, occurrence, due in db.execute(
        "SELECT milestone_id, unit_id, occurrence, due_at FROM task WHERE cycle = 2016"
    ):
        key = "/".join([milestone, unit] + ([occurrence] if occurrence else []))
        state, at = last_task.get(key, (None, None))
        due = utc(due) if due else None
        if state == "done":
            counts[unit]["on_time"] += 1
        elif state == "done_late":
            counts[unit]["late"] += 1
            late_days[unit].append(calendar.working_days_between(day(due), day(at)))
        elif due is not None and now > due:
            counts[unit]["overdue"] += 1
            late_days[unit].append(calendar.working_days_between(day(due), day(now)))
        else:
            counts[unit]["pending"] += 1
    unit_of = dict(db.execute("SELECT staff_id, unit_id FROM teacher"))
    spans = defaultdict(lambda: ([], [], [], []))  # days, working days of each span
    for staff_id, stages in reached.items():
        for n, (start, end) in enumerate(SPANS):
            if start in stages and end in stages:
                a, b = stages[start], stages[end]
                spans[unit_of[staff_id]][2 * n].append((b - a).total_seconds() / 86400)
                spans[unit_of[staff_id]][2 * n + 1].append(calendar.working_days_between(day(a), day(b)))
    db.close()
    rows = {}
    for uid in plan.departments():
        c, late, s = counts[uid], late_days[uid], spans[uid]
        due_count = c["on_time"] + c["late"] + c["overdue"]
        rate = round(100 * c["on_time"] / due_count, 1) if due_count else None
        rows[plan.units[uid].name] = [
            c["on_time"], c["late"], c["overdue"], c["pending"], rate,
            sum(late), mid(late), max(late, default=None),
            len(s[0]), mid(s[0]), mid(s[1]), len(s[2]), mid(s[2]), mid(s[3]),
        ]  # fmt: skip
    return rows


def workbook_rows(path: Path) -> dict[str, list]:
    sheet = openpyxl.load_workbook(path)["部门"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    return {row[0]: list(row[1:]) for row in rows}


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_report_matches_the_log(demo: Path, plan_calendar, tmp_path: Path, moment: str) -> None:
    plan, calendar = plan_calendar
    now = pendulum.parse(moment)
    engine = open_engine(f"sqlite:///{demo}")
    try:
        out = write_sla_report(engine, plan, calendar, SlaRequest("xlsx", tmp_path / "sla.xlsx"), now)
    finally:
        engine.dispose()
    expected = expected_rows(demo, plan, calendar, now.in_timezone("UTC"))
    assert workbook_rows(out) == expected


def test_the_figures_say_something(demo: Path, plan_calendar) -> None:
    """The comparison above is not vacuous: at the end of the campaign there are late and overdue
    tasks, and spans measured for most teachers."""
    plan, calendar = plan_calendar
    rows = expected_rows(demo, plan, calendar, pendulum.parse(MOMENTS[-1]).in_timezone("UTC"))
    assert sum(r[1] for r in rows.values()) > 0 and sum(r[2] for r in rows.values()) > 0
    assert sum(r[8] for r in rows.values()) > 250 and sum(r[11] for r in rows.values()) > 250
    early = expected_rows(demo, plan, calendar, pendulum.parse(MOMENTS[0]).in_timezone("UTC"))
    assert sum(r[11] for r in early.values()) < sum(r[11] for r in rows.values())


def test_cuiban_report_sla_writes_xlsx_and_html(demo: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CUIBAN_PLAN": str(packaged_plan()), "CUIBAN_DB": f"sqlite:///{demo}"}
    command = [sys.executable, "-m", "cuiban.cli.main", "report", "sla", "--now", MOMENTS[-1]]
    xlsx, html = tmp_path / "sla.xlsx", tmp_path / "sla.html"
    done = subprocess.run(
        [*command, "--format", "xlsx", "-o", str(xlsx)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout == f"wrote {xlsx}\n", done.stderr
    plan, _ = load_plan(packaged_plan())
    names = [plan.units[uid].name for uid in plan.departments()]
    assert list(workbook_rows(xlsx)) == names
    done = subprocess.run(
        [*command, "--format", "html", "-o", str(html)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and all(f"<td>{name}</td>" in page for name in names)
    refused = subprocess.run([*command, "--format", "docx"], env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "xlsx or html" in refused.stderr


# ── the store on both backends: cycles kept apart, skipped states, an as-of moment ──


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


TEACHERS = [("A", "news"), ("B", "news"), ("C", "film"), ("D", "film")]
TEACHER_LOG = [
    ("A", "pending", "2016-11-28T00:00"), ("A", "account_issued", "2016-11-30T00:00"),
    ("A", "submitted", "2016-12-03T00:00"), ("A", "reviewed", "2016-12-05T12:00"),
    ("B", "account_issued", "2016-11-30T00:00"), ("B", "filling", "2016-12-01T00:00"),
    ("B", "reviewed", "2016-12-07T00:00"),  # straight past submitted: submitted then too
    ("C", "account_issued", "2016-11-30T00:00"), ("C", "submitted", "2016-12-10T00:00"),
    ("C", "pending", "2017-11-01T00:00"), ("C", "account_issued", "2017-11-02T00:00"),
    ("C", "submitted", "2017-11-03T00:00"),  # cycle 2017: not 2016's
    ("D", "account_issued", "2016-11-30T00:00"), ("D", "pending", "2017-11-01T00:00"),
    ("D", "submitted", "2017-11-05T00:00"),  # submitted in 2017 only: not measured in 2016
]  # fmt: skip
TASK_LOG = [
    ("open", "2016-11-28T01:05"),
    ("overdue", "2016-12-06T01:05"),
    ("done_late", "2016-12-06T08:00"),
    ("open", "2017-11-02T01:05"),
    ("done", "2017-11-20T08:00"),  # the same key in cycle 2017
]


def _fill(engine) -> None:
    from cuiban.models.tables import Cycle, Task, Teacher, TransitionLog

    start = z("2016-11-28T00:00")
    with engine.begin() as c:
        c.execute(Cycle.__table__.insert(), [
            {"cycle": 2016, "title": "2016", "started_at": start, "closed_at": z("2017-11-01T00:00")},
            {"cycle": 2017, "title": "2017", "started_at": z("2017-11-01T00:00"), "closed_at": None},
        ])  # fmt: skip
        c.execute(Teacher.__table__.insert(), [
            {"staff_id": s, "name": s, "unit_id": u, "state": "pending", "state_changed_at": start,
             "updated_at": start} for s, u in TEACHERS
        ])  # fmt: skip
        c.execute(Task.__table__.insert(), [
            {"cycle": cycle, "milestone_id": "dept_collector", "unit_id": "news", "occurrence": "",
             "state": "open", "due_at": due, "updated_at": start}
            for cycle, due in ((2016, z("2016-12-05T15:59:59")), (2017, z("2017-12-05T15:59:59")))
        ])  # fmt: skip
        entries = [("teacher", key, state, at) for key, state, at in TEACHER_LOG]
        entries += [("task", "dept_collector/news", state, at) for state, at in TASK_LOG]
        c.execute(TransitionLog.__table__.insert(), [
            {"record_kind": kind, "record_key": key, "to_state": state, "event": "e", "source": "test",
             "at": z(at)} for kind, key, state, at in entries
        ])  # fmt: skip


def test_the_store_keeps_cycles_apart_on_both_backends(engine, plan_calendar) -> None:
    from cuiban.services.sla import sla_figures
    from cuiban.workflow.sla import Span

    _fill(engine)
    plan, calendar = plan_calendar
    result = sla_figures(engine, plan, calendar, pendulum.parse("2018-01-01T00:00+08:00"))
    rows = {d.unit_id: d for d in result.departments}
    news, film = rows["news"], rows["film"]
    assert news.tasks.counts == {"on_time": 0, "late": 1, "overdue": 0, "pending": 0}
    assert news.tasks.days_late == [1]
    assert news.spans == (Span(2, 5.0, 3.5), Span(2, 1.2, 0.5))
    assert film.spans == (Span(1, 10.0, 7.0), Span(0, None, None))
    early = sla_figures(engine, plan, calendar, pendulum.parse("2016-12-06T12:00+08:00"))
    news = next(d for d in early.departments if d.unit_id == "news")
    assert news.tasks.counts["overdue"] == 1 and news.tasks.days_late == [1]
    assert news.spans == (Span(1, 3.0, 2.0), Span(1, 2.5, 1.0))
