"""Authorizing one request: the plan's rules (workflow.access) decide, refusals are logged.

Every page and form of the web layer calls `authorize` before it calls any other service,
with the signed-in person (None when nobody is), the action and the unit it acts for.
A refusal is written to the access log (who, what, when, from where) and raised as
`Forbidden`, which the web layer answers with 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from cuiban.models import access_log_store
from cuiban.models.unit_of_work import transaction
from cuiban.services.rejection import Refusal
from cuiban.workflow.access import Action, Decision, decide
from cuiban.workflow.plan.schema import Plan


class Forbidden(Refusal):
    """The signed-in person may not do this (already logged)."""


@dataclass(frozen=True)
class Request:
    """Where a request came from, for the access log."""

    method: str
    path: str
    client: str


def authorize(
    engine: Engine,
    plan: Plan,
    person: str | None,
    action: Action,
    unit: str | None,
    request: Request,
    now: datetime,
) -> Decision:
    """The decision when allowed; otherwise the refusal is logged and `Forbidden` raised."""
    decision = decide(plan, person, action, unit)
    if decision.allowed:
        return decision
    with transaction(engine) as connection:
        access_log_store.append(
            connection,
            at=now,
            person_id=person,
            action=action.value,
            unit_id=unit,
            method=_printable(request.method, 8),
            path=_printable(request.path, 400),
            client=_printable(request.client, 64),
            outcome="refused",
            why=decision.why[:200],
        )
    raise Forbidden(decision.why)


def _printable(text: str, limit: int) -> str:
    """What a request said, fit for a log column: control characters (a NUL, which PostgreSQL
    refuses in text) shown as `?`, cut to the column's length."""
    return "".join("?" if ord(c) < 32 or ord(c) == 127 else c for c in text)[:limit]


def refusals(engine: Engine, limit: int = 100) -> list[dict]:
    """The latest refusals, newest first (the coordinator's audit view, and the tests)."""
    with engine.connect() as connection:
        return access_log_store.recent(connection, limit)
