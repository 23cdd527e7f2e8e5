"""Evidence files and corrections through the services, on each real backend: a task completed with its
file in one transaction (or neither), pending correction requests found by unit, never one's own decision."""

from __future__ import annotations

import io
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import func, select

from cuiban.models.tables import Evidence
from cuiban.services import corrections, evidence, tasks, teachers
from cuiban.services.history import history
from tests.factories import import_minimal_roster

T0 = pendulum.datetime(2016, 12, 16, 9, tz="Asia/Shanghai")
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n"
EVIDENCE = Evidence.__table__


@pytest.fixture
def imported(engine, tmp_path: Path, minimal_plan):
    plan, calendar = minimal_plan
    import_minimal_roster(engine, plan, calendar, tmp_path, ["甲学院", "乙学院"], 3, T0.subtract(days=20))
    return engine, plan, calendar


def _complete(imported, folder: Path, name: str, content: bytes, at=T0):  # type: ignore[no-untyped-def]
    engine, plan, calendar = imported
    upload = evidence.Upload(name, io.BytesIO(content))
    return evidence.complete(engine, plan, calendar, folder, "audit", "dept_a", at, actor="c_a",
                             note="已交", upload=upload)


def _rows(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(EVIDENCE)).scalar_one()


def test_a_task_and_its_file_are_written_together(imported, tmp_path: Path) -> None:
    engine = imported[0]
    folder = tmp_path / "evidence"
    done = _complete(imported, folder, "C:\\scans\\附表6.pdf", PDF)
    assert done.state == "done" and done.evidence_id is not None
    assert [p.name for p in folder.iterdir()] == [f"{done.evidence_id:010d}"]
    found = evidence.download(engine, folder, done.evidence_id)
    assert (found.file_name, found.content_type) == ("附表6.pdf", "application/pdf")
    assert found.path.read_bytes() == PDF
    assert evidence.unit_of(engine, done.evidence_id) == "dept_a"
    last = history(engine, "audit/dept_a")[-1]
    assert (last["actor"], last["source"], last["note"]) == ("c_a", "web", "已交")


def test_a_refused_completion_keeps_no_file(imported, tmp_path: Path) -> None:
    engine = imported[0]
    folder = tmp_path / "evidence"
    _complete(imported, folder, "first.pdf", PDF)
    with pytest.raises(tasks.AlreadyDone):
        _complete(imported, folder, "second.pdf", PDF, at=T0.add(hours=1))
    with pytest.raises(evidence.EvidenceRefused) as refused:
        _complete(imported, folder, "page.pdf", b"<html><body>hello</body></html>", at=T0.add(hours=1))
    assert refused.value.reason == "type"
    assert _rows(engine) == 1 and len(list(folder.iterdir())) == 1


def test_the_cli_keeps_its_source_and_refusals_stay_value_errors(imported) -> None:
    engine, plan, calendar = imported
    assert tasks.mark_done(engine, plan, calendar, "audit", "dept_b", T0, actor="程兴") == "done"
    assert history(engine, "audit/dept_b")[-1]["source"] == "cli"
    with pytest.raises(ValueError, match="already done"):
        tasks.mark_done(engine, plan, calendar, "audit", "dept_b", T0)
    with pytest.raises(ValueError, match="completes by itself"):
        tasks.mark_done(engine, plan, calendar, "filling", "dept_b", T0)


def test_pending_requests_and_no_decision_on_ones_own(imported) -> None:
    engine, plan, _ = imported
    staff_id = "000001"
    for event in ("issue_account", "start", "submit", "review", "confirm", "report"):
        teachers.fire(engine, plan, staff_id, event, T0)
    corrections.request(engine, plan, "dept_a", staff_id, {"name": "张三丰"}, T0, actor="c_a", note="错字")
    (pending,) = corrections.pending(engine, plan)
    assert (pending.staff_id, pending.unit_id, pending.requested_by, pending.note) == (
        staff_id, "dept_a", "c_a", "错字"
    )
    assert [(c.field, c.new) for c in pending.changes] == [("name", "张三丰")]
    with pytest.raises(teachers.OwnRequest):
        corrections.decide(engine, plan, staff_id, False, T0, actor="c_a")
    with pytest.raises(teachers.NotFound):
        corrections.request(engine, plan, "dept_b", staff_id, {"name": "x"}, T0, actor="h_b")
    corrections.decide(engine, plan, staff_id, True, T0, actor="coord")
    assert corrections.pending(engine, plan) == []
    assert teachers.show(engine, staff_id)["name"] == "张三丰"
