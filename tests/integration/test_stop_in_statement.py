"""A stop that lands inside a statement (a signal turned into an exception mid-fetch) still rolls the
transaction back and lets go of SQLite's write lock at once; commits are counted, bookkeeping aside."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cuiban.models.database import open_engine
from cuiban.models.unit_of_work import commits, transaction


class Stop(BaseException):
    """Like cli.errors.Stopped: not an Exception."""


CONVERTER = "cuibanstoptest"


@pytest.fixture
def stopping_fetch():
    """Reading a column typed `[cuibanstoptest]` raises Stop on the third value: mid-statement."""
    seen = []

    def convert(value: bytes) -> bytes:
        seen.append(value)
        if len(seen) == 3:
            raise Stop()
        return value

    sqlite3.register_converter(CONVERTER, convert)
    yield
    sqlite3.converters.pop(CONVERTER.upper(), None)


def test_a_stop_mid_statement_rolls_back_and_frees_the_write_lock(tmp_path: Path, stopping_fetch) -> None:
    path = tmp_path / "stop.sqlite3"
    engine = open_engine(
        f"sqlite:///{path}", migrate=False, connect_args={"detect_types": sqlite3.PARSE_COLNAMES}
    )
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1), (2), (3), (4), (5)")

    with pytest.raises(Stop), transaction(engine) as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (6)")
        connection.exec_driver_sql(f'SELECT x AS "x [{CONVERTER}]" FROM t').all()

    other = sqlite3.connect(path, timeout=0)  # no waiting: the lock must be free now
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    assert other.execute("SELECT count(*) FROM t").fetchone() == (5,)
    other.close()
    engine.dispose()


def test_commits_are_counted_and_bookkeeping_is_not(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'count.sqlite3'}", migrate=False)
    before = commits()
    with transaction(engine) as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
    with transaction(engine, bookkeeping=True) as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    with transaction(engine, dry_run=True) as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (2)")
    with pytest.raises(Stop), transaction(engine) as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (3)")
        raise Stop()
    assert commits() == before + 1
    engine.dispose()
