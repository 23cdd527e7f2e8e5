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

ALL_STATES: tuple[str, ...] = (*PROGRESS_ORDER, *SIDE_STATES)

OUT_OF_SCOPE: frozenset[str] = frozenset({"excluded", "left"})
"""Records that no longer count towards any department's progress."""

PROGRESS_RANK: dict[str, int] = {
    **{state: rank for rank, state in enumerate(PROGRESS_ORDER)},
    "returned": PROGRESS_ORDER.index("filling"),
    "correction_requested": PROGRESS_ORDER.index("reported"),
}
"""How far a record in scope has come; a returned record counts as being filled in again."""


def states_at_least(state: str) -> list[str]:
    """In-scope states that have reached `state` or gone beyond it."""
    rank = PROGRESS_RANK[state]
    return [s for s, r in PROGRESS_RANK.items() if r >= rank]
