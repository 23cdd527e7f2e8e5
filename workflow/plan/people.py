"""Turning the recipient words of a plan (`collector`, `coordinator`, a person id) into names."""

from __future__ import annotations

from cuiban.workflow.plan.schema import ALL_DEPARTMENTS, Plan

UNIT_ROLE_LABELS = {"collector": "信息采集员", "head": "负责人", "contacts": "联系人"}


def recipient_labels(plan: Plan, refs: list[str], unit_refs: list[str]) -> list[str]:
    """Display names for recipient refs of a milestone with the given units."""
    labels: list[str] = []
    for ref in refs:
        labels.extend(_label(plan, ref, unit_refs))
    return labels


def _label(plan: Plan, ref: str, unit_refs: list[str]) -> list[str]:
    if ref in plan.people:
        return [plan.people[ref].name]
    if ref in UNIT_ROLE_LABELS:
        return _unit_role_labels(plan, ref, unit_refs)
    members = plan.role_people(ref) or [ref]
    return [plan.people[p].name if p in plan.people else p for p in members]


def _unit_role_labels(plan: Plan, ref: str, unit_refs: list[str]) -> list[str]:
    label = UNIT_ROLE_LABELS[ref]
    if ALL_DEPARTMENTS in unit_refs or len(unit_refs) != 1:
        return [f"各单位{label}"]
    unit = plan.units.get(unit_refs[0])
    holder = getattr(unit, ref, None) if unit is not None and ref != "contacts" else None
    if isinstance(holder, str) and holder in plan.people:
        return [plan.people[holder].name]
    return [f"{unit.name if unit else unit_refs[0]}{label}"]
