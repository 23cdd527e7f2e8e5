"""One holder at a time of a named lock, held for the caller's transaction.

PostgreSQL: a transaction-level advisory lock, keyed by the name *and the schema the connection works
in*: each institution of a deployment lives in its own schema (`models.tenancy`), so two institutions'
ticks never wait for each other, while two ticks of one institution do. SQLite (one institution a
file): a write statement at the start, which takes the database's write lock at once instead of at
the first real write (waiting up to busy_timeout for another tick to commit).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

KEY = "hashtextextended(coalesce(current_schema(), '') || '/' || :name, 0)"
"""A 64-bit key for a lock's name in the connection's schema."""


def hold(connection: Connection, name: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({KEY})"), {"name": name})
    else:
        connection.exec_driver_sql("UPDATE task SET escalation_level = escalation_level WHERE 1 = 0")


def try_hold_session(connection: Connection, name: str) -> bool:
    """PostgreSQL only: take the lock for the connection's session if no one holds it; True when taken.

    Held until `release_session` or until the connection ends — a worker that dies lets go at once,
    which a lease in a table cannot do without waiting for its expiry."""
    return bool(connection.execute(text(f"SELECT pg_try_advisory_lock({KEY})"), {"name": name}).scalar())


def release_session(connection: Connection, name: str) -> None:
    connection.execute(text(f"SELECT pg_advisory_unlock({KEY})"), {"name": name})
