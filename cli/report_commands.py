"""`cuiban report NAME`: the seed's forms from the database, as xlsx, docx, PDF or HTML."""

from __future__ import annotations

from pathlib import Path

import click
import pendulum

from cuiban.cli.context import db_option, fail, plan_option, wire
from cuiban.cli.options import now_option
from cuiban.reports.catalog import FORMATS, REPORTS
from cuiban.reports.pdf import NoConverter
from cuiban.services.reports import UnknownSubject

PER_DEPARTMENT = ("dept-audit", "teacher-sheet")


@click.command()
@click.argument("name", type=click.Choice(list(REPORTS)))
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
def report(
    name: str,
    unit: str | None,
    staff_id: str | None,
    each: bool,
    fmt: str,
    output: Path | None,
    send: bool,
    plan_path: str | None,
    db: str | None,
    now: pendulum.DateTime,
) -> None:
    """Write report NAME as of --now.

    dept-audit (附表6), monthly (附表4), teacher-sheet (附表5), working-group (附表3).
    """
    if each and name not in PER_DEPARTMENT:
        fail(f"--each makes one file per department; {name} is one file for the whole school.")
    if send and name != "monthly":
        fail("--send mails the monthly report (附表4) to the province; other reports are not mailed.")
    if name == "teacher-sheet" and not (unit or staff_id or each):
        fail(
            "teacher-sheet needs --unit U (a page per teacher of that department), "
            "--teacher STAFF_ID, or --each."
        )
    from cuiban.reports.chart import NO_FONT, cjk_font  # matplotlib loads only for reports
    from cuiban.services.report_files import default_name, send_monthly, write_reports

    wired = wire(plan_path, db)
    target = output or Path("." if each else default_name(name, wired.plan, now, fmt))
    if each and target.exists() and not target.is_dir():
        fail(f"-o {target} is a file; with --each, -o names the folder that gets one file per department")
    if not each and target.is_dir():
        example = target / default_name(name, wired.plan, now, fmt)
        hint = " (or add --each for one file per department)" if name in PER_DEPARTMENT else ""
        fail(f"-o {target} is a folder; name the file to write, e.g. -o {example}{hint}")
    if name == "monthly" and cjk_font() is None:
        click.echo(NO_FONT, err=True)
    try:
        written = write_reports(
            wired.engine,
            wired.plan,
            name,
            fmt,
            now,
            target,
            unit=unit,
            teacher=staff_id,
            each=each,
            override=wired.templates_folder,
        )
    except (UnknownSubject, NoConverter) as error:
        fail(str(error))
    for path in written:
        click.echo(f"wrote {path}")
    if send:
        queued = send_monthly(wired.engine, wired.plan, now)
        where = wired.plan.province.email
        click.echo(
            f"queued for {where}" if queued else f"already queued for {where} this month: not queued again"
        )
