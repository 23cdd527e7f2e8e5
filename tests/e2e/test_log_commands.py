"""`cuiban log export` and `cuiban purge` from the command line, on a SQLite file (ID-card, phone mapped)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from tests.conftest import MINIMAL_PLAN
from tests.factories import write_csv
from tests.integration.test_log_export import HEADER, ID_NUMBER, MOBILE, plan_text, roster_rows

IMPORTED = "--now=2016-11-28T09:00+08:00"
AFTER = "--now=2017-02-01T09:00+08:00"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(plan_text(), encoding="utf-8")
    env = {"CUIBAN_PLAN": str(plan), "CUIBAN_DB": f"sqlite:///{tmp_path / 'log.sqlite3'}"}
    roster = write_csv(tmp_path / "roster.csv", HEADER, roster_rows())
    assert run(env, "roster", "import", str(roster), IMPORTED, "--by", "人事处").exit_code == 0
    return env


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(cuiban, list(args), env=env, catch_exceptions=False)


def test_export_to_a_file_and_to_stdout(env, tmp_path: Path) -> None:
    target = tmp_path / "log.csv"
    result = run(env, "log", "export", "--format", "csv", "-o", str(target))
    assert result.exit_code == 0 and result.stderr == f"6 log row(s) exported to {target}\n"
    raw = target.read_bytes()
    text = raw.decode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf") and not ID_NUMBER.search(text) and not MOBILE.search(text)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["record_key"], r["unit"], r["actor"]) for r in rows][:2] == [
        ("000001", "dept_a", "人事处"), ("000002", "dept_a", "人事处"),
    ]
    lines = run(env, "log", "export", "--format", "jsonl", "--unit", "dept_b").stdout.splitlines()
    assert [json.loads(line)["record_key"] for line in lines] == ["000004", "000005", "000006"]


def test_export_through_a_real_process_starts_with_the_bom(env) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cuiban.cli.main", "log", "export", "--format", "csv"],
        env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, check=True,
    )
    assert done.stdout.startswith(b"\xef\xbb\xbfid,at,actor,record_kind,record_key,unit,event,")
    assert len(done.stdout.splitlines()) == 7


def test_purge_dry_run_then_purge_then_nothing(env) -> None:
    dry = run(env, "purge", "--dry-run", AFTER)
    assert dry.exit_code == 0
    assert "would empty (teachers): teacher.id_card: 6, teacher.phone: 6, teacher.email: 6" in dry.stdout
    done = run(env, "purge", AFTER, "--by", "程协调")
    assert "emptied (teachers): teacher.id_card: 6" in done.stdout
    again = run(env, "purge", "--now=2017-02-02T09:00+08:00")
    assert again.exit_code == 0 and "nothing left to purge; nothing changed (purged at" in again.stdout
    audit = run(env, "log", "export", "--format", "jsonl").stdout.splitlines()[-1]
    assert json.loads(audit)["record_kind"] == "purge" and json.loads(audit)["actor"] == "程协调"


def test_refusals_are_one_sentence(env) -> None:
    bad_unit = run(env, "log", "export", "--format", "csv", "--unit", "nowhere")
    assert bad_unit.exit_code == 2 and "--unit 'nowhere' is not a unit of the plan" in bad_unit.stderr
    no_retention = run({**env, "CUIBAN_PLAN": str(MINIMAL_PLAN)}, "purge", AFTER)
    assert no_retention.exit_code == 2 and "the plan sets no retention period" in no_retention.stderr
    assert "Traceback" not in bad_unit.stderr + no_retention.stderr
