"""Rows into PostgreSQL by `COPY … FROM STDIN` (psycopg 3), inside the caller's transaction.

Why COPY: at a million rows, an `executemany` of INSERTs costs a round of parsing, planning and
binding per row on the server, and COPY costs one statement per batch; the bulk paths (roster
import, status sync) stage their files this way and then apply them with set-based statements.

Why the driver's own connection: SQLAlchemy has no COPY, and the psycopg connection under a
SQLAlchemy `Connection` is the one its transaction runs on, so what is copied commits or rolls
back with everything else the command wrote. Nothing here imports psycopg: the connection is
used as the driver gives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

copies = 0
"""COPY statements this process has run: tests read it to know the COPY path was taken."""
UNIQUE_VIOLATION = "23505"


class UniqueClash(Exception):
    """Rows clashed with a unique index: a value given twice. On PostgreSQL the transaction is spoilt
    (it can only be rolled back); the caller refuses the input."""


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def driver_connection(connection: Connection) -> Any:
    """The psycopg connection under `connection` (its transaction is the command's)."""
    return connection.connection.driver_connection


def copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY `rows` (tuples in `columns` order; None is NULL) into `table`; the number of rows.

    `table` is unqualified, so it is the TEMP table of that name or the one in the connection's
    search_path (the institution's schema)."""
    global copies
    written = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        with driver_connection(connection).cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                written += 1
    except Exception as error:
        if getattr(error, "sqlstate", None) == UNIQUE_VIOLATION:
            raise UniqueClash(str(error)) from error
        raise
    copies += 1
    return written


def analyze(connection: Connection, table: str) -> None:
    """Give the planner the staged table's size and values before the statements that join it
    (a TEMP table is never analysed by autovacuum: without this, PostgreSQL guesses its rows)."""
    connection.exec_driver_sql(f"ANALYZE {table}")
