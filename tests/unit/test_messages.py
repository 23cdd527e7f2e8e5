"""Rendering and building messages: strict templates, header safety, no accidental attachments."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from jinja2 import UndefinedError

from cuiban.notifications.message import Outgoing, build
from cuiban.notifications.render import Renderer, one_line

NOW = pendulum.datetime(2016, 12, 16, 9, 30, tz="Asia/Shanghai")
CONTEXT = {
    "plan": {"title": "采集", "institution": "学院"},
    "recipient": {"name": "王老师"},
    "task": {
        "title": "填报",
        "deliverable": "4类信息",
        "unit_name": "新闻传播学院",
        "due": "2016-12-15 23:59",
        "due_date": "2016-12-15",
        "working_days_left": 0,
        "overdue": True,
        "overdue_days": 1,
        "owners": "王晓燕",
        "next_step": "填报",
        "report": None,
    },
    "teachers": [{"staff_id": "000001", "name": "<b>张三</b>", "state": "填报中"}],
    "counts": {"total": 3, "done": 2, "missing": 1},
    "more": 0,
}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_built_in_templates_render_in_both_languages(language: str) -> None:
    rendered = Renderer(language).render("reminder", CONTEXT)
    assert "新闻传播学院" in rendered.subject and "\n" not in rendered.subject
    assert "000001" in rendered.text and "<b>张三</b>" in rendered.text  # text is not escaped
    assert "&lt;b&gt;张三&lt;/b&gt;" in rendered.html  # HTML is
    assert ("已逾期" if language == "zh" else "overdue") in rendered.text
    assert Renderer(language).check() == []


def test_a_reminder_says_what_its_task_says_about_the_form() -> None:
    note = "附件为已填好的附表4（xlsx、docx 各一份），核对后可直接转发至河北省教育厅人事处。"
    context = {**CONTEXT, "task": {**CONTEXT["task"], "report": note}}
    for language in ("zh", "en"):
        rendered = Renderer(language).render("reminder", context)
        assert note in rendered.text and note in rendered.html
        assert "附表4" not in Renderer(language).render("reminder", CONTEXT).text


def test_a_long_list_says_how_many_more() -> None:
    rendered = Renderer("zh").render("reminder", {**CONTEXT, "more": 233})
    assert "另有 233 人未完成" in rendered.text and "另有 233 人未完成" in rendered.html
    assert "另有" not in Renderer("zh").render("reminder", CONTEXT).text


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(UndefinedError):
        Renderer("zh").render("reminder", {k: v for k, v in CONTEXT.items() if k != "counts"})


def test_admin_templates_override_by_name_and_broken_ones_are_named_with_their_line(tmp_path: Path) -> None:
    (tmp_path / "reminder.subject.txt").write_text("自定义：{{ task.title }}", encoding="utf-8")
    assert Renderer("zh", tmp_path).render("reminder", CONTEXT).subject == "自定义：填报"
    (tmp_path / "reminder.txt").write_text("第一行\n第二行\n{% if %}\n", encoding="utf-8")
    (tmp_path / "remindr.html").write_text("x", encoding="utf-8")
    problems = Renderer("zh", tmp_path).check()
    assert any("reminder.txt:3:" in p for p in problems)
    assert any("remindr.html:1: not a template name" in p for p in problems)


def test_sandbox_refuses_unsafe_attribute_access(tmp_path: Path) -> None:
    from jinja2.exceptions import SecurityError

    (tmp_path / "reminder.subject.txt").write_text("{{ task.__class__.__mro__ }}", encoding="utf-8")
    with pytest.raises(SecurityError):
        Renderer("zh", tmp_path).render("reminder", CONTEXT)


def test_dot_means_a_key_of_a_context_dict_first(tmp_path: Path) -> None:
    """`row.items` is the row's value, not dict.items; a name that is no key still goes to the sandbox."""
    (tmp_path / "reminder.subject.txt").write_text(
        "{% for t in teachers %}{{ t.items }}/{{ t.name }}{% endfor %}", encoding="utf-8"
    )
    row = {"items": "4类", "name": "张三", "staff_id": "000001", "state": "填报中"}
    context = {**CONTEXT, "teachers": [row]}
    assert Renderer("zh", tmp_path).render("reminder", context).subject == "4类/张三"
    (tmp_path / "reminder.subject.txt").write_text("{{ task.missing }}", encoding="utf-8")
    with pytest.raises(UndefinedError):
        Renderer("zh", tmp_path).render("reminder", CONTEXT)


def test_headers_cannot_be_injected_and_a_path_body_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("do not attach", encoding="utf-8")
    message = build(
        Outgoing(
            7,
            "cuiban@school.example",
            "催办\r\nBcc: x@evil.example",
            "a@school.example",
            "王\nCc: y@evil.example",
            "主题\r\nBcc: z@evil.example",
            str(path),
            f"<p>{path}</p>",
        ),
        NOW,
        "school.example",
    )
    assert message["Bcc"] is None and message["Cc"] is None
    assert message["Subject"] == "主题 Bcc: z@evil.example"
    assert not list(message.iter_attachments())
    assert message.get_body(("plain",)).get_content().strip() == str(path)
    assert "cuiban.7" in message["Message-ID"]
    assert one_line("a\r\nb\nc") == "a b c"


def test_both_languages_render_every_digest_section() -> None:
    task = {
        "task": "t/u",
        "title": "填报",
        "unit_name": "甲",
        "due_date": "2016-12-15",
        "state": "overdue",
        "done": False,
        "overdue_days": 2,
        "escalation_level": 1,
    }
    unit = {
        "unit_id": "u",
        "name": "甲",
        "teachers": 3,
        "filled": 1,
        "not_filled": 2,
        "reviewed": 0,
        "not_reviewed": 3,
        "filled_percent": 33,
        "filled_change": 1,
        "reviewed_change": 0,
    }
    digest = {
        "date": "2016-12-16",
        "generated_at": "",
        "units": [unit],
        "due_today": [task],
        "due_this_week": [task],
        "overdue": [task],
        "behind": [unit],
        "failed_messages": [
            {"recipient": "a@x.example", "recipient_name": "甲", "subject": "s", "error": "550"}
        ],
        "late_messages": 2,
        "teacher_reminders": 3,
        "totals": {"teachers": 3, "filled": 1, "reviewed": 0, "filled_percent": 33, "reviewed_percent": 0},
    }
    context = {
        "plan": CONTEXT["plan"],
        "recipient": CONTEXT["recipient"],
        "digest": digest,
        "chart_cid": "c@x",
    }
    for language in ("zh", "en"):
        rendered = Renderer(language).render("digest", context)
        for part in (rendered.text, rendered.html):
            assert part.count("填报") >= 3 and "550" in part and "33%" in part, (language, part[:80])
        assert '<img src="cid:c@x"' in rendered.html
        assert "<img" not in Renderer(language).render("digest", {**context, "chart_cid": None}).html
