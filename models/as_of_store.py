"""Figures as of a past moment T, read from the transition log: what the digest and the forms said then.

The log is the history: a teacher's state at T is the `to_state` of its newest entry
(record_kind 'teacher') with `at <= T`, and a teacher with no entry by T did not exist yet
(the roster import writes the first one). A task's state at T is likewise its newest entry's,
and its escalation level at T the number of its `escalate` entries by T (each raises the level by
one; nothing lowers it). When nothing has been logged after T, the tables themselves are the
state at T: callers take that fast path (`is_current`) and read only the log for a past T.

A new campaign cycle logs every teacher back to the first state, so figures by time are right
in each cycle without knowing cycles; tasks are read through `_tasks` alone, the one place a
cycle filter goes.

Newest entry by id: entries are appended in time order per record (`log_store.refuse_before_last`),
so a record's newest entry by T is its highest id among those with `at <= T`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Select, and_, case, column, func, insert, select, table

from cuiban.models.cycle_store import CYCLE, in_cycle
from cuiban.models.tables import Outbox, Task, Teacher, TransitionLog
from cuiban.models.teacher_store import unit_state_counts
from cuiban.workflow.task_machine import FINISHED

LOG = TransitionLog.__table__
TEACHER = Teacher.__table__
TASK = Task.__table__
OUTBOX = Outbox.__table__
OUT_OF_SCOPE = ("excluded", "left")
CHUNK = 5000


def _chunks(items: Iterable[str], size: int = CHUNK) -> Iterable[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def newest_at(connection: Connection) -> datetime | None:
    """The time of the log's newest entry (None: an empty log).

    One seek in ix_transition_log_at (migration 0011); without it, a read of the whole log (0.35 s at
    3,000,000 entries on SQLite) at every tick and dashboard."""
    return connection.execute(select(func.max(LOG.c.at))).scalar()


def is_current(connection: Connection, at: datetime) -> bool:
    """True when nothing was logged after `at`: the tables' states are then the states at `at`.

    The newest entry by id is checked first (one seek): when it is after `at`, `at` is past."""
    last = connection.execute(select(LOG.c.at).order_by(LOG.c.id.desc()).limit(1)).scalar()
    if last is None:
        return True
    if last > at:
        return False
    newest = newest_at(connection)
    return newest is None or newest <= at


def _scanned_kind(kind: str) -> Any:
    """record_kind = kind, written so that no database takes the (record_kind, record_key) index for it:
    a scan of the entries after a moment reads the log in order (1.2 s at 3,000,000 entries on SQLite)
    rather than visiting every teacher's entry through that index (3.6 s)."""
    return LOG.c.record_kind.concat("") == kind


def _latest_teacher_entries(at: datetime) -> Any:
    """Subquery: (record_key, id) of each teacher's newest log entry with `at <= at`, one scan of the log."""
    return (
        select(LOG.c.record_key.label("record_key"), func.max(LOG.c.id).label("id"))
        .where(LOG.c.record_kind == "teacher", LOG.c.at <= at)
        .group_by(LOG.c.record_key)
        .subquery("latest")
    )


TOUCHED = "cuiban_as_of_touched"


def _stage_touched(connection: Connection, at: datetime) -> None:
    """The teachers logged after `at`, in a per-connection temporary table: one scan of the log's
    entries after `at` serves every query that rewinds them."""
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {TOUCHED} (record_key VARCHAR(200) PRIMARY KEY)"
    )
    connection.exec_driver_sql(f"DELETE FROM {TOUCHED}")
    after = select(LOG.c.record_key).where(_scanned_kind("teacher"), LOG.c.at > at).distinct()
    connection.execute(insert(table(TOUCHED, column("record_key"))).from_select(["record_key"], after))


def _touched() -> Any:
    """The staged teachers, as a subquery for `IN`."""
    return select(table(TOUCHED, column("record_key")).c.record_key).scalar_subquery()


def units_before_moves(connection: Connection, at: datetime, staged: bool = False) -> dict[str, str]:
    """Teachers whose department changed after `at`: staff ID → their unit at `at`.

    A roster import logs a move as an `update` entry whose data holds {"unit_id": [old, new]}; the
    earliest such entry after `at` gives the unit at `at`. Moves are few: the rest keep `unit_id`.
    `staged`: the teachers logged after `at` are staged already (_stage_touched)."""
    if not staged:
        _stage_touched(connection, at)
    query = (
        select(LOG.c.record_key, LOG.c.data)
        .where(
            LOG.c.record_kind == "teacher",
            LOG.c.record_key.in_(_touched()),
            LOG.c.at > at,
            LOG.c.data.is_not(None),
            LOG.c.data.like('%"unit_id"%'),
        )
        .order_by(LOG.c.at, LOG.c.id)
    )
    units: dict[str, str] = {}
    for key, data in connection.execute(query):
        change = json.loads(data).get("unit_id")
        if key not in units and isinstance(change, list) and len(change) == 2:
            units[key] = change[0]
    return units


def teacher_states(connection: Connection, at: datetime, staff_ids: Sequence[str]) -> dict[str, str]:
    """The state at `at` of the given teachers (those with no entry by then left out)."""
    found: dict[str, str] = {}
    for chunk in _chunks(staff_ids):
        newest = (
            select(func.max(LOG.c.id))
            .where(LOG.c.record_kind == "teacher", LOG.c.record_key.in_(chunk), LOG.c.at <= at)
            .group_by(LOG.c.record_key)
        )
        query = select(LOG.c.record_key, LOG.c.to_state).where(LOG.c.id.in_(newest))
        found.update((key, state) for key, state in connection.execute(query))
    return found


def unit_state_counts_at(connection: Connection, at: datetime) -> dict[str, dict[str, int]]:
    """Per unit, how many in-scope teachers were in each state at `at` (teacher_store's, as of then).

    The current table when nothing was logged after `at`; else one grouped query over the log
    (each teacher's newest entry by `at`, joined to its row for the unit), then the few teachers
    who changed department after `at` counted in their unit of then."""
    if is_current(connection, at):
        return unit_state_counts(connection)
    return unit_state_counts_then(connection, at)


def unit_state_counts_then(connection: Connection, at: datetime) -> dict[str, dict[str, int]]:
    """unit_state_counts_at for a past `at` (the caller knows it is past), rewound from the tables:
    today's counts, less the teachers logged after `at` as they are today, plus the same teachers as
    they were at `at` (their newest entry by then, when they had one). The work grows with what
    happened after `at`, not with the whole log: yesterday's figures cost little on a big campaign."""
    _stage_touched(connection, at)
    touched = _touched()
    counts = unit_state_counts(connection)
    removed = (
        select(TEACHER.c.unit_id, TEACHER.c.state, func.count())
        .where(TEACHER.c.staff_id.in_(touched), TEACHER.c.state.not_in(OUT_OF_SCOPE))
        .group_by(TEACHER.c.unit_id, TEACHER.c.state)
    )
    for unit, state, number in connection.execute(removed):
        counts[unit][state] -= int(number)
    latest = (
        select(LOG.c.record_key.label("record_key"), func.max(LOG.c.id).label("id"))
        .where(LOG.c.record_kind == "teacher", LOG.c.at <= at, LOG.c.record_key.in_(touched))
        .group_by(LOG.c.record_key)
        .subquery("latest")
    )
    entry = LOG.alias("entry")
    added = (
        select(TEACHER.c.unit_id, entry.c.to_state, func.count())
        .select_from(
            latest.join(entry, entry.c.id == latest.c.id).join(
                TEACHER, TEACHER.c.staff_id == latest.c.record_key
            )
        )
        .where(entry.c.to_state.not_in(OUT_OF_SCOPE))
        .group_by(TEACHER.c.unit_id, entry.c.to_state)
    )
    for unit, state, number in connection.execute(added):
        by_state = counts.setdefault(unit, {})
        by_state[state] = by_state.get(state, 0) + int(number)
    moved = units_before_moves(connection, at, staged=True)
    if moved:
        current = dict(
            connection.execute(
                select(TEACHER.c.staff_id, TEACHER.c.unit_id).where(TEACHER.c.staff_id.in_(list(moved)))
            ).all()
        )
        for sid, state in teacher_states(connection, at, list(moved)).items():
            if state in OUT_OF_SCOPE or sid not in current or current[sid] == moved[sid]:
                continue
            now_in = counts.setdefault(current[sid], {})
            now_in[state] = now_in.get(state, 0) - 1
            then_in = counts.setdefault(moved[sid], {})
            then_in[state] = then_in.get(state, 0) + 1
    return {
        unit: {state: n for state, n in by_state.items() if n}
        for unit, by_state in counts.items()
        if any(by_state.values())
    }


def unit_teachers_at(
    connection: Connection, at: datetime, unit_id: str, moved: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """A unit's teachers at `at` (staff_id, name, state), by staff ID: its members then, each with the
    state of its newest entry by `at`; out-of-scope ones included (the caller filters). `moved`:
    units_before_moves(at), when the caller reads several units."""
    moved = units_before_moves(connection, at) if moved is None else moved
    members = [sid for sid, unit in moved.items() if unit == unit_id]
    history = LOG.alias("history")
    newest = (
        select(func.max(history.c.id))
        .where(
            history.c.record_kind == "teacher", history.c.record_key == TEACHER.c.staff_id, history.c.at <= at
        )
        .correlate(TEACHER)
        .scalar_subquery()
    )
    base = select(TEACHER.c.staff_id, TEACHER.c.name, LOG.c.to_state.label("state")).select_from(
        TEACHER.join(LOG, LOG.c.id == newest)
    )
    rows = [dict(r._mapping) for r in connection.execute(base.where(TEACHER.c.unit_id == unit_id))]
    rows = [r for r in rows if moved.get(r["staff_id"], unit_id) == unit_id]
    for chunk in _chunks(members):
        rows += [dict(r._mapping) for r in connection.execute(base.where(TEACHER.c.staff_id.in_(chunk)))]
    return sorted(rows, key=lambda r: r["staff_id"])


def last_first_reached(
    connection: Connection, at: datetime, reached: Sequence[str], staff_ids: Sequence[str] | None = None
) -> datetime | None:
    """When the last of the teachers in `reached` at `at` first got there (by `at`): a stage's completion
    moment as of then. `staff_ids`: those teachers (one unit's); None: every teacher in `reached` at `at`."""
    first = select(LOG.c.record_key.label("record_key"), func.min(LOG.c.at).label("first_at")).where(
        LOG.c.record_kind == "teacher", LOG.c.to_state.in_(list(reached)), LOG.c.at <= at
    )
    if staff_ids is not None:
        found = []
        for chunk in _chunks(staff_ids):
            sub = first.where(LOG.c.record_key.in_(chunk)).group_by(LOG.c.record_key).subquery("first")
            value = connection.execute(select(func.max(sub.c.first_at))).scalar()
            if value is not None:
                found.append(_aware(connection, value))
        return max(found) if found else None
    grouped = first.group_by(LOG.c.record_key).subquery("first")
    latest = _latest_teacher_entries(at)
    entry = LOG.alias("entry")
    query = select(func.max(grouped.c.first_at)).select_from(
        grouped.join(latest, latest.c.record_key == grouped.c.record_key).join(
            entry, and_(entry.c.id == latest.c.id, entry.c.to_state.in_(list(reached)))
        )
    )
    value = connection.execute(query).scalar()
    return _aware(connection, value) if value is not None else None


def _aware(connection: Connection, value: Any) -> datetime:
    """An aggregate over a subquery may come back untyped (SQLite: a string): read it as the column would."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return LOG.c.at.type.process_result_value(value, connection.dialect)


def _tasks(*columns: Any, cycle: int | None = None) -> Select:
    """The task rows of `cycle` (None: the current one) the as-of figures read."""
    return select(*columns).where(in_cycle(TASK.c.cycle, cycle))


def _cycle_start(connection: Connection, cycle: int | None) -> datetime | None:
    """When `cycle` began: task keys repeat every year, so a task's log entries count from then."""
    query = select(CYCLE.c.started_at)
    query = query.where(CYCLE.c.cycle == cycle) if cycle is not None else query.order_by(
        CYCLE.c.cycle.desc()
    ).limit(1)
    started = connection.execute(query).scalar()
    return None if started is None else _aware(connection, started)


def tasks_began(connection: Connection, cycle: int | None = None) -> datetime | None:
    """When the first tick made the tasks (their earliest update or log entry): none existed before.

    Tasks have no creation time of their own; every task of the plan is made by the same tick."""
    made = connection.execute(_tasks(func.min(TASK.c.updated_at), cycle=cycle)).scalar()
    entries = select(func.min(LOG.c.at)).where(LOG.c.record_kind == "task")
    started = _cycle_start(connection, cycle)
    if started is not None:
        entries = entries.where(LOG.c.at >= started)
    first = connection.execute(entries).scalar()
    moments = [_aware(connection, m) for m in (made, first) if m is not None]
    return min(moments) if moments else None


def tasks_at(connection: Connection, at: datetime, cycle: int | None = None) -> list[dict[str, Any]]:
    """Every task that existed at `at` (milestone_id, unit_id, occurrence, due_at, state, escalation_level,
    finished_at), in creation order: its state then is its newest log entry's by `at` (none: upcoming),
    its level the number of its escalations by then, `finished_at` when its newest entry finished it.

    `due_at` is today's: a due time that depended on another milestone's completion is the caller's to
    work out as of then (workflow.tasks.task_specs); one moved by a plan edit is not undone."""
    began = tasks_began(connection, cycle)
    if began is None or began > at:
        return []
    window = [LOG.c.record_kind == "task", LOG.c.at <= at]
    started = _cycle_start(connection, cycle)
    if started is not None:  # last year's entries of the same task keys are not this cycle's
        window.append(LOG.c.at >= started)
    agg = (
        select(
            LOG.c.record_key.label("record_key"),
            func.max(LOG.c.id).label("id"),
            func.sum(case((LOG.c.event == "escalate", 1), else_=0)).label("level"),
        )
        .where(*window)
        .group_by(LOG.c.record_key)
        .subquery("agg")
    )
    entry = LOG.alias("entry")
    then = {
        key: (state, int(level or 0), when)
        for key, state, level, when in connection.execute(
            select(agg.c.record_key, entry.c.to_state, agg.c.level, entry.c.at).select_from(
                agg.join(entry, entry.c.id == agg.c.id)
            )
        )
    }
    columns = [TASK.c[n] for n in ("milestone_id", "unit_id", "occurrence", "due_at")]
    tasks = []
    for row in connection.execute(_tasks(*columns, cycle=cycle).order_by(TASK.c.id)):
        task = dict(row._mapping)
        key = "/".join(p for p in (task["milestone_id"], task["unit_id"], task["occurrence"]) if p)
        state, level, when = then.get(key, ("upcoming", 0, None))
        finished_at = when if state in FINISHED else None
        tasks.append({**task, "state": state, "escalation_level": level, "finished_at": finished_at})
    return tasks


def failed_between(
    connection: Connection, since: datetime, at: datetime, cycle: int | None = None
) -> list[dict[str, Any]]:
    """Messages that failed in [since, at) and have not been sent since (a retried one is not known)."""
    query = (
        select(OUTBOX)
        .where(OUTBOX.c.status == "failed", OUTBOX.c.failed_at >= since, OUTBOX.c.failed_at < at)
        .where(in_cycle(OUTBOX.c.cycle, cycle))
        .order_by(OUTBOX.c.id)
    )
    return [dict(r._mapping) for r in connection.execute(query)]


def late_between(connection: Connection, since: datetime, at: datetime, cycle: int | None = None) -> int:
    """How many messages went out late in [since, at)."""
    query = select(func.count()).where(
        OUTBOX.c.late.is_(True),
        OUTBOX.c.sent_at >= since,
        OUTBOX.c.sent_at < at,
        in_cycle(OUTBOX.c.cycle, cycle),
    )
    return int(connection.execute(query).scalar_one())
