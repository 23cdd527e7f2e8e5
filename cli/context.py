"""Options for commands that use the database, and the wiring they share (the composition root).

The settings (CUIBAN_* in the environment) are read here and nowhere else in cli/, and
checked where they are read: a value that cannot be used is a `SettingsError`, one
sentence naming the variable and what it should be (exit 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from cuiban.cli.console import print_problems
from cuiban.cli.errors import (
    BUSY_TIMEOUT,
    DATABASE,
    EXIT_INVALID,
    URL_HINT,
    Refused,
    SettingsError,
    shown_url,
)
from cuiban.cli.errors import sqlite_file as sqlite_file_of
from cuiban.models.database import BUSY_TIMEOUT_S, database_url, open_engine
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport, SmtpSettings, SmtpTransport, Transport
from cuiban.planfile.loader import read_plan
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan

SECURITY = ("ssl", "starttls", "none")
CONNECT_TIMEOUT_S = 10
"""How long to wait for a PostgreSQL server that does not answer (unless the URL sets connect_timeout)."""
WHERE_SETTINGS = "fix it in the environment (for the service: its EnvironmentFile)"


def _checked_plan_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        checked_plan_path(value, "--plan")
    return value


def _checked_db_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        checked_database_url(value, "--db")
    return value


plan_option = click.option(
    "--plan",
    "plan_path",
    metavar="PLAN",
    callback=_checked_plan_option,
    help="Plan file (default config/plan.yaml or $CUIBAN_PLAN).",
)
db_option = click.option(
    "--db",
    metavar="URL",
    callback=_checked_db_option,
    help="Database URL (default $CUIBAN_DB or sqlite:///cuiban.sqlite3).",
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


# ── settings ──


def check_settings() -> None:
    """Every setting that has a value, checked before a command does anything (SettingsError)."""
    send_rate()
    busy_timeout()
    if os.environ.get("CUIBAN_SMTP_HOST"):
        smtp_settings()


def transport_from_environment() -> Transport:
    """SMTP when CUIBAN_SMTP_HOST is set, else .eml files in $CUIBAN_OUTBOX_DIR (default ./outbox)."""
    if os.environ.get("CUIBAN_SMTP_HOST"):
        return SmtpTransport(smtp_settings())
    return FileTransport(Path(os.environ.get("CUIBAN_OUTBOX_DIR") or "outbox"))


def smtp_settings() -> SmtpSettings:
    """CUIBAN_SMTP_HOST, _PORT, _USER, _PASSWORD, _SECURITY and CUIBAN_MAIL_FROM, each checked."""
    env = os.environ
    security = env.get("CUIBAN_SMTP_SECURITY") or "ssl"
    if security not in SECURITY:
        raise SettingsError(
            f"CUIBAN_SMTP_SECURITY is {security!r}; it must be ssl (port 465), starttls (port 587) "
            f"or none (port 25); {WHERE_SETTINGS}"
        )
    port = env.get("CUIBAN_SMTP_PORT", "").strip()
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise SettingsError(f"CUIBAN_SMTP_PORT is {port!r}, not a port number (1-65535); {WHERE_SETTINGS}")
    sender = env.get("CUIBAN_MAIL_FROM", "").strip()
    if not sender:
        raise SettingsError(
            "CUIBAN_SMTP_HOST is set but CUIBAN_MAIL_FROM is not: set CUIBAN_MAIL_FROM to the address "
            "messages come from (or unset CUIBAN_SMTP_HOST to write .eml files instead)"
        )
    if "@" not in sender:
        raise SettingsError(f"CUIBAN_MAIL_FROM is {sender!r}, not an e-mail address; {WHERE_SETTINGS}")
    environ = {**env, "CUIBAN_SMTP_SECURITY": security, "CUIBAN_MAIL_FROM": sender}
    if port:
        environ["CUIBAN_SMTP_PORT"] = port
    else:
        environ.pop("CUIBAN_SMTP_PORT", None)
    return SmtpSettings.from_environment(environ)


def send_rate() -> int | None:
    """CUIBAN_SMTP_RATE: at most this many messages a minute (None: no limit)."""
    value = os.environ.get("CUIBAN_SMTP_RATE", "").strip() or "0"
    if not value.isdigit():
        raise SettingsError(
            f"CUIBAN_SMTP_RATE is {value!r}, not a number of messages a minute "
            f"(a whole number, 0 or unset for no limit); {WHERE_SETTINGS}"
        )
    return int(value) or None


def busy_timeout() -> float:
    """CUIBAN_DB_BUSY_TIMEOUT: seconds a SQLite command waits for another one's lock (default 30)."""
    value = os.environ.get("CUIBAN_DB_BUSY_TIMEOUT", "").strip()
    if not value:
        return BUSY_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 1e6:
        raise SettingsError(
            f"CUIBAN_DB_BUSY_TIMEOUT is {value!r}, not a number of seconds (e.g. 30); {WHERE_SETTINGS}"
        )
    return seconds


# ── the plan and the database ──


def checked_plan_path(path: str, source: str) -> Path:
    """The plan file, or Refused when `path` is a folder or names nothing."""
    plan_file = Path(path)
    if plan_file.is_dir():
        raise Refused(f"{source} {path} is a folder; name the plan file, e.g. {plan_file / 'plan.yaml'}")
    if not plan_file.exists():
        raise Refused(f"{source} {path}: no such file; name an existing plan file (see: cuiban plan check)")
    return plan_file


def checked_database_url(url: str, source: str) -> str:
    """`url` if it is a database URL cuiban can open, else Refused (the password never shown)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise Refused(f"{source} {shown_url(url)!r} is not a database URL; write {URL_HINT}") from None
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise Refused(
            f"{source} {shown_url(url)}: cuiban cannot open a {parsed.drivername!r} database; "
            f"write {URL_HINT}"
        ) from None
    file = sqlite_file_of(url)
    if file is not None:
        folder = file.absolute().parent
        if file.is_dir():
            raise Refused(
                f"{source} names the folder {file}; name a SQLite file in it, e.g. {file}/cuiban.sqlite3"
            )
        if not folder.is_dir():
            raise Refused(
                f"{source} names the SQLite file {file}, but the folder {folder} does not exist; "
                "create the folder or choose another path"
            )
    return url


def open_database(db: str | None) -> Engine:
    """The engine for --db (else $CUIBAN_DB, else ./cuiban.sqlite3), checked, migrated on first use.

    The URL is kept on the command's context, so that an error later names the database
    (without its password)."""
    source = "--db" if db else "$CUIBAN_DB" if os.environ.get("CUIBAN_DB") else "the default database"
    url = checked_database_url(database_url(db), source)
    timeout = busy_timeout()
    context = click.get_current_context(silent=True)
    if context is not None:
        context.meta[DATABASE] = url
        context.meta[BUSY_TIMEOUT] = timeout
    options = {}
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}  # a silent host: minutes, else
    try:
        return open_engine(url, busy_timeout=timeout, **options)
    except ModuleNotFoundError as missing:
        raise Refused(
            f"{source} {shown_url(url)} needs the Python module {missing.name!r}, which is not installed; "
            f"write {URL_HINT}"
        ) from None


def wire(plan_path: str | None, db: str | None) -> Wired:
    """Load the plan (exit 2 on errors) and open the database, migrating it on first use."""
    from cuiban.planfile.loader import default_plan_path

    path = plan_path or default_plan_path()
    from_env = os.environ.get("CUIBAN_PLAN")
    checked_plan_path(path, "--plan" if plan_path else "$CUIBAN_PLAN" if from_env else "the default plan")
    loaded = read_plan(path)
    if not loaded.ok or loaded.plan is None or loaded.calendar is None:
        print_problems(loaded.errors)
        raise SystemExit(EXIT_INVALID)
    return Wired(loaded.plan, loaded.calendar, open_database(db), Path(path))


def fail(message: str) -> None:
    """A plain sentence on stderr and exit 2: the input was refused, nothing changed."""
    click.echo(message, err=True)
    raise SystemExit(EXIT_INVALID)
