"""The transition log read in id order, a page at a time (keyset pagination), for the whole-log export.

Why pages by id rather than one cursor: `WHERE id > last ORDER BY id LIMIT n` uses the primary
key on both SQLite and PostgreSQL, holds no cursor open between pages and keeps memory to one
page whatever the log's size. Each row carries the teacher's unit (from the teacher table) so
the export can be filtered by unit without a second query.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from cuiban.models.tables import Teacher, TransitionLog

LOG = TransitionLog.__table__
TEACHER = Teacher.__table__

COLUMNS = (
    "id",
    "at",
    "actor",
    "record_kind",
    "record_key",
    "unit",
    "event",
    "from_state",
    "to_state",
    "source",
    "note",
    "data",
)
"""What each row holds, in order; `unit` is the teacher's (None for other records)."""


def last_id(connection: Connection) -> int:
    """The newest log row's id (0 for an empty log): an export stops there, so rows written while
    it runs do not make it longer than the moment it started."""
    return connection.execute(select(func.coalesce(func.max(LOG.c.id), 0))).scalar_one()


def count(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(LOG)).scalar_one()


def pages(
    connection: Connection,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    teacher_unit: str | None = None,
    size: int = 10_000,
) -> Iterator[Sequence[Sequence[Any]]]:
    """Log rows (COLUMNS) in id order, `size` at a time, from `start` to `end` (both included).

    `teacher_unit`: teachers' rows only of that unit (other records' rows all pass: a task's
    unit is in its key, which the caller reads)."""
    top = last_id(connection)
    joined = LOG.outerjoin(
        TEACHER, and_(LOG.c.record_kind == "teacher", TEACHER.c.staff_id == LOG.c.record_key)
    )
    query = select(
        LOG.c.id, LOG.c.at, LOG.c.actor, LOG.c.record_kind, LOG.c.record_key, TEACHER.c.unit_id,
        LOG.c.event, LOG.c.from_state, LOG.c.to_state, LOG.c.source, LOG.c.note, LOG.c.data,
    ).select_from(joined)
    if start is not None:
        query = query.where(LOG.c.at >= start)
    if end is not None:
        query = query.where(LOG.c.at <= end)
    if teacher_unit is not None:
        query = query.where(or_(LOG.c.record_kind != "teacher", TEACHER.c.unit_id == teacher_unit))
    after = 0
    with _small_page_cache(connection):
        while after < top:
            page = connection.execute(
                query.where(LOG.c.id > after, LOG.c.id <= top).order_by(LOG.c.id).limit(size)
            ).all()
            if not page:
                return
            yield page
            after = page[-1][0]


CACHE_KIB = 2_048
"""SQLite's page cache while exporting (its default size): a scan reads each page once, and the usual
256 MiB cache (models.database) would only grow with the log's size."""


@contextmanager
def _small_page_cache(connection: Connection) -> Iterator[None]:
    if connection.dialect.name != "sqlite":
        yield
        return
    usual = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB:d}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(usual):d}")
