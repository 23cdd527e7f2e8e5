"""`cuiban report NAME`: the seed's forms from the database, as xlsx, docx, PDF or HTML."""

from __future__ import annotations

from pathlib import Path

import click
import pendulum

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.options import db_option, now_option, plan_option
from cuiban.reports.catalog import FORMATS, REPORTS
from cuiban.services.report_request import ReportRequest, ReportsDone, make_reports
from cuiban.services.sla import SlaRequest, write_sla_report

SLA = "sla"
"""The SLA figures per department (services/sla.py): xlsx or html, the whole school in one file."""


def _print_done(done: ReportsDone) -> None:
    for path in done.written:
        click.echo(f"wrote {path}")
    if done.queued_for:
        where = done.queued_for
        again = f"already queued for {where} this month: not queued again"
        click.echo(f"queued for {where}" if done.queued else again)


def _sla_request(fmt: str, output: Path | None, **given: object) -> SlaRequest:
    """The SLA report's request, naming the options it does not take that were given."""
    return SlaRequest(fmt, output, tuple(f"--{name}" for name, value in given.items() if value)).check()


@click.command()
@click.argument("name", type=click.Choice([*REPORTS, SLA]))
@click.option("--unit", metavar="U", help="One department (id or name); default every department.")
@click.option("--teacher", "staff_id", metavar="STAFF_ID", help="teacher-sheet: one teacher.")
@click.option("--each", is_flag=True, help="One file per department, written into the folder -o.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True)
@click.option(
    "-o", "--output", "output", type=click.Path(path_type=Path), help="File (or folder with --each)."
)
@click.option("--send", is_flag=True, help="monthly: also queue it for the plan's province address.")
@plan_option
@db_option
@now_option
@pass_app
def report(
    app: Application,
    name: str,
    unit: str | None,
    staff_id: str | None,
    each: bool,
    fmt: str,
    output: Path | None,
    send: bool,
    now: pendulum.DateTime,
) -> None:
    """Write report NAME as of --now.

    dept-audit (附表6), monthly (附表4), teacher-sheet (附表5), working-group (附表3);
    sla: on time and late per department and milestone, working days late, the median days
    from account issued to submitted and from submitted to reviewed (xlsx or html).
    """
    if name == SLA:
        asked_sla = _sla_request(fmt, output, unit=unit, teacher=staff_id, each=each, send=send)
        written = write_sla_report(app.engine, app.plan, app.calendar, asked_sla, now, app.templates_folder)
        click.echo(f"wrote {written}")
        return
    asked = ReportRequest(name, fmt, unit, staff_id, each, output, send).check()
    _print_done(make_reports(app.engine, app.plan, asked, now, app.templates_folder))
