"""One transaction per command: committed when all went well, rolled back on error or dry run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine


@contextmanager
def transaction(engine: Engine, dry_run: bool = False) -> Iterator[Connection]:
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        except BaseException:
            outer.rollback()
            raise
        if dry_run:
            outer.rollback()
        else:
            outer.commit()
