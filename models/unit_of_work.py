"""One transaction per command: committed when all went well, rolled back on error or dry run."""

from __future__ import annotations

import gc
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


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for bulk work.

    A million-row import allocates millions of acyclic tuples and strings while the
    live set grows; the collector's repeated passes over it cost 15-20% of the run and
    find nothing to free.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
