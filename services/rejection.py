"""Refusals: a file refused as a whole, with every bad row named, and a use case refusing its input."""

from __future__ import annotations

from cuiban.workflow.roster import RowProblem


class FileRejected(Exception):
    """Nothing from the file was written; `problems` lists every bad cell."""

    def __init__(self, source: str, problems: list[RowProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s); nothing was written")

    def lines(self) -> list[str]:
        return [
            f"{self.source}: row {p.row}, column {p.column}: {p.value!r}: {p.reason}" for p in self.problems
        ]


class Refusal(ValueError):
    """A use case refused its input; the message is one sentence naming it and what to do instead.
    Nothing was changed. The command line prints the sentence and exits 2."""
