"""Delivery: a tick's messages sent to a local SMTP server in one `outbox send`, beside raw smtplib.

The outbox is filled with N messages shaped like those of the tick at 1,000,000 teachers over
2,000 units (16,018 by default: 4 digests, 8,010 escalations, 8,004 reminders). Their contents
come from a real tick run at a small scale (15,000 teachers over 50 units, so that every
department still has more than 100 unfinished teachers and the filling reminders list 100 of
them, ≈ 11 KB of text and HTML; the other reminders and the escalations are ≈ 1 KB); the
digests are rendered again with all 2,000 departments (≈ 2 MB each) and carry the progress
chart inline. The sample is copied to N rows in the sample's proportions, each with its own
key, recipient and Message-ID, queued with `models.outbox_store.queue` into a fresh store (a
SQLite file, or a new schema on the PostgreSQL server given by `--db`, dropped afterwards).

The SMTP server is aiosmtpd in a process of its own (it does not share the sender's
GIL), counting what it receives by Message-ID and discarding it; the same server takes
every side:
  raw     — the same messages, made into the bytes cuiban sends beforehand (not timed:
            `notifications.message.flatten`), sent with plain smtplib.SMTP.sendmail over one
            connection;
  cuiban  — `services.dispatch.dispatch(engine, SmtpTransport(...), now)` in a forked process:
            claims, one email built per row, one committed outcome per message;
  cli     — `cuiban outbox send` in a subprocess, start-up included: what a user runs.

Each side reports wall and CPU seconds (the sender's own; the server's beside it),
messages per second and the sender's peak resident memory; the best of `--repeat`
rounds, each on a fresh outbox. Every round checks that each message arrived exactly once.

    .venv/bin/python -m bench.delivery                              # 16,018 messages, SQLite
    .venv/bin/python -m bench.delivery --db postgresql+psycopg://cuiban@127.0.0.1:52451/cuiban_test
    .venv/bin/python -m bench.delivery --messages 300 --repeat 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import re
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.province_scale import (
    PLAN,
    cuiban_import,
    cuiban_sync,
    measured,
    province_plan,
    write_export,
    write_roster,
)
from bench.tick_scale import TICK_AT, Database, cuiban_tick

DEFAULT_MESSAGES = 16_018
FULL_TICK = {"digest": 4, "escalation": 8_010, "reminder": 8_004}
"""What the tick at 1,000,000 teachers over 2,000 units queues (bench.tick_scale)."""
FULL_UNITS = 2_000
SAMPLE_TEACHERS, SAMPLE_UNITS = 15_000, 50
SENDER = "cuiban@school.example"
SEND_AT = TICK_AT
CHUNK = 500
"""Messages queued per call while filling the outbox."""


@dataclass(frozen=True)
class Figure:
    side: str
    messages: int
    seconds: float
    cpu: float
    peak_mb: float
    server_cpu: float = 0.0
    arrived: dict[str, int] | None = None
    inherited_mb: float = 0.0
    """Resident memory of the benchmark process when it forked this side (counted in `peak_mb`)."""
    """What the server received: messages, distinct Message-IDs, most copies of one."""
    result: Any = None

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else float("inf")


# ── the messages ─────────────────────────────────────────────────────────────────


def sample(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The messages of a real tick at a small scale, by kind, each with its attachments."""
    from cuiban.models import outbox_store
    from cuiban.models.database import open_engine

    db, roster, export = folder / "sample.sqlite3", folder / "sample.csv", folder / "sample-export.csv"
    write_roster(roster, SAMPLE_TEACHERS, SAMPLE_UNITS)
    write_export(export, SAMPLE_TEACHERS)

    def tick() -> dict[str, int]:
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")  # the chart's CJK labels
        cuiban_import(db, roster, SAMPLE_UNITS)
        cuiban_sync(db, export, SAMPLE_UNITS)
        return cuiban_tick(Database(f"sqlite:///{db}"), SAMPLE_UNITS)()  # the tick, made then run

    measured("sample tick", SAMPLE_TEACHERS, tick)  # in a forked process: this one stays small
    engine = open_engine(f"sqlite:///{db}", migrate=False)
    with engine.connect() as connection:
        rows = outbox_store.rows(connection, status="queued")
        files = outbox_store.attachments(connection, [r["key"] for r in rows])
    engine.dispose()
    kinds: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row = full_scale_digest(row) if row["kind"] == "digest" else row
        kinds.setdefault(row["kind"], []).append({**row, "attachments": files.get(row["key"], [])})
    return kinds


def full_scale_digest(row: dict[str, Any], units: int = FULL_UNITS) -> dict[str, Any]:
    """A digest of the small tick rendered again as the full tick renders it: every one of `units`
    departments in its table and its overdue tasks listed (≈ 2 MB of text and HTML at 2,000)."""
    from cuiban.notifications.render import Renderer
    from cuiban.schedules.digest import digest_context
    from cuiban.schedules.digest_mail import CHART_CID

    data = json.loads(row["data"])
    sample_units = data["units"]
    per_department = {}  # one overdue entry of each departmental milestone, as a pattern
    for task in data["overdue"]:
        if task["task"].startswith("dept_"):
            per_department.setdefault(task["task"].partition("/")[0], task)
    data["units"] = [
        {**sample_units[n % len(sample_units)], "unit_id": f"d{n}", "name": f"第{n}学院"}
        for n in range(units)
    ]
    data["overdue"] = [task for task in data["overdue"] if not task["task"].startswith("dept_")] + [
        {**task, "task": f"{milestone}/d{n}", "unit_name": f"第{n}学院"}
        for milestone, task in per_department.items()
        for n in range(units)
    ]
    context = digest_context(province_plan(SAMPLE_UNITS), data, row["recipient_name"], CHART_CID)
    rendered = Renderer("zh").render("digest", context)
    return {**row, "body_text": rendered.text, "body_html": rendered.html}


def mix(n: int, digests: int = FULL_TICK["digest"]) -> dict[str, int]:
    """How many of each kind make `n` messages, in the full tick's proportions."""
    digests = min(digests, n)
    rest = n - digests
    escalations = round(rest * FULL_TICK["escalation"] / (FULL_TICK["escalation"] + FULL_TICK["reminder"]))
    return {"digest": digests, "escalation": escalations, "reminder": rest - escalations}


def messages(samples: dict[str, list[dict[str, Any]]], n: int) -> Iterator[dict[str, Any]]:
    """`n` messages for `outbox_store.queue`: the sample's, copied, each with its own key and recipient."""
    number = 0
    for kind, count in mix(n, len(samples["digest"])).items():
        # mails combined per person (the default) stand in for the reminders and escalations they gather
        rows = samples.get(kind) or samples["combined"]
        for i in range(count):  # spread over the sample: a few are as mixed as many
            row = rows[i % len(rows)] if count >= len(rows) else rows[i * len(rows) // count]
            local, _, domain = row["recipient"].partition("@")
            yield {
                "key": f"bench|{kind}|{number}",
                "kind": kind,
                "task_key": row["task_key"],
                "unit_id": row["unit_id"],
                "recipient": f"{local}.{number}@{domain}",
                "recipient_name": row["recipient_name"],
                "slot": row["slot"],
                "subject": row["subject"],
                "body_text": row["body_text"],
                "body_html": row["body_html"],
                "due_at": row["due_at"],
                "attachments": [
                    {k: a[k] for k in ("filename", "content_type", "content_id", "content")}
                    for a in row["attachments"]
                ],
            }
            number += 1


def sizes(samples: dict[str, list[dict[str, Any]]], n: int) -> dict[str, tuple[int, float]]:
    """Per kind: how many of the `n` messages, and their average KB (text + HTML + attachments, UTF-8)."""
    found: dict[str, list[int]] = {}
    for m in messages(samples, n):
        weight = len(m["body_text"].encode()) + len(m["body_html"].encode())
        weight += sum(len(a["content"]) for a in m["attachments"])
        found.setdefault(m["kind"], []).append(weight)
    return {kind: (len(w), sum(w) / len(w) / 1024) for kind, w in found.items()}


def fill(url: str, samples: dict[str, list[dict[str, Any]]], n: int) -> int:
    """Queue `n` messages into the new store at `url`, in chunks, in one transaction: how many are queued."""
    from cuiban.models import outbox_store
    from cuiban.models.database import open_engine
    from cuiban.models.unit_of_work import transaction

    engine = open_engine(url)
    chunk: list[dict[str, Any]] = []
    with transaction(engine) as connection:
        for message in messages(samples, n):
            chunk.append(message)
            if len(chunk) == CHUNK:
                outbox_store.queue(connection, chunk, SEND_AT, domain="school.example")
                chunk = []
        outbox_store.queue(connection, chunk, SEND_AT, domain="school.example")
        queued = outbox_store.count(connection, "queued")
    engine.dispose()
    return queued


@contextlib.contextmanager
def fresh_store(db: str | None, folder: Path, name: str) -> Iterator[str]:
    """The URL of an empty store: a new SQLite file in `folder`, or a new schema on `db`, dropped after."""
    if db is None:
        path = folder / f"{name}.sqlite3"
        yield f"sqlite:///{path}"
        for leftover in folder.glob(f"{name}.sqlite3*"):
            leftover.unlink()
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = make_url(db).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


# ── the SMTP server, in a process of its own ─────────────────────────────────────

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)


class Sink:
    """An aiosmtpd handler that counts each message by its Message-ID and throws it away."""

    def __init__(self) -> None:
        self.ids: Counter[bytes] = Counter()
        self.octets = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802, ANN001
        head = envelope.content[: envelope.content.find(b"\r\n\r\n")]
        found = MESSAGE_ID.search(head)
        self.ids[found.group(1) if found else b""] += 1
        self.octets += len(envelope.content)
        return "250 OK"


def _serve(pipe) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port, data_size_limit=64 * 1024 * 1024)
    controller.start()
    pipe.send(port)
    while True:
        command = pipe.recv()
        if command == "stop":
            break
        if command == "reset":
            sink.ids.clear()
            sink.octets = 0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        received = sum(sink.ids.values())
        pipe.send(
            {
                "received": received,
                "distinct": len(sink.ids),
                "most copies": max(sink.ids.values(), default=0),
                "octets": sink.octets,
                "cpu": usage.ru_utime + usage.ru_stime,
                "ids": set(sink.ids) if command == "ids" else None,
            }
        )
    controller.stop()


class Server:
    """The aiosmtpd process: start, reset its counts, read them, stop."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs,), daemon=True)
        self._process.start()
        self.port: int = self._pipe.recv()

    def ask(self, command: str) -> dict[str, Any]:
        self._pipe.send(command)
        return self._pipe.recv()

    def stop(self) -> None:
        self._pipe.send("stop")
        self._process.join(10)


# ── the senders ──────────────────────────────────────────────────────────────────


def prebuilt(url: str) -> list[tuple[str, bytes]]:
    """Every queued message in send order, as the bytes cuiban would put on the wire."""
    from cuiban.models import outbox_store
    from cuiban.models.database import open_engine
    from cuiban.notifications.message import Attachment, Outgoing, flatten

    engine = open_engine(url, migrate=False)
    with engine.connect() as connection:
        rows = sorted(outbox_store.rows(connection, status="queued"), key=lambda r: (r["priority"], r["id"]))
        files = outbox_store.attachments(connection, [r["key"] for r in rows])
    engine.dispose()
    built = []
    for row in rows:
        attached = tuple(
            Attachment(a["filename"], a["content_type"], a["content"], a["content_id"])
            for a in files.get(row["key"], ())
        )
        outgoing = Outgoing(
            row["id"],
            SENDER,
            "催办 cuiban",
            row["recipient"],
            row["recipient_name"],
            row["subject"],
            row["body_text"],
            row["body_html"],
            attached,
            row["message_id"],
        )
        built.append((row["recipient"], flatten(outgoing, SEND_AT, "school.example")))
    return built


def raw_send(url: str, port: int) -> tuple[float, float, int]:
    """smtplib over one connection, the messages built beforehand: wall and CPU seconds of the sending."""
    ready = prebuilt(url)
    wall, cpu = time.perf_counter(), time.process_time()
    client = smtplib.SMTP("127.0.0.1", port, local_hostname="cuiban.local")
    for recipient, data in ready:
        client.sendmail(SENDER, [recipient], data)
    client.quit()
    return time.perf_counter() - wall, time.process_time() - cpu, len(ready)


def cuiban_send(url: str, port: int) -> tuple[float, float, dict[str, Any]]:
    """`services.dispatch.dispatch` with the SMTP transport: wall and CPU seconds, and its report."""
    from cuiban.models.database import open_engine
    from cuiban.notifications.transports import SmtpSettings, SmtpTransport
    from cuiban.services.dispatch import dispatch

    engine = open_engine(url)
    transport = SmtpTransport(SmtpSettings("127.0.0.1", port, None, None, "none", SENDER))
    wall, cpu = time.perf_counter(), time.process_time()
    report = dispatch(engine, transport, SEND_AT)
    seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    return seconds, cpu, {"sent": report.sent, "retried": report.retried, "failed": report.failed}


def forked(work: Callable[[], tuple[float, float, Any]]) -> tuple[float, float, float, Any]:
    """Run `work` in a forked process: its wall and CPU seconds, its peak MB, its result."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child() -> None:
        seconds, cpu, result = work()
        queue.put((seconds, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, result))

    process = context.Process(target=child)
    process.start()
    figures = queue.get()
    process.join()
    if process.exitcode:
        raise RuntimeError("a sender failed in its process")
    return figures


def cli_send(url: str, port: int, folder: Path) -> tuple[float, float, float, str]:
    """`cuiban outbox send` as a user runs it: wall, CPU and peak MB of that process, and what it printed."""
    environment = {
        **os.environ,
        "CUIBAN_SMTP_HOST": "127.0.0.1",
        "CUIBAN_SMTP_PORT": str(port),
        "CUIBAN_SMTP_SECURITY": "none",
        "CUIBAN_MAIL_FROM": SENDER,
    }
    environment.pop("CUIBAN_SMTP_RATE", None)  # no rate limit
    script = Path(sys.executable).with_name("cuiban")  # the command a user runs, where it is installed
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cuiban.cli.main"]
    command += ["outbox", "send", "--db", url, "--now", SEND_AT.isoformat(), "--plan", str(PLAN)]
    output = folder / "cli-output.txt"
    with output.open("w+b") as sink:
        wall = time.perf_counter()
        process = subprocess.Popen(
            command, env=environment, cwd=PLAN.parent.parent, stdout=sink, stderr=subprocess.STDOUT
        )
        peak_kb = 0  # its own: ru_maxrss would count what this process held when it forked the command
        while not (done := os.wait4(process.pid, os.WNOHANG))[0]:
            peak_kb = max(peak_kb, high_water_kb(process.pid))
            time.sleep(0.02)
        seconds = time.perf_counter() - wall
        _, status, usage = done
        process.returncode = os.waitstatus_to_exitcode(status)
        sink.seek(0)
        printed = sink.read().decode("utf-8", "replace").strip()
    if process.returncode:
        raise RuntimeError(f"cuiban outbox send exited {process.returncode}: {printed}")
    return seconds, usage.ru_utime + usage.ru_stime, (peak_kb or usage.ru_maxrss) / 1024, printed


def high_water_kb(pid: int | str = "self") -> int:
    """The peak resident memory of a running process, in KB (0 where /proc does not say)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def resident_kb() -> int:
    """This process's resident memory now, in KB (0 where /proc does not say)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0


# ── the run ──────────────────────────────────────────────────────────────────────


def _received(server: Server, expected: set[str], side: str) -> dict[str, Any]:
    """What the server got for one side: each message of the outbox exactly once, or an error."""
    got = server.ask("ids")
    ids = {i.decode("ascii") for i in got.pop("ids")}
    if got["received"] != len(expected) or ids != expected or got["most copies"] != 1:
        raise AssertionError(f"{side}: the server received {got} for {len(expected)} messages")
    return got


def _outbox(url: str) -> tuple[dict[str, int], set[str]]:
    """The outbox's statuses and Message-IDs (only those columns: a sender forked from this process
    counts what this process holds in its own peak memory)."""
    from sqlalchemy import text

    from cuiban.models.database import open_engine

    engine = open_engine(url, migrate=False)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, message_id FROM outbox")).all()
    engine.dispose()
    return dict(Counter(status for status, _ in rows)), {message_id for _, message_id in rows}


def one_round(
    samples: dict[str, list[dict[str, Any]]],
    n: int,
    db: str | None,
    folder: Path,
    server: Server,
    cli: bool,
    number: int,
) -> dict[str, Figure]:
    figures: dict[str, Figure] = {}

    def side(name: str, url: str, send: Callable[[], tuple[float, float, float, Any]]) -> None:
        statuses, ids = _outbox(url)
        if statuses != {"queued": n} or len(ids) != n:
            raise AssertionError(f"the outbox holds {statuses} with {len(ids)} Message-IDs, not {n} queued")
        inherited = resident_kb() / 1024 if name != "cli" else 0.0
        before = server.ask("reset")["cpu"]
        seconds, cpu, peak, result = send()
        got = _received(server, ids, name)
        figures[name] = Figure(name, n, seconds, cpu, peak, got.pop("cpu") - before, got, inherited, result)

    def all_sent(url: str, name: str) -> None:
        statuses, _ = _outbox(url)
        if statuses != {"sent": n}:
            raise AssertionError(f"{name} left {statuses} for {n} messages")

    with fresh_store(db, folder, f"outbox-{number}") as url:
        fill(url, samples, n)
        side("raw", url, lambda: forked(lambda: raw_send(url, server.port)))
        side("cuiban", url, lambda: forked(lambda: cuiban_send(url, server.port)))
        all_sent(url, "cuiban")
    if cli:
        with fresh_store(db, folder, f"outbox-cli-{number}") as url:
            fill(url, samples, n)
            side("cli", url, lambda: cli_send(url, server.port, folder))
            all_sent(url, "`outbox send`")
    return figures


def run(
    n: int, folder: Path, db: str | None = None, repeat: int = 1, cli: bool = True
) -> tuple[dict[str, Figure], list[dict[str, Figure]], dict[str, tuple[int, float]]]:
    """Every side, best of `repeat` rounds; also each round's figures and the messages' sizes."""
    import cuiban.models.database  # noqa: F401  (imported before forking, on both sides)
    import cuiban.notifications.message  # noqa: F401
    import cuiban.services.dispatch  # noqa: F401

    samples = sample(folder)
    server = Server()
    try:
        rounds = [one_round(samples, n, db, folder, server, cli, number) for number in range(repeat)]
    finally:
        server.stop()
    best = {name: min((r[name] for r in rounds), key=lambda f: f.seconds) for name in rounds[0]}
    return best, rounds, sizes(samples, n)


def report(best: dict[str, Figure], rounds: list[dict[str, Figure]], n: int, db: str | None) -> str:
    where = "SQLite file, WAL" if db is None else "PostgreSQL " + db.rpartition("@")[2]
    raw = best["raw"]
    lines = [
        f"delivery: {n:,} messages to aiosmtpd on 127.0.0.1 (its own process), outbox on {where}",
        f"{'side':<10}{'seconds':>9}{'msgs/s':>9}{'CPU s':>8}{'server CPU s':>14}{'peak MB':>9}"
        f"{'× raw rate':>12}",
    ]
    for name, figure in best.items():
        lines.append(
            f"{name:<10}{figure.seconds:>9.2f}{figure.per_second:>9,.0f}{figure.cpu:>8.2f}"
            f"{figure.server_cpu:>14.2f}{figure.peak_mb:>9.0f}{figure.per_second / raw.per_second:>12.2f}"
        )
    forked = [f"{name} {figure.inherited_mb:.0f}" for name, figure in best.items() if figure.inherited_mb]
    if forked:
        lines.append(
            f"peak MB of a forked side counts what the benchmark held when it forked: {', '.join(forked)}"
        )
    if len(rounds) > 1:
        lines.append(f"best of {len(rounds)} rounds; each round's rate as a share of that round's raw rate:")
        for name in best:
            if name != "raw":
                shares = ", ".join(f"{r['raw'].seconds / r[name].seconds:.2f}" for r in rounds)
                lines.append(f"  {name}: {shares}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument("--db", metavar="URL", help="a PostgreSQL server (a new schema, dropped after)")
    parser.add_argument("--repeat", type=int, default=1, help="best of N rounds of each side (default 1)")
    parser.add_argument("--no-cli", action="store_true", help="leave out `cuiban outbox send`")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cuiban-bench-") as folder:
        best, rounds, weights = run(args.messages, Path(folder), args.db, args.repeat, not args.no_cli)
    print(report(best, rounds, args.messages, args.db))
    print(
        "messages: "
        + ", ".join(f"{count:,} {kind}s of {kb:.1f} KB" for kind, (count, kb) in weights.items())
        + " on average (text, HTML and attachments, before encoding)"
    )
    for name, figure in best.items():
        if figure.result is not None:
            print(f"{name}: {figure.result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
