"""The outbox: messages inserted once by key, claimed for sending, marked sent, retried or failed.

Delivery works like a mail server's queue:
- each row gets its Message-ID when it is queued, and every attempt uses it;
- claiming is one atomic statement (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
  … RETURNING` on PostgreSQL; on SQLite the same UPDATE runs under the database's write
  lock and re-checks the status), so two senders never take the same row;
- a claim names its holder (`host:pid:token`) and expires on the host's real clock unless
  renewed; a claim whose holder is dead (same host and its PID gone) or expired is given
  back, so a crash resends at most the messages in flight, with their Message-ID;
- rows are claimed in send order: digests, then escalations and reports, then reminders, then
  the teachers' own reminders.

A combined mail (one per person per day) carries several tasks' reminders and escalations; each
is an `outbox_part` under the key its own message would have had, and every question about what
was sent (`existing_keys`, `keys_since`, `reminded`) reads the parts as well as the messages.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, text, update

from cuiban.models.bulk import bound, placeholder
from cuiban.models.cycle_store import CYCLE, in_cycle
from cuiban.models.tables import DeliveryPause, Outbox, OutboxAttachment, OutboxPart

OUTBOX = Outbox.__table__
ATTACHMENT = OutboxAttachment.__table__
PAUSE = DeliveryPause.__table__
PART = OutboxPart.__table__
PRIORITY = {"sign_in": 0, "digest": 0, "escalation": 1, "report": 1, "teacher": 3}
"""Send order by kind; anything else (reminders, combined mails) after these, the teachers' last:
a department's thousands of teacher mails never hold up an office's reminder."""
COLUMNS = (
    "key",
    "kind",
    "task_key",
    "unit_id",
    "recipient",
    "recipient_name",
    "slot",
    "subject",
    "body_text",
    "body_html",
    "data",
    "status",
    "attempts",
    "created_at",
    "message_id",
    "priority",
    "due_at",
    "last_error",
    "failed_at",
)


def existing_keys(connection: Connection, keys: Sequence[str], cycle: int | None = None) -> set[str]:
    """Which of `keys` are queued already in `cycle` (None: the current one)."""
    found: set[str] = set()
    for table in (OUTBOX, PART):
        mine = in_cycle(table.c.cycle, cycle)
        for start in range(0, len(keys), 1000):
            chunk = list(keys[start : start + 1000])
            query = select(table.c.key).where(table.c.key.in_(chunk), mine)
            found.update(connection.execute(query).scalars())
    return found


def keys_since(connection: Connection, since: datetime, cycle: int | None = None) -> set[str]:
    """Keys of messages of `cycle` (None: the current one) decided since `since`: what a tick need not
    decide again (the parts of combined mails too)."""
    found: set[str] = set()
    for table in (OUTBOX, PART):
        query = select(table.c.key).where(table.c.created_at >= since, in_cycle(table.c.cycle, cycle))
        if table is OUTBOX:  # a teacher's own reminders (thousands a day) are no task's memory
            query = query.where(OUTBOX.c.kind != "teacher")
        found.update(connection.execute(query).scalars())
    return found


def new_message_id(domain: str) -> str:
    """A Message-ID unique to one outbox row, fixed before its first attempt."""
    return f"<{uuid.uuid4().hex}.cuiban@{domain}>"


def reminded(
    connection: Connection, since: datetime, cycle: int | None = None
) -> dict[str, tuple[datetime, datetime]]:
    """Per task of `cycle` (None: the current one), the newest reminder slot sent and when the last
    reminder was decided (since `since`), whether it went out alone or in a combined mail."""
    utc = OUTBOX.c.due_at.type
    found: dict[str, tuple[datetime, datetime]] = {}
    for table in (OUTBOX, PART):
        query = (
            select(table.c.task_key, func.max(table.c.due_at), func.max(table.c.created_at))
            .where(
                table.c.kind == "reminder",
                table.c.created_at >= since,
                table.c.due_at.is_not(None),
                in_cycle(table.c.cycle, cycle),
            )
            .group_by(table.c.task_key)
        )
        for task_key, due_at, created_at in connection.execute(query):
            # max() loses the column type on SQLite: read the values back as aware UTC
            moments = (
                utc.process_result_value(_moment(due_at), connection.dialect),
                utc.process_result_value(_moment(created_at), connection.dialect),
            )
            if task_key in found:
                moments = (max(found[task_key][0], moments[0]), max(found[task_key][1], moments[1]))
            found[task_key] = moments
    return found


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def queue(
    connection: Connection,
    messages: Sequence[dict[str, Any]],
    now: datetime,
    domain: str = "cuiban.local",
    cycle: int | None = None,
    counted: bool = True,
) -> int:
    """Insert messages whose key is new in `cycle` (None: the current one); the number inserted, or
    -1 when not `counted` (the tick knows its fresh keys already, and counting the whole outbox twice
    a call costs a scan each time once teachers' mails fill it).

    A message may come already failed (`status: failed` with `last_error`: its template
    could not be rendered); it is kept, so the digest can say so, and never sent. A combined
    mail's `parts` (key, kind, task_key, slot, due_at) are recorded with it, once.
    """
    if not messages:
        return 0
    if cycle is None:
        cycle = connection.execute(select(func.max(CYCLE.c.cycle))).scalar()
    if cycle is None:  # no cycle yet: a NULL never conflicts, so the keys already there are left out here
        messages = _new_without_cycle(connection, messages)
        if not messages:
            return 0
    stamp = bound(connection, OUTBOX.c.created_at, now)
    mark = placeholder(connection)

    def when(value: datetime | None) -> Any:
        return None if value is None else bound(connection, OUTBOX.c.due_at, value)

    seen: dict[int, str] = {}
    rows = [
        (
            cycle,
            m["key"],
            m["kind"],
            m.get("task_key"),
            m.get("unit_id"),
            m["recipient"],
            m["recipient_name"],
            m["slot"],
            m["subject"],
            m["body_text"],
            m["body_html"],
            _json(m.get("data"), seen),
            m.get("status", "queued"),
            0,
            stamp,
            new_message_id(domain),
            PRIORITY.get(m["kind"], 2),
            when(m.get("due_at")),
            m.get("last_error"),
            stamp if m.get("status") == "failed" else None,
        )
        for m in messages
    ]
    before = count(connection) if counted else 0
    known = existing_keys(
        connection, [m["key"] for m in messages if m.get("attachments") or m.get("parts")], cycle
    )
    columns = ("cycle", *COLUMNS)
    connection.exec_driver_sql(
        f"INSERT INTO outbox ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
        "ON CONFLICT (cycle, key) DO NOTHING",
        rows,
    )
    # Each key's files once (a key repeated in one call is one row), every file with every
    # column: executemany takes its columns from the first dict, so a missing `content_id`
    # there would blank it for all the others.
    blank = dict.fromkeys(c.name for c in ATTACHMENT.columns if c.name != "id")
    first: dict[str, dict[str, Any]] = {}
    for m in messages:
        first.setdefault(m["key"], m)
    files = [
        {**blank, **a, "outbox_key": key}
        for key, m in first.items()
        if key not in known
        for a in m.get("attachments", ())
    ]
    if files:
        connection.execute(ATTACHMENT.insert(), files)
    parts = [
        (cycle, p["key"], key, p["kind"], p["task_key"], p["slot"], when(p.get("due_at")), stamp)
        for key, m in first.items()
        if key not in known
        for p in m.get("parts", ())
    ]
    if parts:
        connection.exec_driver_sql(
            "INSERT INTO outbox_part (cycle, key, outbox_key, kind, task_key, slot, due_at, created_at) "
            f"VALUES ({', '.join([mark] * 8)}) ON CONFLICT (cycle, key) DO NOTHING",
            parts,
        )
    return count(connection) - before if counted else -1


class Encoded(str):
    """A message's `data` already written as JSON (`encoded`)."""


def encoded(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with their `data` written as JSON now, each distinct document once: a caller
    does it before its transaction, so that the write lock is not held while four digests' figures
    (1 MB each at 2,000 departments, the same document) are written out."""
    seen: dict[int, str] = {}
    return [
        {**m, "data": Encoded(_json(m["data"], seen))} if m.get("data") is not None else m for m in messages
    ]


def _json(data: Any, seen: dict[int, str]) -> str | None:
    """`data` as JSON, once per document in one call (the digests of a day share theirs)."""
    if data is None or isinstance(data, Encoded):
        return data
    if id(data) not in seen:
        seen[id(data)] = json.dumps(data, ensure_ascii=False)
    return seen[id(data)]


def _new_without_cycle(connection: Connection, messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages whose key is not queued yet (the first of a key repeated here)."""
    known = existing_keys(connection, [m["key"] for m in messages])
    fresh: dict[str, dict[str, Any]] = {}
    for m in messages:
        if m["key"] not in known:
            fresh.setdefault(m["key"], m)
    return list(fresh.values())


def attachments(connection: Connection, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The files of these messages by message key, each in the order it was queued."""
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(keys), 1000):
        chunk = list(keys[start : start + 1000])
        query = select(ATTACHMENT).where(ATTACHMENT.c.outbox_key.in_(chunk)).order_by(ATTACHMENT.c.id)
        for row in connection.execute(query):
            found.setdefault(row.outbox_key, []).append(dict(row._mapping))
    return found


def count(connection: Connection, status: str | None = None) -> int:
    query = text("SELECT count(*) FROM outbox" + (" WHERE status = :s" if status else ""))
    return int(connection.execute(query, {"s": status} if status else {}).scalar_one())


def claim(
    connection: Connection,
    now: datetime,
    limit: int,
    holder: str,
    expires: datetime,
    kinds: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Take up to `limit` messages due at `now` for `holder` until `expires` (host time), in send order
    (of `kinds` only, when given: the web pages send a sign-in link at once, and nothing else).

    One statement: the subquery picks, the outer UPDATE re-checks `status = 'queued'`, so a
    row another sender took in between is not taken again.
    """
    due = and_(
        OUTBOX.c.status == "queued",
        or_(OUTBOX.c.next_attempt_at.is_(None), OUTBOX.c.next_attempt_at <= now),
    )
    if kinds is not None:
        due = and_(due, OUTBOX.c.kind.in_(list(kinds)))
    pick = select(OUTBOX.c.id).where(due).order_by(OUTBOX.c.priority, OUTBOX.c.id).limit(limit)
    picked: Any = pick.scalar_subquery()
    if connection.dialect.name == "postgresql":
        # Picked once, in a MATERIALIZED CTE: as a plain `IN (subquery)` PostgreSQL may plan a
        # semi join that re-runs the subquery per row, each run skipping the rows just updated
        # (SKIP LOCKED), so a claim of 100 on a fresh, unanalysed outbox took all 496 due.
        cte = pick.with_for_update(skip_locked=True).cte("pick").prefix_with("MATERIALIZED")
        picked = select(cte.c.id)
    taken = connection.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(picked), OUTBOX.c.status == "queued")
        .values(status="sending", claimed_by=holder, claim_expires_at=expires)
        .returning(OUTBOX.c.id)
    ).scalars()
    ids = list(taken)
    if not ids:
        return []
    query = select(OUTBOX).where(OUTBOX.c.id.in_(ids)).order_by(OUTBOX.c.priority, OUTBOX.c.id)
    return [dict(r._mapping) for r in connection.execute(query)]


def renew(connection: Connection, holder: str, expires: datetime) -> None:
    """Keep this holder's claims: a slow batch is never taken by another sender."""
    connection.execute(
        update(OUTBOX)
        .where(OUTBOX.c.status == "sending", OUTBOX.c.claimed_by == holder)
        .values(claim_expires_at=expires)
    )


def holders(connection: Connection) -> list[str]:
    """Who holds claims now."""
    query = select(OUTBOX.c.claimed_by).where(OUTBOX.c.status == "sending").distinct()
    return [h for h in connection.execute(query).scalars() if h]


def release(
    connection: Connection,
    *,
    holder: str | None = None,
    dead: Sequence[str] = (),
    expired_before: datetime | None = None,
    error: str | None = None,
) -> int:
    """Give claimed messages back to the queue, uncharged: this holder's, the dead holders', the expired.

    A message given back after a crash may have reached the server already: it is sent
    once more, with the same Message-ID, so the receiver can drop the copy.
    """
    whose = []
    if holder is not None:
        whose.append(OUTBOX.c.claimed_by == holder)
    if dead:
        whose.append(OUTBOX.c.claimed_by.in_(list(dead)))
    if expired_before is not None:
        whose.append(OUTBOX.c.claim_expires_at < expired_before)
    if not whose:
        return 0
    values: dict[str, Any] = {"status": "queued", "claimed_by": None, "claim_expires_at": None}
    if error is not None:
        values["last_error"] = error
    result = connection.execute(
        update(OUTBOX).where(OUTBOX.c.status == "sending", or_(*whose)).values(**values)
    )
    return result.rowcount or 0


class Outcomes:
    """A send run's own connection for outcomes, in autocommit: each outcome is one statement, one
    round trip, committed by itself. The run's other work (claims, pauses) keeps its transactions.

    Runs once per message sent, so below Core: the statement's text is made once per set of
    columns, each value converted by its column's own bind processor (what Core would store).
    On PostgreSQL the commit does not wait for the disk (`synchronous_commit` off, set inside
    the same UPDATE, so no extra round trip; SQLite in WAL mode with `synchronous=NORMAL` does
    so already): a crash of the database server may lose the last few outcomes, and those
    messages are sent once more, with their Message-ID.
    """

    def __init__(self, engine: Engine) -> None:
        self._raw = engine.raw_connection()
        driver = self._raw.driver_connection
        self._raw.detach()  # autocommit stays with this connection; it never goes back to the pool
        if engine.dialect.name == "postgresql":
            driver.autocommit = True
        else:
            driver.isolation_level = None
        self._dialect = engine.dialect
        self._cursor = self._raw.cursor()

    def finish(self, outbox_id: int, holder: str, **values: Any) -> bool:
        """Record the outcome of this holder's attempt; False when the claim was no longer its own."""
        statement = _finish_statement(self._dialect, tuple(values))
        self._cursor.execute(statement, _finish_parameters(self._dialect, outbox_id, holder, values))
        return bool(self._cursor.rowcount)

    def close(self) -> None:
        self._raw.close()


def _finish_statement(dialect: Any, names: tuple[str, ...]) -> str:
    lazy = dialect.name == "postgresql"
    key = (dialect.name, names, lazy)
    if key not in _FINISH:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        _FINISH[key] = (
            ("WITH lazy AS (SELECT set_config('synchronous_commit', 'off', true)) " if lazy else "")
            + "UPDATE outbox SET claimed_by = NULL, claim_expires_at = NULL"
            + "".join(f", {name} = {mark}" for name in names)
            + (" FROM lazy" if lazy else "")
            + f" WHERE id = {mark} AND claimed_by = {mark} AND status = 'sending'"
        )
    return _FINISH[key]


def _finish_parameters(dialect: Any, outbox_id: int, holder: str, values: dict[str, Any]) -> tuple:
    return (*[_bind(dialect, name, value) for name, value in values.items()], outbox_id, holder)


_FINISH: dict[tuple[str, tuple[str, ...], bool], str] = {}
_BINDERS: dict[tuple[str, str], Any] = {}


def _bind(dialect: Any, name: str, value: Any) -> Any:
    key = (dialect.name, name)
    if key not in _BINDERS:
        _BINDERS[key] = OUTBOX.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    processor = _BINDERS[key]
    return processor(value) if processor else value


def pause_until(connection: Connection, name: str) -> tuple[datetime, str] | None:
    row = connection.execute(select(PAUSE).where(PAUSE.c.name == name)).first()
    return (row.paused_until, row.reason) if row else None


def set_pause(connection: Connection, name: str, until: datetime, reason: str) -> None:
    connection.execute(delete(PAUSE).where(PAUSE.c.name == name))
    connection.execute(insert(PAUSE).values(name=name, paused_until=until, reason=reason))


def mark(connection: Connection, outbox_id: int, **values: Any) -> None:
    connection.execute(update(OUTBOX).where(OUTBOX.c.id == outbox_id).values(**values))


def last_id(connection: Connection) -> int:
    """The newest message's id (0 in an empty outbox): what was queued later is newer."""
    return int(connection.execute(select(func.coalesce(func.max(OUTBOX.c.id), 0))).scalar_one())


def rows_after(connection: Connection, after: int) -> list[dict[str, Any]]:
    """Every message queued after id `after`, whatever its cycle, oldest first."""
    query = select(OUTBOX).where(OUTBOX.c.id > after).order_by(OUTBOX.c.id)
    return [dict(r._mapping) for r in connection.execute(query)]


def rows(
    connection: Connection, status: str | None = None, kind: str | None = None, cycle: int | None = None
) -> list[dict[str, Any]]:
    """The messages of `cycle` (None: the current one), of one status and kind when given, oldest first."""
    query = select(OUTBOX).where(in_cycle(OUTBOX.c.cycle, cycle)).order_by(OUTBOX.c.id)
    if status:
        query = query.where(OUTBOX.c.status == status)
    if kind:
        query = query.where(OUTBOX.c.kind == kind)
    return [dict(r._mapping) for r in connection.execute(query)]


LARGEST_ID = 2**63 - 1
"""The largest id the column holds: a larger one (typed on the command line) is no message, not an
overflow in the driver."""


LISTED = (
    "id",
    "key",
    "kind",
    "status",
    "recipient",
    "recipient_name",
    "subject",
    "slot",
    "task_key",
    "attempts",
    "last_error",
    "message_id",
    "created_at",
    "sent_at",
    "next_attempt_at",
)
"""What a list of messages shows: no bodies, no attachments."""


def recent(
    connection: Connection, status: str | None = None, kind: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The newest `limit` messages (of one status and kind when given), newest first, without their
    bodies: read backwards along the primary key, so it costs the same at a month of mail."""
    query = select(*(OUTBOX.c[c] for c in LISTED)).order_by(OUTBOX.c.id.desc()).limit(limit)
    if status:
        query = query.where(OUTBOX.c.status == status)
    if kind:
        query = query.where(OUTBOX.c.kind == kind)
    return [dict(r._mapping) for r in connection.execute(query)]


def status_counts(connection: Connection, kind: str | None = None) -> dict[str, int]:
    """How many messages (of one kind when given) are in each status."""
    query = select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)
    if kind:
        query = query.where(OUTBOX.c.kind == kind)
    return {status: int(n) for status, n in connection.execute(query)}


def ids(connection: Connection, status: str) -> list[int]:
    """The ids of every message in `status`, oldest first."""
    query = select(OUTBOX.c.id).where(OUTBOX.c.status == status).order_by(OUTBOX.c.id)
    return list(connection.execute(query).scalars())


def one(connection: Connection, message_id: int) -> dict[str, Any] | None:
    if not 1 <= message_id <= LARGEST_ID:
        return None
    row = connection.execute(select(OUTBOX).where(OUTBOX.c.id == message_id)).first()
    return dict(row._mapping) if row else None


def latest_digest_before(
    connection: Connection, slot: str, cycle: int | None = None
) -> dict[str, Any] | None:
    """The figures of the last digest of `cycle` (None: the current one) before `slot`: a new cycle's
    first digest has none to compare with."""
    query = (
        select(OUTBOX.c.data)
        .where(OUTBOX.c.kind == "digest", OUTBOX.c.slot < slot, in_cycle(OUTBOX.c.cycle, cycle))
        .order_by(OUTBOX.c.slot.desc(), OUTBOX.c.id.desc())
        .limit(1)
    )
    data = connection.execute(query).scalar()
    return json.loads(data) if data else None


def failed_since(connection: Connection, since: datetime, cycle: int | None = None) -> list[dict[str, Any]]:
    """Messages of `cycle` (None: the current one) that failed since `since` (by when they failed,
    however long ago they were queued): what the digest lists of them, never their bodies (a day of
    bounced teacher mails must not load every message's text)."""
    listed = (OUTBOX.c.id, OUTBOX.c.key, OUTBOX.c.kind, OUTBOX.c.recipient, OUTBOX.c.recipient_name)
    query = (
        select(*listed, OUTBOX.c.subject, OUTBOX.c.last_error, OUTBOX.c.failed_at)
        .where(OUTBOX.c.status == "failed", OUTBOX.c.failed_at >= since, in_cycle(OUTBOX.c.cycle, cycle))
        .order_by(OUTBOX.c.id)
    )
    return [dict(r._mapping) for r in connection.execute(query)]


def queued_between(
    connection: Connection, kind: str, since: datetime, until: datetime, cycle: int | None = None
) -> int:
    """How many messages of `kind` of `cycle` (None: the current one) were queued after `since` up to
    `until`: the digest's count of the teachers' own reminders since the last digest (a day before)."""
    query = select(func.count()).where(
        OUTBOX.c.kind == kind,
        OUTBOX.c.created_at > since,
        OUTBOX.c.created_at <= until,
        in_cycle(OUTBOX.c.cycle, cycle),
    )
    return int(connection.execute(query).scalar_one())


def late_since(connection: Connection, since: datetime, cycle: int | None = None) -> int:
    """How many messages of `cycle` (None: the current one) went out late (after their slot by more
    than the tick interval) since `since`."""
    query = select(func.count()).where(
        OUTBOX.c.late.is_(True), OUTBOX.c.sent_at >= since, in_cycle(OUTBOX.c.cycle, cycle)
    )
    return int(connection.execute(query).scalar_one())
