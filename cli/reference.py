"""docs/commands.md, generated from the commands' own --help so the two cannot drift apart.

Run `python -m cli.reference --write` after changing a command; a test fails while
the file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.main import cuiban

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "commands.md"

INTRO = """# Command reference

Generated from `--help` by `python -m cli.reference --write`; do not edit by hand.
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


def main() -> None:
    text = commands_markdown()
    if "--write" in sys.argv:
        REFERENCE.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
