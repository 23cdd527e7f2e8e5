"""The province's plan and view (issue 15, acceptance 6): the province's 附表4 for a month is the sum of its
institutions' own 附表4, figure by figure.

One PostgreSQL deployment holds the province (河北省教育厅, a tenant of its own) and three institutions
at different stages, each in its own schema, built with the real import and sync services on synthetic
rosters: 河北传媒学院 has imported its roster and nobody has entered anything, 河北师范大学 is half
entered, 河北农业大学 fully reviewed. 河北工业大学 runs elsewhere and uploads its 附表4 (written by
cuiban's own writer from its SQLite database); 河北大学 has done neither and is 未报送.
"""

from __future__ import annotations

import uuid
from functools import cache
from pathlib import Path

import openpyxl
import pendulum
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, text

from cuiban.models import outbox_store
from cuiban.models.database import open_engine
from cuiban.notifications.render import Renderer
from cuiban.planfile.loader import load_plan, load_text
from cuiban.schedules.tick import run_tick
from cuiban.services import province, reports
from cuiban.services.rejection import Refusal
from cuiban.services.report_files import write_reports
from cuiban.services.roster_import import import_roster
from cuiban.services.status_sync import sync_statuses
from cuiban.services.tasks import list_tasks, mark_done
from cuiban.workflow.province import province_findings
from tests.conftest import PG_REQUIRED, PG_URL, ROOT, SHIPPED_PLAN
from tests.factories import ROSTER_HEADER, roster, write_csv

PROVINCE_PLAN = ROOT / "config" / "province.yaml"
TZ = "Asia/Shanghai"
IMPORTED = pendulum.datetime(2016, 12, 2, 10, tz=TZ)
SYNCED = pendulum.datetime(2016, 12, 12, 17, tz=TZ)
NOW = pendulum.datetime(2016, 12, 20, 10, tz=TZ)
DEPARTMENTS = ["新闻传播学院", "音乐学院"]
EXPORT = ["工号", "姓名", "填报状态"]
NAMES = {
    "cm": "河北传媒学院",
    "tu": "河北师范大学",
    "nu": "河北农业大学",
    "ut": "河北工业大学",
    "bu": "河北大学",
}
HOSTED = ("cm", "tu", "nu")


def institution_plan(folder: Path, name: str, file: str) -> Path:
    """The shipped plan, as institution `name`'s."""
    path = folder / file
    path.write_text(SHIPPED_PLAN.read_text(encoding="utf-8").replace("河北传媒学院", name), encoding="utf-8")
    return path


def province_text(tenants: dict[str, str]) -> str:
    """config/province.yaml with the test's institutions: five units, each with its tenant id."""
    text_ = PROVINCE_PLAN.read_text(encoding="utf-8")
    start, end = text_.index("units:\n  hebcm"), text_.index("# ── roles")
    units = "units:\n" + "".join(
        f"  {key}: {{name: {NAMES[key]}, kind: institution, tenant: {tenant}, head: head_{key}, "
        f"collector: info_{key}}}\n"
        for key, tenant in tenants.items()
    )
    people = "".join(
        f"  head_{key}: {{name: {NAMES[key]}联系人, email: head.{key}@uni.example, unit: {key}}}\n"
        f"  info_{key}: {{name: {NAMES[key]}信息员, email: info.{key}@uni.example, unit: {key}}}\n"
        for key in tenants
    )
    text_ = text_[:start] + units + "\n" + text_[end:]
    start, end = text_.index("  li_jinyun:"), text_.index("# ── units")
    text_ = text_[:start] + people + "\n" + text_[end:]
    return text_.replace("[hebcm, hebtu, hebut]", "[" + ", ".join(tenants) + "]")


def _pg_url() -> str:
    if not PG_URL:
        if PG_REQUIRED:
            pytest.fail("CUIBAN_REQUIRE_PG=1 but CUIBAN_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL server")
    return PG_URL


def _statuses(folder: Path, name: str, statuses: dict[int, str]) -> Path:
    return write_csv(folder / name, EXPORT, [[f"{n:06d}", "某", s] for n, s in statuses.items()])


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """The province and three institutions as tenants of one PostgreSQL database, and an upload."""
    url = _pg_url()
    folder = tmp_path_factory.mktemp("province")
    suffix = uuid.uuid4().hex[:8]
    tenants = {key: f"{key}{suffix}" for key in NAMES}
    ids = [*tenants.values(), f"prov{suffix}"]
    plans = folder / "plans"
    plans.mkdir()
    (plans / f"prov{suffix}.yaml").write_text(province_text(tenants), encoding="utf-8")
    engines = {}
    for key in HOSTED:
        plan, calendar = load_plan(institution_plan(plans, NAMES[key], f"{tenants[key]}.yaml"))
        engine = engines[key] = open_engine(url, institution=tenants[key])
        per = {"cm": 5, "tu": 6, "nu": 4}[key]
        rows = roster(DEPARTMENTS, per)
        import_roster(engine, plan, calendar, write_csv(folder / f"{key}.csv", ROSTER_HEADER, rows), IMPORTED)
        if key == "tu":  # half entered, a third of those reviewed
            statuses = {n: "已审核" if n <= 2 else "已提交" for n in range(1, 7)}
            sync_statuses(engine, plan, calendar, _statuses(folder, "tu.csv", statuses), SYNCED)
        if key == "nu":  # everyone entered and reviewed
            statuses = dict.fromkeys(range(1, 9), "已审核")
            sync_statuses(engine, plan, calendar, _statuses(folder, "nu.csv", statuses), SYNCED)
    upload = _uploaded_form(folder)
    province_engine = open_engine(url, institution=f"prov{suffix}")
    opened: dict[str, Engine] = {}

    def open_institution(tenant: str) -> Engine:
        """As the composition root's: one engine per institution for the whole run."""
        if tenant not in opened:
            opened[tenant] = open_engine(url, institution=tenant)
        return opened[tenant]

    yield {
        "url": url, "plans": plans, "tenants": tenants, "engines": engines, "upload": upload,
        "province": province_engine, "province_id": f"prov{suffix}", "open": open_institution,
    }  # fmt: skip
    for engine in [*engines.values(), province_engine, *opened.values()]:
        engine.dispose()
    admin = create_engine(url)
    with admin.begin() as connection:
        for tenant in ids:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "inst_{tenant}" CASCADE'))
    admin.dispose()


def _uploaded_form(folder: Path) -> Path:
    """河北工业大学's 附表4, written by cuiban from its own (SQLite) data: 7 of 10 entered, 3 reviewed."""
    plan, calendar = load_plan(institution_plan(folder, NAMES["ut"], "ut.yaml"))
    engine = open_engine(f"sqlite:///{folder / 'ut.sqlite3'}")
    rows = roster(DEPARTMENTS, 5)
    import_roster(engine, plan, calendar, write_csv(folder / "ut.csv", ROSTER_HEADER, rows), IMPORTED)
    statuses = {n: "已审核" if n <= 3 else "已提交" for n in range(1, 8)}
    sync_statuses(engine, plan, calendar, _statuses(folder, "ut-s.csv", statuses), SYNCED)
    (written,) = write_reports(
        engine, plan, "monthly", "xlsx", NOW, folder / "附表4_河北工业大学_2016年12月.xlsx"
    )
    engine.dispose()
    return written


def _province(deployment):
    plans = deployment["plans"]
    plan, calendar = load_plan(plans / f"{deployment['province_id']}.yaml")

    def plan_of(tenant: str):
        path = plans / f"{tenant}.yaml"
        return _plan(path) if path.is_file() else None

    institutions = province.Institutions(deployment["open"], plan_of)
    return plan, calendar, institutions


@cache
def _plan(path: Path):
    return load_plan(path)[0]


def _figures(stage) -> tuple[int, int, int]:
    return stage.total, stage.done, stage.missing


def test_the_province_table_is_the_sum_of_the_institutions_own(deployment, tmp_path: Path) -> None:
    plan, _, institutions = _province(deployment)
    engine = deployment["province"]
    province.upload(engine, plan, "ut", deployment["upload"], NOW)
    table = province.monthly_table(engine, plan, institutions, NOW, "2016-12")

    own = {}
    for key in HOSTED:
        tenant = deployment["tenants"][key]
        with deployment["engines"][key].connect() as connection:
            own[key] = reports.monthly(connection, institutions.plan_of(tenant), NOW)
    lines = {line.unit_id: line for line in table.lines}
    for key in HOSTED:  # each line is the institution's own 附表4, read in its own schema
        assert lines[key].source == "own"
        assert _figures(lines[key].entry) == _figures(own[key].entry)
        assert _figures(lines[key].review) == _figures(own[key].review)
    assert [_figures(own[k].entry) for k in HOSTED] == [(10, 0, 10), (12, 6, 6), (8, 8, 0)]
    assert [own[k].review.done for k in HOSTED] == [0, 2, 8]
    assert lines["ut"].source == "upload" and _figures(lines["ut"].entry) == (10, 7, 3)
    assert lines["ut"].review.done == 3 and lines["ut"].file_name == deployment["upload"].name
    assert lines["bu"].source is None and lines["bu"].entry is None  # 未报送: no figures, not zeros

    reported = [own[k] for k in HOSTED] + [lines["ut"]]
    for stage in ("entry", "review"):
        summed = tuple(sum(_figures(getattr(r, stage))[i] for r in reported) for i in range(3))
        assert _figures(getattr(table, stage)) == summed
    assert _figures(table.entry) == (40, 21, 19) and table.review.done == 13

    written = province.write_table(table, plan, "xlsx", tmp_path / "p.xlsx")
    sheet = openpyxl.load_workbook(written).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    total = next(r for r in rows if str(r[1]).startswith("合计"))
    assert total[2:7] == [40, 21, "52.5%", 13, "32.5%"] and total[10] == "未报送：河北大学"
    bu = next(r for r in rows if r[1] == "河北大学")
    assert bu[2:8] == [None] * 6 and bu[8] == "未报送"  # empty cells


def test_a_past_month_is_read_as_of_its_end(deployment) -> None:
    plan, _, institutions = _province(deployment)
    table = province.monthly_table(deployment["province"], plan, institutions, NOW, "2016-11")
    hosted = [line for line in table.lines if line.source == "own"]
    assert table.month == "2016年11月" and len(hosted) == 3
    assert all(line.entry.total == 0 and line.note == "尚未导入教师名单" for line in hosted)  # imported 12-02
    assert {line.unit_id for line in table.lines if line.source is None} == {"ut", "bu"}


def test_an_upload_replaces_the_same_month_and_a_bad_one_names_the_cell(deployment, tmp_path: Path) -> None:
    plan, _, institutions = _province(deployment)
    engine = deployment["province"]
    province.upload(engine, plan, "ut", deployment["upload"], NOW)
    again = province.upload(engine, plan, "河北工业大学", deployment["upload"], NOW.add(days=1))
    assert again.replaced == f"{deployment['upload'].name} of 2016-12-20" and again.month == "2016年12月"

    book = openpyxl.load_workbook(deployment["upload"])
    book["附表4"]["C6"] = 11  # more entered than there are teachers
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    with pytest.raises(Refusal, match=r"bad\.xlsx：单元格 C6 的值「11」应为 0 到 10 之间的整数"):
        province.upload(engine, plan, "ut", bad, NOW)
    with pytest.raises(Refusal, match="在本系统中运行"):  # a hosted institution's figures are its own
        province.upload(engine, plan, "tu", deployment["upload"], NOW)
    with pytest.raises(Refusal, match="B3 的值「河北工业大学」不是这所高校"):
        province.upload(engine, plan, "bu", deployment["upload"], NOW)
    table = province.monthly_table(engine, plan, institutions, NOW.add(days=2), "2016-12")
    (ut,) = [line for line in table.lines if line.unit_id == "ut"]
    assert ut.entry.done == 7 and ut.received_on == NOW.add(days=1).date()


def test_sync_marks_a_province_task_done_once_the_institutions_own_is(deployment) -> None:
    plan, calendar, institutions = _province(deployment)
    engine = deployment["province"]
    tenant = deployment["tenants"]["tu"]
    theirs, their_calendar = load_plan(deployment["plans"] / f"{tenant}.yaml")
    done_at = pendulum.datetime(2016, 12, 1, 11, tz=TZ)
    mark_done(deployment["engines"]["tu"], theirs, their_calendar, "monthly_report", "tdc", done_at,
              occurrence="2016-12-01")  # fmt: skip

    first = province.sync(engine, plan, calendar, institutions, NOW)
    assert [(s.key, s.state) for s in first.marked] == [("form_4/tu/2016-12-01", "done")]  # on time
    assert first.skipped == ["河北工业大学", "河北大学"]
    assert province.sync(engine, plan, calendar, institutions, NOW.add(hours=1)).marked == []  # idempotent
    (task,) = [t for t in list_tasks(engine, plan, calendar, NOW, unit="tu") if t.milestone_id == "form_4"]
    assert task.state == "done" and task.completed_by == "province" and task.completed_at == done_at


def test_the_tick_reminds_and_escalates_per_institution(deployment) -> None:
    """The province plan on the normal tick: form_3 (due 12-02, a Friday) reminds each institution's
    信息员, then escalates to it (1 working day late) and to its 联系人 and the coordinator (2 days)."""
    plan, calendar, _ = _province(deployment)
    plan = plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})
    engine = open_engine(deployment["url"], institution=f"tick{deployment['province_id']}")
    try:
        for day in (1, 2, 5, 6):
            run_tick(engine, plan, calendar, Renderer("zh"), pendulum.datetime(2016, 12, day, 9, 30, tz=TZ))
        with engine.connect() as connection:
            sent = {
                (r["kind"], r["task_key"], r["recipient"], r["slot"]) for r in outbox_store.rows(connection)
            }
    finally:
        engine.dispose()
        with create_engine(deployment["url"]).begin() as connection:
            connection.execute(text(f'DROP SCHEMA "inst_tick{deployment["province_id"]}" CASCADE'))
    assert ("reminder", "form_3/tu", "info.tu@uni.example", "before-0") in sent
    assert ("escalation", "form_3/tu", "info.tu@uni.example", "level-1") in sent
    assert ("escalation", "form_3/tu", "head.tu@uni.example", "level-2") in sent
    assert ("escalation", "form_3/tu", "feng.li@jyt.hebei.example", "level-2") in sent
    assert not any(key and key.startswith("form_3/") and "head.tu" in who and key != "form_3/tu"
                   for _, key, who, _ in sent)  # fmt: skip


def test_the_commands_end_to_end(deployment, tmp_path: Path) -> None:
    """As the 教育厅's operator runs them: the province's own id, the plans folder, the shared database."""
    from cuiban.cli.main import cuiban

    env = {"CUIBAN_DB": deployment["url"], "CUIBAN_PLANS": str(deployment["plans"])}
    args = ["--institution", deployment["province_id"], "--now", "2016-12-20T10:00+08:00"]
    runner = CliRunner()
    upload = runner.invoke(cuiban, ["province", "upload", "ut", str(deployment["upload"]), *args], env=env)
    assert upload.exit_code == 0, upload.output
    status = runner.invoke(cuiban, ["province", "status", "--month", "2016-12", *args], env=env)
    assert status.exit_code == 0, status.output
    assert "合计（已报送 4 所）" in status.output and "未报送：河北大学" in status.output
    out = tmp_path / "p.html"
    report = runner.invoke(cuiban, ["province", "report", "--format", "html", "-o", str(out), *args], env=env)
    assert report.exit_code == 0, report.output
    assert "河北农业大学" in out.read_text(encoding="utf-8")


def test_on_sqlite_uploads_work_and_reading_institutions_is_refused(tmp_path: Path) -> None:
    from cuiban.cli.main import cuiban

    env = {"CUIBAN_DB": f"sqlite:///{tmp_path / 'p.sqlite3'}", "CUIBAN_PLAN": str(PROVINCE_PLAN)}
    result = CliRunner().invoke(cuiban, ["province", "sync"], env=env)
    assert result.exit_code == 2 and "needs PostgreSQL" in result.output
    status = CliRunner().invoke(cuiban, ["province", "status", "--now", "2016-12-20T10:00+08:00"], env=env)
    assert status.exit_code == 0 and status.output.count("未报送") >= 3


def test_the_example_province_plan_is_valid_and_its_rules_hold() -> None:
    plan, _ = load_plan(PROVINCE_PLAN)
    assert plan.level == "province" and plan.institutions() == ["hebcm", "hebtu", "hebut"]
    assert list(province_findings(plan)) == []
    assert not list(province_findings(load_plan(SHIPPED_PLAN)[0]))
    text_ = PROVINCE_PLAN.read_text(encoding="utf-8")
    broken = text_.replace("kind: institution, head: zhou_min", "kind: department, head: zhou_min")
    loaded = load_text(broken, "p.yaml")
    assert loaded.plan is not None
    assert [f.path for f in province_findings(loaded.plan)] == [("units", "hebtu", "kind")]
