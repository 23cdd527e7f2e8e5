"""`cuiban plan check|show|roll|diff`: validate the plan, show its timeline, prepare next year's, see what
an edit will change in the mail."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pendulum

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.console import console, print_problems
from cuiban.cli.errors import EXIT_INVALID
from cuiban.cli.options import db_option, format_option, now_option, plan_argument
from cuiban.cli.plan_diff_output import plan_diff_json, print_plan_diff
from cuiban.cli.timeline_output import timeline_json, timeline_table
from cuiban.planfile.loader import LoadedPlan, read_plan
from cuiban.services.plan_diff import diff_plans
from cuiban.services.plan_roll import roll_plan
from cuiban.workflow.plan.timeline import timeline


@click.group()
def plan() -> None:
    """Check, show, roll and diff plans (default config/plan.yaml or $CUIBAN_PLAN)."""


def _checked(path: str, warnings: bool = False) -> LoadedPlan:
    """The loaded plan, or exit 2 after printing its errors (and warnings if asked)."""
    loaded = read_plan(path)
    print_problems(loaded.problems if warnings else loaded.errors)
    if not loaded.ok:
        click.echo(loaded.summary(), err=True)
        raise SystemExit(EXIT_INVALID)
    return loaded


@plan.command()
@plan_argument
@pass_app
def check(app: Application, plan_path: str | None) -> None:
    """Validate PLAN: print OK with counts, or every error with file, line and column (exit 2)."""
    loaded = _checked(app.plan_path(plan_path), warnings=True)
    assert loaded.plan is not None
    p = loaded.plan
    tasks = sum(len(p.departments()) if m.fans_out else len(m.units) for m in p.milestones.values())
    click.echo(
        f"OK {loaded.source}: cycle {p.cycle}, {len(p.milestones)} milestones "
        f"({tasks} unit tasks), {len(p.units)} units ({len(p.departments())} departments), "
        f"{len(p.people)} people, {len(loaded.warnings)} warning(s)"
    )


@plan.command()
@plan_argument
@now_option
@format_option("table", "json")
@pass_app
def show(app: Application, plan_path: str | None, now: pendulum.DateTime, fmt: str) -> None:
    """The timeline: each milestone's window, unit, owner, status at --now and working days left."""
    loaded = _checked(app.plan_path(plan_path))
    assert loaded.plan is not None and loaded.calendar is not None
    views = timeline(loaded.plan, loaded.calendar, now)
    if fmt == "json":
        doc = timeline_json(loaded.plan, views, now)
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        console().print(timeline_table(loaded.plan, views, now))


@plan.command()
@click.argument("plan_path", metavar="PLAN", type=click.Path(dir_okay=False, exists=True))
@click.option("--to-cycle", type=int, required=True, help="The cycle (year) to move the plan to.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (default: stdout).")
def roll(plan_path: str, to_cycle: int, output: str | None) -> None:
    """Next year's plan: dates moved to --to-cycle, deadlines off working days moved earlier."""
    rolled = roll_plan(Path(plan_path), _checked(plan_path), to_cycle, Path(output) if output else None)
    for line in rolled.lines:
        click.echo(line, err=output is None)  # with the plan on stdout, the changes go to stderr
    if output is None:
        click.echo(rolled.text, nl=False)
        return
    print_problems(rolled.problems)
    click.echo(f"wrote {output} (cycle {to_cycle}); plan check: {rolled.verdict}")


@plan.command()
@click.argument("old_path", metavar="OLD", type=click.Path(dir_okay=False))
@click.argument("new_path", metavar="NEW", type=click.Path(dir_okay=False))
@db_option
@click.option(
    "--days", type=click.IntRange(1, 366), default=14, show_default=True, help="Days ahead to compare."
)
@now_option
@format_option("table", "json")
@pass_app
def diff(app: Application, old_path: str, new_path: str, days: int, now: pendulum.DateTime, fmt: str) -> None:
    """What going from plan OLD to NEW changes in the coming days' messages (added, moved, cancelled) and
    which tasks get another deadline or recipients; with --db, from the campaign's state (nothing written)."""
    old, new = _checked(old_path), _checked(new_path)
    assert old.plan and old.calendar and new.plan and new.calendar
    engine = app.engine if app.db_option else None
    found = diff_plans((old.plan, old.calendar), (new.plan, new.calendar), now, days, engine)
    if fmt == "json":
        click.echo(json.dumps(plan_diff_json(old.plan, new.plan, found), ensure_ascii=False, indent=2))
    else:
        print_plan_diff(old.plan, new.plan, found)
