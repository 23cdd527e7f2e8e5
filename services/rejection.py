"""Refusals: a file refused as a whole, with every bad row named, and a use case refusing its input.

Each carries its sentences as `Words` where they were found, so that the edge (the command line, a
web page) says them in the plan's language (`said`); str() is the English."""

from __future__ import annotations

from cuiban.workflow.roster import RowProblem
from cuiban.workflow.wording import Words, words


class FileRejected(Exception):
    """Nothing from the file was written; `problems` lists every bad cell."""

    def __init__(self, source: str, problems: list[RowProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(str(self.summary()))

    def __reduce__(self) -> tuple:
        return FileRejected, (self.source, self.problems)

    def summary(self) -> Words:
        return words("file.rejected", file=self.source, count=len(self.problems))

    def lines(self, language: str = "en") -> list[str]:
        return [p.words(self.source).say(language) for p in self.problems]


class Refusal(ValueError):
    """A use case refused its input; the message is one sentence naming it and what to do instead.
    Nothing was changed. The command line prints the sentence and exits 2.

    Given as `Words` (one or more lines), the sentence is said in the plan's language where shown."""

    def __init__(self, *message: str | Words) -> None:
        self.words = tuple(m for m in message if isinstance(m, Words))
        super().__init__(*(str(m) for m in message))
        if len(message) > 1:
            self.args = ("\n".join(str(m) for m in message),)


def said(error: BaseException, language: str) -> list[str]:
    """The lines of a refusal in `language`: its words when it has them, else its message as written."""
    found: tuple[Words, ...] = getattr(error, "words", ())
    if found:
        return [item.say(language) for item in found]
    return str(error).splitlines()
