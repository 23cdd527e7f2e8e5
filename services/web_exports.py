"""Two read-only use cases of the command line shaped for a browser: the whole log as a stream of
bytes (`cuiban log export` writes a file), and `cuiban plan diff` of an uploaded plan (the command
reads a path).

Why a pump for the log: `log_export.export_log` writes to a text file as it reads, a page at a
time; a web answer pulls its body instead. The export runs in a thread of its own and hands
over chunks through a short queue, so at most QUEUED chunks are held whatever the log's size,
and a browser that goes away stops the export at its next chunk.

Why the upload is parsed from memory: nothing of it is kept, and the plan text (YAML from a
person) goes through the project's strict loader and nothing else.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, cast

from sqlalchemy import Engine

from cuiban.planfile.loader import Problem, load_text
from cuiban.services import log_export
from cuiban.services.plan_diff import diff_plans
from cuiban.services.rejection import Refusal
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import local_date
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.plan_diff import PlanDiff

CHUNK = 64 * 1024
"""Characters gathered before a chunk is handed over."""
QUEUED = 16
"""Chunks waiting for the browser at most (about 1 MB)."""
MAX_PLAN_BYTES = 1024 * 1024
"""The largest plan.yaml taken (the shipped one is 16 KB)."""
DAYS = range(1, 367)
"""Days ahead a diff may look, as `cuiban plan diff --days`."""
_DONE = object()


class PlanTooLarge(Refusal):
    """An uploaded plan over MAX_PLAN_BYTES: refused unread (the page says it in its words)."""


class _Stopped(Exception):
    """The reader went away: the export ends where it is."""


class _Pipe:
    """The text file `export_log` writes to: chunks of UTF-8 into a bounded queue."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=QUEUED)
        self.stopped = threading.Event()
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= CHUNK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.parts:
            data = "".join(self.parts).encode("utf-8")
            self.parts, self.size = [], 0
            self.put(data)

    def put(self, item: Any) -> None:
        while not self.stopped.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        raise _Stopped


def log_stream(
    engine: Engine, plan: Plan, fmt: str, within: log_export.Window | None = None
) -> Iterator[bytes]:
    """The log export (`cuiban log export`'s rows, masks and header) as chunks of bytes.
    Refusal for a format it does not write, before anything is read."""
    if fmt not in log_export.FORMATS:
        raise Refusal(f"the log is exported as {' or '.join(log_export.FORMATS)}, not {fmt!r}")
    pipe = _Pipe()

    def export() -> None:
        try:
            log_export.export_log(engine, plan, cast(Any, pipe), fmt, within or log_export.Window())
            pipe.put(_DONE)
        except _Stopped:
            pass
        except BaseException as error:  # noqa: BLE001 - handed to the reader, raised there
            with contextlib.suppress(_Stopped):
                pipe.put(error)

    def chunks() -> Iterator[bytes]:
        worker = threading.Thread(target=export, name="cuiban-log-export", daemon=True)
        worker.start()
        try:
            while True:
                item = pipe.chunks.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            pipe.stopped.set()

    return chunks()


def log_name(plan: Plan, now: datetime, fmt: str) -> str:
    """变更日志_2016_2016-12-16.csv: the cycle and the day it was taken."""
    return f"变更日志_{plan.cycle}_{local_date(now, plan.timezone).isoformat()}.{fmt}"


@dataclass(frozen=True)
class PlanChange:
    """An uploaded plan: its errors (then nothing else), or the plan and what going to it changes."""

    problems: list[Problem] = field(default_factory=list)
    new: Plan | None = None
    diff: PlanDiff | None = None


def plan_change(
    engine: Engine,
    current: tuple[Plan, WorkingCalendar],
    upload: BinaryIO,
    name: str,
    now: datetime,
    days: int,
) -> PlanChange:
    """What replacing the current plan by the uploaded one changes in the next `days` days' mail,
    from the database's state (read in a transaction rolled back: nothing written). Refusal for a
    file over MAX_PLAN_BYTES or days outside DAYS; the plan's own errors as problems."""
    if days not in DAYS:
        raise Refusal(f"days must be from {DAYS.start} to {DAYS.stop - 1}, not {days}")
    data = upload.read(MAX_PLAN_BYTES + 1)
    if len(data) > MAX_PLAN_BYTES:
        raise PlanTooLarge(f"{name} is larger than {MAX_PLAN_BYTES // 1024} KB; a plan is far smaller")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return PlanChange([Problem(name, 1, 1, "(file)", "the plan file is not UTF-8 text")])
    loaded = load_text(text, name)
    if not loaded.ok or loaded.plan is None or loaded.calendar is None:
        return PlanChange(loaded.errors or [Problem(name, 1, 1, "(file)", "the plan is empty")])
    found = diff_plans(current, (loaded.plan, loaded.calendar), now, days, engine)
    return PlanChange([], loaded.plan, found)
