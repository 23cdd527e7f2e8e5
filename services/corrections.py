"""Corrections from the pages: a unit asks to correct a reported teacher's record, someone else decides.

Every change goes through `services.teachers.fire` (the teacher machine, the log with the old
and new values, the derived tasks refreshed), with the signed-in person as the actor and
`web` as the source. The pages offer every correctable field except the ID-card and phone
numbers, which no page shows; a new value is checked the way the roster checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from cuiban.models import log_store, search_store, teacher_store
from cuiban.services import teachers
from cuiban.services.rejection import Refusal
from cuiban.workflow.cells import CellError
from cuiban.workflow.machines import IllegalEvent
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.roster import PARSERS, STORED_AS
from cuiban.workflow.teacher_machine import Happened
from cuiban.workflow.wording import Words

OFFERED = tuple(f for f in teachers.CORRECTABLE if f not in ("id_card", "phone"))
"""The fields a page may correct: never the ID-card or phone number, which no page shows."""
PARSED_AS = {stored: field for field, stored in STORED_AS.items()}


class BadValue(Refusal):
    """A new value the roster would refuse too; `field` names it."""

    def __init__(self, field: str, message: str, reason: Words | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason
        """Why, to be said in the plan's language where shown (the roster's own reason for the value)."""


class NothingToCorrect(Refusal):
    pass


class NotReported(IllegalEvent):
    """A correction asked for a record that is not reported (the teacher machine refused it), with the
    teacher's name: the page's sentence names whose record it is."""

    def __init__(self, refused: IllegalEvent, name: str) -> None:
        super().__init__(refused.record, refused.state, refused.event, refused.allowed)
        self.name = name


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Requested:
    """A correction request made: whose, and what the teacher machine recorded."""

    staff_id: str
    name: str
    happened: Happened


@dataclass(frozen=True)
class Pending:
    """A correction request waiting for a decision."""

    staff_id: str
    name: str
    unit_id: str
    unit: str
    requested_by: str | None
    """The requester's person id (or what the command line's --by said)."""
    request_id: int
    """The request's log entry: a decision names it, so it applies to this request and no later one."""
    at: datetime
    note: str | None
    changes: list[Change]


@dataclass(frozen=True)
class Record:
    """A teacher as the correction form shows it: the offered fields and their values now."""

    staff_id: str
    name: str
    unit_id: str
    state: str
    values: dict[str, Any]


def record(engine: Engine, unit: str, staff_id: str) -> Record:
    """The teacher of `unit` whose correction a page asks for (NotFound outside the unit)."""
    if not teachers.possible(staff_id):
        raise teachers.NotFound(f"no teacher with staff ID {staff_id[:80]!r} in unit {unit!r}")
    with engine.connect() as connection:
        row = teacher_store.one(connection, staff_id)
    if row is None or row["unit_id"] != unit:
        raise teachers.NotFound(f"no teacher with staff ID {staff_id!r} in unit {unit!r}")
    return Record(row["staff_id"], row["name"], row["unit_id"], row["state"], {f: row[f] for f in OFFERED})


def request(
    engine: Engine,
    plan: Plan,
    unit: str,
    staff_id: str,
    values: dict[str, str],
    now: datetime,
    *,
    actor: str,
    note: str | None = None,
) -> Requested:
    """Ask to correct a reported teacher of `unit`: the fields given a new value (blank ones are left
    alone, unchanged ones dropped), each checked as the roster checks it. NotReported when the record
    is not reported."""
    current = record(engine, unit, staff_id)
    changes = {
        field: new
        for field, new in (_checked(field, text) for field, text in values.items() if text and text.strip())
        if new != current.values.get(field)
    }
    if not changes:
        raise NothingToCorrect("no field has a new value: nothing to request")
    try:
        happened = teachers.fire(
            engine, plan, staff_id, "request_correction", now,
            actor=actor, note=note or None, changes=changes, source="web", unit=unit,
        )
    except IllegalEvent as refused:
        raise NotReported(refused, current.name) from None
    return Requested(staff_id, current.name, happened)


def decide(
    engine: Engine,
    plan: Plan,
    staff_id: str,
    approve: bool,
    now: datetime,
    *,
    actor: str,
    request_id: int,
    note: str | None = None,
) -> Happened:
    """Approve (the new values apply, the old ones stay in the log) or reject the request whose log entry
    is `request_id` (the one the person looked at: teachers.ChangedRequest unless it is still the
    latest waiting); never one's own (teachers.OwnRequest)."""
    event = "approve_correction" if approve else "reject_correction"
    return teachers.fire(
        engine, plan, staff_id, event, now,
        actor=actor, note=note or None, source="web", request_id=request_id,
    )


def pending(engine: Engine, plan: Plan) -> list[Pending]:
    """Every request waiting for a decision, oldest first."""
    with engine.connect() as connection:
        rows = log_store.pending_corrections(connection, list(plan.units))
        requests = search_store.latest_requests(connection, [row["staff_id"] for row in rows])
    return [
        Pending(
            row["staff_id"],
            row["name"],
            row["unit_id"],
            plan.units[row["unit_id"]].name if row["unit_id"] in plan.units else row["unit_id"],
            row["actor"],
            requests[row["staff_id"]],
            row["at"],
            row["note"],
            [Change(f, *_shown(f, pair)) for f, pair in (row["data"] or {}).items()],
        )
        for row in rows
    ]


def _checked(field: str, text: str) -> tuple[str, Any]:
    if field not in OFFERED:
        raise BadValue(field, f"{field} cannot be corrected here; fields: {', '.join(OFFERED)}")
    try:
        return field, PARSERS[PARSED_AS.get(field, field)](text)
    except CellError as error:
        raise BadValue(field, f"{field}: {text!r}: {error}", error.words) from None


HIDDEN = "******"


def _shown(field: str, pair: list[Any]) -> tuple[Any, Any]:
    """Old and new values as a page may show them: an ID-card or phone number (a correction asked
    for on the command line) never, only that it changes."""
    old, new = (list(pair) + [None, None])[:2]
    if field in ("id_card", "phone"):
        return (HIDDEN if old else old), (HIDDEN if new else new)
    return old, new
