"""Bulk writes below the ORM and Core's per-row parameter processing: DB-API executemany.

Values that are the same for every row (the transaction's timestamp) are converted
once with the column type's own bind processor, so what is stored is exactly what
Core would have stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table


def placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def bound(connection: Connection, column: Column, value: Any) -> Any:
    """`value` as the driver must receive it for `column` (e.g. an aware time as naive UTC on SQLite)."""
    processor = column.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    return processor(value) if processor else value


def insert_tuples(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple]
) -> None:
    rows = list(rows)
    if not rows:
        return
    marks = ", ".join([placeholder(connection)] * len(columns))
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    connection.exec_driver_sql(statement, rows)
