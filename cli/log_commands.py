"""`cuiban log export` and `cuiban purge`: the whole log out, personal data past its time removed
(to be written)."""

from __future__ import annotations

import click


@click.group()
def log() -> None:
    """The transition log: every change, with who, when, old and new values."""
