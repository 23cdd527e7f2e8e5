"""Sample contexts of every message kind, field for field what `schedules/` gives the templates.

`cuiban templates check` renders every template against each sample of its kind, and
reads the templates for names and fields these samples do not have: a template that
passes here uses nothing a real message lacks. The samples cover the branches a
template may take: days left, due today and overdue; a department's task with counts
and teachers (and more than the list shows) and a manual task with `counts` None; a
milestone with a form to write and one without; a digest with every section filled
and one with every section empty, with and without the chart; and each kind with a link
to the web pages (`link`: a unit's page, the dashboard) and without one (None: no
CUIBAN_BASE_URL); a combined mail with reminders and escalations of level 1 and 2, with and
without counts and links; a teacher's own reminder with days left and due today.

`tests/integration/test_template_samples.py` compares these with the contexts a real
tick builds, so the two cannot drift apart: a field added to `schedules/tick.py` or
`schedules/digest.py` belongs here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PLAN = {"title": "全国教师管理信息系统教师基础信息采集", "institution": "河北传媒学院"}
BASE_URL = "https://cuiban.hebcm.example"
UNIT_PAGE = f"{BASE_URL}/units/news"


@dataclass(frozen=True)
class Sample:
    name: str
    kind: str
    context: dict[str, Any]


def _task(**changes: Any) -> dict[str, Any]:
    """A reminder's or escalation's `task` (schedules.task_notice.TaskNotice.context)."""
    task = {
        "title": "组织教师上网填报信息，督促检查，按时完成填报",
        "deliverable": "本单位教职工信息全部填报",
        "unit_name": "新闻传播学院",
        "due": "2016-12-15 23:59",
        "due_date": "2016-12-15",
        "working_days_left": 3,
        "overdue": False,
        "overdue_days": 0,
        "owners": "王立新",
        "next_step": "组织教师上网填报信息，督促检查，按时完成填报",
        "report": "cuiban report dept-audit --unit 新闻传播学院",
    }
    return {**task, **changes}


TEACHERS = [
    {"staff_id": "010023", "name": "张伟", "state": "填报中"},
    {"staff_id": "010031", "name": "李娜", "state": "已退回"},
]
COUNTS = {"total": 23, "done": 18, "missing": 5}


def _task_context(task: dict[str, Any], manual: bool = False, link: str | None = UNIT_PAGE) -> dict[str, Any]:
    """A reminder's context; `link` is the task's unit's page, None when there is no base URL."""
    return {
        "plan": PLAN,
        "recipient": {"name": "王立新"},
        "task": task,
        "counts": None if manual else COUNTS,
        "teachers": [] if manual else TEACHERS,
        "more": 0 if manual else 3,
        "link": link,
    }


_MANUAL = _task(
    title="提供全校符合填报要求的教职工数据",
    deliverable="教职工名单",
    unit_name="人事处",
    report=None,
)
_OVERDUE = _task(working_days_left=0, overdue=True, overdue_days=2)

REMINDERS = [
    Sample("reminder with counts and teachers, 3 working days left", "reminder", _task_context(_task())),
    Sample(
        "reminder due today, every teacher listed",
        "reminder",
        {**_task_context(_task(working_days_left=0, report=None)), "more": 0},
    ),
    Sample("overdue reminder, no link (no base URL)", "reminder", _task_context(_OVERDUE, link=None)),
    Sample(
        "manual-task reminder (counts None)",
        "reminder",
        _task_context(_MANUAL, manual=True, link=f"{BASE_URL}/units/hr"),
    ),
]
ESCALATIONS = [
    Sample("escalation with counts and a link", "escalation", {**_task_context(_OVERDUE), "level": 2}),
    Sample(
        "manual-task escalation (counts None)",
        "escalation",
        {
            **_task_context(
                {**_MANUAL, "working_days_left": 0, "overdue": True, "overdue_days": 1}, True, link=None
            ),
            "level": 1,
        },
    ),
]


def _digest_task(**changes: Any) -> dict[str, Any]:
    """A task line of the digest (schedules.digest._task_lines)."""
    line = {
        "task": "dept_filling/news",
        "title": "组织教师上网填报信息，督促检查，按时完成填报",
        "unit_name": "新闻传播学院",
        "due_date": "2016-12-15",
        "state": "open",
        "done": False,
        "overdue_days": 0,
        "escalation_level": 0,
    }
    return {**line, **changes}


def _unit(name: str, teachers: int, filled: int, reviewed: int, change: int) -> dict[str, Any]:
    """A department of the digest (schedules.digest.digest_data)."""
    return {
        "unit_id": "news",
        "name": name,
        "teachers": teachers,
        "filled": filled,
        "not_filled": teachers - filled,
        "reviewed": reviewed,
        "not_reviewed": teachers - reviewed,
        "filled_percent": round(100 * filled / teachers),
        "filled_change": change,
        "reviewed_change": -1,
    }


_UNITS = [_unit("新闻传播学院", 23, 23, 20, 2), _unit("公共基础教研室", 23, 15, 13, 0)]
_FULL_DIGEST = {
    "date": "2016-12-16",
    "generated_at": "2016-12-16T08:30:00+08:00",
    "totals": {"teachers": 46, "filled": 38, "reviewed": 33, "filled_percent": 83, "reviewed_percent": 72},
    "units": _UNITS,
    "due_today": [_digest_task(due_date="2016-12-16", task="audit/news")],
    "due_this_week": [_digest_task(due_date="2016-12-18", task="audit/public")],
    "overdue": [_digest_task(state="overdue", overdue_days=1, escalation_level=1)],
    "behind": [_UNITS[1]],
    "failed_messages": [
        {
            "recipient": "wang@school.example",
            "recipient_name": "王立新",
            "subject": "【催办】新闻传播学院：组织教师上网填报信息",
            "error": "550 5.1.1 User unknown",
        }
    ],
    "late_messages": 4,
    "teacher_reminders": 37,
}
_EMPTY_DIGEST = {
    **_FULL_DIGEST,
    "totals": {"teachers": 0, "filled": 0, "reviewed": 0, "filled_percent": 0, "reviewed_percent": 0},
    "units": [],
    "due_today": [],
    "due_this_week": [],
    "overdue": [],
    "behind": [],
    "failed_messages": [],
    "late_messages": 0,
    "teacher_reminders": 0,
}
DIGESTS = [
    Sample(
        "digest with every section filled, the chart and a link",
        "digest",
        {
            "plan": PLAN,
            "digest": _FULL_DIGEST,
            "recipient": {"name": "程兴"},
            "chart_cid": "progress-chart@cuiban",
            "link": f"{BASE_URL}/dashboard",
            "sla": [  # the campaign's last digest: its SLA lines (workflow.sla.digest_lines)
                {"name": "新闻传播学院", "on_time": 6, "late": 1, "overdue": 0, "days_late": 2,
                 "to_submitted": 3.5, "to_reviewed": 1.0},
                {"name": "公共基础教研室", "on_time": 4, "late": 2, "overdue": 1, "days_late": 9,
                 "to_submitted": None, "to_reviewed": None},
            ],
        },
    ),
    Sample(
        "digest with every section empty, without the chart or a link",
        "digest",
        {
            "plan": PLAN,
            "digest": _EMPTY_DIGEST,
            "recipient": {"name": "程兴"},
            "chart_cid": None,
            "link": None,
            "sla": None,
        },
    ),
]

SIGN_INS = (
    Sample(
        "sign-in link",
        "sign_in",
        {
            "plan": PLAN,
            "recipient": {"name": "王晓燕"},
            "link": f"{BASE_URL}/sign-in/link?token=abc",
            "expires": "2016-12-16 09:20",
            "minutes": 15,
        },
    ),
)
"""A sign-in link (services.sign_in): not from a tick, so test_template_samples compares it with nothing."""


def _section(context: dict[str, Any], reminder: bool, level: int) -> dict[str, Any]:
    """A section of a combined mail (schedules.combined_mail.combined_context): a task's fields."""
    fields = {k: v for k, v in context.items() if k not in ("plan", "recipient", "level")}
    return {**fields, "reminder": reminder, "level": level}


COMBINED = [
    Sample(
        "combined: a reminder with teachers, an overdue reminder told at level 1, a manual task",
        "combined",
        {
            "plan": PLAN,
            "recipient": {"name": "王立新"},
            "sections": [
                _section(_task_context(_task()), True, 0),
                _section(_task_context(_OVERDUE), True, 1),
                _section(_task_context(_MANUAL, manual=True, link=None), True, 0),
            ],
            "overdue": 1,
            "earliest_due": "2016-12-15",
        },
    ),
    Sample(
        "combined: two escalations, due today and without links",
        "combined",
        {
            "plan": PLAN,
            "recipient": {"name": "程兴"},
            "sections": [
                _section(
                    {**_task_context(_task(working_days_left=0, report=None), link=None), "more": 0}, False, 2
                ),
                _section(_task_context(_MANUAL, manual=True, link=None), False, 1),
            ],
            "overdue": 0,
            "earliest_due": "2016-12-15",
        },
    ),
]


def _teacher_context(working_days_left: int) -> dict[str, Any]:
    """A teacher's own reminder (schedules.teacher_mail): name and staff ID, what to do, by when."""
    return {
        "plan": PLAN,
        "task": {
            "title": "组织教师上网填报信息，督促检查，按时完成填报",
            "next_step": "登录全国教师管理信息系统，填写并提交本人基础信息",
            "unit_name": "新闻传播学院",
            "due": "2016-12-15 23:59",
            "due_date": "2016-12-15",
            "working_days_left": working_days_left,
        },
        "recipient": {"name": "张伟"},
        "teacher": {"name": "张伟", "staff_id": "010023", "state": "填报中"},
    }


TEACHER_REMINDERS = [
    Sample("teacher reminder, 3 working days left", "teacher", _teacher_context(3)),
    Sample("teacher reminder, due today", "teacher", _teacher_context(0)),
]

SAMPLES: tuple[Sample, ...] = (
    *REMINDERS,
    *ESCALATIONS,
    *DIGESTS,
    *SIGN_INS,
    *COMBINED,
    *TEACHER_REMINDERS,
)


def samples_of(kind: str) -> list[Sample]:
    return [s for s in SAMPLES if s.kind == kind]
