"""The schema comes from the migrations and matches the tables; SQLite runs in WAL mode."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import cuiban.models.tables  # noqa: F401
from cuiban.models.database import alembic_config, open_engine, upgrade


def test_migrations_build_exactly_the_tables(engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_opening_twice_is_a_no_op(engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert MigrationContext.configure(connection).get_current_revision() == head == "0014"


def test_sqlite_uses_wal(sqlite_engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_engine_opens_the_url_given_not_the_environments(monkeypatch, tmp_path) -> None:
    """$CUIBAN_DB is the settings' business (tests/e2e/test_settings.py): the environment is not read here."""
    monkeypatch.setenv("CUIBAN_DB", f"sqlite:///{tmp_path}/env.sqlite3")
    open_engine(f"sqlite:///{tmp_path}/given.sqlite3").dispose()
    assert (tmp_path / "given.sqlite3").exists()
