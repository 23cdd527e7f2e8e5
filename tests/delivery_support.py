"""Fault injection for delivery: a real SMTP server on 127.0.0.1 that answers like a provider would.

- `Provider`: an aiosmtpd handler whose replies are scripted per recipient (`by_recipient`), per
  count of a command (`replies[("DATA", 4)]`: the fourth DATA), with a delay per message, and
  that can accept a chosen message and then hold its reply (`hold_at`) while the test kills
  the sender; it records every accepted message with its Message-ID, in arrival order.
- `serving(provider, port)`: the server running (a fixed port lets a test start it late).
- `queue_messages`, `outbox_rows`, `statuses`: the outbox as a test sees it.
- `Cuiban`: the `cuiban` command in its own OS process. Processes are forked from a
  forkserver that imported the program once: `.venv/bin/cuiban` takes seconds to start on a
  busy machine, a forked one a tenth of a second, so a race can be repeated 20 times.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pendulum
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from cuiban.cli.settings import Settings
from cuiban.models import outbox_store
from cuiban.models.unit_of_work import transaction
from cuiban.notifications.transports import SmtpTransport
from tests.conftest import MINIMAL_PLAN

SENDER = "cuiban@school.example"
TZ = "Asia/Shanghai"

QQ_IP = "550 Ip frequency limited. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000722"
QQ_CONNECTION = "550 Connection frequency limited. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000722"
NETEASE_SFQ = "451 MI:SFQ Connected to too many users. http://mail.163.com/help/help_spam_16.htm?ip=127.0.0.1"
GMAIL_RATE = (
    "421 4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP "
    "address. To protect our users from spam, mail sent from your IP address has been temporarily "
    "rate limited."
)
MAILBOX_FULL = "452 4.2.2 Mailbox full"
OFFICE365_QUOTA = (
    "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message "
    "due to a permanent exception with message Cannot submit message."
)
"""The sending account's daily quota at Office 365: the sender's, not any recipient's."""
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


# ── the server ──


@dataclass(frozen=True)
class Arrival:
    message_id: str
    recipient: str


@dataclass
class Provider:
    """What the server answers. Counts start at 1 and cover every connection of the server's life."""

    by_recipient: dict[str, str] = field(default_factory=dict)
    """RCPT TO reply for these addresses (anything else: 250)."""
    replies: dict[tuple[str, int], str] = field(default_factory=dict)
    """Reply to the n-th EHLO, HELO, MAIL, RCPT or DATA command instead of accepting it."""
    delay: float = 0.0
    """Seconds before answering each DATA (the server's event loop goes on meanwhile)."""
    hold_at: int | None = None
    """The n-th DATA is accepted (recorded), then its reply waits until `release` is set."""
    arrived: list[Arrival] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    rcpts: Counter = field(default_factory=Counter)
    """RCPT commands per address, refused or not: the attempts the server saw."""
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.counts["EHLO"] += 1
        if reply := self.replies.get(("EHLO", self.counts["EHLO"])):
            return [reply]
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):  # noqa: N802
        self.counts["HELO"] += 1
        if reply := self.replies.get(("HELO", self.counts["HELO"])):
            return reply
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        self.counts["MAIL"] += 1
        if reply := self.replies.get(("MAIL", self.counts["MAIL"])):
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.counts["RCPT"] += 1
        self.rcpts[address] += 1
        reply = self.replies.get(("RCPT", self.counts["RCPT"])) or self.by_recipient.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.counts["DATA"] += 1
        n = self.counts["DATA"]
        if self.delay:
            await asyncio.sleep(self.delay)
        if reply := self.replies.get(("DATA", n)):
            return reply
        found = MESSAGE_ID.search(envelope.content.partition(b"\r\n\r\n")[0])
        self.arrived.append(Arrival(found[1].decode() if found else "", envelope.rcpt_tos[0]))
        if n == self.hold_at:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        return "250 2.0.0 Ok: queued"

    def message_ids(self) -> list[str]:
        return [a.message_id for a in self.arrived]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(provider: Provider, port: int | None = None) -> Iterator[int]:
    port = port or free_port()
    controller = Controller(provider, hostname="127.0.0.1", port=port, ready_timeout=30)
    controller.start()
    try:
        yield port
    finally:
        provider.release.set()  # a held reply must not keep the server from stopping
        controller.stop()


def smtp_environment(port: int) -> dict[str, str]:
    return {
        "CUIBAN_SMTP_HOST": "127.0.0.1",
        "CUIBAN_SMTP_PORT": str(port),
        "CUIBAN_SMTP_SECURITY": "none",
        "CUIBAN_MAIL_FROM": SENDER,
    }


def smtp_transport(port: int) -> SmtpTransport:
    smtp = Settings.from_environment(smtp_environment(port)).smtp
    assert smtp is not None
    return SmtpTransport(smtp)


# ── the outbox ──


def local(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz=TZ)


def message(key: str, kind: str, recipient: str, due_at: datetime | None = None) -> dict[str, Any]:
    """An outbox message as a tick would queue it."""
    return {
        "key": key,
        "kind": kind,
        "task_key": None if kind == "digest" else f"filling|{recipient}|0",
        "recipient": recipient,
        "recipient_name": "某老师",
        "slot": "before-0",
        "subject": f"【催办】{kind} {key}",
        "body_text": f"请尽快完成填报。{key}",
        "body_html": f"<html><p>请尽快完成填报。{key}</p></html>",
        "due_at": due_at,
    }


def queue_messages(engine: Engine, messages: list[dict[str, Any]], now: datetime) -> None:
    with transaction(engine) as connection:
        assert outbox_store.queue(connection, messages, now, domain="school.example") == len(messages)


def outbox_rows(engine: Engine, **filters: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return outbox_store.rows(connection, **filters)


def statuses(engine: Engine) -> dict[str, int]:
    return dict(Counter(row["status"] for row in outbox_rows(engine)))


def pause_of(engine: Engine) -> tuple[datetime, str] | None:
    with engine.connect() as connection:
        return outbox_store.pause_until(connection, "smtp")


class Clock:
    """Campaign time that moves only when told (or when the sender sleeps between messages)."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.waits: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)


def many_departments_plan(departments: int, **changes: str) -> str:
    """The minimal plan with `departments` departments (head and collector each) instead of two."""
    text = MINIMAL_PLAN.read_text(encoding="utf-8")
    people = "".join(
        f"  h_{n:02d}: {{name: 主任{n:02d}, email: h{n:02d}@school.example, unit: d{n:02d}}}\n"
        f"  c_{n:02d}: {{name: 采集{n:02d}, email: c{n:02d}@school.example, unit: d{n:02d}}}\n"
        for n in range(1, departments + 1)
    )
    units = "".join(
        f"  d{n:02d}: {{name: 学院{n:02d}, kind: department, head: h_{n:02d}, collector: c_{n:02d}}}\n"
        for n in range(1, departments + 1)
    )
    start, end = text.index("  h_a:"), text.index("units:")
    text = text[:start] + people + text[end:]
    start, end = text.index("  dept_a:"), text.index("roles:")
    text = text[:start] + units + text[end:]
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


# ── the program in its own process ──

_forkserver: Any = None
PRELOAD = [
    "__main__",  # else each child runs the test runner's main module again
    "cuiban.cli.main",
    "tests.delivery_support",
    "yagmail",  # what the commands import on first use
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
]
"""Imported once by the forkserver (a missing one is skipped)."""


def _processes() -> Any:
    global _forkserver
    if _forkserver is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _forkserver = context
    return _forkserver


def _run_cuiban(argv: list[str], environment: dict[str, str], output: str, folder: str) -> None:
    """In the child: `cuiban ARGV` with this environment, stdout and stderr to `output`."""
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(folder)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    from cuiban.cli.main import cuiban

    code = 0
    try:
        cuiban.main(argv, prog_name="cuiban")
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@dataclass
class Running:
    process: Any
    output: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float = 120) -> tuple[int, str]:
        self.process.join(timeout)
        assert self.process.exitcode is not None, f"cuiban still running after {timeout} s"
        return self.process.exitcode, self.output.read_text(encoding="utf-8")


class Cuiban:
    """`cuiban …` as separate OS processes sharing a database and an environment."""

    def __init__(self, folder: Path, environment: dict[str, str]) -> None:
        self.folder = folder
        self.environment = {**os.environ, "TZ": "UTC", **environment}
        self.started = 0

    def start(self, *argv: str, **environment: str) -> Running:
        """`cuiban ARGV` started, with these variables set for it alone."""
        self.started += 1
        output = self.folder / f"cuiban-{self.started}.out"
        process = _processes().Process(
            target=_run_cuiban,
            args=(list(argv), {**self.environment, **environment}, str(output), str(self.folder)),
        )
        process.start()
        return Running(process, output)

    def run(self, *argv: str, timeout: float = 120) -> tuple[int, str]:
        return self.start(*argv).wait(timeout)


def wait_until(condition: Any, timeout: float = 30, step: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)
