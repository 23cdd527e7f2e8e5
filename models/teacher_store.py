"""Teachers in bulk: set-based reads and writes for imports and syncs (Core SQL, no ORM objects).

Building ORM objects costs about 30× more than executemany for a million rows, so
bulk paths pass plain dicts; single events load one row into a domain record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, literal, select, text, update

from cuiban.models.bulk import placeholder
from cuiban.models.cycle_store import in_cycle
from cuiban.models.tables import Outbox, SyncExport, Teacher
from cuiban.models.utc import UTCDateTime

TEACHER = Teacher.__table__
OUTBOX = Outbox.__table__
EXPORT = SyncExport.__table__
CHUNK = 5000


def _chunks(items: Iterable[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def by_staff_ids(connection: Connection, staff_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(staff_ids):
        for row in connection.execute(select(TEACHER).where(TEACHER.c.staff_id.in_(chunk))):
            found[row.staff_id] = dict(row._mapping)
    return found


def states_of(connection: Connection, staff_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    query = select(TEACHER.c.staff_id, TEACHER.c.state)
    for chunk in _chunks(staff_ids):
        found.update(
            (sid, state) for sid, state in connection.execute(query.where(TEACHER.c.staff_id.in_(chunk)))
        )
    return found


def one(connection: Connection, staff_id: str) -> dict[str, Any] | None:
    row = connection.execute(select(TEACHER).where(TEACHER.c.staff_id == staff_id)).first()
    return dict(row._mapping) if row else None


def staff_ids(connection: Connection, except_states: Iterable[str] = ()) -> set[str]:
    query = select(TEACHER.c.staff_id).where(TEACHER.c.state.not_in(list(except_states)))
    return set(connection.execute(query).scalars())


def count(connection: Connection, except_states: Iterable[str] = ()) -> int:
    query = select(func.count()).select_from(TEACHER).where(TEACHER.c.state.not_in(list(except_states)))
    return connection.execute(query).scalar_one()


def last_id(connection: Connection) -> int:
    """The highest teacher id so far: rows inserted after it are the new ones."""
    return connection.execute(select(func.coalesce(func.max(TEACHER.c.id), 0))).scalar_one()


def update_many(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Update the given columns of each row, found by `staff_id` (all rows share their keys)."""
    if not rows:
        return
    columns = [k for k in rows[0] if k != "staff_id"]
    statement = (
        update(TEACHER)
        .where(TEACHER.c.staff_id == bindparam("b_staff_id"))
        .values({c: bindparam(f"b_{c}") for c in columns})
    )
    connection.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])


def move(connection: Connection, staff_ids: Sequence[str], source: str, dest: str, at: datetime) -> int:
    """Set `dest` on those of `staff_ids` still in `source`; the count moved."""
    moved = 0
    for chunk in _chunks(staff_ids):
        statement = (
            update(TEACHER)
            .where(and_(TEACHER.c.state == source, TEACHER.c.staff_id.in_(chunk)))
            .values(state=dest, state_changed_at=at, updated_at=at)
        )
        moved += connection.execute(statement).rowcount
    return moved


OUT_OF_SCOPE = frozenset({"excluded", "left"})


def unit_state_counts(connection: Connection) -> dict[str, dict[str, int]]:
    """Per unit, how many in-scope teachers are in each state: one scan serves every rule.

    The states out of scope are dropped from the few groups, not from the million rows: a WHERE
    on each row cost as much again as the scan of the (unit, state) index itself."""
    pair = (TEACHER.c.unit_id, TEACHER.c.state)
    query = select(*pair, func.count()).group_by(*pair)
    counts: dict[str, dict[str, int]] = {}
    for unit, state, number in connection.execute(query):
        if state not in OUT_OF_SCOPE:
            counts.setdefault(unit, {})[state] = int(number)
    return counts


STAGE = "cuiban_sync_stage"


def stage_targets(connection: Connection, targets: Iterable[tuple[str, str, int]]) -> None:
    """Stage (staff_id, target state, file row) in a per-connection temporary table, then look up
    each record's current state there with one statement (NULL for an unknown staff ID)."""
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} "
        "(staff_id VARCHAR(64) PRIMARY KEY, source VARCHAR(32), target VARCHAR(32), row_number INTEGER)"
    )
    connection.exec_driver_sql(f"DELETE FROM {STAGE}")
    rows = list(targets)
    if not rows:  # an empty parameter list is not an empty executemany to the drivers: nothing to stage
        return
    mark = placeholder(connection)
    connection.exec_driver_sql(
        f"INSERT INTO {STAGE} (staff_id, target, row_number) VALUES ({mark}, {mark}, {mark})", rows
    )
    connection.exec_driver_sql(
        f"UPDATE {STAGE} SET source = (SELECT state FROM teacher WHERE teacher.staff_id = {STAGE}.staff_id)"
    )


def staged_pairs(connection: Connection) -> list[tuple[str | None, str, int]]:
    """(current state or None, target, count) for the staged export."""
    rows = connection.exec_driver_sql(
        f"SELECT source, target, count(*) FROM {STAGE} GROUP BY source, target ORDER BY source, target"
    )
    return [(source, target, int(n)) for source, target, n in rows]


def staged_rows(connection: Connection, source: str | None, target: str) -> list[tuple[int, str]]:
    """(file row, staff ID) of the staged records in one (source, target) pair, in file order."""
    condition = "source IS NULL" if source is None else "source = :source"
    query = text(
        f"SELECT row_number, staff_id FROM {STAGE} WHERE {condition} AND target = :target ORDER BY row_number"
    )
    return [(int(r), sid) for r, sid in connection.execute(query, {"source": source, "target": target})]


def move_staged(connection: Connection, source: str, target: str, at: datetime) -> int:
    """One UPDATE for every staged record going from `source` to `target`."""
    statement = text(
        "UPDATE teacher SET state = :target, state_changed_at = :at, updated_at = :at "
        f"WHERE staff_id IN (SELECT staff_id FROM {STAGE} WHERE source = :source AND target = :target) "
        "AND state = :source"
    ).bindparams(bindparam("at", type_=UTCDateTime()))
    return connection.execute(statement, {"source": source, "target": target, "at": at}).rowcount


def log_staged_step(
    connection: Connection,
    source: str,
    target: str,
    step: tuple[str, str, str],
    at: datetime,
    actor: str | None,
    note: str | None,
) -> int:
    """One log row for each staged record going from `source` to `target`, for one step of its path."""
    from cuiban.models import log_store

    select_sql = (
        "SELECT 'teacher', staff_id, :step_from, :step_to, :event, 'sync', :at, :actor, :note, NULL "
        f"FROM {STAGE} WHERE source = :source AND target = :target"
    )
    event, step_from, step_to = step
    params = {
        "step_from": step_from,
        "step_to": step_to,
        "event": event,
        "at": at,
        "actor": actor,
        "note": note,
        "source": source,
        "target": target,
    }
    return log_store.append_selected(connection, select_sql, params)


def newest_export(connection: Connection, cycle: int | None = None) -> dict[str, Any] | None:
    """The status export applied in `cycle` (None: the current one) with the latest as-of time (the
    last applied among equals): last year's exports do not hold this year's back."""
    query = (
        select(EXPORT)
        .where(in_cycle(EXPORT.c.cycle, cycle))
        .order_by(EXPORT.c.as_of.desc(), EXPORT.c.id.desc())
        .limit(1)
    )
    row = connection.execute(query).first()
    return dict(row._mapping) if row else None


def record_export(
    connection: Connection,
    file_name: str,
    as_of: datetime,
    as_of_from: str,
    applied_at: datetime,
    rows: int,
    actor: str | None,
    forced: bool,
    cycle: int | None = None,
) -> None:
    connection.execute(
        EXPORT.insert().values(
            cycle=cycle,
            file_name=file_name,
            as_of=as_of,
            as_of_from=as_of_from,
            applied_at=applied_at,
            rows=rows,
            actor=actor,
            forced=forced,
        )
    )


def unfinished(
    connection: Connection, unit_id: str, reached: Sequence[str], limit: int = 500
) -> list[dict[str, Any]]:
    """A unit's in-scope teachers not yet in one of the `reached` states: staff ID, name, state only."""
    query = (
        select(TEACHER.c.staff_id, TEACHER.c.name, TEACHER.c.state)
        .where(TEACHER.c.unit_id == unit_id, TEACHER.c.state.not_in([*reached, "excluded", "left"]))
        .order_by(TEACHER.c.staff_id)
        .limit(limit)
    )
    return [
        {"staff_id": sid, "name": name, "state": state}
        for sid, name, state in connection.execute(query).all()
    ]


def state_counts_of_unit(connection: Connection, unit_id: str) -> dict[str, int]:
    """One unit's in-scope teachers per state, read from the (unit_id, state) index alone."""
    query = (
        select(TEACHER.c.state, func.count())
        .where(TEACHER.c.unit_id == unit_id, TEACHER.c.state.not_in(["excluded", "left"]))
        .group_by(TEACHER.c.state)
    )
    return {state: int(number) for state, number in connection.execute(query)}


def to_remind(
    connection: Connection,
    unit_id: str,
    states: Sequence[str],
    after: str = "",
    limit: int = 1000,
    unsent: tuple[int, str] | None = None,
) -> list[dict[str, Any]]:
    """The next `limit` teachers of a unit in one of `states` with an email address, after staff ID
    `after` (staff ID order): a department's thousands are read a chunk at a time, each chunk one
    range of the (unit_id, state) index. Staff ID, name, state and email only.

    `unsent` = (cycle, day): only those not yet sent their mail of that day (key `teacher|id|day`),
    so that the ticks after the first of the day find nothing to render (the outbox's key index)."""
    query = (
        select(TEACHER.c.staff_id, TEACHER.c.name, TEACHER.c.state, TEACHER.c.email)
        .where(
            TEACHER.c.unit_id == unit_id,
            TEACHER.c.state.in_(list(states)),
            TEACHER.c.staff_id > after,
            TEACHER.c.email.is_not(None),
            TEACHER.c.email != "",
        )
        .order_by(TEACHER.c.staff_id)
        .limit(limit)
    )
    if unsent is not None:
        cycle, day = unsent
        key = literal("teacher|") + TEACHER.c.staff_id + literal(f"|{day}")
        query = query.where(~exists().where(OUTBOX.c.cycle == cycle, OUTBOX.c.key == key))
    return [
        {"staff_id": sid, "name": name, "state": state, "email": email}
        for sid, name, state, email in connection.execute(query).all()
    ]
