"""Generated docs: docs/commands.md from the commands' own --help, docs/state-machines.md from
the machine definitions, so neither can drift from the code.

Run `python -m cuiban.cli.reference --write` after changing a command or a machine; a test
fails while either file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cuiban.cli.main import cuiban
from cuiban.workflow.diagrams import task_diagram, teacher_diagram

DOCS = Path(__file__).resolve().parent.parent / "docs"
REFERENCE = DOCS / "commands.md"
MACHINES = DOCS / "state-machines.md"

MACHINES_INTRO = """# State machines

Generated from the machine definitions (`workflow/teacher_machine.py`,
`workflow/task_machine.py`) by `python -m cuiban.cli.reference --write`; do not edit by hand.
GitHub and most Markdown viewers draw these Mermaid diagrams.

## Teacher record

A record enters as `pending` when HR's roster lists it in scope (`excluded`, naming
the scope rule, when not). `return_` needs a note saying what to fix. After
`reported`, a correction is requested with the fields and new values and goes back to
`reported` when the upper authority approves it (the new values are applied; the old
ones stay in the log) or rejects it. A status export may only imply the events
`issue_account`, `start`, `submit`, `review`, `return_`, `confirm`, `report`: `cuiban
sync` walks the shortest chain of them to the export's status, and reports a conflict
when there is none (e.g. `reported` → `filling`).

```mermaid
{teacher}```

## Unit task

One per milestone and responsible unit (and per occurrence of a monthly milestone).
`escalate` leaves the task `overdue` and raises its escalation level by one; each level
is told once. A derived task (completed by its teachers' states) completes itself when
every in-scope teacher of its unit has reached the milestone's state, and `reopen`s
when one falls back (a returned record).

```mermaid
{task}```
"""

INTRO = """# Command reference

Generated from `--help` by `python -m cuiban.cli.reference --write`; do not edit by hand.
Every command that depends on time takes `--now` (ISO 8601 with an offset, e.g.
`2016-12-10T10:00+08:00`). Exit status: 0 done, 2 bad input (the errors are printed,
nothing was changed), 1 an unexpected failure.
"""


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], [*path, name])
    return found


def commands() -> list[tuple[str, click.Command]]:
    return [(" ".join(path), command) for path, command in _walk(cuiban, ["cuiban"])]


def commands_markdown() -> str:
    parts = [INTRO]
    for name, command in commands():
        settings = {"terminal_width": 80, "max_content_width": 80}
        with click.Context(command, info_name=name, help_option_names=["-h", "--help"], **settings) as ctx:
            help_text = command.get_help(ctx)
        parts.append(f"## `{name}`\n\n```text\n{help_text}\n```\n")
    return "\n".join(parts)


def machines_markdown() -> str:
    return MACHINES_INTRO.format(teacher=teacher_diagram(), task=task_diagram())


def main() -> None:
    if "--write" in sys.argv:
        REFERENCE.write_text(commands_markdown(), encoding="utf-8")
        MACHINES.write_text(machines_markdown(), encoding="utf-8")
    else:
        sys.stdout.write(commands_markdown())


if __name__ == "__main__":
    main()
