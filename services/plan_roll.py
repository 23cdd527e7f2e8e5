"""`cuiban plan roll`: next year's plan from this year's, written whole or not at all, then checked.

The rolled text keeps the file's comments and layout (planfile.roll); it is written to
a temporary file beside the target and renamed over it, so an interrupted roll never
leaves half a plan. The written plan is loaded again, and its problems reported.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cuiban.planfile.loader import LoadedPlan, Problem, read_plan
from cuiban.planfile.roll import roll_text
from cuiban.services.rejection import Refusal


@dataclass(frozen=True)
class Rolled:
    lines: list[str]
    """Each date moved (path, old → new, why) and each note, for the person rolling."""
    text: str
    problems: list[Problem]
    """The written plan's errors and warnings (nothing when not written)."""
    verdict: str | None
    """The written plan's check: OK or how many errors (None when not written)."""


def roll_plan(path: Path, loaded: LoadedPlan, to_cycle: int, output: Path | None) -> Rolled:
    """The plan at `path` moved to `to_cycle`; written to `output` when given. Refusal: cannot roll."""
    assert loaded.plan is not None and loaded.calendar is not None
    try:
        rolled = roll_text(path.read_text(encoding="utf-8"), loaded.plan, to_cycle, loaded.calendar)
    except ValueError as error:  # only the roll's own refusals: writing fails as the environment does
        raise Refusal(str(error)) from None
    lines = [f"{c.path:<40} {c.old} → {c.new}  {c.note}".rstrip() for c in rolled.changes]
    lines += [f"note: {note}" for note in rolled.notes]
    if output is None:
        return Rolled(lines, rolled.text, [], None)
    _write_atomically(output, rolled.text)
    after = read_plan(output)
    return Rolled(lines, rolled.text, after.problems, "OK" if after.ok else f"{len(after.errors)} error(s)")


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
