"""Both machines through the store, on SQLite and PostgreSQL: states, log rows, refusals change nothing."""

from __future__ import annotations

import pendulum
import pytest
from sqlalchemy import insert, select

from cuiban.models import log_store, task_store
from cuiban.models.tables import Teacher
from cuiban.models.unit_of_work import transaction
from cuiban.services import teachers
from cuiban.workflow.machines import IllegalEvent
from tests.unit.test_task_machine import LEGAL as TASK_LEGAL
from tests.unit.test_teacher_machine import KWARGS, LEGAL

NOW = pendulum.datetime(2016, 12, 10, 10, tz="Asia/Shanghai")
TEACHER = Teacher.__table__


def _add_teacher(engine, staff_id: str, state: str, **fields) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(TEACHER).values(
                staff_id=staff_id,
                name="测试",
                unit_id="dept_a",
                state=state,
                title="讲师",
                state_changed_at=NOW,
                updated_at=NOW,
                **fields,
            )
        )


def _state(engine, staff_id: str) -> str:
    with engine.connect() as connection:
        return connection.execute(select(TEACHER.c.state).where(TEACHER.c.staff_id == staff_id)).scalar_one()


def test_every_legal_teacher_transition_is_stored_and_logged(engine, minimal_plan) -> None:
    plan, _ = minimal_plan
    for n, ((source, event), dest) in enumerate(sorted(LEGAL.items())):
        staff_id = f"{n:06d}"
        _add_teacher(engine, staff_id, source)
        if source == "correction_requested":  # the request that put it there, as the log holds it
            with transaction(engine) as connection:
                log_store.append(
                    connection,
                    [
                        log_store.Entry(
                            "teacher",
                            staff_id,
                            "reported",
                            source,
                            "request_correction",
                            "cli",
                            NOW,
                            data={"title": ["讲师", "副教授"]},
                        )
                    ],
                )
        teachers.fire(engine, plan, staff_id, event, NOW, actor="程兴", **KWARGS.get(event, {}))
        assert _state(engine, staff_id) == dest, (source, event)
        with engine.connect() as connection:
            last = log_store.history(connection, "teacher", staff_id)[-1]
        assert (last["from_state"], last["to_state"], last["event"], last["actor"]) == (
            source,
            dest,
            event,
            "程兴",
        )
        assert last["at"] == NOW and last["at"].tzinfo is not None


@pytest.mark.parametrize(
    ("state", "event"),
    [("pending", "confirm"), ("reported", "start"), ("left", "issue_account"), ("excluded", "report")],
)
def test_illegal_teacher_events_change_nothing(engine, minimal_plan, state: str, event: str) -> None:
    plan, _ = minimal_plan
    _add_teacher(engine, "000777", state)
    with pytest.raises(IllegalEvent, match=f"teacher 000777 is {state}"):
        teachers.fire(engine, plan, "000777", event, NOW, **KWARGS.get(event, {}))
    assert _state(engine, "000777") == state
    with engine.connect() as connection:
        assert log_store.history(connection, "teacher", "000777") == []


def test_approved_correction_updates_the_row_and_keeps_the_old_value(engine, minimal_plan) -> None:
    plan, _ = minimal_plan
    _add_teacher(engine, "000100", "reported")
    teachers.fire(
        engine, plan, "000100", "request_correction", NOW, changes={"title": "副教授"}, note="职称晋升"
    )
    assert teachers.show(engine, "000100")["title"] == "讲师"
    teachers.fire(engine, plan, "000100", "approve_correction", NOW.add(days=1), actor="教育厅")
    assert teachers.show(engine, "000100")["title"] == "副教授"
    with engine.connect() as connection:
        events = [(e["event"], e["data"]) for e in log_store.history(connection, "teacher", "000100")]
    assert events == [
        ("request_correction", {"title": ["讲师", "副教授"]}),
        ("approve_correction", {"title": ["讲师", "副教授"]}),
    ]


def test_every_legal_task_transition_is_stored_and_logged(engine, minimal_plan) -> None:
    plan, calendar = minimal_plan
    with transaction(engine) as connection:
        task_store.ensure(connection, plan, calendar, NOW)
    for (source, event), dest in sorted(TASK_LEGAL.items()):
        with transaction(engine) as connection:
            row = task_store.find(connection, "audit", "dept_a")
            from sqlalchemy import update

            connection.execute(
                update(task_store.TASK)
                .where(task_store.TASK.c.id == row["id"])
                .values(state=source, escalation_level=0)
            )
            loaded = task_store.state_of(task_store.find(connection, "audit", "dept_a"))
            task = loaded.machine()
            task.fire(event, NOW)
            task_store.save(connection, loaded, task, NOW, "tick", None)
        with engine.connect() as connection:
            saved = task_store.find(connection, "audit", "dept_a")
            last = log_store.history(connection, "task", "audit/dept_a")[-1]
        assert saved["state"] == dest, (source, event)
        assert saved["escalation_level"] == (1 if event == "escalate" else 0)
        assert (last["from_state"], last["to_state"], last["event"]) == (source, dest, event)
        assert (saved["completed_at"] is not None) == (dest in ("done", "done_late"))


def test_timestamps_come_back_aware_in_utc(engine) -> None:
    _add_teacher(engine, "000200", "pending")
    with engine.connect() as connection:
        stamp = connection.execute(select(TEACHER.c.state_changed_at)).scalar_one()
    assert stamp.tzinfo is not None and stamp.utcoffset().total_seconds() == 0
    assert stamp == NOW


def test_naive_timestamps_are_refused(engine) -> None:
    from datetime import datetime

    with pytest.raises(Exception, match="naive datetime"), engine.begin() as connection:
        connection.execute(
            insert(TEACHER).values(
                staff_id="x",
                name="x",
                unit_id="u",
                state="pending",
                state_changed_at=datetime(2016, 12, 10, 10),
                updated_at=NOW,
            )
        )
