"""Every command has help text; docs/commands.md and docs/state-machines.md match the code."""

from __future__ import annotations

from cuiban.cli.reference import MACHINES, REFERENCE, commands, commands_markdown, machines_markdown


def test_every_command_has_help() -> None:
    missing = [name for name, command in commands() if not (command.help or "").strip()]
    assert not missing


def test_commands_md_is_up_to_date() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == commands_markdown(), (
        "docs/commands.md is stale: run `python -m cuiban.cli.reference --write`"
    )


def test_state_diagrams_are_up_to_date() -> None:
    assert MACHINES.read_text(encoding="utf-8") == machines_markdown(), (
        "docs/state-machines.md is stale: run `python -m cuiban.cli.reference --write`"
    )
    assert "reported --> correction_requested: request_correction" in machines_markdown()
