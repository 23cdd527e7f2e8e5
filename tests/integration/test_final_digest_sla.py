"""The campaign's last digest sums up its SLA per department (issue 13: "in the final digest"), with
the very figures `cuiban report sla` gives as of that moment; earlier digests do not carry it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pendulum

from cuiban.cli.bootstrap import packaged_plan
from cuiban.models import outbox_store
from cuiban.models.database import open_engine
from cuiban.planfile.loader import load_plan
from cuiban.services.sla import sla_figures
from cuiban.workflow.sla import LATE, ON_TIME, OVERDUE
from tests.web_support import campaign_file


def test_the_last_digest_carries_each_departments_sla_as_the_report_gives_it(tmp_path: Path) -> None:
    plan, calendar = load_plan(packaged_plan())
    engine = open_engine(f"sqlite:///{campaign_file(tmp_path, date(2016, 12, 30))}")
    with engine.connect() as connection:
        rows = outbox_store.rows(connection, kind="digest")
    digests = [r for r in rows if r["recipient"] == "cheng.xing@hebcm.example"]
    last = max(digests, key=lambda r: r["slot"])
    assert last["slot"] == "2016-12-30"
    figures = sla_figures(engine, plan, calendar, pendulum.instance(last["created_at"]))
    engine.dispose()
    assert "本期 SLA" in last["body_text"] and "本期 SLA" in last["body_html"]
    for department in figures.departments:
        counts = department.tasks.counts
        name = plan.units[department.unit_id].name
        line = f"  {name}：按时 {counts[ON_TIME]} 项，逾期完成 {counts[LATE]} 项"
        assert line in last["body_text"], name
        assert f"仍逾期 {counts[OVERDUE]} 项" in last["body_text"].split(line, 1)[1].split("\n", 1)[0]
    earlier = [r for r in digests if r["slot"] < "2016-12-30"]
    assert earlier and all("本期 SLA" not in r["body_text"] for r in earlier)
    assert "sla" not in json.loads(last["data"])  # the digest's own figures are unchanged
