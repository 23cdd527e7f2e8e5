"""Bulk writes below the ORM and Core's per-row parameter processing: DB-API executemany on SQLite,
COPY on PostgreSQL (models.copy_load), and the TEMP tables bulk commands stage their files in.

Values that are the same for every row (the transaction's timestamp) are converted
once with the column type's own bind processor, so what is stored is exactly what
Core would have stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table

from cuiban.models.copy_load import UniqueClash, copy_rows, is_postgres


def placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def bound(connection: Connection, column: Column, value: Any) -> Any:
    """`value` as the driver must receive it for `column` (e.g. an aware time as naive UTC on SQLite)."""
    processor = column.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    return processor(value) if processor else value


def insert_tuples(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[tuple],
    *,
    skip_conflicts_on: str | None = None,
) -> int:
    """INSERT `rows`; the number written. `skip_conflicts_on`: a unique column whose clashes are
    skipped instead of failing the statement (the caller compares the count with what it gave)."""
    rows = list(rows)
    if not rows:
        return 0
    marks = ", ".join([placeholder(connection)] * len(columns))
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    if skip_conflicts_on:
        statement += f" ON CONFLICT ({skip_conflicts_on}) DO NOTHING"
    result = connection.exec_driver_sql(statement, rows)
    return len(rows) if result.rowcount is None or result.rowcount < 0 else result.rowcount


def append_tuples(connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Rows added as fast as the database takes them (COPY on PostgreSQL, executemany on SQLite); the
    number written. A row clashing with a unique index raises UniqueClash: the caller refuses its input
    (on PostgreSQL the transaction can only be rolled back; on SQLite the clashing rows were skipped)."""
    rows = list(rows)
    if is_postgres(connection):
        return copy_rows(connection, table.name, columns, rows)
    written = insert_tuples(connection, table, columns, rows, skip_conflicts_on=_unique_column(table))
    if written < len(rows):
        raise UniqueClash(
            f"{len(rows) - written} of {len(rows)} rows clash with a unique index of {table.name}"
        )
    return written


def _unique_column(table: Table) -> str:
    """The one column with a unique constraint (the staff ID's): what SQLite's ON CONFLICT names."""
    unique = [c.name for c in table.columns if c.unique]
    if len(unique) != 1:
        raise ValueError(f"{table.name} has {len(unique)} unique columns, not one")
    return unique[0]


def temp_table(connection: Connection, name: str, columns_sql: str) -> None:
    """A TEMP table `name` made afresh for this transaction: dropped at its end on PostgreSQL
    (ON COMMIT DROP, or with its rollback), emptied and kept by the connection on SQLite (which
    has no ON COMMIT DROP; `drop_temp` when done). TEMP, so that nothing of it is any institution's:
    it lives in the session's own schema, found first whatever the search_path."""
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_temp_schema(connection)}.{name}")
    suffix = " ON COMMIT DROP" if is_postgres(connection) else ""
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns_sql}){suffix}")


def drop_temp(connection: Connection, name: str) -> None:
    """Free a TEMP table's rows now (SQLite keeps them in the connection's temp file until dropped)."""
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_temp_schema(connection)}.{name}")


def _temp_schema(connection: Connection) -> str:
    """The TEMP schema's name, so that a DROP can never reach a real table of the same name."""
    return "pg_temp" if is_postgres(connection) else "temp"


def load_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Rows into a (staging) table: COPY on PostgreSQL, executemany on SQLite; the number written."""
    if is_postgres(connection):
        return copy_rows(connection, table, columns, rows)
    rows = list(rows)
    if not rows:  # an empty parameter list is not an empty executemany to the drivers
        return 0
    marks = ", ".join([placeholder(connection)] * len(columns))
    connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    return len(rows)
