"""Rules that span several parts of a plan: references, timing, cycles, roster mapping.

Each check returns findings with the key path they concern. `known` holds every id the
file declares, even entries that failed their own validation, so one bad person does
not cause a cascade of "unknown person" errors elsewhere.

The checks also run on a plan built only from the top-level keys that are valid on
their own (`unusable` names the others): each check needs certain keys and is skipped
when one of them is unusable, so one run of `plan check` reports every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pendulum

from cuiban.workflow.plan.findings import Finding, Path
from cuiban.workflow.plan.schema import (
    ALL_DEPARTMENTS,
    PLAN_ROLES,
    REQUIRED_ROSTER_FIELDS,
    UNIT_ROLES,
    Milestone,
    Plan,
)
from cuiban.workflow.province import province_findings
from cuiban.workflow.wording import words

NUMERIC_ROSTER_FIELDS = frozenset({"contract_months"})


@dataclass(frozen=True)
class KnownIds:
    people: frozenset[str] = field(default_factory=frozenset)
    units: frozenset[str] = field(default_factory=frozenset)
    milestones: frozenset[str] = field(default_factory=frozenset)


def check_plan(plan: Plan, known: KnownIds, unusable: frozenset[str] = frozenset()) -> list[Finding]:
    """Every cross-reference and timing error of the plan's parts that have valid types.

    `unusable`: top-level keys whose values failed their own validation (already reported);
    `plan` then holds only the others, and the checks that need an unusable key are skipped."""
    checks: tuple[tuple[tuple[str, ...], Callable[[], Iterator[Finding]]], ...] = (
        (("timezone",), lambda: _check_timezone(plan)),
        (("campaign",), lambda: _check_campaign(plan)),
        (("province",), lambda: _check_province(plan)),
        (("people",), lambda: _check_people(plan, known)),
        (("units",), lambda: _check_units(plan, known)),
        (("roles",), lambda: _check_roles(plan, known)),
        (("escalation",), lambda: _check_ladder(plan.escalation, ("escalation",), known)),
        (("digest",), lambda: _check_digest(plan, known)),
        (("milestones",), lambda: _check_milestones(plan, known, "reminders" not in unusable)),
        (("milestones",), lambda: _check_cycles(plan, known)),
        (("roster",), lambda: _check_roster(plan)),
        (("sync",), lambda: _check_sync(plan)),
        (("roster", "retention"), lambda: _check_retention(plan)),
        (("units", "milestones"), lambda: province_findings(plan)),
    )
    return [
        finding
        for needs, check in checks
        if not unusable.intersection(needs)
        for finding in check()
    ]


def _unknown(kind: str, ref: str, known: frozenset[str], path: Path) -> Finding:
    hint = ", ".join(sorted(known)[:12])
    return Finding(path, words(f"plan.unknown_{kind}", ref=ref, known=hint))


def _check_recipient(ref: str, path: Path, known: KnownIds) -> Iterator[Finding]:
    if ref in known.people or ref in UNIT_ROLES or ref in PLAN_ROLES:
        return
    roles = ", ".join((*UNIT_ROLES, *PLAN_ROLES))
    yield Finding(path, words("plan.not_recipient", ref=ref, roles=roles))


def _check_timezone(plan: Plan) -> Iterator[Finding]:
    try:
        pendulum.timezone(plan.timezone)
    except ValueError:
        yield Finding(("timezone",), words("plan.timezone", zone=plan.timezone))


def _check_campaign(plan: Plan) -> Iterator[Finding]:
    if plan.campaign.end < plan.campaign.start:
        yield Finding(
            ("campaign", "end"),
            words("plan.campaign_dates", end=plan.campaign.end, start=plan.campaign.start),
        )


def _check_province(plan: Plan) -> Iterator[Finding]:
    if plan.province.email and not plan.province.email.endswith(".example"):
        yield Finding(
            ("province", "email"),
            words("plan.real_address"),
            "warning",
        )


def _check_people(plan: Plan, known: KnownIds) -> Iterator[Finding]:
    for pid, person in plan.people.items():
        if person.unit is not None and person.unit not in known.units:
            yield _unknown("unit", person.unit, known.units, ("people", pid, "unit"))


def _check_units(plan: Plan, known: KnownIds) -> Iterator[Finding]:
    for uid, unit in plan.units.items():
        for key in ("head", "collector"):
            ref = getattr(unit, key)
            if ref is not None and ref not in known.people:
                yield _unknown("person", ref, known.people, ("units", uid, key))
        for i, ref in enumerate(unit.contacts):
            if ref not in known.people:
                yield _unknown("person", ref, known.people, ("units", uid, "contacts", i))
        if unit.kind == "department" and unit.collector is None:
            yield Finding(
                ("units", uid),
                words("plan.no_collector", name=unit.name),
                "warning",
            )


def _check_roles(plan: Plan, known: KnownIds) -> Iterator[Finding]:
    group = plan.roles.working_group
    lists = (("leaders", group.leaders), ("deputies", group.deputies), ("members", group.members))
    for key, refs in lists:
        for i, ref in enumerate(refs):
            if ref not in known.people:
                yield _unknown("person", ref, known.people, ("roles", "working_group", key, i))
    if plan.roles.coordinator not in known.people:
        yield _unknown("person", plan.roles.coordinator, known.people, ("roles", "coordinator"))
    for i, ref in enumerate(plan.roles.info_admins):
        if ref not in known.people:
            yield _unknown("person", ref, known.people, ("roles", "info_admins", i))


def _check_digest(plan: Plan, known: KnownIds) -> Iterator[Finding]:
    for key in ("to", "cc"):
        for i, ref in enumerate(getattr(plan.digest, key)):
            yield from _check_recipient(ref, ("digest", key, i), known)


def _check_ladder(ladder: list, path: Path, known: KnownIds) -> Iterator[Finding]:
    previous = 0
    for i, step in enumerate(ladder):
        if step.after <= previous:
            yield Finding(
                (*path, i, "after"),
                words("plan.ladder_order", after=step.after, previous=previous),
            )
        previous = step.after
        for j, ref in enumerate(step.to):
            yield from _check_recipient(ref, (*path, i, "to", j), known)


def _check_milestones(plan: Plan, known: KnownIds, with_reminders: bool = True) -> Iterator[Finding]:
    for mid, milestone in plan.milestones.items():
        path: Path = ("milestones", mid)
        for i, ref in enumerate(milestone.units):
            if ref != ALL_DEPARTMENTS and ref not in known.units:
                yield _unknown("unit", ref, known.units | {ALL_DEPARTMENTS}, (*path, "units", i))
        for i, ref in enumerate(milestone.owners):
            yield from _check_recipient(ref, (*path, "owners", i), known)
        for i, ref in enumerate(milestone.depends_on):
            if ref not in known.milestones:
                yield _unknown("milestone", ref, known.milestones, (*path, "depends_on", i))
        yield from _check_timing(mid, milestone, known)
        yield from _check_completion(milestone, path)
        if milestone.escalation is not None:
            yield from _check_ladder(milestone.escalation, (*path, "escalation"), known)
        own = milestone.reminders.before if milestone.reminders else None
        before = plan.reminder_policy(mid).before if with_reminders else (own or [])
        if len(set(before)) != len(before):
            yield Finding((*path, "reminders", "before"), words("plan.offset_twice"))


def _check_timing(mid: str, milestone: Milestone, known: KnownIds) -> Iterator[Finding]:
    path: Path = ("milestones", mid)
    given = [key for key in ("due", "after", "monthly") if key in milestone.model_fields_set]
    if len(given) != 1:
        found = ", ".join(given) or words("plan.timing_none")
        yield Finding(path, words("plan.timing", found=found))
    if milestone.start is not None:
        if milestone.due is None:
            yield Finding((*path, "start"), words("plan.start_needs_due"))
        elif milestone.due < milestone.start:
            yield Finding(
                (*path, "due"),
                words("plan.window", due=milestone.due, start=milestone.start),
            )
    if milestone.after is not None:
        anchor = milestone.after.milestone
        if anchor == mid:
            yield Finding((*path, "after", "milestone"), words("plan.after_itself"))
        elif anchor not in known.milestones:
            yield _unknown("milestone", anchor, known.milestones, (*path, "after", "milestone"))
    if milestone.monthly is not None and milestone.monthly.until < milestone.monthly.from_:
        yield Finding(
            (*path, "monthly", "until"),
            words("plan.monthly_dates", until=milestone.monthly.until, start=milestone.monthly.from_),
        )


def _check_completion(milestone: Milestone, path: Path) -> Iterator[Finding]:
    if milestone.completion == "derived" and milestone.teachers_at_least is None:
        yield Finding(
            (*path, "completion"),
            words("plan.derived_needs_state"),
        )
    if milestone.completion == "manual" and milestone.teachers_at_least is not None:
        yield Finding(
            (*path, "teachers_at_least"),
            words("plan.state_only_derived"),
        )


def _dependencies(milestone: Milestone) -> list[str]:
    anchor = [milestone.after.milestone] if milestone.after else []
    return [*milestone.depends_on, *anchor]


def _check_cycles(plan: Plan, known: KnownIds) -> Iterator[Finding]:
    """One finding per cycle among `depends_on` and `after`, at the first milestone in it."""
    graph = {mid: _dependencies(m) for mid, m in plan.milestones.items()}
    reported: set[frozenset[str]] = set()
    for start in graph:
        cycle = _find_cycle(graph, start)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            first = min(cycle, key=list(graph).index)
            rotated = _rotate(cycle, first)
            key = "depends_on" if plan.milestones[first].depends_on else "after"
            yield Finding(
                ("milestones", first, key),
                words("plan.cycle", chain=" → ".join([*rotated, first])),
            )


def _find_cycle(graph: dict[str, list[str]], start: str) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        node, trail = stack.pop()
        for nxt in graph.get(node, []):
            if nxt == start:
                return trail
            if nxt in graph and nxt not in trail:
                stack.append((nxt, [*trail, nxt]))
    return None


def _rotate(cycle: list[str], first: str) -> list[str]:
    i = cycle.index(first)
    return cycle[i:] + cycle[:i]


def _check_sync(plan: Plan) -> Iterator[Finding]:
    if plan.sync is None:
        return
    for name in ("staff_id", "status"):
        if name not in plan.sync.columns:
            yield Finding(("sync", "columns"), words("plan.sync_column", name=name))


SENSITIVE_ROSTER_FIELDS = ("id_card", "phone")


def _check_retention(plan: Plan) -> Iterator[Finding]:
    """ID-card or phone numbers mapped with no retention period would be kept forever."""
    mapped = [name for name in SENSITIVE_ROSTER_FIELDS if name in plan.roster.columns]
    if mapped and plan.retention is None:
        yield Finding(
            ("roster", "columns", mapped[0]),
            words("plan.retention", fields=" and ".join(mapped)),
            "warning",
        )


def _check_roster(plan: Plan) -> Iterator[Finding]:
    columns = plan.roster.columns
    for name in REQUIRED_ROSTER_FIELDS:
        if name not in columns:
            yield Finding(("roster", "columns"), words("plan.roster_column", name=name))
    seen: dict[str, str] = {}
    for name, header in columns.items():
        if header in seen:
            yield Finding(
                ("roster", "columns", name),
                words("plan.header_twice", header=header, other=seen[header]),
            )
        seen[header] = name
    for i, rule in enumerate(plan.roster.scope):
        path: Path = ("roster", "scope", i)
        ops = [op for op in ("at_least", "at_most", "in_", "not_in") if getattr(rule, op) is not None]
        if len(ops) != 1:
            yield Finding(path, words("plan.scope_one_op"))
        if rule.field not in columns:
            yield Finding((*path, "field"), words("plan.scope_unmapped", field=rule.field))
        numeric = {"at_least", "at_most"} & set(ops)
        if numeric and rule.field not in NUMERIC_ROSTER_FIELDS:
            yield Finding((*path, "field"), words("plan.scope_text", field=rule.field))
