"""Units and people copied from the plan, so that queries and reports can join on them."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert

from cuiban.models.tables import Person, Unit
from cuiban.workflow.plan.schema import Plan

UNIT = Unit.__table__
PERSON = Person.__table__


def copy_from_plan(connection: Connection, plan: Plan) -> None:
    """Replace units and people with the plan's: the plan is their source of truth."""
    connection.execute(delete(UNIT))
    connection.execute(delete(PERSON))
    connection.execute(
        insert(UNIT), [{"id": uid, "name": u.name, "kind": u.kind} for uid, u in plan.units.items()]
    )
    connection.execute(
        insert(PERSON),
        [{"id": pid, "name": p.name, "email": p.email, "unit_id": p.unit} for pid, p in plan.people.items()],
    )
