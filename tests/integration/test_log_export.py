"""`log export` on both backends: every log row once, in id order, filters, masked ID-card and phone.

The campaign here maps the roster's ID-card, phone and email columns (synthetic numbers), re-imports
a roster that changes a phone number and an email, asks and approves a correction of an ID-card
number, and ticks once: the log then holds those values in its `data`, which the export must hide.
`build_campaign` is shared with test_purge and the command tests.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import Engine, func, select

from cuiban.models.tables import Teacher, TransitionLog
from cuiban.notifications.render import Renderer
from cuiban.planfile.loader import load_plan
from cuiban.schedules.tick import run_tick
from cuiban.services import log_export, teachers
from cuiban.services.roster_import import import_roster
from tests.conftest import MINIMAL_PLAN
from tests.factories import write_csv

T0 = pendulum.datetime(2016, 11, 28, 9, 0, tz="Asia/Shanghai")
TICK = pendulum.datetime(2016, 12, 2, 9, 30, tz="Asia/Shanghai")
HEADER = ["工号", "姓名", "所属部门", "合同期限(月)", "身份证号", "手机号", "电子邮箱"]
ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
LOG = TransitionLog.__table__
TEACHER = Teacher.__table__


def plan_text() -> str:
    """The minimal plan with the ID-card, phone and email columns mapped and a retention period."""
    text = MINIMAL_PLAN.read_text(encoding="utf-8")
    text = text.replace(
        "contract_months: 合同期限(月)}",
        "contract_months: 合同期限(月), id_card: 身份证号, phone: 手机号, email: 电子邮箱}",
    )
    assert "id_card: 身份证号" in text
    return text + "retention: {days_after_end: 30}\n"


def id_number(n: int) -> str:
    """A synthetic resident ID number with a valid check digit (GB 11643)."""
    body = f"11010119800101{n:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def mobile(n: int) -> str:
    return f"139{n:08d}"


def roster_rows(changed: bool = False) -> list[list[str]]:
    rows = []
    for n in range(1, 7):
        department = "甲学院" if n <= 3 else "乙学院"
        months = "6" if n == 6 else "36"
        phone = mobile(n + 50) if changed and n == 2 else mobile(n)
        email = f"new{n}@school.example" if changed and n == 2 else f"t{n}@school.example"
        rows.append([f"{n:06d}", f"教师{n}", department, months, id_number(n), phone, email])
    return rows


def load_sensitive_plan(folder: Path):  # type: ignore[no-untyped-def]
    """(plan, calendar) of plan_text(), written into `folder`."""
    path = folder / "plan.yaml"
    path.write_text(plan_text(), encoding="utf-8")
    return load_plan(path)


@pytest.fixture(scope="module")
def sensitive_plan(tmp_path_factory):
    return load_sensitive_plan(tmp_path_factory.mktemp("plan"))


def build_campaign(engine: Engine, plan, calendar, folder: Path, *, sensitive_changes: bool = True) -> None:
    """Import, (re-import changing a phone and an email), a teacher taken to `reported` with a
    correction asked and approved (of the ID-card number, or of the name), and one tick."""
    first = write_csv(folder / "roster.csv", HEADER, roster_rows())
    import_roster(engine, plan, calendar, first, T0, actor="人事处")
    if sensitive_changes:
        again = write_csv(folder / "roster-2.csv", HEADER, roster_rows(changed=True))
        import_roster(engine, plan, calendar, again, T0.add(days=1), actor="人事处")
    at = T0.add(days=2)
    for event in ("issue_account", "start", "submit", "review", "confirm", "report"):
        at = at.add(minutes=5)
        teachers.fire(engine, plan, "000001", event, at, actor="程协调")
    change = {"id_card": id_number(99)} if sensitive_changes else {"name": "教师一"}
    fire = teachers.fire
    fire(engine, plan, "000001", "request_correction", at.add(hours=1), actor="甲采集", changes=change)
    fire(engine, plan, "000001", "approve_correction", at.add(hours=2), actor="程协调")
    run_tick(engine, plan, calendar, Renderer("zh"), TICK)


@pytest.fixture
def campaign(engine, sensitive_plan, tmp_path):
    plan, calendar = sensitive_plan
    build_campaign(engine, plan, calendar, tmp_path)
    return engine, plan


def exported(engine, plan, fmt: str, **window) -> str:
    out = io.StringIO()
    within = log_export.window(plan, window.get("start"), window.get("end"), window.get("unit"))
    log_export.export_log(engine, plan, out, fmt, within, page_size=7)
    return out.getvalue()


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def log_count(engine, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(LOG).where(*where)).scalar_one()


def test_every_row_once_in_id_order_on_both_formats(campaign) -> None:
    engine, plan = campaign
    rows = csv_rows(exported(engine, plan, "csv"))
    lines = [json.loads(line) for line in exported(engine, plan, "jsonl").splitlines()]
    total = log_count(engine)
    assert total > 20 and len(rows) == len(lines) == total
    ids = [int(r["id"]) for r in rows]
    assert ids == sorted(set(ids)) == [line["id"] for line in lines]
    assert list(rows[0]) == list(log_export.HEADER)
    first = rows[0]
    assert (first["record_kind"], first["record_key"], first["unit"], first["event"]) == (
        "teacher", "000001", "dept_a", "import",
    )
    assert first["at"] == "2016-11-28T09:00:00+08:00" and first["actor"] == "人事处"
    assert {r["record_kind"] for r in rows} >= {"teacher", "task"}


def test_no_id_card_or_phone_number_leaves_and_changes_show_as_changed(campaign) -> None:
    engine, plan = campaign
    for fmt in log_export.FORMATS:
        text = exported(engine, plan, fmt)
        assert not ID_NUMBER.search(text) and not MOBILE.search(text), fmt
    lines = [json.loads(line) for line in exported(engine, plan, "jsonl").splitlines()]
    updates = [line for line in lines if line["event"] == "update"]
    assert [u["changes"] for u in updates] == [
        {"phone": ["******", "******"], "email": ["t2@school.example", "new2@school.example"]}
    ]
    asked = next(line for line in lines if line["event"] == "request_correction")
    assert asked["changes"] == {"id_card": ["******", "******"]} and asked["actor"] == "甲采集"
    with engine.connect() as connection:  # the log itself holds them: that is what is being hidden
        stored = connection.execute(select(LOG.c.data).where(LOG.c.data.is_not(None))).scalars().all()
    assert any(mobile(52) in d for d in stored) and any(id_number(99) in d for d in stored)


def test_unit_filter_takes_its_teachers_and_tasks(campaign) -> None:
    engine, plan = campaign
    rows = csv_rows(exported(engine, plan, "csv", unit="dept_a"))
    assert rows and {r["unit"] for r in rows} == {"dept_a"}
    with engine.connect() as connection:
        teacher_rows = connection.execute(
            select(func.count()).select_from(LOG.join(TEACHER, TEACHER.c.staff_id == LOG.c.record_key))
            .where(LOG.c.record_kind == "teacher", TEACHER.c.unit_id == "dept_a")
        ).scalar_one()
        task_keys = connection.execute(select(LOG.c.record_key).where(LOG.c.record_kind == "task")).scalars()
        task_rows = sum(1 for key in task_keys if key.split("/")[1] == "dept_a")
    assert task_rows > 0 and len(rows) == teacher_rows + task_rows
    assert {r["record_kind"] for r in rows} == {"teacher", "task"}


def test_time_window_by_date_and_by_moment(campaign) -> None:
    engine, plan = campaign
    day = csv_rows(exported(engine, plan, "csv", start="2016-11-29", end="2016-11-29"))
    assert [r["event"] for r in day] == ["update"]
    start = pendulum.datetime(2016, 11, 30, 9, 10, tz="Asia/Shanghai")
    later = csv_rows(exported(engine, plan, "csv", start="2016-11-30T09:10+08:00"))
    assert len(later) == log_count(engine, LOG.c.at >= start) > 0
    assert all(r["at"] >= "2016-11-30T09:10:00+08:00" for r in later)


@pytest.mark.parametrize(
    ("start", "end", "unit", "says"),
    [
        ("yesterday", None, None, "--from 'yesterday' is neither a date"),
        ("2016-12-01T10:00", None, None, "has no timezone offset"),
        ("2016-12-02", "2016-12-01", None, "--to (2016-12-01) is before --from (2016-12-02)"),
        (None, None, "nowhere", "--unit 'nowhere' is not a unit of the plan"),
    ],
)
def test_bad_window_refused_in_one_sentence(sensitive_plan, start, end, unit, says) -> None:
    plan, _ = sensitive_plan
    with pytest.raises(log_export.Refusal, match=re.escape(says)):
        log_export.window(plan, start, end, unit)


def test_benchmark_runs_small(tmp_path: Path) -> None:
    """bench.log_export at 2,000 teachers: every log row written, by the export and by its raw floor."""
    from bench.log_export import built, one_size, report

    figures = one_size(built(tmp_path, 2_000, 20), 20, tmp_path)
    assert figures["export"].rows == figures["raw"].rows == figures["log rows"] >= 6_000
    assert "rows written = SELECT COUNT(*) = " in report([figures], 20)
