"""One tick at a time per database, held for the tick's transaction.

PostgreSQL: a transaction-level advisory lock. SQLite: a write statement at the start,
which takes the database's write lock at once instead of at the first real write
(waiting up to busy_timeout for another tick to commit).
"""

from __future__ import annotations

import zlib

from sqlalchemy import Connection, text


def hold(connection: Connection, name: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})
    else:
        connection.exec_driver_sql("UPDATE task SET escalation_level = escalation_level WHERE 1 = 0")
