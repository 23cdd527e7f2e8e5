"""The sandbox templates render in, and the renderer's API for the tick: TemplateFailure, builtin()."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import BaseLoader

from cuiban.notifications.render import Renderer, Sandbox, TemplateFailure
from cuiban.notifications.samples import SAMPLES, samples_of

REMINDER = samples_of("reminder")[0].context
DIGEST = samples_of("digest")[0].context


def render_string(source: str, **context: object) -> str:
    return Sandbox().from_string(source).render(context)


def test_every_sample_renders_with_the_built_in_templates_of_both_languages() -> None:
    for language in ("zh", "en"):
        renderer = Renderer(language)
        for sample in SAMPLES:
            rendered = renderer.render(sample.kind, sample.context)
            assert rendered.subject and rendered.text and rendered.html, (language, sample.name)


def test_a_broken_override_raises_template_failure_naming_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "reminder.txt").write_text("第一行\n第二行 {{ foo }}\n", encoding="utf-8")
    renderer = Renderer("zh", tmp_path)
    with pytest.raises(TemplateFailure) as caught:
        renderer.render("reminder", REMINDER)
    failure = caught.value
    assert str(failure) == "reminder.txt:2: 'foo' is undefined"
    assert (failure.name, failure.line, failure.builtin) == ("reminder.txt", 2, False)
    assert failure.path == tmp_path / "reminder.txt" and "\n" not in str(failure)
    with pytest.raises(TemplateFailure) as again:  # every render fails the same way, with a fresh exception
        renderer.render("reminder", REMINDER)
    assert str(again.value) == str(failure) and again.value is not failure
    assert renderer.render("digest", DIGEST).subject  # other kinds are not affected


def test_a_template_that_does_not_compile_fails_every_render_of_its_kind_only(tmp_path: Path) -> None:
    (tmp_path / "escalation.html").write_text("<p>\n{% if %}\n</p>", encoding="utf-8")
    renderer = Renderer("zh", tmp_path)
    for _ in range(2):
        with pytest.raises(TemplateFailure, match=r"^escalation\.html:2: "):
            renderer.render("escalation", samples_of("escalation")[0].context)
    assert renderer.render("reminder", REMINDER).subject


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ '%s'|attr('format') }}",
        "{{ 'x{0}'.format(task) }}",
        "{{ 1 + 'a' }}",
        "{{ teachers|first|attr('name') }}",
        "{% for x in range(3) %}{{ x.__class__ }}{% endfor %}",
    ],
)
def test_render_never_raises_a_raw_error(tmp_path: Path, source: str) -> None:
    (tmp_path / "reminder.subject.txt").write_text(source, encoding="utf-8")
    with pytest.raises(TemplateFailure, match=r"^reminder\.subject\.txt:1: "):
        Renderer("zh", tmp_path).render("reminder", REMINDER)


def test_an_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "reminder.txt").write_text("头\n{% include 'part.txt' %}\n", encoding="utf-8")
    (tmp_path / "part.txt").write_text("一\n二 {{ task.titel }}\n", encoding="utf-8")
    with pytest.raises(TemplateFailure) as caught:
        Renderer("zh", tmp_path).render("reminder", REMINDER)
    assert str(caught.value) == "part.txt:2: 'dict object' has no attribute 'titel'"


def test_a_built_in_template_is_named_as_such() -> None:
    context = {k: v for k, v in REMINDER.items() if k != "recipient"}
    with pytest.raises(TemplateFailure) as caught:
        Renderer("en").render("reminder", context)
    assert str(caught.value) == "built-in en/reminder.txt:1: 'recipient' is undefined"
    assert caught.value.builtin and caught.value.name == "en/reminder.txt"


def test_builtin_renders_the_built_in_templates_of_the_same_language(tmp_path: Path) -> None:
    (tmp_path / "digest.subject.txt").write_text("{{ digest.dat }}", encoding="utf-8")
    for language in ("zh", "en"):
        renderer = Renderer(language, tmp_path)
        with pytest.raises(TemplateFailure):
            renderer.render("digest", DIGEST)
        fallback = renderer.builtin()
        assert fallback.override is None and fallback.language == language
        assert fallback.render("digest", DIGEST) == Renderer(language).render("digest", DIGEST)
        assert renderer.builtin() is fallback  # compiled once
    plain = Renderer("zh")
    assert plain.builtin() is plain


def test_rendering_reads_no_file_after_the_first_message(tmp_path: Path) -> None:
    class NoFiles(BaseLoader):
        def get_source(self, environment, template):  # type: ignore[no-untyped-def]
            raise AssertionError(f"{template} read again")

    renderer = Renderer("zh", tmp_path)
    first = renderer.render("reminder", REMINDER)
    renderer.environment.loader = NoFiles()
    renderer.environment.cache = None  # not even jinja2's cache: the renderer keeps its templates
    assert renderer.render("reminder", REMINDER) == first


def test_template_failure_is_still_the_jinja2_error_it_stands_for(tmp_path: Path) -> None:
    from jinja2 import UndefinedError
    from jinja2.exceptions import SecurityError

    (tmp_path / "reminder.subject.txt").write_text("{{ foo }}", encoding="utf-8")
    with pytest.raises(UndefinedError):
        Renderer("zh", tmp_path).render("reminder", REMINDER)
    (tmp_path / "reminder.subject.txt").write_text("{{ task.__class__ }}", encoding="utf-8")
    with pytest.raises(SecurityError):
        Renderer("zh", tmp_path).render("reminder", REMINDER)


# ── what the sandbox allows and refuses ──


def test_format_and_percent_take_printf_conversions_of_plain_values() -> None:
    assert render_string(
        '{{ "%+d"|format(3) }} {{ "%+d"|format(-2) }} {{ "%5.1f%%"|format(n) }}', n=12.34
    ) == ("+3 -2  12.3%")
    assert render_string('{{ "%s/%s" % (a, b) }} {{ 7 % 3 }}', a="甲", b=2) == "甲/2 1"
    for source in (
        '{{ "%(a)s"|format(a=1) }}',
        '{{ "%(a)s" % d }}',
        '{{ "%r"|format(1) }}',
        '{{ "%*d"|format(5, 1) }}',
        '{{ "%999999d"|format(1) }}',
        '{{ "%s"|format(d) }}',
        '{{ "%s"|format(range) }}',
    ):
        with pytest.raises(Exception, match="format"):
            render_string(source, d={"a": 1})


def test_plain_values_have_no_attributes_and_names_beginning_with_underscore_are_refused() -> None:
    from jinja2.exceptions import SecurityError

    for source in (
        "{{ s.upper() }}",
        "{{ s.format }}",
        "{{ d.items() }}",
        "{{ d.keys }}",
        "{{ l.append(1) }}",
        "{{ (1).real }}",
        "{{ d._x }}",
        "{{ loop_free.__len__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ range.__self__ }}",
        "{{ dict.__base__.__subclasses__() }}",
        "{{ s['__class__'] }}",
        "{{ l|map(attribute='__class__')|list }}",
        "{{ l|selectattr('__class__')|list }}",
        "{{ 'a' * 1000000 }}",
        "{{ 10 ** 1000000 }}",
    ):
        with pytest.raises(SecurityError):
            render_string(source, s="x", d={"a": 1}, l=[{"a": 1}], loop_free="x")


def test_the_attr_and_pprint_filters_and_lipsum_are_gone() -> None:
    environment = Sandbox()
    assert "attr" not in environment.filters and "pprint" not in environment.filters
    assert "lipsum" not in environment.globals


def test_what_templates_do_with_plain_data_still_works() -> None:
    source = (
        "{% set ns = namespace(n=0) %}{% set row = cycler('odd', 'even') %}"
        "{% for t in teachers %}{% set ns.n = ns.n + 1 %}{{ row.next() }}:{{ loop.index }}/{{ t.name }}"
        "{{ ', ' if not loop.last }}{% endfor %} {{ ns.n }}"
        "|{% for g in teachers|groupby('state') %}{{ g.grouper }}={{ g.list|length }}{% endfor %}"
        "|{{ teachers|map(attribute='name')|join('、') }}"
        "|{{ (teachers|sort(attribute='staff_id')|first).name }}"
        "|{{ d.items }}|{{ d['missing']|default('无') }}"
        "|{{ 'ab' * 2 }}|{{ 2 ** 10 }}|{{ (57.4 * 1.2)|round|int }}"
    )
    teachers = [
        {"staff_id": "2", "name": "乙", "state": "填报中"},
        {"staff_id": "1", "name": "甲", "state": "填报中"},
    ]
    assert render_string(source, teachers=teachers, d={"items": "4类"}) == (
        "odd:1/乙, even:2/甲 2|填报中=2|乙、甲|甲|4类|无|abab|1024|69"
    )
