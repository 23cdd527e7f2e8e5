"""Shared fixtures: the shipped plan, a small valid plan, and helpers to write plan files."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cuiban.models.database import open_engine
from cuiban.planfile.loader import load_plan

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PLAN = ROOT / "config" / "plan.yaml"
MINIMAL_PLAN = Path(__file__).parent / "fixtures" / "minimal_plan.yaml"


def line_of(text: str, marker: str) -> int:
    """1-based number of the only line containing `marker`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) == 1, f"{marker!r} found on lines {hits}"
    return hits[0]


@pytest.fixture
def shipped_plan_text() -> str:
    return SHIPPED_PLAN.read_text(encoding="utf-8")


@pytest.fixture
def minimal_plan_text() -> str:
    return MINIMAL_PLAN.read_text(encoding="utf-8")


@pytest.fixture
def write_plan(tmp_path: Path):
    def write(text: str, name: str = "plan.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


# ── databases: a real SQLite file, and a real PostgreSQL server when one is configured ──

PG_URL = os.environ.get("CUIBAN_TEST_PG_URL")
PG_REQUIRED = os.environ.get("CUIBAN_REQUIRE_PG") == "1"
NO_PG = 'no PostgreSQL server: start one with `eval "$(bash .ci/postgres.sh start)"`'


def postgres_engine():
    """A fresh schema on the test server, dropped afterwards."""
    if not PG_URL:
        if PG_REQUIRED:
            pytest.fail("CUIBAN_REQUIRE_PG=1 but CUIBAN_TEST_PG_URL is not set")
        pytest.skip(NO_PG)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = open_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def url_of(engine) -> str:  # type: ignore[no-untyped-def]
    """The URL another process (a command) opens for this engine's database: PostgreSQL with its schema."""
    if engine.dialect.name == "sqlite":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as connection:
        schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path: Path):
    """The store on each real backend."""
    if request.param == "sqlite":
        engine = open_engine(f"sqlite:///{tmp_path / 'cuiban.sqlite3'}")
        yield engine
        engine.dispose()
    else:
        yield from postgres_engine()


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    engine = open_engine(f"sqlite:///{tmp_path / 'cuiban.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def plan_and_calendar():
    return load_plan(SHIPPED_PLAN)


@pytest.fixture(scope="session")
def minimal_plan():
    return load_plan(MINIMAL_PLAN)
