"""Tenant isolation (issue 15, acceptance 5): institutions A and B in one PostgreSQL database; every
read command and every web page, acting as A, shows A's data and not one row of B's.

B is built to be recognisable anywhere: its institution, departments, people and teachers carry the
marker 丙丁, its addresses the domain bonly.example, its staff IDs start with 77. A is the shipped
demo (河北传媒学院's 2016 sample), acting as A is `--institution A` (or CUIBAN_INSTITUTION).
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections import deque
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from cuiban.cli.bootstrap import Application
from cuiban.cli.main import cuiban
from cuiban.cli.settings import Settings
from cuiban.services.sign_in import dev_link
from cuiban.web.app import create_app
from tests.conftest import MINIMAL_PLAN, PG_REQUIRED, PG_URL
from tests.factories import ROSTER_HEADER, teacher_row, write_csv
from tests.web_support import SECRET, Clock

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "2016"
B_MARKS = re.compile(r"丙丁|bonly\.example|(?<!\d)77\d{4}(?!\d)")
A_MARK = "河北传媒学院"
NOW = "2016-12-16T10:00+08:00"


def _b_person(n: int) -> dict[str, str]:
    return {"姓名": f"丙丁师{n}", "电子邮箱": f"t{n}@bonly.example"}


class Deployment:
    def __init__(self, folder: Path) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.a, self.b = f"ta_{suffix}", f"tb_{suffix}"
        self.folder = folder
        plans = folder / "plans"
        plans.mkdir()
        (plans / f"{self.a}.yaml").write_text((ROOT / "config" / "plan.yaml").read_text("utf-8"), "utf-8")
        b_plan = MINIMAL_PLAN.read_text(encoding="utf-8").replace("school.example", "bonly.example")
        for old, new in (("测试学院", "丙丁大学"), ("甲学院", "丙丁甲院"), ("乙学院", "丙丁乙院")):
            b_plan = b_plan.replace(old, new)
        for person in ("李组长", "程协调", "甲主任", "甲采集", "乙主任"):
            b_plan = b_plan.replace(person, "丙丁" + person[-2:])
        (plans / f"{self.b}.yaml").write_text(b_plan, "utf-8")
        self.environment = {
            "CUIBAN_DB": PG_URL or "",
            "CUIBAN_PLANS": str(plans),
            "CUIBAN_OUTBOX_DIR": str(folder / "outbox"),
        }
        self.runner = CliRunner()

    def cli(self, institution: str, *args: str) -> str:
        environment = {**self.environment, "CUIBAN_INSTITUTION": institution}
        result = self.runner.invoke(cuiban, list(args), env=environment)
        assert result.exit_code == 0, (args, result.output)
        return result.output

    def build(self) -> None:
        b_rows = [
            teacher_row(770000 + n, ("丙丁甲院", "丙丁乙院")[n % 2], **_b_person(n))
            for n in range(40)
        ]
        b_roster = write_csv(self.folder / "b-roster.csv", ROSTER_HEADER, b_rows)
        self.cli(self.b, "roster", "import", str(b_roster), "--now", "2016-11-28T09:00+08:00")
        self.cli(self.b, "tick", "--now", NOW)
        self.cli(self.a, "roster", "import", str(SAMPLE / "roster.csv"), "--now", "2016-11-28T09:00+08:00")
        for export in sorted((SAMPLE / "status").glob("status-2016-12-0*.csv"))[:3]:
            self.cli(self.a, "sync", str(export))
        self.cli(self.a, "tick", "--now", NOW)

    def drop(self) -> None:
        admin = create_engine(PG_URL)
        with admin.begin() as connection:
            for institution in (self.a, self.b):
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "inst_{institution}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):  # type: ignore[no-untyped-def]
    if not PG_URL:
        if PG_REQUIRED:
            pytest.fail("CUIBAN_REQUIRE_PG=1 but CUIBAN_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL server")
    found = Deployment(tmp_path_factory.mktemp("tenancy"))
    try:
        found.build()
        yield found
    finally:
        found.drop()


def _readable(path: Path) -> str:
    """A file's text as a person would see it: xlsx and docx are zips of XML."""
    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return data.decode("utf-8", "replace")


A_STAFF_ID = "000101"
READ_COMMANDS = [
    ("digest", "--now", NOW),
    ("digest", "--now", NOW, "--format", "json"),
    ("outbox", "list", "--limit", "1000"),
    ("outbox", "show", "1"),
    ("log", "export", "--format", "csv"),
    ("task", "list", "--now", NOW),
    ("cycle", "list"),
    ("history", A_STAFF_ID),
    ("teacher", "show", A_STAFF_ID),
    ("report", "dept-audit", "--now", NOW, "--format", "xlsx", "-o", "{out}.xlsx"),
    ("report", "monthly", "--now", NOW, "--format", "html", "-o", "{out}.html"),
    ("report", "working-group", "--format", "docx", "-o", "{out}.docx"),
    ("report", "sla", "--now", NOW, "--format", "html", "-o", "{out}.html"),
    ("report", "teacher-sheet", "--teacher", A_STAFF_ID, "--format", "html", "-o", "{out}.html"),
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_read_command_as_a_shows_nothing_of_b(deployment, command, tmp_path) -> None:
    out = str(tmp_path / "out")
    output = deployment.cli(deployment.a, *(part.format(out=out) for part in command))
    seen = output + "".join(_readable(p) for p in tmp_path.glob("out*"))
    assert seen.strip()
    assert not B_MARKS.search(seen), B_MARKS.search(seen)


def test_b_sees_its_own_rows_and_none_of_a(deployment) -> None:
    """The other way round, and a check that the markers would be found: B's own digest shows them."""
    b = deployment.b
    seen = deployment.cli(b, "digest", "--now", NOW) + deployment.cli(b, "outbox", "list")
    assert B_MARKS.search(seen)
    assert A_MARK not in seen and "hebcm.example" not in seen
    with pytest.raises(AssertionError):  # A's teacher is not B's: refused (exit 2), no record shown
        deployment.cli(deployment.b, "teacher", "show", A_STAFF_ID)


def _same_as_checked(url: str) -> bool:
    """A download that repeats content already checked: PDFs (LibreOffice's conversion of the xlsx
    and docx fetched too) and per-department forms beyond two departments (same query, other unit)."""
    other_unit = "unit=" in url and not re.search("unit=(news|basics)", url)
    return "format=pdf" in url or ("/reports/" in url and other_unit)


def test_every_web_page_as_a_shows_nothing_of_b(deployment) -> None:
    """Signed in as A's coordinator, every page reachable by a link (and the downloads they offer) is
    fetched; B's department page and a B teacher's page are not found."""
    settings = Settings.from_environment({**deployment.environment, "CUIBAN_INSTITUTION": deployment.a})
    app = Application(settings)
    clock = Clock(app.plan.timezone and __import__("pendulum").parse(NOW))
    context = app.web_context(dev=True, start=None, host="127.0.0.1", port=8000)
    context = type(context)(**{**context.__dict__, "clock": clock, "secret_key": SECRET})
    client = TestClient(create_app(context), base_url="http://testserver", follow_redirects=False)
    coordinator = context.plan.roles.coordinator
    link = dev_link(context.engine, context.plan, clock(), "http://testserver", coordinator)
    path = link.removeprefix("http://testserver")
    client.get(path)
    page = client.get(path).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    answer = client.post("/sign-in/link", data={"token": path.split("token=", 1)[1], "csrf": csrf})
    assert answer.status_code == 303

    seen, queue, fetched = set(), deque(["/dashboard", "/teachers?q=丙丁", "/teachers?q=77"]), 0
    while queue and fetched < 400:
        url = queue.popleft()
        if url in seen or url.startswith(("/sign-out", "/static")) or _same_as_checked(url):
            continue
        seen.add(url)
        response = client.get(url)
        fetched += 1
        assert response.status_code in (200, 303, 404), (url, response.status_code)
        body = response.content.decode("utf-8", "replace") if response.content[:2] != b"PK" else ""
        if response.content[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                body = "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
        if "q=丙丁" in url:  # the search page says what was searched for, and that nothing was found
            assert "没有找到" in body
            body = body.replace("丙丁", "")
        assert not B_MARKS.search(body), (url, B_MARKS.search(body))
        if "text/html" in response.headers.get("content-type", ""):
            for href in re.findall(r'href="(/[^"#]*)"', body):
                queue.append(href.replace("&amp;", "&"))
    assert fetched > 30, sorted(seen)
    assert any(u.startswith('/reports/') for u in seen) and any(u.startswith('/units/') for u in seen)
    assert client.get("/units/dept_a").status_code == 404  # B's department id: not A's
    assert client.get("/teachers/770001").status_code == 404
