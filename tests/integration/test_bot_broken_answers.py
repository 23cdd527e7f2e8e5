"""A bot's server that does not speak HTTP (a proxy's garbage, a reply cut short) pauses that bot or
defers that message: http.client's own errors are not OSErrors, and escaping the transport they
would stop every send run at that row, uncharged, for ever."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from cuiban.notifications.bots import BotTarget, BotTransport
from cuiban.notifications.message import Outgoing
from cuiban.notifications.transports import SenderPaused, TemporaryFailure

ANSWERS = {
    "not HTTP at all": b"NOT HTTP\r\n\r\n",
    "a body cut short": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    b'{"errc',
}


@contextmanager
def answering(raw: bytes) -> Iterator[int]:
    """A server on 127.0.0.1 that reads a request, writes `raw` and hangs up."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(raw)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.mark.parametrize("answer", list(ANSWERS), ids=list(ANSWERS))
def test_a_broken_answer_pauses_the_bot_and_hides_its_key(answer: str) -> None:
    with answering(ANSWERS[answer]) as port:
        bot = BotTransport("wecom", BotTarget(f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=SECRET123"),
                           timeout=5)
        message = Outgoing(1, "bot", "wecom", "wecom:news", "新闻传播学院", "催办", "### 催办", "")
        with pytest.raises((SenderPaused, TemporaryFailure)) as paused:
            bot.send(message, datetime(2016, 12, 16, 1, tzinfo=UTC), "1-bot")
    assert "SECRET123" not in str(paused.value)
