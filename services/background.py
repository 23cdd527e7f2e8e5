"""Running a producer in a second process, so that reading and checking a file overlaps writing it.

The producer is a generator function; its items come back through a bounded queue
(pickled), in order. The child is forked before any database work of the caller's
command and never touches a connection (multiprocessing ends a forked child with
`os._exit`, so nothing inherited is closed behind the parent's back). An exception
in the child is raised again in the parent.

However the parent leaves the block — done, failed, or stopped by a signal the command
turned into an exception — the child is ended and reaped there. The child takes
SIGTERM's default action (it dies) and ignores SIGINT (Ctrl-C reaches the whole process
group; the parent decides), and on Linux it is sent SIGTERM when the parent dies, so
not even a SIGKILLed parent leaves it behind.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import queue
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

DEPTH = 4
"""Items in flight: enough to keep both processes busy, few enough to bound memory."""
POLL_S = 1.0
GRACE_S = 5.0
"""How long an ended child has to go before it is killed."""
PR_SET_PDEATHSIG = 1
_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _run(produce: Callable[[], Iterator[Any]], channel: Any, parent: int) -> None:
    _orphan_proof(parent)
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


def _orphan_proof(parent: int) -> None:
    """In the child, with SIGTERM and SIGINT still blocked from before the fork: the parent's
    handlers replaced (SIGTERM kills, SIGINT is ignored), death with the parent, then unblock."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):  # no prctl: the parent's clean-up is all there is
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


@contextmanager
def in_background(produce: Callable[[], Iterator[Any]]) -> Iterator[Iterator[Any]]:
    """The items of `produce()`, computed in a process forked on entering, before the caller
    opens a transaction; leaving the block ends the child if it is still running."""
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=DEPTH)
    child = context.Process(target=_run, args=(produce, channel, os.getpid()), daemon=True)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)  # the child starts with them blocked
    try:
        child.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    try:
        yield _items(child, channel)
    finally:
        _end(child)
        channel.close()


def _end(child: Any) -> None:
    """Terminate the child if it still runs, and reap it (killed if it does not go in time)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)  # a second stop must not cut this short
    try:
        if child.is_alive():
            child.terminate()
        child.join(GRACE_S)
        if child.is_alive():
            child.kill()
            child.join()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


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
