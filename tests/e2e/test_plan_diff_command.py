"""`cuiban plan diff` run as an admin runs it (a subprocess): JSON with the acceptance's counts and no
addresses, the tables by change, an unreadable plan refused with its errors (exit 2) as `plan check`
does, and `--db` reading a database without changing it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SHIPPED_PLAN
from tests.unit.test_plan_diff import edited_plan

NOW = "2016-12-01T08:00+08:00"


def cuiban(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CUIBAN_PLAN": str(SHIPPED_PLAN),
        "CUIBAN_DB": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "CUIBAN_SMTP_HOST": "",
    }
    command = [sys.executable, "-m", "cuiban.cli.main", *args]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_json_lists_the_edit_s_message_and_task_changes(tmp_path: Path) -> None:
    edited = edited_plan(tmp_path)

    done = cuiban(
        tmp_path,
        "plan",
        "diff",
        str(SHIPPED_PLAN),
        str(edited),
        "--now",
        NOW,
        "--days",
        "30",
        "--format",
        "json",
    )

    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["counts"] == {"added": 72, "moved": 60, "cancelled": 60, "tasks": 19}
    assert (doc["now"], doc["until"]) == ("2016-12-01T08:00:00+08:00", "2016-12-31T08:00:00+08:00")
    moved = doc["moved"][0]
    assert moved == {
        "kind": "reminder",
        "task": "dept_collector/news",
        "milestone": "dept_collector",
        "unit": "news",
        "unit_name": "新闻传播学院",
        "recipient": "h_news",
        "recipient_name": "王立新",
        "slot": "before-1",
        "old_at": "2016-12-02T09:00:00+08:00",
        "new_at": "2016-12-06T09:00:00+08:00",
    }
    assert {m["unit"] for m in doc["added"]} == {"design"}
    assert {m["milestone"] for m in doc["cancelled"]} == {"dept_collector", "hr_tables"}
    removed = [t for t in doc["tasks"] if t["change"] == "removed"]
    assert [(t["task"], t["old_due"], t["new_due"]) for t in removed] == [
        ("hr_tables/hr", "2016-12-15T23:59:59+08:00", None),
        ("hr_tables/tdc", "2016-12-15T23:59:59+08:00", None),
    ]
    assert "@" not in done.stdout  # names only: no addresses in the output


def test_the_table_groups_by_change_and_counts(tmp_path: Path) -> None:
    done = cuiban(
        tmp_path, "plan", "diff", str(SHIPPED_PLAN), str(edited_plan(tmp_path)), "--now", NOW, "--days", "30"
    )

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        out.index("新增 added")
        < out.index("改期 moved")
        < out.index("取消 cancelled")
        < out.index("任务变化")
    )
    assert "12-02 09:00 → 12-06 09:00" in out and "12-05 23:59 → 12-07 23:59" in out
    assert out.strip().endswith(
        "新增 added 72, 改期 moved 60, 取消 cancelled 60 message(s); 19 task(s) changed"
    )


def test_the_same_plan_says_nothing_changes(tmp_path: Path) -> None:
    done = cuiban(tmp_path, "plan", "diff", str(SHIPPED_PLAN), str(SHIPPED_PLAN), "--now", NOW)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "新增 added 0, 改期 moved 0, 取消 cancelled 0 message(s); 0 task(s) changed"


def test_an_unreadable_plan_is_refused_with_its_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(SHIPPED_PLAN.read_text(encoding="utf-8").replace("due: 2016-12-05", "due: 2016-13-05"))

    done = cuiban(tmp_path, "plan", "diff", str(SHIPPED_PLAN), str(broken), "--now", NOW)

    assert done.returncode == 2
    assert f"{broken}:" in done.stderr and "未做任何操作" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_with_db_the_database_is_read_not_written(tmp_path: Path) -> None:
    db = tmp_path / "campaign.sqlite3"
    url = f"sqlite:///{db}"
    assert cuiban(tmp_path, "tick", "--db", url, "--now", "2016-11-23T00:05+08:00").returncode == 0
    before = hashlib.sha256(db.read_bytes()).hexdigest()

    done = cuiban(
        tmp_path,
        "plan",
        "diff",
        str(SHIPPED_PLAN),
        str(edited_plan(tmp_path)),
        "--db",
        url,
        "--now",
        NOW,
        "--days",
        "30",
        "--format",
        "json",
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["moved"] > 0
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
