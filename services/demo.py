"""`cuiban demo`: the 2016 campaign (11-28..12-30) replayed on the shipped sample, narrated.

The sample (300 teachers, 12 departments) ships in the package (`cuiban.samples`, handed
in by the command line), so the demo runs from a wheel install in any folder. It works
only in its own folder: new, empty, or one an earlier demo made (marked with
.cuiban-demo); there it deletes its own database, outbox/, reports/ and evidence/ (files
handed in on the web pages over the demo's database), and nothing else. It ends by saying
how to look at the campaign in a browser, in one command.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pendulum
from sqlalchemy import Engine

from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport, mail_identity
from cuiban.services.digest_preview import preview
from cuiban.services.rejection import Refusal
from cuiban.services.replay import HEADER, day_line, outbox_lines, progress_by_day, read_done, replay
from cuiban.services.roster_import import import_roster
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.links import NO_LINKS, Links
from cuiban.workflow.plan.schema import Plan

DEMO_MARKER = ".cuiban-demo"
"""Written into the folder the demo makes: only then may a later demo empty it of its own files."""
DEMO_DATABASE = "cuiban-demo.sqlite3"
_DEMO_FILES = {
    DEMO_MARKER,
    DEMO_DATABASE,
    f"{DEMO_DATABASE}-wal",
    f"{DEMO_DATABASE}-shm",
    "outbox",
    "reports",
    "evidence",
}
FIRST, LAST = date(2016, 11, 28), date(2016, 12, 30)
WEB_NOW = "2016-12-30T18:00+08:00"
"""The moment the web pages show the demo at: its last, where its database stands (and its digest)."""


def claim_folder(out: Path) -> None:
    """Refuse (nothing deleted) a folder the demo did not make and that is not empty;
    else make it if needed and mark it as the demo's."""
    if out.exists() and not out.is_dir():
        raise Refusal(f"--out {out} is a file; name a folder for the demo (new or empty), e.g. --out demo")
    if out.is_dir():
        entries = {entry.name for entry in out.iterdir()}
        # an older demo's folder, from before the marker: the demo's own names only, its database among them
        earlier_demo = DEMO_DATABASE in entries and entries <= _DEMO_FILES
        if entries and DEMO_MARKER not in entries and not earlier_demo:
            raise Refusal(
                f"--out {out} is not empty and was not made by the demo, whose files there it would "
                "replace; name a new or empty folder, e.g. --out demo"
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text(
        "Made by `cuiban demo`: a later demo deletes its database, outbox/, reports/ and evidence/ "
        "in this folder.\n",
        encoding="utf-8",
    )


def fresh_database(out: Path) -> str:
    """Claim `out`, remove the last demo's database and outbox there; the URL of the new database."""
    claim_folder(out)
    database = out / DEMO_DATABASE
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(out / "outbox", ignore_errors=True)
    shutil.rmtree(out / "evidence", ignore_errors=True)
    return f"sqlite:///{database}"


def run_demo(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    renderer: Renderer,
    sample: Path,
    out: Path,
    say: Callable[[str], None],
    links: Links = NO_LINKS,
) -> None:
    """Import `sample`'s roster, replay the campaign day by day with its status exports and tasks done
    by hand, end with the digest and the reports."""
    start = pendulum.datetime(2016, 11, 28, 8, tz=plan.timezone)
    report = import_roster(engine, plan, calendar, sample / "roster.csv", start, actor="人事处")
    say(f"roster: {report.rows} rows, {report.imported} in scope, {report.excluded} excluded by scope rules")
    say(HEADER)
    progress = progress_by_day(sorted((sample / "status").glob("status-*.csv")))
    done = read_done(sample / "tasks.csv")
    outbox = out / "outbox"
    transport = FileTransport.for_identity(outbox, mail_identity(plan))
    replay(
        engine, plan, calendar, renderer, transport, FIRST, LAST, progress, done,
        on_day=lambda row: say(day_line(row)), links=links,
    )
    end = pendulum.datetime(2016, 12, 30, 18, tz=plan.timezone)
    say("")
    say(preview(engine, plan, calendar, renderer, end, links).rendered.text)
    for line in outbox_lines(engine, outbox):
        say(line)
    _write_reports(engine, plan, out / "reports", end, say)
    database = out / DEMO_DATABASE
    say(f"database: {database} (try: cuiban task list --db sqlite:///{database})")


def browser_line(out: Path, plan_file: Path) -> str:
    """How to look at the demo in a browser, in one command: `./dev.sh web` for the repository's
    own demo folder, else `cuiban serve --dev` spelt out for this folder and plan (a wheel install)."""
    if Path("dev.sh").is_file() and out.resolve() == Path("demo").resolve():
        command = "./dev.sh web"
    else:
        database = shlex.quote(f"sqlite:///{out / DEMO_DATABASE}")
        command = (
            f"CUIBAN_OUTBOX_DIR={shlex.quote(str(out / 'outbox'))} cuiban serve --dev --db {database} "
            f"--plan {shlex.quote(str(plan_file))} --now {WEB_NOW}"
        )
    return f"look at it in a browser: {command} (then open the sign-in link it prints)"


def _write_reports(
    engine: Engine, plan: Plan, folder: Path, end: pendulum.DateTime, say: Callable[[str], None]
) -> None:
    from cuiban.services.report_files import default_name, write_reports  # matplotlib: only when needed

    shutil.rmtree(folder, ignore_errors=True)
    written = write_reports(engine, plan, "dept-audit", "xlsx", end, folder, each=True)
    for fmt in ("xlsx", "docx"):
        target = folder / default_name("monthly", plan, end, fmt)
        written += write_reports(engine, plan, "monthly", fmt, end, target)
    say(f"reports in {folder}: 附表6 for each of {len(plan.departments())} departments, 附表4 of December")
    for path in written:
        say(f"  {path.name}")
