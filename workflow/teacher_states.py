"""The states a teacher record passes through, in the order progress is measured.

Completion rules in the plan ("every teacher has at least reached `submitted`") are
written against this order, so the plan can be checked before any machine runs.
"""

from __future__ import annotations

PROGRESS_ORDER: tuple[str, ...] = (
    "pending",
    "account_issued",
    "filling",
    "submitted",
    "reviewed",
    "confirmed",
    "reported",
)
"""Main-line states; a later one means more progress."""

SIDE_STATES: tuple[str, ...] = ("returned", "correction_requested", "excluded", "left")
"""States off the main line: sent back, being corrected, out of scope, no longer employed."""
