"""`cuiban simulate` on a copy of the database, and `cuiban demo` on the shipped sample."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from cuiban.cli.replay_commands import SAMPLE
from tests.conftest import SHIPPED_PLAN


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)


def _digest(path: Path) -> str:
    """The database's content (not its bytes: a WAL checkpoint rewrites those without changing it)."""
    connection = sqlite3.connect(path)
    content = "\n".join(connection.iterdump())
    connection.close()
    return hashlib.sha256(content.encode()).hexdigest()


def test_simulate_replays_on_a_copy_and_leaves_the_real_database_alone(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"CUIBAN_PLAN": str(SHIPPED_PLAN), "CUIBAN_DB": f"sqlite:///{tmp_path / 'real.sqlite3'}"}
    assert (
        run(env, "roster", "import", str(SAMPLE / "roster.csv"), "--now", "2016-11-28T08:00+08:00").exit_code
        == 0
    )
    before = _digest(tmp_path / "real.sqlite3")
    progress = [str(p) for p in sorted((SAMPLE / "status").glob("*.csv"))]
    args = ["simulate", "--from", "2016-11-28", "--to", "2016-12-30", "--done", str(SAMPLE / "tasks.csv")]
    for path in progress:
        args += ["--progress", path]
    result = run(env, *args)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = ["date", "synced", "done", "combined", "reminders", "escalations", "digests", "behind"]
    assert lines[0].split() == header
    days = [line.split() for line in lines[1:34]]
    assert [d[0] for d in days][0] == "2016-11-28" and days[-1][0] == "2016-12-30" and len(days) == 33
    assert days[2][1] == "276"  # 11-30: every account issued
    assert int(days[-1][7]) == 1  # one department still behind at the end
    assert sum(int(d[3]) for d in days) > 0  # people's mails combined (reminders.combine, the default)
    assert "combined: " in result.stdout and "escalation: " in result.stdout
    assert _digest(tmp_path / "real.sqlite3") == before
    assert not (tmp_path / "outbox").exists()


def test_simulate_needs_dated_progress_files(tmp_path: Path) -> None:
    odd = tmp_path / "export.csv"
    odd.write_text("工号,填报状态\n", encoding="utf-8")
    env = {"CUIBAN_PLAN": str(SHIPPED_PLAN), "CUIBAN_DB": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    result = run(env, "simulate", "--from", "2016-12-01", "--to", "2016-12-02", "--progress", str(odd))
    assert result.exit_code == 2 and "must hold the day" in result.stderr


def test_demo_replays_the_sample_campaign(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = run({"CUIBAN_PLAN": str(SHIPPED_PLAN)}, "demo", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "roster: 300 rows, 276 in scope, 24 excluded" in result.stdout
    assert "进度日报（2016-12-30）" in result.stdout and "公共基础教研室" in result.stdout
    written = sorted((out / "outbox").glob("*.eml"))
    assert f"{len(written)} messages written to {out / 'outbox'}" in result.stdout
    assert len(written) > 100 and (out / "cuiban-demo.sqlite3").exists()
    reports = sorted(p.name for p in (out / "reports").iterdir())
    assert len([n for n in reports if n.startswith("附表6_数据审核报表_")]) == 12
    assert {"附表4_月报表_2016-12-30.xlsx", "附表4_月报表_2016-12-30.docx"} <= set(reports)
    assert all(f"  {name}" in result.stdout for name in reports)  # named at the end
    news = openpyxl.load_workbook(out / "reports" / "附表6_数据审核报表_新闻传播学院_2016-12-30.xlsx")
    assert news.sheetnames == ["新闻传播学院"]  # one department: it opens on its sheet, no 汇总
    values = {c.value for row in news["新闻传播学院"].iter_rows() for c in row if c.value is not None}
    assert {"新闻传播学院", "未完成教职工姓名"} <= values
    again = run({"CUIBAN_PLAN": str(SHIPPED_PLAN)}, "demo", "--out", str(out))
    assert len(sorted((out / "outbox").glob("*.eml"))) == len(written)  # made anew, not added to
    assert again.exit_code == 0
