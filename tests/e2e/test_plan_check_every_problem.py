"""`cuiban plan check` reports every problem in one run, and refuses YAML's powers a plan does not need:
tags (which other tools turn into objects or code) and anchors and aliases (a "billion laughs")."""

from __future__ import annotations

import time

from click.testing import CliRunner

from cuiban.cli.main import cuiban
from cuiban.planfile.loader import load_text
from tests.conftest import line_of


def check(path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cuiban, ["plan", "check", str(path)], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr.splitlines()


def english(text: str) -> str:
    """The plan in English (`language: en`, added last: no line moves); Chinese is the default."""
    return text + "language: en\n"


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_yaml_type_and_reference_errors_come_in_one_run(minimal_plan_text: str, write_plan) -> None:
    text = _edit(
        minimal_plan_text, "cycle: 2016", "cycle: !!python/object/apply:os.system ['echo hi']  # tag"
    )
    text = _edit(text, "working_days_only: true", "working_days_only: no")  # a YAML 1.1 boolean
    text = _edit(text, 'digest: {at: "08:30"', 'digest: {at: "8.30"')  # a type error
    text = _edit(
        text, "    owners: [coord]\n    due: 2016-11-28", "    owners: [nobody]  # ref\n    due: 2016-11-28"
    )
    text = _edit(text, "coordinator: coord\n", "coordinator: nobody_either  # role\n")
    path = write_plan(english(text))

    code, lines = check(path)

    assert code == 2
    reminders = line_of(text, "working_days_only: no")
    assert lines == [
        f"{path}:3:8: error: cycle: the YAML tag !!python/object/apply:os.system is not allowed in a plan "
        "(a plan is plain data; tags like this make other YAML tools build objects or run code); remove it",
        f"{path}:{line_of(text, '# role')}:16: error: roles.coordinator: unknown person 'nobody_either' "
        "(known: c_a, coord, h_a, h_b, lead)",
        f"{path}:{reminders}:{text.splitlines()[reminders - 1].index('no') + 1}: error: "
        "reminders.working_days_only: 'no' means a boolean in YAML 1.1 but text in YAML 1.2; write true or "
        "false, or put it in quotes ('no') if you mean the text",
        f"{path}:{line_of(text, '# ref')}:14: error: milestones.roster.owners[0]: 'nobody' is neither a "
        "person of `people` nor one of: collector, head, contacts, coordinator, group_leaders, "
        "group_deputies, group_members, info_admins",
        f"{path}:{line_of(text, 'digest:')}:14: error: digest.at: '8.30' is not a time of day written as "
        'HH:MM, e.g. "08:30"',
        f"{path}: 5 error(s); nothing done.",
    ]


def test_any_unknown_tag_is_an_error_at_its_position(minimal_plan_text: str, write_plan) -> None:
    text = _edit(minimal_plan_text, "title: 测试采集", "title: !foo 测试采集")
    text = _edit(
        text, "institution: 测试学院", "institution: !!str 测试学院"
    )  # a tag that says nothing: fine
    code, lines = check(write_plan(english(text)))
    assert code == 2
    assert lines[0].endswith(
        ":4:8: error: title: the YAML tag !foo is not allowed in a plan (a plan is plain data; tags like "
        "this make other YAML tools build objects or run code); remove it"
    )
    assert len(lines) == 2


def test_anchors_and_aliases_are_refused(minimal_plan_text: str, write_plan) -> None:
    text = _edit(
        minimal_plan_text,
        "  - {after: 1, to: [collector]}\n  - {after: 2, to: [head, coordinator]}",
        "  - &first {after: 1, to: [collector]}\n  - *first",
    )
    code, lines = check(write_plan(english(text)))
    assert code == 2
    first = line_of(text, "&first")
    assert [line.split(": ", 1)[1] for line in lines[:2]] == [
        "error: escalation[0]: anchors (&first) are not allowed in a plan; write each value out in full",
        "error: escalation[1]: aliases (*first) are not allowed in a plan; write the value out in full",
    ]
    assert lines[0].split(":")[1:3] == [str(first), "5"] and lines[1].split(":")[1:3] == [str(first + 1), "5"]


def test_a_billion_laughs_is_refused_at_once(tmp_path) -> None:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):  # 8 levels of 9 aliases: 9**9 strings if followed
        lines.append(f"lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\n"

    started = time.perf_counter()
    loaded = load_text(text, "laughs.yaml")
    elapsed = time.perf_counter() - started

    assert elapsed < 0.5
    assert not loaded.ok
    aliases = [p for p in loaded.errors if "aliases (*lol" in p.message]
    assert len(aliases) == 8 * 9
    assert str(aliases[0]) == "laughs.yaml:2:14: 错误: lol1[0]: 计划中不允许使用别名（*lol0）；请把值完整写出"


def test_nesting_deeper_than_any_plan_is_refused_without_a_traceback(write_plan) -> None:
    code, lines = check(write_plan("title: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert code == 2
    assert lines[0].endswith(":1:107: 错误: (top level): 这里的值嵌套超过了 100 层；计划只需要几层")
