"""Sign-in limits hold when requests come at once, on SQLite and PostgreSQL; a person's mailbox is
not flooded from many clients and a person is not locked out by someone else's requests."""

from __future__ import annotations

import threading

import pendulum
import pytest
from sqlalchemy import text

from cuiban.notifications.render import Renderer
from cuiban.services.sign_in import (
    Limits,
    TooManyRequests,
    client_key,
    note_request,
    request_link,
    send_link,
    whose_link,
)

NOW = pendulum.datetime(2016, 12, 16, 10, tz="Asia/Shanghai")


def test_thirty_requests_at_once_are_counted_as_thirty(engine) -> None:  # type: ignore[no-untyped-def]
    admitted, refused, errors = [], [], []
    start = threading.Barrier(30)

    def ask() -> None:
        start.wait()
        try:
            note_request(engine, "c.news@hebcm.example", "192.0.2.1", NOW)
            admitted.append(1)
        except TooManyRequests:
            refused.append(1)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=ask) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (len(admitted), len(refused)) == (5, 25)


def test_one_person_gets_at_most_five_links_from_any_number_of_clients(  # type: ignore[no-untyped-def]
    engine, plan_and_calendar
) -> None:
    plan = plan_and_calendar[0]
    tokens = [
        request_link(engine, plan, Renderer("zh"), "C.News@hebcm.example ", f"198.51.100.{n}", NOW, "http://x")
        for n in range(8)
    ]
    assert sum(t is not None for t in tokens) == 5  # the rest answered as usual, with no mail
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM outbox WHERE kind = 'sign_in'")).scalar() == 5
    # someone else's requests do not lock the person out of asking from their own machine
    note_request(engine, "c.news@hebcm.example", "203.0.113.9", NOW)


def test_an_ipv6_network_is_one_client() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("testclient") == "testclient"


def test_an_ipv6_network_cannot_escape_the_limit_by_changing_addresses(engine) -> None:  # type: ignore[no-untyped-def]
    limits = Limits(per_client=3)
    for n in range(3):
        note_request(engine, f"p{n}@hebcm.example", f"2001:db8::{n + 1}", NOW, limits)
    with pytest.raises(TooManyRequests):
        note_request(engine, "p9@hebcm.example", "2001:db8::ffff", NOW, limits)


def test_the_confirmation_page_learns_whose_link_it_is_without_using_it(  # type: ignore[no-untyped-def]
    engine, plan_and_calendar
) -> None:
    plan = plan_and_calendar[0]
    token = send_link(engine, plan, Renderer("zh"), "c.news@hebcm.example", NOW, "http://x")
    assert token is not None
    assert whose_link(engine, plan, token, NOW) == "王晓燕"
    assert whose_link(engine, plan, token, NOW) == "王晓燕"  # still usable: asking did not use it
    assert whose_link(engine, plan, token, NOW.add(minutes=16)) is None
    assert whose_link(engine, plan, "forged", NOW) is None
