"""Running a producer in a second process, so that reading and checking a file overlaps writing it.

The producer is a generator function; its items come back through a bounded queue
(pickled), in order. The child is forked before any database work of the caller's
command and never touches a connection (multiprocessing ends a forked child with
`os._exit`, so nothing inherited is closed behind the parent's back). An exception
in the child is raised again in the parent; when the parent stops early, the child
is ended.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

DEPTH = 4
"""Items in flight: enough to keep both processes busy, few enough to bound memory."""
POLL_S = 1.0


def _run(produce: Callable[[], Iterator[Any]], channel: Any) -> None:
    try:
        for item in produce():
            channel.put(("item", item))
    except BaseException as error:  # noqa: BLE001 - every failure must reach the parent
        try:
            pickle.dumps(error)
        except Exception:  # an exception that cannot travel is sent as its message
            error = RuntimeError(f"{type(error).__name__}: {error}")
        channel.put(("error", error))
        return
    channel.put(("end", None))


@contextmanager
def in_background(produce: Callable[[], Iterator[Any]]) -> Iterator[Iterator[Any]]:
    """The items of `produce()`, computed in a process forked on entering, before the caller
    opens a transaction; leaving the block ends the child if it is still running."""
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=DEPTH)
    child = context.Process(target=_run, args=(produce, channel), daemon=True)
    child.start()
    try:
        yield _items(child, channel)
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        channel.close()


def _items(child: Any, channel: Any) -> Iterator[Any]:
    while True:
        try:
            kind, value = channel.get(timeout=POLL_S)
        except queue.Empty:
            if not child.is_alive():
                raise RuntimeError(
                    f"the checking process ended unexpectedly (exit code {child.exitcode})"
                ) from None
            continue
        if kind == "end":
            return
        if kind == "error":
            raise value
        yield value
