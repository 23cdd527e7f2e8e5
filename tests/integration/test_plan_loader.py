"""The loader on real files: the shipped plan, and broken plans with exact lines and reasons."""

from __future__ import annotations

from pathlib import Path

from cuiban.planfile.loader import read_plan
from tests.conftest import SHIPPED_PLAN, line_of


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_shipped_plan_is_valid_with_the_seeds_own_warnings() -> None:
    loaded = read_plan(SHIPPED_PLAN)
    assert loaded.ok, [str(p) for p in loaded.errors]
    assert [(p.path, p.severity) for p in loaded.warnings] == [
        ("milestones.tdc_collect_audit.due", "warning"),  # 2016-12-25 is a Sunday
        ("milestones.monthly_report.monthly", "warning"),  # 2016-10-01 is National Day
    ]
    assert "2016-12-25 (Sunday)" in loaded.warnings[0].message


def test_five_different_errors_are_reported_at_once(minimal_plan_text: str, write_plan) -> None:
    text = minimal_plan_text
    text = _edit(text, "    title: 提供名单\n", "    title: 提供名单\n    title: 又一个  # dup\n")
    text = _edit(
        text,
        "units: [departments]\n    owners: [collector]\n    start: 2016-12-02",
        "units: [departments, nowhere]  # unit\n    owners: [collector]\n    start: 2016-12-02",
    )
    text = _edit(text, "unit: dept_b}", "unit: dept_b, staff_id: 012345}  # octal")
    text = _edit(text, "    due: 2016-11-28\n", "    due: 2016-11-28\n    depends_on: [audit]  # cycle\n")
    text = _edit(
        text,
        "    start: 2016-12-15\n    due: 2016-12-19",
        "    start: 2016-12-19\n    due: 2016-12-15  # window",
    )
    path = write_plan(text)

    loaded = read_plan(path)

    got = [(p.line, p.path, p.message) for p in loaded.errors]
    assert len(got) == 5, got
    expected = {
        line_of(text, "# dup"): ("milestones.roster.title", "duplicate key 'title'"),
        line_of(text, "# unit"): ("milestones.filling.units[1]", "unknown unit 'nowhere'"),
        line_of(text, "# octal"): ("people.h_b.staff_id", "leading zero"),
        line_of(text, "# cycle"): (
            "milestones.roster.depends_on",
            "cycle: roster → audit → filling → roster",
        ),
        line_of(text, "# window"): (
            "milestones.audit.due",
            "ends on 2016-12-15, before it starts on 2016-12-19",
        ),
    }
    for line, path_text, message in got:
        want_path, want_reason = expected[line]
        assert path_text == want_path
        assert want_reason in message
    assert all(p.file == str(path) for p in loaded.errors)
    assert loaded.plan is not None  # entries with errors were set aside; the rest was checked


def test_type_errors_name_the_key_and_suggest(minimal_plan_text: str, write_plan) -> None:
    text = _edit(minimal_plan_text, "    deliverable: 名单\n", "    deliverabel: 名单  # typo\n")
    text = _edit(text, "working_days_only: true", "working_days_only: no")
    text = _edit(text, 'digest: {at: "08:30"', "digest: {at: 9:30")
    text = _edit(text, "kind: department, head: h_a", "kind: dept, head: h_a")
    loaded = read_plan(write_plan(text))
    messages = {p.path: p.message for p in loaded.errors}
    assert (
        "unknown key `deliverabel`; did you mean `deliverable`?" in messages["milestones.roster.deliverabel"]
    )
    assert "the key `deliverable` is required" in messages["milestones.roster.deliverable"]
    assert "write true or false" in messages["reminders.working_days_only"]
    assert "'09:30'" in messages["digest.at"]
    assert "expected 'office', 'department' or 'institution', got 'dept'" in messages["units.dept_a.kind"]
    typo = next(p for p in loaded.errors if p.path == "milestones.roster.deliverabel")
    assert typo.line == line_of(text, "# typo") and typo.column == 5


def test_a_broken_entry_does_not_cascade(minimal_plan_text: str, write_plan) -> None:
    text = _edit(
        minimal_plan_text,
        "c_a: {name: 甲采集, email: c.a@school.example",
        "c_a: {name: 甲采集, email: not-an-address",
    )
    loaded = read_plan(write_plan(text))
    assert [p.path for p in loaded.errors] == ["people.c_a.email"]


def test_undated_relative_and_monthly_timing_rules(minimal_plan_text: str, write_plan) -> None:
    text = _edit(
        minimal_plan_text,
        "    due: 2016-11-28\n",
        "    due: 2016-11-28\n    monthly: {day: 1, from: 2016-10-01, until: 2016-09-01}\n",
    )
    text = _edit(
        text,
        "    start: 2016-12-02\n    due: 2016-12-15\n",
        "    after: {milestone: roster, days: 3}\n",
    )
    loaded = read_plan(write_plan(text))
    messages = {p.path: p.message for p in loaded.errors}
    assert "exactly one of `due`" in messages["milestones.roster"]
    assert "end (2016-09-01) before they start" in messages["milestones.roster.monthly.until"]
    assert "`start` needs a `due` date" not in " ".join(messages.values())
    assert len(loaded.errors) == 2


def test_year_without_holiday_data_warns_instead_of_crashing(minimal_plan_text: str, write_plan) -> None:
    text = minimal_plan_text.replace("2016-", "2027-").replace("cycle: 2016", "cycle: 2027")
    loaded = read_plan(write_plan(text))
    assert loaded.ok
    assert any("no data for 2027" in p.message for p in loaded.warnings)


def test_unreadable_files_are_errors_not_exceptions(tmp_path: Path, write_plan) -> None:
    assert "does not exist" in read_plan(tmp_path / "nope.yaml").errors[0].message
    assert "empty" in read_plan(write_plan("# only a comment\n")).errors[0].message
    syntax = read_plan(write_plan("version: 1\ncycle: [2016\n"))
    assert "not valid YAML" in syntax.errors[0].message
    assert read_plan(write_plan("- a\n- b\n")).errors[0].message == "the plan must be a mapping of keys"
