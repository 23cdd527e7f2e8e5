"""Opening the database: URL from --db or $CUIBAN_DB, SQLite in WAL mode, schema migrated on first use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

DEFAULT_URL = "sqlite:///cuiban.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(given: str | None = None) -> str:
    """--db if given, else $CUIBAN_DB, else a SQLite file in the working folder."""
    return given or os.environ.get("CUIBAN_DB") or DEFAULT_URL


def open_engine(url: str, migrate: bool = True, **engine_options: Any) -> Engine:
    engine = create_engine(url, **engine_options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB: index upkeep at a million teachers
    cursor.close()


def alembic_config() -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.begin() as connection:
        if MigrationContext.configure(connection).get_current_revision() == head:
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
