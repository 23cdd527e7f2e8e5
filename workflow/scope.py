"""The plan's scope rules (section 二) applied to one roster row, and where a known record goes
when a new roster puts it back in, or out of, scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cuiban.workflow.plan.schema import ScopeRule
from cuiban.workflow.teacher_machine import allowed_events

Step = tuple[str, str, str]
"""(event, from state, to state)."""


def passes(rule: ScopeRule, value: Any) -> bool:
    if rule.at_least is not None:
        return value is not None and value >= rule.at_least
    if rule.at_most is not None:
        return value is not None and value <= rule.at_most
    if rule.in_ is not None:
        return value in rule.in_
    if rule.not_in is not None:
        return value not in rule.not_in
    return True


def failing_rule(rules: list[ScopeRule], fields: dict[str, Any]) -> ScopeRule | None:
    """The first rule a row fails (it is then excluded, naming this rule), or None."""
    for rule in rules:
        if not passes(rule, fields.get(rule.field)):
            return rule
    return None


@dataclass(frozen=True)
class ScopeMove:
    """The events that bring a known record in line with its new roster row."""

    steps: tuple[Step, ...] = ()
    kept: bool = False
    """Out of scope now, but too far along to exclude (e.g. already reported): left as it is."""

    def target(self, state: str) -> str:
        return self.steps[-1][2] if self.steps else state

    def has(self, event: str) -> bool:
        return any(step[0] == event for step in self.steps)


def scope_move(state: str, out_of_scope: bool) -> ScopeMove:
    """Where a record in `state` goes when the roster lists it again, in or out of scope.

    A record that had left rejoins (as pending) first; one now out of scope is excluded
    if its state still allows it, else kept; an excluded one back in scope starts again
    as pending.
    """
    steps: list[Step] = []
    if state == "left":
        steps.append(("rejoin", "left", "pending"))
        state = "pending"
    if out_of_scope and state != "excluded":
        if "exclude" not in allowed_events(state):
            return ScopeMove(tuple(steps), kept=True)
        steps.append(("exclude", state, "excluded"))
    elif not out_of_scope and state == "excluded":
        steps.append(("include", "excluded", "pending"))
    return ScopeMove(tuple(steps))
