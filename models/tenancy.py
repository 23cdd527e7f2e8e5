"""Institutions as tenants: on PostgreSQL each institution's tables live in a schema of its own.

Why schemas rather than an institution column on every row: every query cuiban makes — ORM, Core, and
the bulk paths' raw SQL and COPY — names its tables unqualified, and the connection's `search_path`
decides whose tables those are. So no query can forget the institution (there is no WHERE clause to
forget), a connection opened for institution A cannot name B's rows at all, and the migrations, the
indexes and the planner's statistics are per institution for free. The cost is a catalogue that grows
with the institutions (≈ 25 tables each: a province's hundred universities are 2,500, a country's
three thousand 75,000, which PostgreSQL carries; docs/scale.md says how Citus distributes it).

What is shared by the whole deployment lives in one more schema, `cuiban_shared`: the sending
accounts' turns (a provider's rate limit is per account, not per institution). Tables that code reads
there are declared with the placeholder schema `SHARED_KEY` and the engine's `schema_translate_map`
turns it into `cuiban_shared` for tenants, or into no schema at all for a database of one institution
(SQLite, or PostgreSQL used as before), where the same table is made by the migrations.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from cuiban.workflow.institution_id import TenancyError, check_id

__all__ = [
    "PREFIX", "SHARED", "SHARED_KEY", "TenancyError", "check_id", "institutions", "prepare", "schema_of"
]

PREFIX = "inst_"
"""An institution `hebtu` lives in schema `inst_hebtu`."""
SHARED = "cuiban_shared"
SHARED_KEY = "shared"
"""The schema name tables of the shared schema are declared with; the engine maps it (see above)."""


def schema_of(institution: str) -> str:
    return PREFIX + check_id(institution)


def translate_map(institution: str | None) -> dict[str, str | None]:
    return {SHARED_KEY: SHARED if institution else None}


def prepare(connection: Connection, institution: str) -> None:
    """Create the institution's schema and the shared one if they are not there yet.

    Under a deployment-wide lock: three workers starting together on fifty new institutions must
    not race on `CREATE SCHEMA IF NOT EXISTS` (which is not safe against itself)."""
    schema = schema_of(institution)
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('cuiban.tenancy', 0))"))
    connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{SHARED}"')
    connection.exec_driver_sql(
        f'CREATE TABLE IF NOT EXISTS "{SHARED}".sender_turn ('
        "name VARCHAR(200) PRIMARY KEY, next_at TIMESTAMP WITH TIME ZONE NOT NULL)"
    )


def institutions(connection: Connection) -> list[str]:
    """The institutions this PostgreSQL database holds: schemas `inst_*` that were migrated."""
    rows = connection.execute(
        text(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
            "WHERE c.relname = 'alembic_version' AND n.nspname LIKE :prefix ORDER BY n.nspname"
        ),
        {"prefix": PREFIX.replace("_", r"\_") + "%"},
    )
    return [name.removeprefix(PREFIX) for (name,) in rows]
