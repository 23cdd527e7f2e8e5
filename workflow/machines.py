"""What both machines share: binding a plain object to its machine, and the refusal of an illegal event."""

from __future__ import annotations

from typing import Any

from transitions import Machine


class IllegalEvent(ValueError):
    """An event refused because the record's state does not allow it; nothing changed."""

    def __init__(self, record: str, state: str, event: str, allowed: list[str]) -> None:
        self.record, self.state, self.event, self.allowed = record, state, event, allowed
        can = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"{record} is {state}: the event {event!r} is not allowed from there "
            f"(allowed: {can}). Nothing was changed."
        )


def attach_machine(model: Any, states: list[str], transitions: list[dict[str, Any]]) -> Machine:
    """A machine driving `model` from its current `state`; callbacks get the event data and
    every change is recorded by the model's `_record`."""
    return Machine(
        model=model,
        states=states,
        transitions=transitions,
        initial=model.state,
        auto_transitions=False,
        send_event=True,
        after_state_change="_record",
    )
