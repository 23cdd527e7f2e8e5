"""The teachers' own reminders (issue 14, acceptance 2): with `teachers.remind` on, each unfinished
in-scope teacher gets at most one mail a day, none once they have submitted, and the digest counts
them; a tick run again sends nothing new.

The demo campaign (the shipped plan and 2016 sample) is replayed to 12-16 with teachers reminded 3,
1 and 0 working days before 组织教师上网填报信息 is due (12-15, teachers at least `submitted`), their
collector in copy. A small campaign on the minimal plan shows the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import email
import json
import shutil
from collections import Counter
from datetime import date
from email import policy
from pathlib import Path
from typing import Any

import pendulum
import pytest

from cuiban.cli.bootstrap import packaged_plan
from cuiban.models import as_of_store, outbox_store, teacher_store
from cuiban.models.database import open_engine
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan
from cuiban.schedules.tick import run_tick
from cuiban.services.replay import progress_by_day, read_done, replay, tick_time
from cuiban.services.roster_import import import_roster
from cuiban.services.status_sync import sync_statuses
from cuiban.workflow.plan.schema import Plan, TeacherReminders, TeacherSpec
from cuiban.workflow.reminders import at_local
from tests.factories import roster, write_csv
from tests.web_support import SAMPLE, TZ

FIRST, LAST = date(2016, 11, 28), date(2016, 12, 16)
STATES = ["pending", "account_issued", "filling"]


def reminding(plan: Plan, before: list[int] | None = None) -> Plan:
    remind = TeacherReminders(before=before or [3, 1, 0], states=STATES, cc_collector=True)
    return plan.model_copy(update={"teachers": TeacherSpec(remind=remind)})


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Any]:
    shipped, calendar = load_plan(packaged_plan())
    plan = reminding(shipped)
    folder = tmp_path_factory.mktemp("teachers")
    path = folder / "cuiban.sqlite3"
    engine = open_engine(f"sqlite:///{path}")
    import_roster(engine, plan, calendar, SAMPLE / "roster.csv", pendulum.datetime(2016, 11, 28, 8, tz=TZ))
    progress = progress_by_day(sorted((SAMPLE / "status").glob("status-*.csv")))
    renderer = Renderer(plan.language)
    transport = FileTransport(folder / "mail")
    replay(
        engine, plan, calendar, renderer, transport, FIRST, LAST, progress, read_done(SAMPLE / "tasks.csv")
    )
    with engine.connect() as connection:
        rows = outbox_store.rows(connection, cycle=plan.cycle)
    engine.dispose()
    return {"plan": plan, "calendar": calendar, "path": path, "rows": rows, "folder": folder}


def _teacher_mails(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["kind"] == "teacher"]


def _day(moment: Any) -> str:
    return pendulum.instance(moment).in_timezone(TZ).date().isoformat()


def test_each_unfinished_teacher_gets_at_most_one_mail_a_day_and_none_once_submitted(demo) -> None:
    plan, mails = demo["plan"], _teacher_mails(demo["rows"])
    days = Counter(_day(m["created_at"]) for m in mails)
    assert set(days) == {"2016-12-12", "2016-12-14", "2016-12-15"}  # 3, 1 and 0 working days before 12-15
    assert max(Counter((m["recipient"], _day(m["created_at"])) for m in mails).values()) == 1
    engine = open_engine(f"sqlite:///{demo['path']}")
    with engine.connect() as connection:
        for day in sorted(days):
            sent = [m for m in mails if _day(m["created_at"]) == day]
            moment = sent[0]["created_at"]
            everyone = teacher_store.staff_ids(connection, except_states=("excluded", "left"))
            then = as_of_store.teacher_states(connection, moment, sorted(everyone))
            mailed = {m["key"].split("|")[1] for m in sent}
            assert all(then[s] in STATES for s in mailed), day  # none who had submitted by then
            unfinished = {s for s, state in then.items() if state in STATES}
            assert mailed == unfinished, day  # and every one who had not (the sample has everyone's email)
            assert days[day] == len(unfinished) > 0
    engine.dispose()
    first = mails[0]
    assert first["data"] and json.loads(first["data"])["cc"]  # the collector in copy
    collector = plan.people[plan.units[first["unit_id"]].collector].email
    assert json.loads(first["data"])["cc"] == [collector]
    assert "身份证" not in first["body_text"] and first["recipient_name"] in first["body_text"]
    assert first["key"].split("|")[1] in first["body_text"]  # the staff ID


def test_the_digest_counts_the_teacher_mails(demo) -> None:
    rows = demo["rows"]
    mails = Counter(_day(m["created_at"]) for m in _teacher_mails(rows))
    digests = {r["slot"]: r for r in rows if r["kind"] == "digest" and r["recipient_name"] == "程兴"}
    for day, digest in digests.items():
        assert json.loads(digest["data"])["teacher_reminders"] == mails.get(day, 0), day
    assert (
        f"提醒教师本人的邮件：过去 24 小时内发出 {mails['2016-12-14']} 封"
        in digests["2016-12-14"]["body_text"]
    )
    assert "提醒教师本人的邮件" not in digests["2016-12-16"]["body_text"]


def test_ticking_again_the_same_day_sends_no_teacher_a_second_mail(demo, tmp_path: Path) -> None:
    plan, calendar = demo["plan"], demo["calendar"]
    copy = tmp_path / "again.sqlite3"
    shutil.copy(demo["path"], copy)
    engine = open_engine(f"sqlite:///{copy}")
    last = at_local(LAST, tick_time(plan), plan.timezone)
    renderer = Renderer(plan.language)
    assert sum(run_tick(engine, plan, calendar, renderer, last).queued.values()) == 0
    later = run_tick(engine, plan, calendar, renderer, last.add(hours=8))
    assert later.queued["teacher"] == 0
    engine.dispose()


# ── the same on SQLite and PostgreSQL, on the minimal plan ──────────────────────────────────


def at(day: str, clock: str = "09:30") -> pendulum.DateTime:
    return pendulum.parse(f"2016-{day}T{clock}:00", tz=TZ)


def test_teacher_reminders_on_each_backend(engine, minimal_plan, tmp_path: Path) -> None:
    """Six teachers with email addresses; four submit on 12-14 at 10:00: on 12-12 all six are
    reminded, on 12-14 (ticked before and after the sync) all six once, on 12-15 the two left."""
    plan, calendar = minimal_plan
    plan = reminding(
        plan.model_copy(
            update={
                "roster": plan.roster.model_copy(
                    update={"columns": {**plan.roster.columns, "email": "电子邮箱"}}
                )
            }
        )
    )
    rows = [[r[0], r[1], r[4], "36", r[9]] for r in roster(["甲学院", "乙学院"], 3)]
    write_csv(tmp_path / "roster.csv", ["工号", "姓名", "所属部门", "合同期限(月)", "电子邮箱"], rows)
    import_roster(engine, plan, calendar, tmp_path / "roster.csv", at("11-21"))
    write_csv(tmp_path / "export.csv", ["工号", "填报状态"], [[f"{n:06d}", "已提交"] for n in (1, 2, 3, 4)])
    renderer = Renderer("zh")
    sent: dict[str, int] = {}
    for day in ("12-09", "12-12", "12-14", "12-15", "12-16"):
        sent[day] = run_tick(engine, plan, calendar, renderer, at(day)).queued["teacher"]
        again = run_tick(engine, plan, calendar, renderer, at(day))
        assert sum(again.queued.values()) == 0, day  # the same moment again: nothing new
        if day == "12-14":
            sync_statuses(engine, plan, calendar, tmp_path / "export.csv", at(day, "10:00"))
            assert run_tick(engine, plan, calendar, renderer, at(day, "16:00")).queued["teacher"] == 0
    assert sent == {"12-09": 0, "12-12": 6, "12-14": 6, "12-15": 2, "12-16": 0}
    with engine.connect() as connection:
        mails = outbox_store.rows(connection, kind="teacher")
        digest = outbox_store.rows(connection, kind="digest")[-2]  # 12-15's
    assert {m["key"] for m in mails if m["slot"] == "2016-12-15"} == {
        "teacher|000005|2016-12-15",
        "teacher|000006|2016-12-15",
    }
    assert all(m["priority"] == 3 for m in mails)  # after every office's mail
    assert json.loads(digest["data"])["teacher_reminders"] == 2


def test_off_no_teacher_is_read_or_mailed(engine, minimal_plan, tmp_path: Path) -> None:
    plan, calendar = minimal_plan
    assert plan.teachers.remind is None
    rows = [[r[0], r[1], r[4], "36"] for r in roster(["甲学院"], 2)]
    write_csv(tmp_path / "roster.csv", ["工号", "姓名", "所属部门", "合同期限(月)"], rows)
    import_roster(engine, plan, calendar, tmp_path / "roster.csv", at("11-21"))
    assert run_tick(engine, plan, calendar, Renderer("zh"), at("12-12")).queued["teacher"] == 0


def test_the_sent_mail_has_the_collector_in_copy(demo) -> None:
    """The row's `data.cc` reaches the wire: the written message carries a Cc header."""
    first = _teacher_mails(demo["rows"])[0]
    [written] = (demo["folder"] / "mail").glob(f"{first['id']:06d}-teacher*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert [a.addr_spec for a in message["Cc"].addresses] == json.loads(first["data"])["cc"]
    assert message["To"].addresses[0].addr_spec == first["recipient"]


def test_after_the_day_s_mail_a_later_tick_finds_no_teacher_to_render(demo) -> None:
    """The outbox's keys are checked in the query: the ticks after the first of a reminding day read
    nothing to render (at 1,000,000 teachers they would otherwise render every one again)."""
    mails = _teacher_mails(demo["rows"])
    day = _day(mails[0]["created_at"])
    units = {m["unit_id"] for m in mails if _day(m["created_at"]) == day}
    engine = open_engine(f"sqlite:///{demo['path']}")
    with engine.connect() as connection:
        for unit in units:
            assert teacher_store.to_remind(connection, unit, STATES, unsent=(demo["plan"].cycle, day)) == []
    engine.dispose()
