"""The plan's scope rules (section 二) applied to one roster row."""

from __future__ import annotations

from typing import Any

from cuiban.workflow.plan.schema import ScopeRule


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
