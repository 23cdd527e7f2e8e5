"""One transaction per command: committed when all went well, rolled back on error or dry run."""

from __future__ import annotations

import gc
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

_HELD_OFF = {signal.SIGTERM, signal.SIGINT}
"""Signals that wait while a COMMIT runs, so a stop never leaves in doubt whether it happened."""
_committed = 0


@contextmanager
def transaction(engine: Engine, dry_run: bool = False, *, bookkeeping: bool = False) -> Iterator[Connection]:
    """The connection of one transaction, rolled back if the block raises anything (a stop too).

    `bookkeeping`: the transaction only records who holds what (a lease, a claim), not the
    campaign's data, so `commits()` does not count it."""
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
            _commit(outer, 0 if bookkeeping else 1)


def _commit(outer, counted: int) -> None:  # type: ignore[no-untyped-def]
    global _committed
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_OFF)
    try:
        outer.commit()
        _committed += counted
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a signal that came meanwhile is handled now


def commits() -> int:
    """How many transactions (bookkeeping aside) this process has committed: a stopped command
    compares it with the count at its start to say whether anything was changed."""
    return _committed


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
