"""Every command has help text, and docs/commands.md is what --help says today."""

from __future__ import annotations

from cli.reference import REFERENCE, commands, commands_markdown


def test_every_command_has_help() -> None:
    missing = [name for name, command in commands() if not (command.help or "").strip()]
    assert not missing


def test_commands_md_is_up_to_date() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == commands_markdown(), (
        "docs/commands.md is stale: run `python -m cli.reference --write`"
    )
