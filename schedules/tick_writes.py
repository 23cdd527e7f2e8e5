"""The tick's writes: each a short transaction under the tick lock, so that no other writer waits
long for one (SQLite has one write lock for the whole database).

Each write is keyed or checked, so the transactions may come in any number, a tick may stop
between any two, and two ticks may interleave theirs: a message is queued only if its key (and,
for a combined mail, each of its parts' keys) is new in the cycle, and a task's transitions are
written only if the task is still in the state and escalation level it was decided from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from cuiban.models import locks, outbox_store, task_store, teacher_store, tick_marks
from cuiban.models.unit_of_work import transaction
from cuiban.schedules.completion import refresh_derived
from cuiban.schedules.task_mail import Message
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.completion import Counts
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.task_machine import UnitTask
from cuiban.workflow.tasks import TaskState
from cuiban.workflow.tick_decisions import TaskTick

CHUNK = 200
"""Messages (or tasks' transitions) per transaction: rendering 200 messages takes about 0.1 s, and
their transaction, the rendering done before it, some 20 ms at a million teachers."""
LOCK = "cuiban.tick"
"""Held by each of a tick's transactions: two ticks' writes never interleave within one."""


@dataclass
class TickReport:
    opened: int = 0
    overdue: int = 0
    escalated: int = 0
    queued: dict[str, int] = field(
        default_factory=lambda: {
            "reminder": 0,
            "escalation": 0,
            "digest": 0,
            "bot": 0,
            "combined": 0,
            "teacher": 0,
        }
    )
    template_failures: int = 0
    """Messages queued as failed because an admin's template could not render them."""

    def count(self, decided: TaskTick) -> None:
        self.opened += decided.fired("open_window")
        self.overdue += decided.fired("mark_overdue")
        self.escalated += len(decided.escalations)

    def count_all(self, decided: Iterable[TaskTick]) -> None:
        for one in decided:
            self.count(one)


class Writer:
    """One tick's writes, and its report of what they did."""

    def __init__(self, engine: Engine, now: datetime, domain: str, cycle: int) -> None:
        self.engine, self.now, self.domain, self.cycle = engine, now, domain, cycle
        self.report = TickReport()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with transaction(self.engine) as connection:
            locks.hold(connection, LOCK)  # a second tick's write waits for this one, then finds it done
            yield connection

    def prepare(
        self,
        plan: Plan,
        calendar: WorkingCalendar,
        check: Callable[[Connection], Any] | None,
        counts: Counts,
        stale: bool,
    ) -> tuple[Counts, datetime | None]:
        """The first transaction: `check` called; when `stale` (a read found tasks the plan calls for
        missing or moved, or derived tasks to complete or reopen) the tasks brought in step and the
        derived ones refreshed, on the teachers counted again under the lock. The teachers' counts
        (those read before, unless stale) and how far the cycle's ticks had decided."""
        with self._transaction() as connection:
            if check is not None:
                check(connection)
            if stale:
                task_store.ensure(connection, plan, calendar, self.now)
                counts = teacher_store.unit_state_counts(connection)
                refresh_derived(connection, plan, self.now, "tick", counts)
            return counts, tick_marks.seen_until(connection, self.cycle)

    def queue(self, messages: list[Message], mark: bool = False) -> None:
        """Queue the messages whose keys are new (the last of any key repeated among them), counting
        them; with `mark`, the tick's last write: it records that the cycle's ticks decided at `now`."""
        if not messages and not mark:
            return
        messages = outbox_store.encoded(messages)  # before the lock: the digests' figures are MBs
        with self._transaction() as connection:
            self._queue(connection, messages)
            if mark:
                tick_marks.saw(connection, self.now, self.cycle)

    def _queue(self, connection: Connection, messages: list[Message]) -> None:
        keys = [m["key"] for m in messages] + [p["key"] for m in messages for p in m.get("parts", ())]
        known = outbox_store.existing_keys(connection, keys, self.cycle)
        fresh = list(
            {
                m["key"]: m
                for m in messages
                if m["key"] not in known and not any(p["key"] in known for p in m.get("parts", ()))
            }.values()
        )
        for message in fresh:
            self.report.queued[message["kind"]] += 1
            self.report.template_failures += message.get("status") == "failed"
        outbox_store.queue(connection, fresh, self.now, self.domain, self.cycle, counted=False)

    def transitions(self, changed: list[tuple[TaskState, UnitTask, TaskTick]], chunk: int) -> None:
        """Write the tasks' transitions and log rows, `chunk` tasks a transaction, each task only if
        no other tick has moved it since it was loaded; the report counts those written."""
        for start in range(0, len(changed), chunk):
            batch = changed[start : start + chunk]
            with self._transaction() as connection:
                still = task_store.unmoved(connection, [loaded for loaded, _, _ in batch])
                mine = [one for one in batch if one[0].id in still]
                task_store.save_many(
                    connection, [(loaded, task) for loaded, task, _ in mine], self.now, "tick"
                )
            self.report.count_all(decided for _, _, decided in mine)
