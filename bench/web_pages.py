"""The web pages at province scale: the dashboard and a department's page against the raw SQL each needs,
then many browsers at once against a real `cuiban serve`.

The database is built the way a campaign builds it (roster imported, a status export
synced, a tick at 2016-12-16 09:30 so that a digest exists and tasks are open and
overdue), each step in its own forked process, and kept for the next run: a SQLite file
in the temporary folder, or a schema of its own on the PostgreSQL server `--db` names.
The plan is the shipped one with M synthetic departments (d0…, collector and head c0…),
written to a YAML file so that `cuiban serve` reads the very plan measured in process.

Side by side, in this process, warm, each the median of `--repeat` runs, wall and CPU
seconds (`resource.getrusage`, every thread of this process):
  dashboard page   GET /dashboard through the whole app (Starlette's TestClient: middleware,
                   session, guard, service, template), signed in as the coordinator;
  digest_data      schedules.digest.digest_data alone, what the page's service calls;
  figures (raw)    SELECT unit_id, state, count(*) FROM teacher GROUP BY unit_id, state
                   (bench.tick_scale's raw digest) on the driver's own connection;
  unit page        GET /units/<a department of N/M teachers>, signed in as the coordinator;
  unit_page        services.department.unit_page alone;
  teachers (raw)   SELECT staff_id, name, state FROM teacher WHERE unit_id = ? AND state IN
                   (its unfinished states) ORDER BY staff_id (the ix_teacher_unit_state index).
The same two pages are then timed over HTTP from the real server (server CPU from /proc).

Load: `--clients` browsers, each its own httpx.Client (cookie jar) on a thread, signed in
by a link (services.sign_in.dev_link) as the coordinator (one in five) or the collector
of a department of its own, loop for `--duration` seconds over the dashboard, unit pages,
teacher search and the timeline (coordinators) or their own unit's page and one of their
teachers (collectors). Any answer but 200, or no answer, is an error.

    .venv/bin/python -m bench.web_pages              # 1,000,000 teachers, 2,000 units, 50 clients, 60 s
    .venv/bin/python -m bench.web_pages --db postgresql+psycopg://cuiban@127.0.0.1:5432/cuiban_test
    .venv/bin/python -m bench.web_pages --teachers 3000 --units 30 --clients 5 --duration 3
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pendulum
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bench.province_scale import PLAN, Figure, measured, write_export, write_roster

AT = pendulum.datetime(2016, 12, 16, 10, 0, tz="Asia/Shanghai")
TICK_AT = pendulum.datetime(2016, 12, 16, 9, 30, tz="Asia/Shanghai")
IMPORTED_AT = pendulum.datetime(2016, 12, 1, 9, tz="Asia/Shanghai")
SECRET = "web-benchmark-secret-key-0123456789abcdef"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROOT = str(Path(__file__).resolve().parent.parent)
GOAL = 2.0
"""Each page within this many times its raw query."""


# ── the plan and the database ─────────────────────────────────────────────────────


def write_plan(path: Path, units: int) -> Path:
    """config/plan.yaml with its departments (and their people) replaced by `units` synthetic ones."""
    lines, out, section, skipping = PLAN.read_text(encoding="utf-8").splitlines(), [], "", False
    for line in lines:
        if re.match(r"^[a-z_]+:", line):
            section = line.split(":")[0]
        if section == "people" and re.match(r"^  [hc]_\w+:", line):
            continue
        if section == "units" and "kind: department" in line:
            skipping = not line.rstrip().endswith("}")
            continue
        if skipping:  # a department's entry continued on the next line
            skipping = not line.rstrip().endswith("}")
            continue
        out.append(line)
        if line == "people:":
            out += [f"  c{n}: {{name: 采集员{n}, email: c{n}@school.example, unit: d{n}}}"
                    for n in range(units)]
        if line == "units:":
            out += [f"  d{n}: {{name: 第{n}学院, kind: department, head: c{n}, collector: c{n}}}"
                    for n in range(units)]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def load(plan_file: Path):  # type: ignore[no-untyped-def]
    from cuiban.planfile.loader import load_plan

    return load_plan(plan_file)


def store_url(db: str | None, teachers: int, units: int) -> str:
    """Where the campaign is kept between runs: a SQLite file, or a schema of the PostgreSQL server."""
    name = f"web_{teachers}_{units}"
    if db is None:
        folder = Path(tempfile.gettempdir()) / "cuiban-web-bench"
        folder.mkdir(exist_ok=True)
        return f"sqlite:///{folder / name}.sqlite3"
    url = make_url(db)
    if url.get_backend_name() != "postgresql":
        return db
    with create_engine(db).begin() as connection:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {name}"))
    return url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)


def is_built(url: str, teachers: int) -> bool:
    """The campaign is there whole: every teacher, and the tick's digest (the last step) queued."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM teacher")).scalar()
            digests = connection.execute(text("SELECT count(*) FROM outbox WHERE kind = 'digest'")).scalar()
        return count == teachers and bool(digests)
    except Exception:  # no tables yet
        return False
    finally:
        engine.dispose()


def wipe(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    schema = parsed.query["options"].split("=", 1)[1]
    with create_engine(url).begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))


def build(url: str, plan_file: Path, teachers: int, units: int, folder: Path) -> list[Figure]:
    """Roster, sync, tick: each in a forked process (modules imported before forking)."""
    import cuiban.schedules.tick  # noqa: F401
    import cuiban.services.roster_import  # noqa: F401
    import cuiban.services.status_sync  # noqa: F401

    roster, export = folder / "roster.csv", folder / "export.csv"
    write_roster(roster, teachers, units)
    write_export(export, teachers)

    def step(work: Callable[..., Any]) -> Callable[[], Any]:
        def run() -> Any:
            from cuiban.models.database import open_engine

            plan, calendar = load(plan_file)
            engine = open_engine(url)
            try:
                return work(engine, plan, calendar)
            finally:
                engine.dispose()

        return run

    def imported(engine, plan, calendar):  # type: ignore[no-untyped-def]
        from cuiban.services.roster_import import import_roster

        report = import_roster(engine, plan, calendar, roster, IMPORTED_AT)
        return {"imported": report.imported, "excluded": report.excluded}

    def synced(engine, plan, calendar):  # type: ignore[no-untyped-def]
        from cuiban.services.status_sync import sync_statuses

        report = sync_statuses(engine, plan, calendar, export, IMPORTED_AT.add(days=1))
        return {"changed": report.changed}

    def ticked(engine, plan, calendar):  # type: ignore[no-untyped-def]
        from cuiban.notifications.render import Renderer
        from cuiban.schedules.tick import run_tick

        return dict(run_tick(engine, plan, calendar, Renderer(plan.language), TICK_AT).queued)

    return [
        measured("import", teachers, step(imported)),
        measured("sync", teachers, step(synced)),
        measured("tick", teachers, step(ticked)),
    ]


# ── timing ──────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Timing:
    label: str
    wall: float
    """Median seconds."""
    cpu: float
    """Median CPU seconds (user + system) of this process, or of the server for a served page."""
    runs: list[float] = field(default_factory=list)
    result: Any = None


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, work: Callable[[], Any], repeat: int, cpu: Callable[[], float] = cpu_now) -> Timing:
    """`work` once to warm up, then `repeat` times: the medians."""
    result = work()
    walls, cpus = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), cpu()
        work()
        walls.append(time.perf_counter() - started)
        cpus.append(cpu() - started_cpu)
    return Timing(label, statistics.median(walls), statistics.median(cpus), walls, result)


def profiled(app: Any, cookies: Any, path: str, lines: int = 30) -> str:
    """Where one request for `path` spends its time, the whole request in this thread.

    Starlette's TestClient runs the app on a thread of its own and FastAPI runs a plain `def`
    route on a worker thread, where cProfile does not look; so the request goes through
    httpx's ASGI transport on this thread's event loop, with anyio's `to_thread.run_sync`
    (what Starlette's `run_in_threadpool` calls) running its function inline meanwhile."""
    import anyio.to_thread

    async def inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
        return func(*args)

    async def get() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies) as c:
            ok(await c.get(path))

    original, anyio.to_thread.run_sync = anyio.to_thread.run_sync, inline
    try:
        asyncio.run(get())
        profile = cProfile.Profile()
        profile.enable()
        asyncio.run(get())
        profile.disable()
    finally:
        anyio.to_thread.run_sync = original
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    ours = rf"{re.escape(ROOT)}/(?!\.venv)|environment.py:\d+\(render\)|engine/base.py:\d+\(execute\)"
    stats.sort_stats("cumulative").print_stats(ours, lines)
    stats.sort_stats("tottime").print_stats(lines // 2)
    shortened = out.getvalue().replace(f"{ROOT}/.venv/lib/", "").replace(f"{ROOT}/", "")
    return re.sub(r"\n{3,}", "\n\n", shortened)


# ── the pages in process, against the raw SQL ──────────────────────────────────────


@dataclass
class Side:
    """Everything measured side by side."""

    timings: dict[str, Timing]
    unit: str
    unit_teachers: int
    unfinished: int
    profiles: dict[str, str] = field(default_factory=dict)

    def ratio(self, page: str, raw: str) -> float:
        return self.timings[page].wall / self.timings[raw].wall


def raw_connection(engine: Engine):  # type: ignore[no-untyped-def]
    """The driver's own connection (sqlite3 or psycopg), with the engine's settings, opened once."""
    return engine.raw_connection()


def raw_figures(connection: Any) -> int:
    cursor = connection.cursor()
    cursor.execute("SELECT unit_id, state, count(*) FROM teacher GROUP BY unit_id, state")
    rows = cursor.fetchall()
    cursor.close()
    return sum(n for _, state, n in rows if state not in ("excluded", "left"))


def raw_teachers(connection: Any, unit: str, states: list[str], marker: str) -> int:
    cursor = connection.cursor()
    cursor.execute(
        f"SELECT staff_id, name, state FROM teacher WHERE unit_id = {marker} AND state IN "
        f"({', '.join([marker] * len(states))}) ORDER BY staff_id",
        (unit, *states),
    )
    rows = cursor.fetchall()
    cursor.close()
    return len(rows)


def middle_unit(engine: Engine, units: int) -> tuple[str, int]:
    """A department in the middle of the plan and how many teachers it has (N/M at the default sizes)."""
    unit = f"d{units // 2}"
    with engine.connect() as connection:
        query = text("SELECT count(*) FROM teacher WHERE unit_id = :u")
        count = connection.execute(query, {"u": unit}).scalar()
    return unit, int(count or 0)


def web_context(url: str, plan_file: Path, folder: Path):  # type: ignore[no-untyped-def]
    from cuiban.models.database import open_engine
    from cuiban.notifications.render import Renderer
    from cuiban.notifications.transports import FileTransport
    from cuiban.services.tick_and_send import Delivery
    from cuiban.web.context import WebContext

    plan, calendar = load(plan_file)
    return WebContext(
        plan=plan, calendar=calendar, engine=open_engine(url), renderer=Renderer(plan.language),
        transport=FileTransport(folder / "outbox"), delivery=Delivery(), secret_key=SECRET,
        base_url="http://testserver", evidence_dir=folder / "evidence", clock=lambda: AT,
        plan_file=plan_file, send_in_background=False,
    )


def sign_in(client: Any, engine: Engine, plan: Any, person: str, base_url: str) -> Any:
    """`client` (a TestClient or an httpx.Client: its own cookies) signed in as `person` by a link."""
    from cuiban.services.sign_in import dev_link

    path = dev_link(engine, plan, AT, base_url, person).removeprefix(base_url)
    page = client.get(path)
    token = path.split("token=", 1)[1]
    found = CSRF.search(page.text)
    assert found, f"no CSRF field on the link page ({page.status_code})"
    answer = client.post("/sign-in/link", data={"token": token, "csrf": found.group(1)})
    assert answer.status_code == 303, f"sign-in as {person}: {answer.status_code} {answer.text[:200]}"
    return client


def ok(answer: Any) -> Any:
    assert answer.status_code == 200, f"{answer.request.url}: {answer.status_code} {answer.text[:300]}"
    return answer


def side_by_side(url: str, plan_file: Path, units: int, folder: Path, repeat: int, profile: bool) -> Side:
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

    from cuiban.schedules.digest import digest_data
    from cuiban.services import department
    from cuiban.web.app import create_app
    from cuiban.workflow.teacher_states import ALL_STATES, OUT_OF_SCOPE, states_at_least

    context = web_context(url, plan_file, folder)
    engine, plan, calendar = context.engine, context.plan, context.calendar
    app = create_app(context)
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    sign_in(client, engine, plan, plan.roles.coordinator, "http://testserver")
    unit, unit_teachers = middle_unit(engine, units)
    goal = department.unit_page(engine, plan, unit).goal
    states = [s for s in ALL_STATES if s not in states_at_least(goal) and s not in OUT_OF_SCOPE]
    marker = "?" if engine.dialect.name == "sqlite" else "%s"
    raw = raw_connection(engine)

    def digest() -> int:
        with engine.connect() as connection:
            return digest_data(connection, plan, calendar, AT)["totals"]["teachers"]

    work: dict[str, Callable[[], Any]] = {
        "dashboard page": lambda: len(ok(client.get("/dashboard")).content),
        "digest_data": digest,
        "figures (raw)": lambda: raw_figures(raw),
        "unit page": lambda: len(ok(client.get(f"/units/{unit}")).content),
        "unit_page": lambda: department.unit_page(engine, plan, unit).missing,
        "teachers (raw)": lambda: raw_teachers(raw, unit, states, marker),
    }
    timings = {label: timed(label, step, repeat) for label, step in work.items()}
    side = Side(timings, unit, unit_teachers, timings["teachers (raw)"].result)
    for page, base, path in (("dashboard page", "figures (raw)", "/dashboard"),
                             ("unit page", "teachers (raw)", f"/units/{unit}")):
        if profile or side.ratio(page, base) > GOAL:
            side.profiles[page] = profiled(app, client.cookies, path)
    raw.close()
    engine.dispose()
    return side


# ── the real server ─────────────────────────────────────────────────────────────


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`cuiban serve` in a process of its own, on 127.0.0.1, at the campaign moment AT."""

    def __init__(self, url: str, plan_file: Path, folder: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [
            str(Path(sys.executable).with_name("cuiban")), "serve", "--host", "127.0.0.1",
            "--port", str(self.port), "--now", AT.isoformat(), "--plan", str(plan_file), "--db", url,
        ]
        environment = {
            **os.environ, "CUIBAN_SECRET_KEY": SECRET, "CUIBAN_OUTBOX_DIR": str(folder / "outbox"),
            "CUIBAN_EVIDENCE_DIR": str(folder / "evidence"), "CUIBAN_BASE_URL": self.base_url,
        }
        self.log = (folder / "serve.log").open("w")
        self.process = subprocess.Popen(command, env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_until_up()

    def wait_until_up(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cuiban serve stopped: see {self.log.name}")
            try:
                if httpx.get(f"{self.base_url}/sign-in", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"cuiban serve did not answer in {seconds} s")

    def cpu(self) -> float:
        """The server's CPU seconds so far (utime + stime of /proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def browser(server: Server, engine: Engine, plan: Any, person: str) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, timeout=300, follow_redirects=False)
    return sign_in(client, engine, plan, person, server.base_url)


def served(server: Server, engine: Engine, plan: Any, unit: str, repeat: int) -> dict[str, Timing]:
    """The same two pages from the real server, one request at a time: wall here, CPU the server's."""
    client = browser(server, engine, plan, plan.roles.coordinator)
    pages = {"dashboard (served)": "/dashboard", "unit page (served)": f"/units/{unit}"}
    found = {
        label: timed(label, lambda path=path: len(ok(client.get(path)).content), repeat, server.cpu)
        for label, path in pages.items()
    }
    client.close()
    return found


# ── load ──────────────────────────────────────────────────────────────────────────


@dataclass
class Load:
    clients: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    server_cpu: float = 0.0
    server_peak_mb: float = 0.0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + len(self.errors)


Next = Callable[[], tuple[str, str]]


def mix(plan: Any, person: str, units: int, teachers: int, rng: random.Random) -> Next:
    """What one browser asks for next: the coordinator's pages, or a collector's own unit."""
    if person == plan.roles.coordinator:
        def coordinator() -> tuple[str, str]:
            kind = rng.choice(("dashboard", "unit page", "search", "timeline"))
            return kind, {
                "dashboard": "/dashboard",
                "unit page": f"/units/d{rng.randrange(units)}",
                "search": f"/teachers?q={rng.randrange(teachers):08d}",
                "timeline": "/timeline",
            }[kind]

        return coordinator
    n = int(person[1:])
    own = [f"{t:08d}" for t in range(n, min(teachers, n + 50 * units), units)]  # staff n, n+M, … are in d{n}

    def collector() -> tuple[str, str]:
        if rng.random() < 0.5:
            return "unit page", f"/units/d{n}"
        return "teacher page", f"/teachers/{rng.choice(own)}"

    return collector


def load_test(server: Server, engine: Engine, plan: Any, units: int, teachers: int, clients: int,
              duration: float) -> Load:
    people = [plan.roles.coordinator if i % 5 == 0 else f"c{(i * 37) % units}" for i in range(clients)]
    browsers = [browser(server, engine, plan, person) for person in people]
    found = Load(clients, duration)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = []

    def loop(client: httpx.Client, person: str, seed: int) -> None:
        following = mix(plan, person, units, teachers, random.Random(seed))
        start.wait()
        while time.monotonic() < stop_at[0]:
            kind, path = following()
            began = time.perf_counter()
            try:
                answer = client.get(path)
                problem = None
                if answer.status_code != 200:
                    problem = f"{path}: {answer.status_code} {answer.text[:200]}"
            except httpx.HTTPError as error:
                problem = f"{path}: {type(error).__name__} {error}"
            took = time.perf_counter() - began
            with lock:
                if problem:
                    found.errors.append(problem)
                else:
                    found.latencies.setdefault(kind, []).append(took)

    threads = [
        threading.Thread(target=loop, args=(c, p, n), daemon=True)
        for n, (c, p) in enumerate(zip(browsers, people, strict=True))
    ]
    for thread in threads:
        thread.start()
    cpu_before = server.cpu()
    began = time.monotonic()
    stop_at.append(began + duration)
    start.wait()
    for thread in threads:
        thread.join()
    found.seconds = time.monotonic() - began
    found.server_cpu = server.cpu() - cpu_before
    found.server_peak_mb = server.peak_mb()
    for client in browsers:
        client.close()
    return found


# ── the run and its report ───────────────────────────────────────────────────────


@dataclass
class Run:
    url: str
    teachers: int
    units: int
    built: list[Figure]
    side: Side
    served: dict[str, Timing]
    load: Load | None


def run(teachers: int, units: int, db: str | None = None, repeat: int = 5, clients: int = 50,
        duration: float = 60, fresh: bool = False, profile: bool = False) -> Run:
    url = store_url(db, teachers, units)
    with tempfile.TemporaryDirectory(prefix="cuiban-web-bench-") as name:
        folder = Path(name)
        plan_file = write_plan(folder / "plan.yaml", units)
        built: list[Figure] = []
        if fresh or not is_built(url, teachers):
            wipe(url)
            built = build(url, plan_file, teachers, units, folder)
        side = side_by_side(url, plan_file, units, folder, repeat, profile)
        from cuiban.models.database import open_engine

        engine = open_engine(url)
        plan, _ = load(plan_file)
        server = Server(url, plan_file, folder)
        try:
            from_server = served(server, engine, plan, side.unit, repeat)
            loaded = load_test(server, engine, plan, units, teachers, clients, duration) if clients else None
        except Exception:
            server.log.flush()
            print(f"cuiban serve said:\n{Path(server.log.name).read_text()[-5000:]}", file=sys.stderr)
            raise
        finally:
            server.stop()
            engine.dispose()
    return Run(url, teachers, units, built, side, from_server, loaded)


def where(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return "SQLite file, WAL"
    return f"PostgreSQL {parsed.host}:{parsed.port}/{parsed.database}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(found: Run) -> str:
    side = found.side
    lines = [
        f"web pages at {found.teachers:,} teachers over {found.units:,} units ({where(found.url)}), now {AT}",
    ]
    if found.built:
        lines.append("built: " + ", ".join(f"{f.step} {f.seconds:.1f} s" for f in found.built))
    lines += [
        f"unit {side.unit}: {side.unit_teachers} teachers, {side.unfinished} unfinished",
        f"{'side':<22}{'wall s':>9}{'CPU s':>9}   median of {len(side.timings['unit page'].runs)}",
    ]
    bases = {"dashboard page": "figures (raw)", "digest_data": "figures (raw)", "unit page": "teachers (raw)",
             "unit_page": "teachers (raw)", "dashboard (served)": "figures (raw)",
             "unit page (served)": "teachers (raw)"}
    for label, timing in {**side.timings, **found.served}.items():
        base = bases.get(label)
        ratio = f"   {timing.wall / side.timings[base].wall:.1f}× raw" if base else ""
        lines.append(f"{label:<22}{timing.wall:>9.4f}{timing.cpu:>9.4f}{ratio}")
    lines.append("(served: wall seen by the client, CPU of the server process)")
    for page, base in (("dashboard page", "figures (raw)"), ("unit page", "teachers (raw)")):
        ratio = side.ratio(page, base)
        verdict = "met" if ratio <= GOAL else "NOT met"
        lines.append(f"goal: {page} within {GOAL:.0f}× of {base}: {ratio:.2f}× — {verdict}")
    load_ = found.load
    if load_ is not None:
        everything = [t for v in load_.latencies.values() for t in v]
        lines += [
            f"load: {load_.clients} clients for {load_.seconds:.1f} s against cuiban serve "
            "(uvicorn, one process)",
            f"requests {load_.requests}, errors {len(load_.errors)}, "
            f"{load_.requests / load_.seconds:.1f} requests/s, "
            f"server CPU {load_.server_cpu:.1f} s, server peak {load_.server_peak_mb:.0f} MB",
            f"{'page':<16}{'count':>8}{'p50 s':>9}{'p95 s':>9}{'max s':>9}",
        ]
        for kind, values in sorted(load_.latencies.items()) + [("all", everything)]:
            lines.append(
                f"{kind:<16}{len(values):>8}{percentile(values, 0.5):>9.3f}{percentile(values, 0.95):>9.3f}"
                f"{max(values, default=0):>9.3f}"
            )
        lines += [f"error: {e}" for e in load_.errors[:10]]
    for page, text_ in side.profiles.items():
        lines += [f"── profile of one {page} ──", text_]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--db", metavar="URL",
                        help="a SQLite URL, or a PostgreSQL server (a schema of its own, kept)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed runs of each side (default 5), after one warm-up")
    parser.add_argument("--clients", type=int, default=50, help="browsers at once (0: no load test)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--fresh", action="store_true", help="build the database again even if it is there")
    parser.add_argument("--profile", action="store_true",
                        help="profile one request of each page (always when a goal is not met)")
    args = parser.parse_args(argv)
    found = run(args.teachers, args.units, args.db, args.repeat, args.clients, args.duration, args.fresh,
                args.profile)
    print(report(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
