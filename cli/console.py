"""Terminal output: wide enough for Chinese tables even when piped, and problems on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable

import click
from rich.console import Console

from cuiban.planfile.loader import Problem


def console() -> Console:
    """A console that does not squeeze tables to 80 columns when output is piped."""
    return Console(width=None if sys.stdout.isatty() else 200, highlight=False)


def print_problems(problems: Iterable[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
