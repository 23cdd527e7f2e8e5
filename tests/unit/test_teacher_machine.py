"""The teacher machine: every (state, event) pair, legal or not, and the paths sync derives."""

from __future__ import annotations

import pendulum
import pytest

from cuiban.workflow.machines import IllegalEvent
from cuiban.workflow.teacher_machine import EVENTS, TRANSITIONS, TeacherRecord, allowed_events, sync_path
from cuiban.workflow.teacher_states import ALL_STATES

NOW = pendulum.datetime(2016, 12, 10, 10, tz="Asia/Shanghai")
KWARGS = {"return_": {"note": "学历填写有误"}, "request_correction": {"changes": {"title": "副教授"}}}


def _legal() -> dict[tuple[str, str], str]:
    legal = {}
    for t in TRANSITIONS:
        for source in [t["source"]] if isinstance(t["source"], str) else t["source"]:
            legal[(source, t["trigger"])] = t["dest"]
    return legal


LEGAL = _legal()


@pytest.mark.parametrize(("state", "event"), [(s, e) for s in ALL_STATES for e in EVENTS])
def test_every_state_and_event(state: str, event: str) -> None:
    record = TeacherRecord("000123", state, {"title": "讲师"}, {"title": "副教授"})
    if (state, event) in LEGAL:
        happened = record.fire(event, NOW, **KWARGS.get(event, {}))
        assert record.state == LEGAL[(state, event)]
        assert (happened.source, happened.dest, happened.event, happened.at) == (
            state,
            record.state,
            event,
            NOW,
        )
    else:
        with pytest.raises(IllegalEvent) as refused:
            record.fire(event, NOW, **KWARGS.get(event, {}))
        assert record.state == state and record.happened == []
        assert f"teacher 000123 is {state}" in str(refused.value)
        assert refused.value.allowed == allowed_events(state)


def test_the_main_line_in_order() -> None:
    record = TeacherRecord("000001", "pending")
    for event in ("issue_account", "start", "submit", "review", "confirm", "report"):
        record.fire(event, NOW)
    assert record.state == "reported"
    assert [h.dest for h in record.happened] == [
        "account_issued",
        "filling",
        "submitted",
        "reviewed",
        "confirmed",
        "reported",
    ]


def test_illegal_event_message_names_record_state_and_allowed_events() -> None:
    with pytest.raises(
        IllegalEvent,
        match=r"teacher 000009 is pending: the event 'confirm' is not allowed "
        r"from there \(allowed: issue_account, exclude, leave\)",
    ):
        TeacherRecord("000009", "pending").fire("confirm", NOW)


def test_return_needs_a_note_and_keeps_it() -> None:
    record = TeacherRecord("000002", "submitted")
    with pytest.raises(ValueError, match="needs a note"):
        record.fire("return_", NOW)
    assert record.state == "submitted"
    assert record.fire("return_", NOW, note="照片不合格").note == "照片不合格"


def test_approved_correction_keeps_the_old_value_in_what_happened() -> None:
    record = TeacherRecord("000003", "reported", {"title": "讲师", "degree": "硕士"})
    asked = record.fire("request_correction", NOW, changes={"title": "副教授"})
    assert asked.changes == {"title": ["讲师", "副教授"]}
    assert record.fields["title"] == "讲师"  # not applied until approved
    approved = record.fire("approve_correction", NOW)
    assert approved.changes == {"title": ["讲师", "副教授"]}
    assert record.fields == {"title": "副教授", "degree": "硕士"}
    assert record.state == "reported"


def test_rejected_correction_changes_nothing() -> None:
    record = TeacherRecord("000004", "reported", {"title": "讲师"})
    record.fire("request_correction", NOW, changes={"title": "教授"})
    record.fire("reject_correction", NOW)
    assert (record.state, record.fields, record.pending_correction) == ("reported", {"title": "讲师"}, None)


@pytest.mark.parametrize(
    ("source", "target", "events"),
    [
        ("pending", "submitted", ["issue_account", "start", "submit"]),
        ("pending", "account_issued", ["issue_account"]),
        ("filling", "reported", ["submit", "review", "confirm", "report"]),
        ("reviewed", "returned", ["return_"]),
        ("returned", "submitted", ["start", "submit"]),
        ("submitted", "submitted", []),
    ],
)
def test_sync_paths(source: str, target: str, events: list[str]) -> None:
    path = sync_path(source, target)
    assert path is not None and [e for e, _, _ in path] == events
    record = TeacherRecord("x", source)
    for event, _, _ in path:
        record.fire(event, NOW, **KWARGS.get(event, {}))
    assert record.state == target


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("reported", "filling"),
        ("confirmed", "submitted"),
        ("excluded", "filling"),
        ("left", "submitted"),
        ("correction_requested", "reported"),
    ],
)
def test_sync_conflicts_have_no_path(source: str, target: str) -> None:
    assert sync_path(source, target) is None
