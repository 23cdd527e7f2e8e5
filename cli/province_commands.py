"""`cuiban province status|report|upload|sync`: the 教育厅's view of its institutions (docs/province.md).

Run with the province's plan (`level: province`): `--institution` the province's own id when the plans
folder holds it (`$CUIBAN_PLANS/<id>.yaml`), or `--plan`. The institutions' own data is read through the
composition root (each one's schema and plan); nothing of theirs is written.
"""

from __future__ import annotations

from pathlib import Path

import click
import pendulum
from rich.table import Table

from cuiban.cli.bootstrap import Application, pass_app
from cuiban.cli.console import console
from cuiban.cli.options import db_option, now_option, plan_option
from cuiban.planfile.loader import read_plan
from cuiban.reports.catalog import FORMATS
from cuiban.reports.context import province_monthly
from cuiban.services import province as service
from cuiban.workflow.plan.schema import Plan

COLUMNS = ("序号", "学校名称", "教师数", "录入完成", "录入完成率", "审核完成", "审核完成率")
COLUMNS += ("全部审核完成日期", "数据来源", "数据日期", "备注")
FIGURES = ("total", "entered", "entered_pct", "reviewed", "reviewed_pct", "done_on")

month_option = click.option(
    "--month", metavar="YYYY-MM", help="The month of the table (default: the month of --now)."
)


def institutions(app: Application) -> service.Institutions:
    """Each institution's database (its schema) and plan ($CUIBAN_PLANS/<id>.yaml; None without one)."""
    folder = app.settings.plans

    def plan_of(tenant: str) -> Plan | None:
        loaded = read_plan(folder / f"{tenant}.yaml") if folder is not None else None
        return loaded.plan if loaded is not None and loaded.ok else None

    return service.Institutions(app.institution_engine, plan_of)


def print_table(context: dict) -> None:
    """附表4 全省汇总 on the terminal: the same lines and 合计 as the file."""
    table = Table(title=f"附表4（全省汇总） {context['province']} {context['month']}")
    for n, name in enumerate(COLUMNS):
        table.add_column(name, justify="right" if 2 <= n <= 6 else "left")
    for line in context["lines"]:
        table.add_row(str(line["number"]), line["name"], *(str(line[k]) for k in FIGURES),
                      line["source"], line["as_of"], line["note"])  # fmt: skip
    total = context["total"]
    unreported = f"未报送：{context['unreported']}" if context["unreported"] else ""
    table.add_row("", total["label"], *(str(total[k]) for k in FIGURES), "", "", unreported, style="bold")
    console().print(table)
    click.echo(f"填表人：{context['filler']}　电话：{context['phone']}　填表日期：{context['filled_on']}")


@click.group()
def province() -> None:
    """The province's view (plan level: province): its institutions' 附表4 and tasks."""


@province.command("status")
@month_option
@plan_option
@db_option
@now_option
@pass_app
def province_status(app: Application, month: str | None, now: pendulum.DateTime) -> None:
    """Print the province's 附表4 of --month: one line per institution and the 合计."""
    table = service.monthly_table(app.engine, app.plan, institutions(app), now, month)
    print_table(province_monthly(table))


@province.command("report")
@month_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File to write (or a folder).")
@plan_option
@db_option
@now_option
@pass_app
def province_report(
    app: Application, month: str | None, fmt: str, output: Path | None, now: pendulum.DateTime
) -> None:
    """Write the province's 附表4 of --month (全省汇总): each institution's figures from its own data
    here, or from the 附表4 it uploaded, or 未报送; the 合计 is their sum."""
    table = service.monthly_table(app.engine, app.plan, institutions(app), now, month)
    written = service.write_table(table, app.plan, fmt, output, app.templates_folder)
    click.echo(f"wrote {written}")


@province.command("upload")
@click.argument("unit", metavar="INSTITUTION")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@plan_option
@db_option
@now_option
@pass_app
def province_upload(app: Application, unit: str, file: Path, now: pendulum.DateTime) -> None:
    """Store the 附表4 FILE (an xlsx as cuiban report monthly writes it) of INSTITUTION (its id or name),
    one that runs elsewhere, for the form's month; uploading the same month again replaces it."""
    done = service.upload(app.engine, app.plan, unit, file, now)
    again = f" (replacing {done.replaced})" if done.replaced else ""
    click.echo(f"stored {done.name}'s 附表4 of {done.month} from {done.file_name}{again}")


@province.command("sync")
@plan_option
@db_option
@now_option
@pass_app
def province_sync(app: Application, now: pendulum.DateTime) -> None:
    """Mark province tasks done whose institution's own task (milestones.*.from_institution) is done."""
    done = service.sync(app.engine, app.plan, app.calendar, institutions(app), now)
    for synced in done.marked:
        click.echo(f"{synced.key}: {synced.state} ({synced.name}: done {synced.delivered})")
    click.echo(f"{len(done.marked)} task(s) marked done")
    if done.skipped:
        click.echo(f"not in this deployment (upload their 附表4; mark by hand): {'、'.join(done.skipped)}")
