"""`cuiban plan check|show|roll`: validate the plan, show its timeline, prepare next year's."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click
import pendulum

from cuiban.cli.console import console, print_problems
from cuiban.cli.options import now_option, plan_argument, plan_path_or_default
from cuiban.cli.timeline_output import timeline_json, timeline_table
from cuiban.planfile.loader import LoadedPlan, read_plan
from cuiban.planfile.roll import roll_text
from cuiban.workflow.plan.timeline import timeline

EXIT_INVALID = 2


@click.group()
def plan() -> None:
    """Check, show and roll the plan (default config/plan.yaml or $CUIBAN_PLAN)."""


def _checked(path: str | None, warnings: bool = False) -> LoadedPlan:
    """The loaded plan, or exit 2 after printing its errors (and warnings if asked)."""
    loaded = read_plan(plan_path_or_default(path))
    print_problems(loaded.problems if warnings else loaded.errors)
    if not loaded.ok:
        click.echo(f"{loaded.source}: {len(loaded.errors)} error(s); nothing done.", err=True)
        raise SystemExit(EXIT_INVALID)
    return loaded


@plan.command()
@plan_argument
def check(plan_path: str | None) -> None:
    """Validate PLAN: print OK with counts, or every error with file, line and column (exit 2)."""
    loaded = _checked(plan_path, warnings=True)
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
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(plan_path: str | None, now: pendulum.DateTime, fmt: str) -> None:
    """The timeline: each milestone's window, unit, owner, status at --now and working days left."""
    loaded = _checked(plan_path)
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
    loaded = _checked(plan_path)
    assert loaded.plan is not None and loaded.calendar is not None
    text = Path(plan_path).read_text(encoding="utf-8")
    try:
        rolled = roll_text(text, loaded.plan, to_cycle, loaded.calendar)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    report = click.echo if output else (lambda line: click.echo(line, err=True))
    for change in rolled.changes:
        report(f"{change.path:<40} {change.old} → {change.new}  {change.note}".rstrip())
    for note in rolled.notes:
        report(f"note: {note}")
    if output is None:
        click.echo(rolled.text, nl=False)
        return
    _write_atomically(Path(output), rolled.text)
    after = read_plan(output)
    print_problems(after.problems)
    verdict = "OK" if after.ok else f"{len(after.errors)} error(s)"
    click.echo(f"wrote {output} (cycle {to_cycle}); plan check: {verdict}")


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
