"""`cuiban templates check` through the command line: every template rendered against the sample contexts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from cuiban.notifications.render import BUILT_IN
from cuiban.notifications.template_check import TEMPLATE_NAMES
from tests.conftest import SHIPPED_PLAN

ESCAPES = [  # variables every kind of message has (plan, recipient), so only the payload can fail
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ '%s'|attr('format') }}",
    "{{ recipient|attr('name') }}",
    "{{ 'x{0.__class__}'.format(recipient) }}",
    "{{ '{0}'.format(recipient.name) }}",
    "{{ plan.title.format_map(plan) }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum(100000) }}",
    "{{ range.__self__ }}",
    "{{ range.__globals__ }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ recipient.__class__ }}",
    "{{ plan['__class__'] }}",
    "{{ recipient.items() }}",
    "{{ [1].append(1) }}",
    "{{ [recipient]|map(attribute='__class__')|list }}",
    "{{ [plan]|selectattr('__class__')|list }}",
    "{{ [recipient]|map('attr', 'name')|list }}",
    "{{ plan|pprint }}",
    "{{ '%(name)s' % recipient }}",
    "{{ '%r'|format(plan) }}",
    "{{ '%s'|format(plan) }}",
    "{{ 'x' * 100000000 }}",
    "{% if false %}{{ '%s'|attr('format') }}{% endif %}",
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    mine = tmp_path / "mine"
    mine.mkdir()
    return mine


@pytest.fixture
def plan(tmp_path: Path, folder: Path) -> Path:
    path = tmp_path / "plan.yaml"
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    assert "language: zh\n" in text
    path.write_text(
        text.replace("language: zh\n", f"language: zh\ntemplates: {folder.name}\n"), encoding="utf-8"
    )
    return path


def check(plan: Path):
    return CliRunner().invoke(cuiban, ["templates", "check", "--plan", str(plan)], catch_exceptions=False)


def install(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_the_built_in_templates_pass() -> None:
    result = CliRunner().invoke(cuiban, ["templates", "check"], env={"CUIBAN_PLAN": str(SHIPPED_PLAN)})
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK: templates for zh (built-in en and zh;")


@pytest.mark.parametrize(
    ("payload", "name"), [(p, TEMPLATE_NAMES[n % len(TEMPLATE_NAMES)]) for n, p in enumerate(ESCAPES)]
)
def test_every_sandbox_escape_fails_the_check_with_file_and_line(
    plan: Path, folder: Path, payload: str, name: str
) -> None:
    """Each payload on line 2 of a copy of a built-in template (each template gets some)."""
    shutil.copy(BUILT_IN / "zh" / name, folder / name)
    original = (folder / name).read_text(encoding="utf-8")
    lines = original.splitlines()
    install(folder, name, "\n".join([lines[0], payload, *lines[1:]]) + "\n")
    result = check(plan)
    assert result.exit_code == 2, (payload, result.stdout)
    problems = [line for line in result.stderr.splitlines() if line.startswith(str(folder))]
    assert problems and all(p.startswith(f"{folder / name}:2: ") for p in problems), result.stderr


@pytest.mark.parametrize(
    ("name", "text", "line", "reason"),
    [
        (
            "reminder.txt",
            "{{ recipient.name }}\n\n{{ foo }}\n",
            3,
            "'foo' is not a variable of a reminder message",
        ),
        ("reminder.html", "<p>\n{{ task.titel }}</p>", 2, "task has no field 'titel'"),
        ("reminder.txt", "{% if task.overdue %}\n{{ task.overdue_dayz }}\n{% endif %}", 2, "'overdue_dayz'"),
        ("reminder.txt", "{% for t in teachers %}\n{{ t.nmae }}\n{% endfor %}", 2, "t has no field 'nmae'"),
        ("reminder.txt", "{% if counts %}\n{{ counts.totl }}\n{% endif %}", 2, "counts has no field 'totl'"),
        ("reminder.subject.txt", "{{ level }}", 1, "'level' is not a variable of a reminder message"),
        ("escalation.txt", "\n{{ task.title.upper() }}", 2, "task.title is a str: it has no field 'upper'"),
        ("digest.txt", "{% for u in digest.units %}\n{{ u.filled_pct }}{% endfor %}", 2, "u has no field"),
        ("digest.txt", "{{ digest.late_messages.count }}", 1, "digest.late_messages is a int"),
        ("digest.html", "<p>{{ digest.totals.filed }}</p>", 1, "digest.totals has no field 'filed'"),
        ("digest.subject.txt", "{{ chart_cid }} {{ task.title }}", 1, "'task' is not a variable of a digest"),
        ("digest.txt", "{{ '%d'|format(digest.date) }}", 1, "TypeError"),
        ("reminder.txt", "{% if task.extra is defined %}{{ task.extra }}{% endif %}", 1, "no field 'extra'"),
        ("reminder.txt", "{{ task.owner|default('') }}", 1, "task has no field 'owner'"),
        ("escalation.txt", "line\n{% if level > 1 %}{{ level / 0 }}{% endif %}", 2, "ZeroDivisionError"),
    ],
)
def test_an_undefined_name_or_a_misspelt_field_fails_the_check_with_file_and_line(
    plan: Path, folder: Path, name: str, text: str, line: int, reason: str
) -> None:
    install(folder, name, text)
    result = check(plan)
    assert result.exit_code == 2
    assert f"{folder / name}:{line}: " in result.stderr and reason in result.stderr, result.stderr


def test_a_syntax_error_is_named_with_its_line(plan: Path, folder: Path) -> None:
    install(folder, "digest.html", "<p>\n{{ digest.date }\n</p>")
    result = check(plan)
    assert result.exit_code == 2 and f"{folder / 'digest.html'}:2: " in result.stderr


def test_a_good_override_passes(plan: Path, folder: Path) -> None:
    for name in ("reminder.txt", "escalation.html", "digest.txt"):
        shutil.copy(BUILT_IN / "zh" / name, folder / name)
    install(
        folder,
        "reminder.subject.txt",
        "{% if task.overdue %}[逾期 {{ task.overdue_days }} 天]{% endif %}"
        "{{ task.unit_name }}：{{ task.title }}"
        "{{ task.report|default('', true) }}",
    )
    install(
        folder,
        "reminder.html",
        "{% set ns = namespace(n=0) %}{% set row = cycler('a', 'b') %}<table>"
        "{% for t in teachers|sort(attribute='staff_id') %}{% set ns.n = ns.n + 1 %}"
        "<tr class='{{ row.next() }}'><td>{{ loop.index }}</td><td>{{ t.name|e }}</td>"
        "<td>{{ t.state }}</td></tr>{% endfor %}</table>"
        "<p>{{ ns.n }} / {{ '%+d'|format(more) }} / {{ teachers|map(attribute='name')|join('、') }}"
        "{% for g in teachers|groupby('state') %} {{ g.grouper }}={{ g.list|length }}{% endfor %}</p>"
        "{% if counts %}<p>{{ '%.1f'|format(counts.done * 100 / counts.total) }}%</p>{% endif %}",
    )
    install(folder, "notes.md", "an admin's note")  # not a template: named, as before
    result = check(plan)
    assert result.exit_code == 2 and result.stderr.splitlines()[0].startswith(
        f"{folder / 'notes.md'}:1: not a"
    )
    (folder / "notes.md").unlink()
    result = check(plan)
    assert result.exit_code == 0, result.stderr
    assert f"overrides from {folder}" in result.stdout


def test_a_templates_folder_that_does_not_exist_is_named(plan: Path, folder: Path) -> None:
    folder.rmdir()
    result = check(plan)
    assert (
        result.exit_code == 2 and f"{folder}:1: the plan's templates folder does not exist" in result.stderr
    )


def test_a_report_template_with_a_refused_filter_fails_the_check(plan: Path, folder: Path) -> None:
    install(
        folder, "monthly.html", "<p>{{ institution }}</p>\n{% if month %}{{ month|attr('x') }}{% endif %}"
    )
    result = check(plan)
    assert result.exit_code == 2
    assert f"{folder / 'monthly.html'}:2: the filter 'attr' is refused" in result.stderr, result.stderr
