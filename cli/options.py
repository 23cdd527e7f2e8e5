"""Options shared by several commands: --plan and --db (handed to the application), --by, --now, --format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
import pendulum

from cuiban.cli.bootstrap import application, checked_database_url, checked_plan_path
from cuiban.workflow.clock import NaiveDatetimeError, parse_moment
from cuiban.workflow.institution_id import TenancyError, check_id

F = TypeVar("F", bound=Callable[..., Any])


def _plan(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        checked_plan_path(value, "--plan")
        application(ctx).plan_option = value


def _db(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        application(ctx).db_option = checked_database_url(value, "--db")


def _institution(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        try:
            application(ctx).institution_option = check_id(value)
        except TenancyError as error:
            raise click.BadParameter(str(error)) from None


plan_option = click.option(
    "--plan",
    metavar="PLAN",
    callback=_plan,
    expose_value=False,
    help="Plan file (default config/plan.yaml or $CUIBAN_PLAN).",
)
_db_url_option = click.option(
    "--db",
    metavar="URL",
    callback=_db,
    expose_value=False,
    help="Database URL (default $CUIBAN_DB or sqlite:///cuiban.sqlite3).",
)
institution_option = click.option(
    "--institution",
    metavar="ID",
    callback=_institution,
    expose_value=False,
    help="The institution to act for, in a PostgreSQL database of several (default $CUIBAN_INSTITUTION); "
    "its plan is $CUIBAN_PLANS/ID.yaml unless --plan is given.",
)


def db_option(command: F) -> F:
    """--db and --institution: every command that opens the database may act for one institution."""
    return _db_url_option(institution_option(command))
by_option = click.option("--by", "actor", metavar="NAME", help="Who does this (recorded in the log).")


def _parse_now(ctx: click.Context, param: click.Parameter, value: str | None) -> pendulum.DateTime:
    if value is None:
        return pendulum.now("UTC")
    try:
        return parse_moment(value, "--now")
    except (ValueError, NaiveDatetimeError) as exc:
        raise click.BadParameter(str(exc)) from None


now_option = click.option(
    "--now",
    metavar="ISO",
    callback=_parse_now,
    help="The moment to act as of, ISO 8601 with an offset (default: the current time).",
)

plan_argument = click.argument(
    "plan_path", metavar="[PLAN]", required=False, default=None, type=click.Path(dir_okay=False)
)


def format_option(*choices: str) -> Callable[[F], F]:
    """--format, the first choice by default."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=choices[0], show_default=True
    )
