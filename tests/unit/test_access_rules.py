"""The authorization rules as a table: every role × action × own/other unit → allowed or refused
(acceptance 1 of the web issue), and every refusal leaves a row in the access log.

The people are the shipped plan's, plus two added here so that each role is also held alone:
a unit contact, and a working-group member who holds nothing else.
"""

from __future__ import annotations

import pendulum
import pytest

from cuiban.services.access import Forbidden, Request, authorize, refusals
from cuiban.workflow.access import Action, Role, decide, roles_of
from cuiban.workflow.plan.schema import Person

A = Action
ALL = list(Action)
EVERY, SEES, OWN, NOTHING = set(ALL), {A.VIEW_ALL, A.VIEW_UNIT}, {A.VIEW_UNIT, A.ACT_UNIT}, set()

# person, role(s) as named in the plan, home unit → what they may do for their own unit, another unit,
# and with no unit (the whole campaign's pages and actions)
PEOPLE = [
    ("cheng_xing", "coordinator (and tdc's collector)", "tdc", EVERY, EVERY, EVERY),
    ("chen_lu", "info_admin (and tdc contact)", "tdc", EVERY, EVERY, EVERY),
    ("li_jinyun", "working-group leader", None, SEES, SEES, SEES),
    ("ren_biao", "working-group deputy", None, SEES, SEES, SEES),
    ("h_news", "head of news", "news", OWN, NOTHING, NOTHING),
    ("c_news", "collector of news", "news", OWN, NOTHING, NOTHING),
    ("contact_news", "contact of news (added)", "news", {A.VIEW_UNIT}, NOTHING, NOTHING),
    ("member_only", "working-group member only (added)", None, NOTHING, NOTHING, NOTHING),
    ("nobody", "not in the plan", None, NOTHING, NOTHING, NOTHING),
]
ROWS = [
    pytest.param(person, action, where, action in allowed, id=f"{person}-{action.value}-{where}")
    for person, _role, _home, own, other, none in PEOPLE
    for where, allowed in (("own", own), ("other", other), ("none", none))
    for action in ALL
]


@pytest.fixture(scope="module")
def plan(plan_and_calendar):  # type: ignore[no-untyped-def]
    shipped = plan_and_calendar[0]
    people = {
        **shipped.people,
        "contact_news": Person(name="新闻联系人", email="contact.news@hebcm.example", unit="news"),
        "member_only": Person(name="组员", email="member.only@hebcm.example"),
    }
    news = shipped.units["news"].model_copy(update={"contacts": ["contact_news"]})
    group = shipped.roles.working_group.model_copy(update={"members": ["member_only"]})
    return shipped.model_copy(
        update={
            "people": people,
            "units": {**shipped.units, "news": news},
            "roles": shipped.roles.model_copy(update={"working_group": group}),
        }
    )


def _unit(person: str, where: str) -> str | None:
    home = {p: h for p, _r, h, *_ in PEOPLE}[person] or "news"
    if where == "none":
        return None
    return home if where == "own" else ("basics" if home != "basics" else "news")


@pytest.mark.parametrize(("person", "action", "where", "allowed"), ROWS)
def test_the_rules(plan, person: str, action: Action, where: str, allowed: bool) -> None:  # type: ignore[no-untyped-def]
    decision = decide(plan, person, action, _unit(person, where))
    assert decision.allowed is allowed, decision.why


def test_roles_are_read_from_the_plan(plan) -> None:  # type: ignore[no-untyped-def]
    assert roles_of(plan, "cheng_xing").plan_wide == {Role.COORDINATOR}
    assert roles_of(plan, "cheng_xing").units == {"tdc": {Role.COLLECTOR}}
    assert roles_of(plan, "c_news").home_units == ["news"]
    assert not roles_of(plan, "member_only").any
    assert roles_of(plan, "li_jinyun").sees_all and not roles_of(plan, "h_news").sees_all


def test_an_unknown_unit_is_refused_even_to_the_coordinator(plan) -> None:  # type: ignore[no-untyped-def]
    assert not decide(plan, "cheng_xing", A.VIEW_UNIT, "../etc").allowed


@pytest.mark.parametrize(("person", "action", "where", "allowed"), [r for r in ROWS if not r.values[3]][::7])
def test_each_refusal_leaves_an_access_log_row(plan, sqlite_engine, person, action, where, allowed) -> None:  # type: ignore[no-untyped-def]
    now = pendulum.datetime(2016, 12, 16, 10, tz="Asia/Shanghai")
    unit = _unit(person, where)
    with pytest.raises(Forbidden):
        authorize(sqlite_engine, plan, person, action, unit, Request("POST", "/x", "192.0.2.7"), now)
    [row] = refusals(sqlite_engine)
    assert (row["person_id"], row["action"], row["unit_id"], row["client"], row["outcome"]) == (
        person, action.value, unit, "192.0.2.7", "refused"
    )
    assert row["at"] == now


def test_an_allowed_request_leaves_no_row(plan, sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    now = pendulum.datetime(2016, 12, 16, 10, tz="Asia/Shanghai")
    authorize(sqlite_engine, plan, "c_news", A.ACT_UNIT, "news", Request("POST", "/x", "192.0.2.7"), now)
    assert refusals(sqlite_engine) == []
