"""A unit's task for one milestone: upcoming → open → done, or overdue → done_late.

Escalation levels are recorded on the task (0 = none yet) so that each level is
told once. A derived task (completed by its teachers' states) reopens when a record
falls back, e.g. a collector returns a submitted record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from transitions import EventData

from cuiban.workflow.machines import IllegalEvent, SharedMachine
from cuiban.workflow.teacher_machine import Happened

TASK_STATES = ("upcoming", "open", "overdue", "done", "done_late")
FINISHED = frozenset({"done", "done_late"})

TASK_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "open_window", "source": "upcoming", "dest": "open"},
    {"trigger": "mark_overdue", "source": ["upcoming", "open"], "dest": "overdue"},
    {"trigger": "complete", "source": ["upcoming", "open"], "dest": "done"},
    {"trigger": "complete", "source": "overdue", "dest": "done_late"},
    {"trigger": "reopen", "source": "done", "dest": "open"},
    {"trigger": "reopen", "source": "done_late", "dest": "overdue"},
    {"trigger": "escalate", "source": "overdue", "dest": None, "after": "_raise_level"},
]

TASK_EVENTS = tuple(dict.fromkeys(t["trigger"] for t in TASK_TRANSITIONS))
MACHINE = SharedMachine(list(TASK_STATES), TASK_TRANSITIONS)


@dataclass
class UnitTask:
    key: str
    """milestone/unit, or milestone/unit/occurrence for monthly milestones."""
    state: str = "upcoming"
    escalation_level: int = 0
    due: datetime | None = None
    happened: list[Happened] = field(default_factory=list)

    def fire(self, event: str, now: datetime, note: str | None = None) -> Happened:
        allowed = MACHINE.allowed(self.state)
        if event not in allowed:
            raise IllegalEvent(f"task {self.key}", self.state, event, allowed)
        MACHINE.fire(self, event, now=now, note=note)
        return self.happened[-1]

    def finish(self, now: datetime, note: str | None = None) -> list[Happened]:
        """Mark done; late (via overdue) when `now` is past the due time."""
        steps = []
        if self.state in ("upcoming", "open") and self.due is not None and now > self.due:
            steps.append(self.fire("mark_overdue", now))
        steps.append(self.fire("complete", now, note))
        return steps

    def _raise_level(self, event: EventData) -> None:
        self.escalation_level += 1

    def _record(self, event: EventData) -> None:
        source = event.transition.source
        dest = event.transition.dest or source
        note = event.kwargs.get("note")
        if event.event.name == "escalate":
            note = note or f"level {self.escalation_level}"
        self.happened.append(Happened(event.event.name, source, dest, event.kwargs["now"], note))
