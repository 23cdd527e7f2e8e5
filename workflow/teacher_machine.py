"""The teacher record's state machine: from HR's roster to the province, and corrections after.

`TRANSITIONS` is the one definition. A `TeacherRecord` is a plain object that a
shared transitions Machine drives for single events (with callbacks recording what happened);
`sync_path` derives, from the same definition, the chain of events that takes a
record from one state to another, so that bulk updates in SQL follow the same rules.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from transitions import EventData, MachineError

from cuiban.workflow.machines import IllegalEvent, SharedMachine
from cuiban.workflow.teacher_states import ALL_STATES

BEFORE_REPORT = [
    "pending",
    "account_issued",
    "filling",
    "submitted",
    "returned",
    "reviewed",
    "confirmed",
]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "issue_account", "source": "pending", "dest": "account_issued"},
    {"trigger": "start", "source": ["account_issued", "returned"], "dest": "filling"},
    {"trigger": "submit", "source": "filling", "dest": "submitted"},
    {"trigger": "review", "source": "submitted", "dest": "reviewed"},
    {"trigger": "return_", "source": ["submitted", "reviewed"], "dest": "returned"},
    {"trigger": "confirm", "source": "reviewed", "dest": "confirmed"},
    {"trigger": "report", "source": "confirmed", "dest": "reported"},
    {"trigger": "request_correction", "source": "reported", "dest": "correction_requested"},
    {
        "trigger": "approve_correction",
        "source": "correction_requested",
        "dest": "reported",
        "before": "_apply_correction",
    },
    {
        "trigger": "reject_correction",
        "source": "correction_requested",
        "dest": "reported",
        "before": "_drop_correction",
    },
    {"trigger": "exclude", "source": BEFORE_REPORT, "dest": "excluded"},
    {"trigger": "include", "source": "excluded", "dest": "pending"},
    {"trigger": "leave", "source": [s for s in ALL_STATES if s != "left"], "dest": "left"},
    {"trigger": "rejoin", "source": "left", "dest": "pending"},
]

EVENTS: tuple[str, ...] = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))
MACHINE = SharedMachine(list(ALL_STATES), TRANSITIONS)

SYNC_EVENTS = ("issue_account", "start", "submit", "review", "return_", "confirm", "report")
"""Events a status export may imply; scope, employment and corrections never come from it."""


@dataclass(frozen=True)
class Happened:
    """One transition, as it goes into the log after the commit."""

    event: str
    source: str
    dest: str
    at: datetime
    note: str | None = None
    changes: dict[str, list[Any]] | None = None
    """For approved corrections: field → [old, new]; the old value stays in the log."""


@dataclass
class TeacherRecord:
    staff_id: str
    state: str
    fields: dict[str, Any] = field(default_factory=dict)
    pending_correction: dict[str, Any] | None = None
    happened: list[Happened] = field(default_factory=list)

    def fire(
        self,
        event: str,
        now: datetime,
        note: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> Happened:
        """Apply `event` at `now`, or raise IllegalEvent leaving the record as it was."""
        if event not in EVENTS or event not in MACHINE.allowed(self.state):
            allowed = [e for e in MACHINE.allowed(self.state) if e in EVENTS]
            raise IllegalEvent(f"teacher {self.staff_id}", self.state, event, allowed)
        if event == "request_correction" and not changes:
            raise ValueError("a correction request needs the fields to change and their new values")
        if event == "return_" and not note:
            raise ValueError("returning a record needs a note saying what to fix")
        source = self.state
        try:
            MACHINE.fire(self, event, now=now, note=note, changes=changes)
        except MachineError as exc:  # pragma: no cover - guarded above
            raise IllegalEvent(f"teacher {self.staff_id}", source, event, []) from exc
        return self.happened[-1]

    # callbacks: change state and record what happened, never I/O
    def _apply_correction(self, event: EventData) -> None:
        requested = self.pending_correction or {}
        event.kwargs["logged"] = {k: [self.fields.get(k), v] for k, v in requested.items()}
        self.fields.update(requested)
        self.pending_correction = None

    def _drop_correction(self, event: EventData) -> None:
        self.pending_correction = None

    def _record(self, event: EventData) -> None:
        kwargs = event.kwargs
        if event.event.name == "request_correction":
            self.pending_correction = dict(kwargs["changes"])
            kwargs["logged"] = {k: [self.fields.get(k), v] for k, v in kwargs["changes"].items()}
        self.happened.append(
            Happened(
                event.event.name,
                event.transition.source,
                event.transition.dest,
                kwargs["now"],
                kwargs.get("note"),
                kwargs.get("logged"),
            )
        )


def allowed_events(state: str) -> list[str]:
    return [t["trigger"] for t in TRANSITIONS if state in _sources(t)]


def _sources(transition: dict[str, Any]) -> list[str]:
    source = transition["source"]
    return [source] if isinstance(source, str) else list(source)


@cache
def _sync_graph() -> dict[str, list[tuple[str, str]]]:
    graph: dict[str, list[tuple[str, str]]] = {s: [] for s in ALL_STATES}
    for transition in TRANSITIONS:
        if transition["trigger"] in SYNC_EVENTS:
            for source in _sources(transition):
                graph[source].append((transition["trigger"], transition["dest"]))
    return graph


@cache
def sync_path(source: str, target: str) -> tuple[tuple[str, str, str], ...] | None:
    """The shortest chain of (event, from, to) steps from `source` to `target`.

    Empty when already there; None when no legal chain exists (a conflict).
    """
    if source == target:
        return ()
    graph = _sync_graph()
    queue: deque[tuple[str, tuple[tuple[str, str, str], ...]]] = deque([(source, ())])
    seen = {source}
    while queue:
        state, path = queue.popleft()
        for event, dest in graph[state]:
            if dest in seen:
                continue
            step = (*path, (event, state, dest))
            if dest == target:
                return step
            seen.add(dest)
            queue.append((dest, step))
    return None
