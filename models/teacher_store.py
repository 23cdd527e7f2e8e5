"""Teachers in bulk: set-based reads and writes for imports and syncs (Core SQL, no ORM objects).

Building ORM objects costs about 30× more than executemany for a million rows, so
bulk paths pass plain dicts; single events load one row into a domain record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from itertools import islice
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal,
    select,
    table,
    text,
    update,
)

from cuiban.models.bulk import load_rows, temp_table
from cuiban.models.copy_load import analyze, is_postgres
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


_IDS = bindparam("staff_ids", expanding=True)
"""The staff IDs of one chunk, bound when executed: a statement built per chunk around its list would be
garbage with a reference cycle, holding the list until the collector runs (paused in bulk commands)."""
_BY_STAFF_IDS = select(TEACHER).where(TEACHER.c.staff_id.in_(_IDS))
_STATES_OF = select(TEACHER.c.staff_id, TEACHER.c.state).where(TEACHER.c.staff_id.in_(_IDS))


def by_staff_ids(connection: Connection, staff_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(staff_ids):
        for row in connection.execute(_BY_STAFF_IDS, {"staff_ids": chunk}):
            found[row.staff_id] = dict(row._mapping)
    return found


def states_of(connection: Connection, staff_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(staff_ids):
        found.update((sid, state) for sid, state in connection.execute(_STATES_OF, {"staff_ids": chunk}))
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
    statement = (
        update(TEACHER)
        .where(and_(TEACHER.c.state == source, TEACHER.c.staff_id.in_(_IDS)))
        .values(state=dest, state_changed_at=at, updated_at=at)
    )
    for chunk in _chunks(staff_ids):
        moved += connection.execute(statement, {"staff_ids": chunk}).rowcount
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


def analyze_teachers(connection: Connection) -> None:
    """After a bulk load or sync (PostgreSQL), in its transaction: the planner's statistics of the teacher
    table brought up to date, so that the statements after it (derived tasks, the digest, a department's
    page) are planned for a million rows rather than for the few the table had. ANALYZE reads a sample
    (30,000 rows), so it costs a fraction of a second at any size; VACUUM cannot run in a transaction and
    is left to autovacuum."""
    if is_postgres(connection):
        analyze(connection, "teacher")


# ── the status export, staged (cuiban sync) ─────────────────────────────────────

SYNC_STAGE = "cuiban_sync_stage"
STAGE = SYNC_STAGE
SYNC_STAGED = ("row_number", "staff_id", "target")
"""What the sync stages of each row: a row whose status is bad has no target (staged only for its
staff ID, so that a later row repeating it is named)."""


def create_sync_stage(connection: Connection) -> None:
    temp_table(
        connection,
        SYNC_STAGE,
        "row_number INTEGER NOT NULL, staff_id VARCHAR(64) NOT NULL, target VARCHAR(32), source VARCHAR(32)",
    )
    _index_staff_ids(connection, SYNC_STAGE)


def _index_staff_ids(connection: Connection, stage: str) -> None:
    """SQLite: the staging table indexed by staff ID as it fills (as its primary key was before repeats
    had to be staged too), so that naming the repeated ones reads the index in order instead of sorting
    a million rows through SQLite's small temp cache. PostgreSQL hashes them: no index."""
    if not is_postgres(connection):
        connection.exec_driver_sql(f"CREATE INDEX {stage}_staff_id ON {stage} (staff_id)")


def stage_sync_rows(connection: Connection, rows: Iterable[tuple[int, str, str | None]]) -> int:
    """(file row, staff ID, target state or None) into the staging table: COPY on PostgreSQL."""
    return load_rows(connection, SYNC_STAGE, SYNC_STAGED, rows)


def resolve_staged(connection: Connection) -> None:
    """Each staged record's current state (NULL for an unknown staff ID), looked up with one statement."""
    if is_postgres(connection):
        analyze(connection, SYNC_STAGE)
        connection.exec_driver_sql(
            f"UPDATE {SYNC_STAGE} s SET source = t.state FROM teacher t WHERE t.staff_id = s.staff_id"
        )
        analyze(connection, SYNC_STAGE)  # the pairs' sizes, for the moves' joins
        return
    connection.exec_driver_sql(
        f"UPDATE {SYNC_STAGE} SET source = "
        f"(SELECT state FROM teacher WHERE teacher.staff_id = {SYNC_STAGE}.staff_id)"
    )


def stage_targets(connection: Connection, targets: Iterable[tuple[str, str, int]]) -> None:
    """Stage (staff_id, target state, file row) afresh and look up each record's current state."""
    create_sync_stage(connection)
    stage_sync_rows(connection, ((row, sid, target) for sid, target, row in targets))
    resolve_staged(connection)


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
    if is_postgres(connection):  # a join the planner can hash, not an IN list
        sql = (
            "UPDATE teacher t SET state = :target, state_changed_at = :at, updated_at = :at "
            f"FROM {STAGE} s WHERE s.staff_id = t.staff_id AND s.source = :source AND s.target = :target "
            "AND t.state = :source"
        )
    else:
        sql = (
            "UPDATE teacher SET state = :target, state_changed_at = :at, updated_at = :at "
            f"WHERE staff_id IN (SELECT staff_id FROM {STAGE} WHERE source = :source AND target = :target) "
            "AND state = :source"
        )
    statement = text(sql).bindparams(bindparam("at", type_=UTCDateTime()))
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


def staged_duplicates(connection: Connection, stage: str) -> list[tuple[int, str, int]]:
    """(file row, staff ID, row of its first appearance) of every staged row that repeats an earlier
    row's staff ID, in file order: duplicates are found by the database, not held in memory."""
    rows = connection.exec_driver_sql(
        f"SELECT s.row_number, s.staff_id, d.first FROM {stage} s JOIN "
        f"(SELECT staff_id, min(row_number) AS first FROM {stage} GROUP BY staff_id HAVING count(*) > 1) d "
        "ON d.staff_id = s.staff_id WHERE s.row_number > d.first ORDER BY s.row_number"
    )
    return [(int(row), sid, int(first)) for row, sid, first in rows]


# ── the roster, staged (cuiban roster import) ───────────────────────────────────

ROSTER_STAGE = "cuiban_roster_stage"
ROSTER_IDS = ("row_number", "staff_id")


def create_roster_stage(connection: Connection, fields: Sequence[str]) -> None:
    """The roster's rows as checked: (file row, the rule excluding it, `fields`…), typed as the
    teacher table's columns. SQLite stages only (row, staff ID): its rows go to the table directly."""
    dialect = connection.dialect
    typed = ", ".join(f"{f} {TEACHER.c[f].type.compile(dialect=dialect)}" for f in fields if f != "staff_id")
    temp_table(
        connection,
        ROSTER_STAGE,
        f"row_number INTEGER NOT NULL, excluded_rule VARCHAR(64), staff_id VARCHAR(64), {typed}",
    )
    _index_staff_ids(connection, ROSTER_STAGE)


def stage_roster_rows(connection: Connection, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    return load_rows(connection, ROSTER_STAGE, columns, rows)


def analyze_roster_stage(connection: Connection) -> None:
    analyze(connection, ROSTER_STAGE)


def index_roster_stage(connection: Connection) -> None:
    """Before reading the staged roster a page at a time (a re-import): by file row."""
    connection.exec_driver_sql(f"CREATE INDEX ON {ROSTER_STAGE} (row_number)")


def insert_staged(connection: Connection, fields: Sequence[str], at: datetime) -> int:
    """The staged rows whose staff ID is not a teacher's yet, as new teachers (pending, or excluded by
    their rule), in file order, in one statement."""
    columns = ", ".join(fields)
    picked = ", ".join(f"s.{f}" for f in fields)
    statement = text(
        f"INSERT INTO teacher ({columns}, state, excluded_rule, state_changed_at, updated_at) "
        f"SELECT {picked}, CASE WHEN s.excluded_rule IS NULL THEN 'pending' ELSE 'excluded' END, "
        f"s.excluded_rule, :at, :at FROM {ROSTER_STAGE} s "
        "WHERE NOT EXISTS (SELECT 1 FROM teacher t WHERE t.staff_id = s.staff_id) ORDER BY s.row_number"
    ).bindparams(bindparam("at", type_=UTCDateTime()))
    return connection.execute(statement, {"at": at}).rowcount


def new_since(connection: Connection, after: int) -> tuple[int, int]:
    """(in scope, excluded) among the teachers written after id `after`."""
    query = select(
        func.count().filter(TEACHER.c.state != "excluded"), func.count().filter(TEACHER.c.state == "excluded")
    ).where(TEACHER.c.id > after)
    pending, excluded = connection.execute(query).one()
    return int(pending), int(excluded)


def staged_with_current(
    connection: Connection, fields: Sequence[str], after_row: int, before_id: int, limit: int = CHUNK
) -> list[tuple[tuple, dict[str, Any]]]:
    """The next `limit` staged rows after file row `after_row` whose staff ID was already a teacher
    (id ≤ `before_id`), each as ((row, rule, *fields), that teacher's current columns)."""
    query, current = _staged_with_current(tuple(fields))
    width = 2 + len(fields)
    rows = connection.execute(query, {"after": after_row, "before": before_id, "limit": limit})
    return [(tuple(row[:width]), dict(zip(current, row[width:], strict=True))) for row in rows]


@cache
def _staged_with_current(fields: tuple[str, ...]) -> tuple[Select, tuple[str, ...]]:
    """Built once: a statement built per page is garbage with reference cycles (see _IDS)."""
    stage = table(ROSTER_STAGE, column("row_number"), column("excluded_rule"), *(column(f) for f in fields))
    current = ("state", "excluded_rule", "state_changed_at", *fields)
    query = (
        select(
            stage.c.row_number,
            stage.c.excluded_rule,
            *(stage.c[f] for f in fields),
            *(TEACHER.c[c] for c in current),
        )
        .select_from(stage.join(TEACHER, TEACHER.c.staff_id == stage.c.staff_id))
        .where(stage.c.row_number > bindparam("after"), TEACHER.c.id <= bindparam("before"))
        .order_by(stage.c.row_number)
        .limit(bindparam("limit"))
    )
    return query, current


def unlisted(connection: Connection, stage: str = ROSTER_STAGE) -> list[str]:
    """Staff IDs of current records (not left) that the staged file does not list."""
    rows = connection.exec_driver_sql(
        "SELECT staff_id FROM teacher t WHERE state <> 'left' AND NOT EXISTS "
        f"(SELECT 1 FROM {stage} s WHERE s.staff_id = t.staff_id)"
    )
    return [sid for (sid,) in rows]


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
