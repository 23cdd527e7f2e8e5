"""One teacher at a time: show a record, fire an event (with corrections kept in the log)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine

from cuiban.models import log_store, teacher_store
from cuiban.models.log_store import Entry
from cuiban.models.unit_of_work import transaction
from cuiban.schedules.completion import refresh_derived
from cuiban.services.rejection import Refusal
from cuiban.workflow.clock import local_iso
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.roster import TEACHER_FIELDS
from cuiban.workflow.teacher_machine import Happened, TeacherRecord

CORRECTABLE = tuple(f for f in TEACHER_FIELDS if f != "staff_id")
STAFF_ID_LENGTH = 64
"""The staff_id column's length."""


class NotFound(Refusal, LookupError):
    pass


class OwnRequest(Refusal):
    """Approving or rejecting one's own correction request: a second person decides."""


class ChangedRequest(Refusal):
    """A decision on a correction request that is no longer the teacher's latest: the person decided
    on what they saw, which has since been decided and asked for again."""


DECISIONS = ("approve_correction", "reject_correction")


def possible(staff_id: str) -> bool:
    """Whether any teacher could have this staff ID (printable, no longer than the column): one sent
    from a URL that could not is no teacher, found without asking the database (PostgreSQL refuses
    a NUL character in a query, and would answer a 500)."""
    return 0 < len(staff_id) <= STAFF_ID_LENGTH and staff_id.isprintable()


def show(engine: Engine, staff_id: str) -> dict[str, Any]:
    if not possible(staff_id):
        raise NotFound(f"no teacher with staff ID {staff_id[:80]!r}")
    with engine.connect() as connection:
        row = teacher_store.one(connection, staff_id)
    if row is None:
        raise NotFound(f"no teacher with staff ID {staff_id!r}")
    return row


def fire(
    engine: Engine,
    plan: Plan,
    staff_id: str,
    event: str,
    now: datetime,
    *,
    actor: str | None = None,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
    source: str = "cli",
    unit: str | None = None,
    request_id: int | None = None,
) -> Happened:
    """Apply one event to one record, or raise IllegalEvent / ValueError with nothing changed (also
    log_store.OutOfOrder: an event dated before the record's last log entry).

    A correction is decided by someone other than the person who asked for it: approving or
    rejecting a request whose log entry names `actor` as its requester is refused (OwnRequest).
    `source` says where the event came from in the log ("cli", "web"); `unit`, when given, is the
    unit the record must belong to (a department's page acts on its own teachers only).
    `request_id`, when given with a decision, is the log entry of the request the person looked at:
    unless it is still the latest one waiting, the decision is refused (ChangedRequest)."""
    if changes:
        unknown = sorted(set(changes) - set(CORRECTABLE))
        if unknown:
            raise ValueError(f"cannot correct {', '.join(unknown)}; fields: {', '.join(CORRECTABLE)}")
    if not possible(staff_id):
        raise NotFound(f"no teacher with staff ID {staff_id[:80]!r}")
    with transaction(engine) as connection:
        row = teacher_store.one(connection, staff_id)
        if row is None or (unit is not None and row["unit_id"] != unit):
            raise NotFound(f"no teacher with staff ID {staff_id!r}" + (f" in unit {unit!r}" if unit else ""))
        shown = partial(local_iso, tz=plan.timezone)
        log_store.refuse_before_last(connection, "teacher", staff_id, now, shown)
        request = _pending_request(connection, staff_id) if row["state"] == "correction_requested" else None
        if event in DECISIONS and request is not None:
            _check_decision(staff_id, request, actor, request_id)
        record = TeacherRecord(
            staff_id,
            row["state"],
            {k: row[k] for k in CORRECTABLE},
            _requested_values(request) if row["state"] == "correction_requested" else None,
        )
        happened = record.fire(event, now, note=note, changes=changes)
        values: dict[str, Any] = {"state": record.state, "state_changed_at": now, "updated_at": now}
        if happened.event == "approve_correction":
            values.update(record.fields)
        teacher_store.update_many(connection, [{"staff_id": staff_id, **values}])
        log_store.append(
            connection,
            [
                Entry("teacher", staff_id, h.source, h.dest, h.event, source, h.at, actor, h.note, h.changes)
                for h in record.happened
            ],
        )
        refresh_derived(connection, plan, now, source)
    return happened


def _check_decision(
    staff_id: str, request: dict[str, Any], actor: str | None, request_id: int | None
) -> None:
    """A decision is on the request the person looked at (when they name it), and not by its requester."""
    if request_id is not None and request["id"] != request_id:
        raise ChangedRequest(
            f"teacher {staff_id}: the request changed since you opened the page; reload. Nothing was changed."
        )
    if actor is not None and request["actor"] == actor:
        raise OwnRequest(
            f"teacher {staff_id}: the correction was requested by {actor}, who may not also decide it; "
            "another person approves or rejects it. Nothing was changed."
        )


def _pending_request(connection, staff_id: str) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    """The log entry of the record's latest correction request (its requester and values), if any."""
    requests = [
        e for e in log_store.history(connection, "teacher", staff_id) if e["event"] == "request_correction"
    ]
    return requests[-1] if requests else None


def _requested_values(request: dict[str, Any] | None) -> dict[str, Any]:
    data = (request or {}).get("data") or {}
    return {field: pair[1] for field, pair in data.items()}
