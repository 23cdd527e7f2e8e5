"""Who a message goes to: the plan's recipient words resolved for one unit's task."""

from __future__ import annotations

from dataclasses import dataclass

from cuiban.workflow.plan.schema import Plan


@dataclass(frozen=True)
class Recipient:
    person_id: str
    name: str
    email: str


def resolve(
    plan: Plan, refs: list[str], unit_id: str | None, milestone_units: list[str] | None = None
) -> list[Recipient]:
    """People for `refs`, in order, each once.

    `collector`, `head`, `contacts` mean that person of `unit_id` (a unit without a
    collector yet has its head reminded instead). A person named directly is reminded
    about their own unit's task only, when their unit is one of the milestone's units.
    """
    ids: list[str] = []
    units = set(milestone_units or ())
    for ref in refs:
        ids += _people(plan, ref, unit_id, units)
    seen: dict[str, Recipient] = {}
    for pid in ids:
        person = plan.people.get(pid)
        if person is not None and pid not in seen:
            seen[pid] = Recipient(pid, person.name, person.email)
    return list(seen.values())


def _people(plan: Plan, ref: str, unit_id: str | None, milestone_units: set[str]) -> list[str]:
    unit = plan.units.get(unit_id) if unit_id else None
    if ref == "collector" and unit is not None:
        return [p for p in (unit.collector or unit.head,) if p]
    if ref == "head" and unit is not None:
        return [unit.head] if unit.head else []
    if ref == "contacts" and unit is not None:
        return list(unit.contacts)
    members = plan.role_people(ref)
    if members is not None:
        return members
    person = plan.people.get(ref)
    if person is None:
        return []
    if unit_id and person.unit in milestone_units and person.unit != unit_id:
        return []
    return [ref]
