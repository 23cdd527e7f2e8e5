"""Options shared by several commands: the plan path and `--now`."""

from __future__ import annotations

import click
import pendulum

from cuiban.planfile.loader import default_plan_path
from cuiban.workflow.clock import NaiveDatetimeError, parse_moment


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


def plan_path_or_default(path: str | None) -> str:
    """PLAN if given, else $CUIBAN_PLAN, else config/plan.yaml."""
    return path or default_plan_path()
