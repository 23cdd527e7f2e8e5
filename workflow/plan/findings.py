"""A problem found in a plan, located by its key path; the loader adds file, line and column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cuiban.workflow.wording import Words

Path = tuple[str | int, ...]


def dotted(path: Path) -> str:
    """`('milestones', 'hr_roster', 'units', 0)` → `milestones.hr_roster.units[0]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


@dataclass(frozen=True)
class Finding:
    path: Path
    message: Words | str
    """Words said in the plan's language where shown; text as written (a schema check's own sentence)."""
    severity: Literal["error", "warning"] = "error"
    at_key: bool = False
    """Point at the key itself (e.g. an unknown or duplicate key) rather than its value."""
