"""The web pages under test: a real SQLite file holding the demo campaign as of a moment, the app
on it (Starlette's TestClient speaks HTTP to it in process), and sign-in as any person of the plan.

`campaign_file(day)` replays the shipped 2016 sample up to `day` once per test session and
keeps the file; each test gets its own copy (`web_env` in tests/web/conftest.py).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_binary_file
from pathlib import Path

import pendulum
from starlette.testclient import TestClient

from cuiban.cli.bootstrap import packaged_plan
from cuiban.models.database import open_engine
from cuiban.notifications.render import Renderer
from cuiban.notifications.transports import FileTransport
from cuiban.planfile.loader import load_plan
from cuiban.services.replay import progress_by_day, read_done, replay
from cuiban.services.roster_import import import_roster
from cuiban.services.sign_in import dev_link
from cuiban.services.tick_and_send import Delivery
from cuiban.web.app import create_app
from cuiban.web.context import WebContext

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "2016"
TZ = "Asia/Shanghai"
SECRET = "test-secret-key-that-is-long-enough-0123456789"
_built: dict[tuple[date, bool], Path] = {}


def campaign_file(folder: Path, day: date, combine: bool = True) -> Path:
    """A SQLite file with the demo campaign replayed from 11-28 to `day` (built once per session);
    `combine=False`: one mail per task, as before combined mails (and their outbox_part) existed."""
    if (day, combine) in _built:
        return _built[day, combine]
    plan, calendar = load_plan(packaged_plan())
    if not combine:
        plan = plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})
    path = folder / f"campaign-{day}{'' if combine else '-one-per-task'}.sqlite3"
    engine = open_engine(f"sqlite:///{path}")
    start = pendulum.datetime(2016, 11, 28, 8, tz=TZ)
    import_roster(engine, plan, calendar, SAMPLE / "roster.csv", start, actor="人事处")
    progress = progress_by_day(sorted((SAMPLE / "status").glob("status-*.csv")))
    done = read_done(SAMPLE / "tasks.csv")
    replay(engine, plan, calendar, Renderer(plan.language), FileTransport(folder / f"mail-{day}"),
           date(2016, 11, 28), day, progress, done)
    engine.dispose()
    _built[day, combine] = path
    return path


@dataclass
class Clock:
    """A test's now: set it, move it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


@dataclass
class WebEnv:
    context: WebContext
    client: TestClient
    clock: Clock
    outbox: Path
    folder: Path
    plan_file: Path = field(default_factory=packaged_plan)
    last_sign_in: object = None
    """The answer to the last sign-in: its Location is where the person was sent."""

    @property
    def plan(self):  # type: ignore[no-untyped-def]
        return self.context.plan

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.context.engine

    def new_client(self) -> TestClient:
        """Another browser: its own cookies."""
        return TestClient(self.client.app, base_url="http://testserver", follow_redirects=False)

    def csrf(self, client: TestClient | None = None, path: str = "/sign-in") -> str:
        """The CSRF token of `client`'s session, read from a page's form."""
        page = (client or self.client).get(path, follow_redirects=True).text
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        if found is None and path != "/sign-in":  # a page without a form (a refused link): the session's
            page = (client or self.client).get("/sign-in", follow_redirects=True).text  # token is the same
            found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found, f"no CSRF field on {path}"
        return found.group(1)

    def sign_in(self, person: str, client: TestClient | None = None) -> TestClient:
        """`client` (default: this env's) signed in as `person` by a link, the way a browser does."""
        client = client or self.client
        link = dev_link(self.engine, self.plan, self.clock(), "http://testserver", person)
        path = link.removeprefix("http://testserver")
        client.get(path)
        token = path.split("token=", 1)[1]
        answer = client.post("/sign-in/link", data={"token": token, "csrf": self.csrf(client, path)})
        assert answer.status_code == 303, answer.text
        self.last_sign_in = answer
        return client

    def post(self, path: str, data: dict | None = None, files: dict | None = None,
             client: TestClient | None = None, form_page: str | None = None):  # type: ignore[no-untyped-def]
        """POST a form with this session's CSRF token (read from `form_page`, default `path`)."""
        client = client or self.client
        token = self.csrf(client, form_page or "/")
        return client.post(path, data={**(data or {}), "csrf": token}, files=files)

    def mails(self) -> list[Path]:
        return sorted(self.outbox.glob("*.eml"))


def link_in(eml: Path) -> str:
    """The sign-in link in a .eml's plain text."""
    message = message_from_binary_file(eml.open("rb"))
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
            found = re.search(r"https?://\S+/sign-in/link\?token=\S+", text)
            if found:
                return found.group(0)
    raise AssertionError(f"no sign-in link in {eml}")


def make_env(database: Path, folder: Path, now: datetime) -> WebEnv:
    plan, calendar = load_plan(packaged_plan())
    engine = open_engine(f"sqlite:///{database}")
    outbox = folder / "outbox"
    clock = Clock(now)
    context = WebContext(
        plan=plan, calendar=calendar, engine=engine, renderer=Renderer(plan.language),
        transport=FileTransport(outbox), delivery=Delivery(), secret_key=SECRET,
        base_url="http://testserver", evidence_dir=folder / "evidence", clock=clock,
    )
    client = TestClient(create_app(context), base_url="http://testserver", follow_redirects=False)
    return WebEnv(context, client, clock, outbox, folder)


def copy_of(source: Path, folder: Path) -> Path:
    target = folder / "cuiban.sqlite3"
    shutil.copyfile(source, target)
    return target
