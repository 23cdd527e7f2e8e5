"""`purge` on both backends (acceptance 6): after it, no ID-card or mobile number anywhere in the database
(every text column of every table scanned), reports still print; --dry-run and an early run change
nothing; a second purge changes nothing and says so; the values a re-import, a correction or a note
put into the transition log are masked (migration 0010's permit), its rows kept."""

from __future__ import annotations

import json

import pendulum
import pytest
from sqlalchemy import String, column, func, inspect, select, table, update

from cuiban.models.purge_store import PERMIT
from cuiban.models.tables import Teacher, TransitionLog
from cuiban.services import purge as purge_service
from cuiban.services import teachers
from cuiban.services.rejection import Refusal
from cuiban.services.report_request import ReportRequest, make_reports
from tests.integration.test_log_export import (
    ID_NUMBER,
    MOBILE,
    build_campaign,
    load_sensitive_plan,
    log_count,
)

LOG = TransitionLog.__table__
TEACHER = Teacher.__table__
KEPT_UNTIL = "2017-01-29T23:59:59+08:00"  # the minimal plan's campaign.end 2016-12-30 + 30 days
AFTER = pendulum.datetime(2017, 2, 1, 9, 0, tz="Asia/Shanghai")


@pytest.fixture(scope="module")
def sensitive_plan(tmp_path_factory):
    return load_sensitive_plan(tmp_path_factory.mktemp("plan"))


def numbers_found(engine) -> set[tuple[str, str]]:
    """(table, column) of every text column in the database holding an ID-card or mobile number."""
    found = set()
    with engine.connect() as connection:
        inspector = inspect(connection)
        for name in inspector.get_table_names():
            for info in inspector.get_columns(name):
                if not isinstance(info["type"], String):
                    continue
                values = connection.execute(select(column(info["name"])).select_from(table(name))).scalars()
                if any(v and (ID_NUMBER.search(v) or MOBILE.search(v)) for v in values):
                    found.add((name, info["name"]))
    return found


def lines(engine, plan, now, **options) -> list[str]:
    return purge_service.lines(purge_service.purge(engine, plan, now, **options), plan.timezone)


@pytest.fixture
def clean_campaign(engine, sensitive_plan, tmp_path):
    """No re-import changing those fields, a correction of a name: the log holds no such value."""
    plan, calendar = sensitive_plan
    build_campaign(engine, plan, calendar, tmp_path, sensitive_changes=False)
    return engine, plan


def test_purge_leaves_no_number_anywhere_and_reports_still_print(clean_campaign, tmp_path) -> None:
    engine, plan = clean_campaign
    assert numbers_found(engine) == {("teacher", "id_card"), ("teacher", "phone")}
    before = log_count(engine)

    dry = lines(engine, plan, AFTER, dry_run=True)
    assert dry == [
        f"cycle 2016: personal data kept until {KEPT_UNTIL} (campaign.end + retention)",
        "dry run, nothing changed; would empty (teachers): "
        "teacher.id_card: 6, teacher.phone: 6, teacher.email: 6",
    ]
    early = lines(engine, plan, pendulum.parse(KEPT_UNTIL))
    assert early[1].startswith("not due yet: nothing purged")
    assert log_count(engine) == before and len(numbers_found(engine)) == 2

    done = lines(engine, plan, AFTER, actor="程协调")
    assert done[1] == (
        "emptied (teachers): teacher.id_card: 6, teacher.phone: 6, teacher.email: 6; "
        "an audit entry was written to the log"
    )
    assert numbers_found(engine) == set()
    with engine.connect() as connection:
        shown = (TEACHER.c.staff_id, TEACHER.c.name, TEACHER.c.unit_id, TEACHER.c.email)
        kept = connection.execute(select(*shown).order_by(TEACHER.c.id)).all()
        audit = connection.execute(select(LOG).where(LOG.c.record_kind == "purge")).one()
    assert kept[0] == ("000001", "教师一", "dept_a", None) and len(kept) == 6
    assert (audit.actor, audit.event, audit.record_key, audit.source) == ("程协调", "purge", "2016", "cli")
    assert '"teacher.phone": [6, 0]' in audit.data and log_count(engine) == before + 1

    again = lines(engine, plan, AFTER.add(days=1))
    assert again[1] == (
        "nothing left to purge; nothing changed (purged at 2017-02-01T09:00:00+08:00 by 程协调)"
    )
    assert log_count(engine) == before + 1

    for name in ("dept-audit", "teacher-sheet"):  # 附表6 and 附表5
        folder = tmp_path / name
        asked = ReportRequest(name, "xlsx", each=True, output=folder)
        written = make_reports(engine, plan, asked, AFTER, None).written
        assert len(written) == 2 and all(p.stat().st_size > 0 for p in written)


def log_rows(engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(LOG).order_by(LOG.c.id))]


@pytest.fixture
def logged_campaign(engine, sensitive_plan, tmp_path):
    """A roster re-import changed a phone and an email, a correction of an ID-card number was asked
    and approved on the command line, and a note was typed with a mobile number in it: the log's
    `data` and `note` hold such values."""
    plan, calendar = sensitive_plan
    build_campaign(engine, plan, calendar, tmp_path, sensitive_changes=True)
    at = pendulum.datetime(2016, 12, 5, 10, 0, tz="Asia/Shanghai")
    note = "本人手机 13912345678 已核"
    teachers.fire(engine, plan, "000003", "issue_account", at, actor="程协调", note=note)
    return engine, plan


def test_values_the_log_holds_are_masked_and_its_rows_kept(logged_campaign, tmp_path) -> None:
    engine, plan = logged_campaign
    assert numbers_found(engine) == {
        ("teacher", "id_card"), ("teacher", "phone"), ("transition_log", "data"), ("transition_log", "note"),
    }
    before = log_rows(engine)
    would = "4 rows (id_card: 2, phone: 1, email: 1, other: 1)"

    dry = lines(engine, plan, AFTER, dry_run=True)
    assert dry[1:] == [
        "dry run, nothing changed; would empty (teachers): "
        "teacher.id_card: 6, teacher.phone: 6, teacher.email: 6",
        f"would mask in the transition log: {would}",
    ]
    early = lines(engine, plan, pendulum.parse(KEPT_UNTIL))
    assert early[2] == f"to mask once due in the transition log: {would}"
    assert log_rows(engine) == before

    done = lines(engine, plan, AFTER, actor="程协调")
    assert done[2] == (
        f"masked in the transition log: {would}: ID-card, phone and email values and numbers typed in "
        "notes replaced by ******; the rows stay"
    )
    assert numbers_found(engine) == set()
    after = log_rows(engine)
    assert len(after) == len(before) + 1  # the audit entry; no row removed
    kept = ("id", "record_kind", "record_key", "from_state", "to_state", "event", "actor", "source", "at")
    assert [{k: r[k] for k in kept} for r in after[:-1]] == [{k: r[k] for k in kept} for r in before]
    changed = [(b, a) for b, a in zip(before, after, strict=False) if b != a]
    assert len(changed) == 4
    assert [json.loads(a["data"]) for b, a in changed if b["event"] == "update"] == [
        {"phone": ["******", "******"], "email": ["******", "******"]}
    ]
    assert {json.dumps(json.loads(a["data"])) for b, a in changed if "correction" in b["event"]} == {
        json.dumps({"id_card": ["******", "******"]})
    }
    assert [a["note"] for b, a in changed if b["note"] != a["note"]] == ["本人手机 ****** 已核"]
    audit = after[-1]
    assert audit["record_kind"] == "purge" and json.loads(audit["data"])["transition_log"] == [4, 0]
    assert "transition_log rows masked: 4 (id_card 2, phone 1, email 1, other 1)" in audit["note"]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(PERMIT)).scalar_one() == 0

    again = lines(engine, plan, AFTER.add(days=1))
    previous = "(purged at 2017-02-01T09:00:00+08:00 by 程协调)"
    assert again[1:] == [f"nothing left to purge; nothing changed {previous}"]
    assert log_rows(engine) == after
    for name in ("dept-audit", "teacher-sheet"):  # 附表6 and 附表5
        asked = ReportRequest(name, "xlsx", each=True, output=tmp_path / name)
        written = make_reports(engine, plan, asked, AFTER, None).written
        assert len(written) == 2 and all(p.stat().st_size > 0 for p in written)


def test_a_database_purged_before_the_log_could_be_masked_gets_its_log_masked(logged_campaign) -> None:
    """Teachers already emptied (a purge before migration 0010): the next purge masks the log alone."""
    engine, plan = logged_campaign
    with engine.begin() as connection:
        connection.execute(update(TEACHER).values(id_card=None, phone=None, email=None))
    done = lines(engine, plan, AFTER)
    assert done[1].startswith("emptied (teachers): teacher.id_card: 0, teacher.phone: 0, teacher.email: 0")
    assert done[2].startswith("masked in the transition log: 4 rows")
    assert numbers_found(engine) == set()


def test_no_retention_in_the_plan_is_refused(engine, minimal_plan) -> None:
    plan, _ = minimal_plan
    with pytest.raises(Refusal, match="the plan sets no retention period, so nothing is purged"):
        purge_service.purge(engine, plan, AFTER)


def test_a_purge_by_an_older_cycles_plan_is_refused(clean_campaign) -> None:
    """Teachers persist across cycles: 2016's purge may not empty what 2017 uses."""
    from cuiban.models import cycle_store
    from cuiban.models.unit_of_work import transaction

    engine, plan = clean_campaign
    with transaction(engine) as connection:
        cycle_store.open_cycle(connection, 2017, "2017", AFTER)
    with pytest.raises(purge_service.NewerCycle, match="cycle 2017 is the current one on this database"):
        purge_service.purge(engine, plan, AFTER)
    assert numbers_found(engine) == {("teacher", "id_card"), ("teacher", "phone")}
