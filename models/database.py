"""Opening the database: SQLite in WAL mode, schema migrated on first use.

Which URL is the composition root's business (cli.bootstrap: --db, else $CUIBAN_DB read
once by cli.settings, else DEFAULT_URL); nothing here reads the environment."""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext

from cuiban.models import locks, tenancy

DEFAULT_URL = "sqlite:///cuiban.sqlite3"
BUSY_TIMEOUT_S = 30.0
"""How long a SQLite connection waits for another one's write lock before giving up."""
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


CACHE_MIB = 256
"""A command's SQLite page cache: index upkeep of an import at a million teachers needs it."""
SERVE_CACHE_MIB = 16
"""`cuiban serve` keeps up to 15 connections, each caching what it read: 16 MiB each, not 256."""


def open_engine(
    url: str,
    migrate: bool = True,
    *,
    busy_timeout: float = BUSY_TIMEOUT_S,
    cache_mib: int = CACHE_MIB,
    institution: str | None = None,
    **engine_options: Any,
) -> Engine:
    """An engine for `url`, the schema migrated unless `migrate` is False. `busy_timeout` (seconds,
    SQLite only): how long to wait for a lock held by another process before "database is locked";
    `cache_mib` (SQLite only): each connection's page cache; `institution` (PostgreSQL only): the
    tenant whose schema every connection works in (`models.tenancy`), created on first use."""
    if institution is not None:
        options = dict(engine_options.pop("connect_args", {}))
        options["options"] = f"-csearch_path={tenancy.schema_of(institution)}"
        engine_options["connect_args"] = options
    engine = create_engine(url, **engine_options)
    if institution is not None:
        if engine.dialect.name != "postgresql":
            raise tenancy.TenancyError(
                "a SQLite database holds one institution; several institutions need PostgreSQL"
            )
        with engine.begin() as connection:
            tenancy.prepare(connection, institution)
    if engine.dialect.name == "sqlite":
        busy_ms = max(0, round(busy_timeout * 1000))

        def pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            _sqlite_pragmas(dbapi_connection, busy_ms, cache_mib)

        event.listen(engine, "connect", pragmas)
        event.listen(engine, "handle_error", _keep_connection_on_stop)
    engine = engine.execution_options(schema_translate_map=tenancy.translate_map(institution))
    if migrate:
        upgrade(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, busy_ms: int, cache_mib: int = 256) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={busy_ms:d}")  # first: the other pragmas may wait for a lock
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{cache_mib * 1024:d}")
    cursor.close()


def _keep_connection_on_stop(context: ExceptionContext) -> None:
    """A stop inside a statement (KeyboardInterrupt, or a signal the command turned into an exception:
    anything not an Exception) keeps the connection, so the transaction's own rollback ends it.

    SQLAlchemy would throw such a connection away unrolled-back, and a SQLite connection
    closed while a statement is unfinished lives on until that statement is freed (the
    exception's traceback holds it), write lock and all: clean-up that writes (a lease
    released on the way out) would wait for it and fail with "database is locked"."""
    if not isinstance(context.original_exception, Exception):
        context.is_disconnect = False


def alembic_config() -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


_ALEMBIC = threading.Lock()
"""Alembic's command API keeps its context in module globals: one migration at a time per process
(a process opening several institutions' schemas from threads would otherwise mix them up)."""


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    with _ALEMBIC:
        _upgrade(engine)


@functools.cache
def _head() -> str | None:
    """The newest revision, read from the migration files once per process (a worker opening fifty
    institutions' schemas would otherwise parse them fifty times)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(engine: Engine) -> None:
    head = _head()
    with engine.begin() as connection:
        if MigrationContext.configure(connection).get_current_revision() == head:
            return
        if connection.dialect.name == "postgresql":  # several workers may open a new institution at once
            locks.hold(connection, "cuiban.migrate")
            if MigrationContext.configure(connection).get_current_revision() == head:
                return
        config = alembic_config()  # only when there is something to migrate: opening is on start-up paths
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
