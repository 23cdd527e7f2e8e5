"""The plan: its typed schema, the checks across its parts, and its timeline."""

from cuiban.workflow.plan.schema import Milestone, Plan

__all__ = ["Milestone", "Plan"]
