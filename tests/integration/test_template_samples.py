"""The sample contexts `templates check` renders against are the contexts a real tick builds.

A campaign on the minimal plan is ticked through a renderer that keeps every context it
is given; per kind of message, the fields (with list items as `[]`) of the real contexts
and of `notifications.samples` must be the same, and every type a real field holds must
be one the samples show. A field added to schedules/tick.py or schedules/digest.py and
not to the samples (or the other way round) fails here. The later ticks run with a base
URL, so the real contexts hold `link` both as None and as an address.

The campaign runs twice: with `reminders.combine: false` (a message per task: reminders and
escalations) and with mails combined per person and the teachers reminded themselves (combined
mails, teachers' own reminders, and a reminder alone where a person has one item).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path
from typing import Any

import pendulum

from cuiban.models import outbox_store
from cuiban.models.database import open_engine
from cuiban.notifications.render import Rendered, Renderer
from cuiban.notifications.samples import SAMPLES
from cuiban.schedules.tick import run_tick
from cuiban.services.roster_import import import_roster
from cuiban.services.status_sync import sync_statuses
from cuiban.workflow.links import Links
from cuiban.workflow.plan.schema import Plan, TeacherReminders, TeacherSpec
from tests.factories import roster, write_csv

TZ = "Asia/Shanghai"


class Recording(Renderer):
    """The built-in templates, keeping a copy of every context rendered."""

    def __init__(self) -> None:
        super().__init__("zh")
        self.contexts: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def render(self, kind: str, context: dict[str, Any]) -> Rendered:
        self.contexts[kind].append(copy.deepcopy(context))
        return super().render(kind, context)


def at(day: str, clock: str = "09:30") -> pendulum.DateTime:
    return pendulum.parse(f"2016-{day}T{clock}:00", tz=TZ)


def fields(contexts: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Every field of the contexts, `digest.units[].name` style, with the types it holds."""
    found: dict[str, set[str]] = defaultdict(set)

    def walk(value: Any, path: str) -> None:
        found[path].add(type(value).__name__)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{path}[]")

    for context in contexts:
        for key, value in context.items():
            walk(value, key)
    return dict(found)


def one_mail_per_task(plan: Plan) -> Plan:
    return plan.model_copy(update={"reminders": plan.reminders.model_copy(update={"combine": False})})


def teachers_reminded(plan: Plan) -> Plan:
    """Mails combined (the default) and the teachers reminded by their own mail, from the roster's
    email column."""
    remind = TeacherReminders(before=[3, 1, 0], states=["pending", "account_issued", "filling"])
    columns = {**plan.roster.columns, "email": "电子邮箱"}
    return plan.model_copy(
        update={
            "teachers": TeacherSpec(remind=remind),
            "roster": plan.roster.model_copy(update={"columns": columns}),
        }
    )


def real_contexts(engine, minimal_plan, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    plan, calendar = minimal_plan
    rows = [[r[0], r[1], r[4], "36", r[9]] for r in roster(["甲学院", "乙学院"], 3)]
    write_csv(tmp_path / "roster.csv", ["工号", "姓名", "所属部门", "合同期限(月)", "电子邮箱"], rows)
    import_roster(engine, plan, calendar, tmp_path / "roster.csv", at("11-21"))
    write_csv(tmp_path / "export.csv", ["工号", "填报状态"], [[f"{n:06d}", "已提交"] for n in (1, 2, 3, 4)])
    renderer = Recording()
    for day in ("11-23", "12-12", "12-14", "12-15"):
        run_tick(engine, plan, calendar, renderer, at(day))
        if day == "12-14":
            sync_statuses(engine, plan, calendar, tmp_path / "export.csv", at(day, "10:00"))
    with engine.begin() as connection:  # one message failed and one went out late before the next digest
        first, second = outbox_store.rows(connection)[:2]
        outbox_store.mark(
            connection,
            first["id"],
            status="failed",
            last_error="550 User unknown",
            failed_at=at("12-15", "10:00"),
        )
        outbox_store.mark(connection, second["id"], status="sent", sent_at=at("12-15", "10:00"), late=True)
    # the web pages have an address from now on; 12-30 is the campaign's last day (its digest: the SLA)
    for day in ("12-16", "12-19", "12-20", "12-30"):
        run_tick(engine, plan, calendar, renderer, at(day), links=Links("https://cuiban.example.edu.cn"))
    return renderer.contexts


def test_the_samples_have_exactly_the_fields_of_real_contexts(
    sqlite_engine, minimal_plan, tmp_path: Path
) -> None:
    plan, calendar = minimal_plan
    real = real_contexts(sqlite_engine, (one_mail_per_task(plan), calendar), tmp_path)
    assert set(real) == {"reminder", "escalation", "digest"}
    (tmp_path / "combined").mkdir()
    second = open_engine(f"sqlite:///{tmp_path / 'combined' / 'cuiban.sqlite3'}")
    combined = real_contexts(second, (teachers_reminded(plan), calendar), tmp_path / "combined")
    second.dispose()
    assert set(combined) >= {"reminder", "combined", "teacher", "digest"}  # and level-3 escalations alone
    assert any(c["digest"]["teacher_reminders"] for c in combined["digest"])
    for kind, contexts in combined.items():
        real[kind] = real.get(kind, []) + contexts
    digests = real["digest"]
    assert any(d["digest"]["failed_messages"] and d["digest"]["late_messages"] == 1 for d in digests)
    assert any(c["counts"] is None for c in real["reminder"]) and any(c["teachers"] for c in real["reminder"])
    for kind in ("reminder", "escalation", "digest"):
        links = {c["link"] is None for c in real[kind]}
        assert links == {True, False}, f"{kind}: {links}"
    for kind, contexts in real.items():
        actual = fields(contexts)
        samples = fields([s.context for s in SAMPLES if s.kind == kind])
        assert sorted(set(actual) - set(samples)) == [], f"{kind}: fields real contexts have, samples lack"
        assert sorted(set(samples) - set(actual)) == [], f"{kind}: fields samples have, real contexts lack"
        for path, types in actual.items():
            assert types <= samples[path], (
                f"{kind}: {path} is {types} in a real context, {samples[path]} in samples"
            )


def test_every_sample_renders_with_the_real_renderer() -> None:
    for language in ("zh", "en"):
        for sample in SAMPLES:
            assert Renderer(language).render(sample.kind, sample.context).subject
