"""Every command is thin (issue 11): its body parses, calls one service, prints, in 15 lines or fewer.

The body is the function under the click decorators without its docstring, counted in
source lines (a call spread over three lines counts three). Walks the `cuiban` group
recursively, so a new command is held to the rule without being listed here.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import click
import pytest

from cuiban.cli.main import cuiban

LIMIT = 15


def _commands(command: click.Command, path: str) -> list[tuple[str, click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _commands(command.commands[name], f"{path} {name}")
    return found


COMMANDS = [(name, command) for name, command in _commands(cuiban, "cuiban") if command.callback]


def body_lines(function: object) -> int:
    """Source lines of the function's body, the docstring left out."""
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(function)))  # type: ignore[arg-type]
    definition = next(node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef))
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def test_every_command_is_walked() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"cuiban tick", "cuiban outbox retry", "cuiban demo", "cuiban run", "cuiban report"} <= names
    assert len(names) >= 21


def test_the_count_leaves_out_the_docstring() -> None:
    def example() -> None:
        """Two lines
        of docstring."""
        print(1)
        print(
            2
        )

    assert body_lines(example) == 4


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_the_command_is_15_lines_or_fewer(name: str, command: click.Command) -> None:
    lines = body_lines(command.callback)
    assert lines <= LIMIT, f"`{name}` is {lines} lines long; move the work into a service (at most {LIMIT})"
