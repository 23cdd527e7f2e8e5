"""The error for an event that the current state does not allow."""

from __future__ import annotations


class IllegalEvent(ValueError):
    """An event refused because the record's state does not allow it; nothing changed."""

    def __init__(self, record: str, state: str, event: str, allowed: list[str]) -> None:
        self.record, self.state, self.event, self.allowed = record, state, event, allowed
        can = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"{record} is {state}: the event {event!r} is not allowed from there "
            f"(allowed: {can}). Nothing was changed."
        )
