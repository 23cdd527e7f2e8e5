"""Options for commands that use the database, and the wiring they share (the composition root)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import Engine

from cli.console import print_problems
from models.database import database_url, open_engine
from notifications.render import Renderer
from notifications.transports import FileTransport, SmtpSettings, SmtpTransport, Transport
from planfile.loader import read_plan
from workflow.calendar import WorkingCalendar
from workflow.plan.schema import Plan

EXIT_INVALID = 2

plan_option = click.option(
    "--plan", "plan_path", metavar="PLAN", help="Plan file (default config/plan.yaml or $CUIBAN_PLAN)."
)
db_option = click.option(
    "--db", metavar="URL", help="Database URL (default $CUIBAN_DB or sqlite:///cuiban.sqlite3)."
)
by_option = click.option("--by", "actor", metavar="NAME", help="Who does this (recorded in the log).")


@dataclass(frozen=True)
class Wired:
    plan: Plan
    calendar: WorkingCalendar
    engine: Engine
    plan_file: Path

    def renderer(self) -> Renderer:
        return renderer_for(self.plan, self.plan_file)

    @property
    def templates_folder(self) -> Path | None:
        return templates_folder(self.plan, self.plan_file)


def templates_folder(plan: Plan, plan_file: Path) -> Path | None:
    """The admin's templates (messages and reports): the plan's `templates`, relative to the plan file."""
    return plan_file.parent / plan.templates if plan.templates else None


def renderer_for(plan: Plan, plan_file: Path) -> Renderer:
    """The plan's language, with its `templates` folder overriding."""
    return Renderer(plan.language, templates_folder(plan, plan_file))


def transport_from_environment() -> Transport:
    """SMTP when CUIBAN_SMTP_HOST is set, else .eml files in $CUIBAN_OUTBOX_DIR (default ./outbox)."""
    if os.environ.get("CUIBAN_SMTP_HOST"):
        return SmtpTransport(SmtpSettings.from_environment())
    return FileTransport(Path(os.environ.get("CUIBAN_OUTBOX_DIR") or "outbox"))


def send_rate() -> int | None:
    """CUIBAN_SMTP_RATE: at most this many messages a minute (None: no limit)."""
    return int(os.environ.get("CUIBAN_SMTP_RATE", "0")) or None


def wire(plan_path: str | None, db: str | None) -> Wired:
    """Load the plan (exit 2 on errors) and open the database, migrating it on first use."""
    from planfile.loader import default_plan_path

    path = plan_path or default_plan_path()
    loaded = read_plan(path)
    if not loaded.ok or loaded.plan is None or loaded.calendar is None:
        print_problems(loaded.errors)
        raise SystemExit(EXIT_INVALID)
    return Wired(loaded.plan, loaded.calendar, open_engine(database_url(db)), Path(path))


def fail(message: str) -> None:
    """A plain sentence on stderr and exit 2: the input was refused, nothing changed."""
    click.echo(message, err=True)
    raise SystemExit(EXIT_INVALID)
