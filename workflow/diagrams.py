"""Mermaid state diagrams drawn from the machine definitions themselves (no Graphviz needed)."""

from __future__ import annotations

from typing import Any

from transitions.extensions import GraphMachine

from cuiban.workflow.task_machine import TASK_STATES, TASK_TRANSITIONS
from cuiban.workflow.teacher_machine import TRANSITIONS
from cuiban.workflow.teacher_states import ALL_STATES


class _Drawn:
    """A bare model for GraphMachine to attach to."""


def _mermaid(title: str, states: list[str], transitions: list[dict[str, Any]], initial: str) -> str:
    drawable = [{k: v for k, v in t.items() if k in ("trigger", "source", "dest")} for t in transitions]
    drawable = [t if t["dest"] else {**t, "dest": "="} for t in drawable]
    model = _Drawn()
    GraphMachine(
        model=model,
        states=states,
        transitions=drawable,
        initial=initial,
        auto_transitions=False,
        graph_engine="mermaid",
        title=title,
        show_state_attributes=False,
    )
    source = model.get_graph().draw(None)  # type: ignore[attr-defined]
    kept = [line for line in source.splitlines() if not line.strip().startswith(("classDef", "Class "))]
    return "\n".join(line.rstrip() for line in kept).strip() + "\n"


def teacher_diagram() -> str:
    return _mermaid("Teacher record", list(ALL_STATES), TRANSITIONS, "pending")


def task_diagram() -> str:
    return _mermaid("Unit task", list(TASK_STATES), TASK_TRANSITIONS, "upcoming")
