"""Who may do what: roles come from the plan and nowhere else.

Why one function: every request of the web pages (and anything else that acts for a
person) is decided by `decide(plan, person, action, unit)`, so the rules are one table a
reader can check and a test can walk (tests/unit/test_access_rules.py), not conditions
scattered over pages.

The rules (section 三 组织管理 of the seed):
- the coordinator and the info_admins see and do everything;
- the working group's leaders and deputies see everything and change nothing;
- a unit's head and collector see and act on their own unit only; its contacts see it.
A person may hold several roles; what any of them allows is allowed. Nobody else,
and no one outside the plan's `people`, may do anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cuiban.workflow.plan.schema import Plan


class Action(StrEnum):
    """What a request asks to do. `unit` says on whose behalf, where the action has one."""

    VIEW_ALL = "view_all"
    """The whole campaign: dashboard, timeline, every department, teacher search, outbox, 附表3/4."""
    VIEW_UNIT = "view_unit"
    """One unit's page, its teachers and their history, its 附表5/6, its evidence files."""
    ACT_UNIT = "act_unit"
    """For one unit: mark its manual task done (with evidence), request a correction of its teacher."""
    DECIDE_CORRECTION = "decide_correction"
    """Approve or reject a correction request (never one's own: the service refuses that)."""
    ADMINISTER = "administer"
    """Roster and status-export uploads, retrying failed messages."""


class Role(StrEnum):
    COORDINATOR = "coordinator"
    INFO_ADMIN = "info_admin"
    LEADER = "leader"
    DEPUTY = "deputy"
    HEAD = "head"
    COLLECTOR = "collector"
    CONTACT = "contact"


EVERYTHING = frozenset(Action)
SEE_ALL = frozenset({Action.VIEW_ALL, Action.VIEW_UNIT})
OWN_UNIT = frozenset({Action.VIEW_UNIT, Action.ACT_UNIT})

GLOBAL: dict[Role, frozenset[Action]] = {
    Role.COORDINATOR: EVERYTHING,
    Role.INFO_ADMIN: EVERYTHING,
    Role.LEADER: SEE_ALL,
    Role.DEPUTY: SEE_ALL,
}
"""What a plan-level role allows, for any unit."""

LOCAL: dict[Role, frozenset[Action]] = {
    Role.HEAD: OWN_UNIT,
    Role.COLLECTOR: OWN_UNIT,
    Role.CONTACT: frozenset({Action.VIEW_UNIT}),
}
"""What a unit's role allows, for that unit only."""


@dataclass(frozen=True)
class Roles:
    """A person's roles: plan-wide ones, and per unit the roles held there."""

    plan_wide: frozenset[Role]
    units: dict[str, frozenset[Role]]

    @property
    def any(self) -> bool:
        return bool(self.plan_wide or self.units)

    @property
    def sees_all(self) -> bool:
        return any(Action.VIEW_ALL in GLOBAL[r] for r in self.plan_wide)

    @property
    def administers(self) -> bool:
        """May upload rosters and exports and retry mail (the menu shows those pages only then)."""
        return any(Action.ADMINISTER in GLOBAL[r] for r in self.plan_wide)

    @property
    def home_units(self) -> list[str]:
        """The units whose own pages this person works on (in the plan's order)."""
        return list(self.units)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    why: str
    """For the access log: which role allowed it, or why not."""


_INDEXES: dict[int, tuple[Plan, dict[str, Roles]]] = {}
"""Per plan (by identity, the plan kept alive with its index): every person's roles, worked out once.
A plan is frozen, so its index never goes stale; a process holds one plan or a few."""
NO_ROLES = Roles(frozenset(), {})


def roles_of(plan: Plan, person: str) -> Roles:
    """Every role `person` (an id of `people`) holds in `plan` (a dict lookup after the first call:
    every request asks, and walking 2,000 units each time cost milliseconds)."""
    entry = _INDEXES.get(id(plan))
    if entry is None or entry[0] is not plan:
        if len(_INDEXES) > 16:
            _INDEXES.clear()
        entry = _INDEXES[id(plan)] = (plan, _index(plan))
    return entry[1].get(person, NO_ROLES)


def _index(plan: Plan) -> dict[str, Roles]:
    """Everyone's roles in one pass over the roles and the units."""
    group = plan.roles.working_group
    wide: dict[str, set[Role]] = {}
    for role, holders in (
        (Role.COORDINATOR, [plan.roles.coordinator]),
        (Role.INFO_ADMIN, plan.roles.info_admins),
        (Role.LEADER, group.leaders),
        (Role.DEPUTY, group.deputies),
    ):
        for person in holders:
            wide.setdefault(person, set()).add(role)
    local: dict[str, dict[str, set[Role]]] = {}
    for uid, unit in plan.units.items():
        for role, holders in (
            (Role.HEAD, [unit.head] if unit.head else []),
            (Role.COLLECTOR, [unit.collector] if unit.collector else []),
            (Role.CONTACT, unit.contacts),
        ):
            for person in holders:
                local.setdefault(person, {}).setdefault(uid, set()).add(role)
    return {
        person: Roles(
            frozenset(wide.get(person, ())),
            {uid: frozenset(held) for uid, held in local.get(person, {}).items()},
        )
        for person in plan.people
    }


def decide(plan: Plan, person: str | None, action: Action, unit: str | None = None) -> Decision:
    """Whether `person` may do `action` (for `unit`, when the action is a unit's)."""
    if person is None or person not in plan.people:
        return Decision(False, "not a person of the plan")
    if unit is not None and unit not in plan.units:
        return Decision(False, f"no unit {unit!r} in the plan")
    roles = roles_of(plan, person)
    for role in sorted(roles.plan_wide):
        if action in GLOBAL[role]:
            return Decision(True, role.value)
    if unit is not None:
        for role in sorted(roles.units.get(unit, ())):
            if action in LOCAL[role]:
                return Decision(True, f"{role.value} of {unit}")
    if not roles.any:
        return Decision(False, "holds no role in the plan")
    return Decision(False, "not allowed for this role" + (f" and unit {unit}" if unit else ""))


def email_owner(plan: Plan, email: str) -> str | None:
    """The person of the plan whose address is `email` (case-insensitive), if any holds a role."""
    wanted = email.strip().casefold()
    for pid, person in plan.people.items():
        if person.email.casefold() == wanted and roles_of(plan, pid).any:
            return pid
    return None
