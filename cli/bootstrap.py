"""The composition root: the one place a command's parts are built and wired.

The `cuiban` group makes one `Application` per invocation from the settings (read
once, `cli.settings`); `--plan` and `--db` tell it which plan and database to use.
Everything else is built on first use, so a command pays only for what it touches:
`plan check` never opens a database, `--help` builds nothing. Commands receive the
application (`@pass_app`) and hand its parts to one service.
"""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from cuiban.cli.console import print_problems
from cuiban.cli.errors import BUSY_TIMEOUT, DATABASE, EXIT_INVALID, URL_HINT, Refused, shown_url
from cuiban.cli.errors import sqlite_file as sqlite_file_of
from cuiban.cli.settings import DEFAULT_PLAN, WHERE, Settings, SettingsError, from_process
from cuiban.models.database import BUSY_TIMEOUT_S, CACHE_MIB, DEFAULT_URL, SERVE_CACHE_MIB, open_engine
from cuiban.notifications.bots import PLATFORM_NAMES, BotTarget, BotTransport, recipient
from cuiban.notifications.render import Renderer, contact_of
from cuiban.notifications.transports import FileTransport, SmtpTransport, Transport, mail_identity
from cuiban.planfile.loader import LoadedPlan, read_plan
from cuiban.services.tick_and_send import Delivery
from cuiban.web.context import WebContext, dev_host_problem, moving_clock
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.institution_id import INSTITUTION_ID, TenancyError
from cuiban.workflow.links import Links
from cuiban.workflow.plan.schema import Plan

CONNECT_TIMEOUT_S = 10
"""How long to wait for a PostgreSQL server that does not answer (unless the URL sets connect_timeout)."""


class Application:
    """What one command invocation works with: settings, plan, calendar, engine, renderer, transport."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.plan_option: str | None = None
        """--plan, when the command was given one."""
        self.db_option: str | None = None
        """--db, when the command was given one."""
        self.institution_option: str | None = None
        """--institution, when the command was given one."""
        self.sqlite_cache_mib = CACHE_MIB
        """Each SQLite connection's page cache (`cuiban serve` keeps many connections: less each)."""

    # ── the plan ──

    def plan_path(self, given: str | None = None) -> str:
        """`given` (a PLAN argument), else --plan, else the institution's plan in $CUIBAN_PLANS, else
        $CUIBAN_PLAN, else config/plan.yaml."""
        return given or self.plan_option or self._institution_plan() or self.settings.plan_path

    def _institution_plan(self) -> str | None:
        if self.settings.plans is None or self.institution is None:
            return None
        return str(self.settings.plans / f"{self.institution}.yaml")

    @cached_property
    def plan_file(self) -> Path:
        """The plan file, checked: a folder or a missing file is refused naming where it came from."""
        source = (
            "--plan"
            if self.plan_option
            else f"institution {self.institution}'s plan in $CUIBAN_PLANS"
            if self._institution_plan()
            else "$CUIBAN_PLAN"
            if self.settings.plan
            else "the default plan"
        )
        return checked_plan_path(self.plan_path(), source)

    @cached_property
    def loaded(self) -> LoadedPlan:
        """The plan and its calendar; its errors printed and exit 2 when it has any."""
        loaded = read_plan(self.plan_file)
        if not loaded.ok or loaded.plan is None or loaded.calendar is None:
            print_problems(loaded.errors)
            raise SystemExit(EXIT_INVALID)
        return loaded

    @property
    def plan(self) -> Plan:
        assert self.loaded.plan is not None
        return self.loaded.plan

    @property
    def calendar(self) -> WorkingCalendar:
        assert self.loaded.calendar is not None
        return self.loaded.calendar

    @property
    def templates_folder(self) -> Path | None:
        """The admin's templates (messages and reports): the plan's `templates`, relative to the plan file."""
        return self.plan_file.parent / self.plan.templates if self.plan.templates else None

    @cached_property
    def renderer(self) -> Renderer:
        """The plan's language, with its `templates` folder overriding; footers name the coordinator."""
        return Renderer(self.plan.language, self.templates_folder, contact_of(self.plan))

    def use_packaged_plan_if_none(self) -> None:
        """The demo's plan when no other is named: ./config/plan.yaml, else the one shipped in the package."""
        if not (self.plan_option or self.settings.plan or Path(DEFAULT_PLAN).is_file()):
            self.plan_option = str(packaged_plan())

    # ── the institution (several in one PostgreSQL database: models.tenancy) ──

    @property
    def institution(self) -> str | None:
        """--institution, else $CUIBAN_INSTITUTION; None: the database holds one institution."""
        return self.institution_option or self.settings.institution

    def institutions_in_plans(self) -> list[str]:
        """The institutions of the plans folder ($CUIBAN_PLANS): one `<id>.yaml` each."""
        folder = self.settings.plans
        if folder is None:
            raise Refused(
                "no plans folder: set CUIBAN_PLANS to the folder holding one plan per institution (<id>.yaml)"
            )
        found = sorted(p.stem for p in folder.glob("*.yaml") if INSTITUTION_ID.match(p.stem))
        if not found:
            raise Refused(f"$CUIBAN_PLANS {folder} holds no plan named <institution id>.yaml (hebtu.yaml)")
        return found

    def for_institution(self, institution: str) -> Application:
        """The same settings and database, acting for `institution` with its plan from $CUIBAN_PLANS."""
        other = Application(self.settings)
        other.db_option, other.institution_option = self.db_option, institution
        other.sqlite_cache_mib = self.sqlite_cache_mib
        return other

    def institution_engine(self, institution: str) -> Engine:
        """The database as `institution` sees it (its own schema), opened once per command."""
        if institution not in self._institution_engines:
            self._institution_engines[institution] = self.open_database(
                self.database_url, self._database_source, institution
            )
        return self._institution_engines[institution]

    @cached_property
    def _institution_engines(self) -> dict[str, Engine]:
        return {}

    # ── the database ──

    @property
    def database_url(self) -> str:
        """--db, else $CUIBAN_DB, else a SQLite file in the working folder."""
        return self.db_option or self.settings.db or DEFAULT_URL

    @cached_property
    def engine(self) -> Engine:
        """The database, migrated on first use. The plan is checked first, as every command that
        opens the database always has: a broken plan stops the command before it touches the data."""
        _ = self.loaded
        _ = self.transport  # a sender SMTP cannot use (none, or on localhost) is refused before the database
        _ = self.bots  # a bot whose webhook is not set is refused before the database is touched
        return self.open_database(self.database_url, self._database_source, self.institution)

    @property
    def _database_source(self) -> str:
        return "--db" if self.db_option else "$CUIBAN_DB" if self.settings.db else "the default database"

    def open_database(self, url: str, source: str = "the database", institution: str | None = None) -> Engine:
        """An engine for `url`, checked, migrated on first use; the URL is kept on the command's
        context so that an error later names the database (without its password)."""
        checked_database_url(url, source)
        institution = institution or self.institution  # a command never reads another institution's
        timeout = BUSY_TIMEOUT_S if self.settings.busy_timeout is None else self.settings.busy_timeout
        context = click.get_current_context(silent=True)
        if context is not None:
            context.meta[DATABASE] = url
            context.meta[BUSY_TIMEOUT] = timeout
        options = {}
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}  # a silent host: minutes, else
        try:
            return open_engine(
                url, busy_timeout=timeout, cache_mib=self.sqlite_cache_mib, institution=institution, **options
            )
        except TenancyError as error:
            raise Refused(f"{source} {shown_url(url)}: {error}") from None
        except ModuleNotFoundError as missing:
            raise Refused(
                f"{source} {shown_url(url)} needs the Python module {missing.name!r}, "
                f"which is not installed; write {URL_HINT}"
            ) from None

    # ── delivery ──

    @cached_property
    def transport(self) -> Transport:
        """SMTP when CUIBAN_SMTP_HOST is set, else .eml files in $CUIBAN_OUTBOX_DIR (default ./outbox); the
        sender and reply-to from CUIBAN_MAIL_FROM and CUIBAN_MAIL_REPLY_TO, else the plan's `mail`."""
        identity = mail_identity(self.plan, self.settings.mail_from, self.settings.mail_reply_to)
        smtp = self.settings.smtp_as(identity)
        if smtp:
            return SmtpTransport(smtp)
        folder = self.settings.outbox_dir  # several institutions: a folder each (file names are outbox ids)
        return FileTransport.for_identity(folder / self.institution if self.institution else folder, identity)

    def delivery(self, budget: float | None = None, late_after: float | None = None) -> Delivery:
        """The provider's rate ($CUIBAN_SMTP_RATE) and how long one run may send (seconds)."""
        late = {"late_after": timedelta(seconds=late_after)} if late_after else {}
        spend = timedelta(seconds=budget) if budget else None
        return Delivery(per_minute=self.settings.send_rate, budget=spend, bots=self.bots, **late)

    @cached_property
    def bots(self) -> dict[str, Transport]:
        """The plan's group bots by their outbox recipient (`wecom:news`), each posting to the
        webhook (and signing with the secret) of the environment variables the plan names."""
        names = PLATFORM_NAMES.get(self.plan.language, PLATFORM_NAMES["zh"])
        first: dict[str, str] = {}  # units sharing a webhook share its limit: paced as the first of them
        return {
            recipient(platform, unit_id): BotTransport(
                platform,
                target,
                name=f"{self.plan.units[unit_id].name} {names[platform]}",
                paced_as=first.setdefault(target.url, recipient(platform, unit_id)),
            )
            for (unit_id, platform), target in bot_targets(self.plan, self.settings).items()
        }

    @property
    def links(self) -> Links:
        """Where the web pages are ($CUIBAN_BASE_URL), for the links in reminders, escalations and the
        digest; none when it is not set."""
        return Links(self.settings.base_url)

    # ── the web pages ──

    def web_context(self, dev: bool, start: datetime | None, host: str, port: int) -> WebContext:
        """The parts the pages use; the session key and the address people open from the environment
        (or, with --dev, made up and this machine's)."""
        self.sqlite_cache_mib = SERVE_CACHE_MIB  # before the engine is made
        problem = dev_host_problem(host) if dev else None
        if problem:
            raise Refused(problem)
        base_url = self.settings.base_url or f"http://{host}:{port}"
        key = self.settings.secret_key or (secrets.token_urlsafe(48) if dev else None)
        if key is None:
            raise Refused(
                "cuiban serve needs CUIBAN_SECRET_KEY (at least 32 characters) to sign sessions; set it in "
                "the environment (for the service: its EnvironmentFile), or use --dev on this machine"
            )
        if not (dev or self.settings.base_url):
            raise Refused(
                "cuiban serve needs CUIBAN_BASE_URL, the address people open (e.g. "
                "https://cuiban.example.edu.cn), for the links in sign-in mails; set it in the environment, "
                "or use --dev on this machine"
            )
        return WebContext(
            plan=self.plan, calendar=self.calendar, engine=self.engine, renderer=self.renderer,
            transport=self.transport, delivery=self.delivery(), secret_key=key, base_url=base_url,
            evidence_dir=self.settings.evidence_dir, clock=moving_clock(start, self.plan.timezone), dev=dev,
            plan_file=self.plan_file,
        )


def bot_targets(plan: Plan, settings: Settings) -> dict[tuple[str, str], BotTarget]:
    """Each unit's bots' webhook (and 钉钉's secret) by (unit, platform), from the variables the plan
    names; a SettingsError (exit 2) naming the first one unset or not a web address."""
    found = {}
    for unit_id, unit in plan.units.items():
        for platform in dict.fromkeys(unit.bots):
            spec = getattr(plan.bots, platform)
            webhook = spec.variable(spec.webhook_env, unit_id)
            url = settings.variable(webhook)
            if url is None:
                raise SettingsError(
                    f"units.{unit_id}.bots lists {platform} but {webhook} is not set: set it to the group "
                    f"bot's webhook address (or take {platform} off the unit's bots); {WHERE}"
                )
            if not url.startswith(("https://", "http://")):
                raise SettingsError(  # the value is not shown: it may be the key itself
                    f"{webhook} is set but is not a webhook address (one starting with https://); {WHERE}"
                )
            secret = None
            if spec.secret_env:
                secret_name = spec.variable(spec.secret_env, unit_id)
                secret = settings.variable(secret_name)
                if secret is None:
                    raise SettingsError(
                        f"units.{unit_id}.bots lists {platform} but {secret_name} is not set: set it to the "
                        f"bot's signing secret (加签, SEC…); {WHERE}"
                    )
            found[(unit_id, platform)] = BotTarget(url, secret)
    return found


def packaged_plan() -> Path:
    """config/plan.yaml as shipped inside the package (cuiban.config), wherever it is installed."""
    spec = importlib.util.find_spec("cuiban.config")  # data, not code: found, not imported
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "plan.yaml"  # a namespace package: files() fails on an editable install
        if candidate.is_file():
            return candidate
    return Path(str(importlib.resources.files("cuiban.config") / "plan.yaml"))


# ── checks of --plan and --db ──


def checked_plan_path(path: str | Path, source: str) -> Path:
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


# ── handing the application to commands ──


def application(ctx: click.Context) -> Application:
    """The invocation's application: made by the `cuiban` group, or here for a command run on its own."""
    found = ctx.find_object(Application)
    if found is None:
        found = ctx.find_root().obj = Application(from_process())
    return found


F = TypeVar("F", bound=Callable[..., Any])


def pass_app(command: F) -> F:
    """Give the command the application as its first argument."""

    @functools.wraps(command)
    def with_app(*args: Any, **kwargs: Any) -> Any:
        return command(application(click.get_current_context()), *args, **kwargs)

    return with_app  # type: ignore[return-value]
