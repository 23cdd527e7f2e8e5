"""`cuiban cycle …`: campaign cycles on one database (to be written)."""

from __future__ import annotations

import click


@click.group()
def cycle() -> None:
    """Campaign cycles: next year's campaign on the same database."""
