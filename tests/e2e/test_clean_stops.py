"""SIGTERM and SIGINT to `roster import`, `sync` and `tick` as real processes: the transaction rolls back,
the import's checker processes are ended, one sentence, exit 143 (130), and nothing is left behind."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pendulum
import pytest

from cuiban.models.database import open_engine
from cuiban.planfile.loader import load_plan
from cuiban.services.roster_import import import_roster
from tests.conftest import SHIPPED_PLAN
from tests.factories import ROSTER_HEADER, teacher_row, write_csv

ROOT = Path(__file__).resolve().parents[2]
IMPORT_ROWS = 150_000
"""Enough for an import of several seconds: the signal comes while it writes."""
BASE_TEACHERS = 100_000
"""The database `sync` and `tick` are stopped on: their transactions take a second or more."""

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")


def _roster(path: Path, rows: int) -> Path:
    plan, _ = load_plan(SHIPPED_PLAN)
    names = [plan.units[uid].name for uid in plan.departments()]
    return write_csv(path, ROSTER_HEADER, [teacher_row(n, names[n % len(names)]) for n in range(1, rows + 1)])


@pytest.fixture(scope="module")
def big_roster(tmp_path_factory) -> Path:
    return _roster(tmp_path_factory.mktemp("roster") / "roster.csv", IMPORT_ROWS)


@pytest.fixture(scope="module")
def base_database(tmp_path_factory) -> Path:
    """A database holding BASE_TEACHERS teachers, imported once for the module."""
    folder = tmp_path_factory.mktemp("stops")
    roster = _roster(folder / "roster.csv", BASE_TEACHERS)
    plan, calendar = load_plan(SHIPPED_PLAN)
    engine = open_engine(f"sqlite:///{folder / 'base.sqlite3'}")
    import_roster(engine, plan, calendar, roster, pendulum.datetime(2016, 11, 28, 8, tz="Asia/Shanghai"))
    engine.dispose()
    return folder / "base.sqlite3"


def _copy(base: Path, target: Path) -> Path:
    shutil.copyfile(base, target)
    return target


def _env(db: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CUIBAN_PLAN": str(SHIPPED_PLAN),
        "CUIBAN_DB": f"sqlite:///{db}",
        "CUIBAN_SMTP_HOST": "",
        "CUIBAN_OUTBOX_DIR": str(db.parent / "outbox"),
    }


def _start(db: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cuiban.cli.main", *args],
        env=_env(db),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_writing(db: Path, process: subprocess.Popen, held: float = 0.3, timeout: float = 60) -> None:
    """Until the command has held the database's write lock for `held` seconds: it is inside its
    main transaction (not a short one of bookkeeping, such as taking a lease)."""
    deadline = time.monotonic() + timeout
    since = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the command ended before it could be stopped: {process.communicate()}")
        probe = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            since = None
        except sqlite3.OperationalError:  # locked: the command is writing
            since = since or time.monotonic()
            if time.monotonic() - since >= held:
                return
        finally:
            probe.close()
        time.sleep(0.02)
    pytest.fail("the command never started writing")


def _children(pid: int) -> set[int]:
    """Processes whose parent is `pid` (from /proc/*/stat)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _stop(process: subprocess.Popen, signum: int) -> tuple[str, str]:
    process.send_signal(signum)
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"still running 30 s after {signal.Signals(signum).name}")


def _count(db: Path, sql: str) -> int:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stopped_roster_import_writes_nothing_and_leaves_no_checker_behind(
    tmp_path: Path, big_roster: Path, signum: int, code: int
) -> None:
    roster = big_roster
    db = tmp_path / "cuiban.sqlite3"
    open_engine(f"sqlite:///{db}").dispose()  # migrated: the first write is the import's
    process = _start(db, "roster", "import", str(roster), "--now", "2016-11-28T08:00+08:00")
    _wait_until_writing(db, process)
    time.sleep(1)  # a few batches in
    checkers = _children(process.pid)
    assert len(checkers) == 2, checkers  # the two processes checking the file while this one writes

    out, err = _stop(process, signum)

    assert process.returncode == code, err
    name = signal.Signals(signum).name
    assert err.strip().splitlines()[-1] == f"stopped by {name}; nothing was changed"
    assert "Traceback" not in err + out
    assert _count(db, "SELECT count(*) FROM teacher") == 0
    assert _count(db, "SELECT count(*) FROM transition_log") == 0
    left = [pid for pid in checkers if Path(f"/proc/{pid}").exists()]
    assert not left, f"checker processes left behind: {left}"


def test_a_checker_dies_with_its_parent_even_when_the_parent_is_killed(
    tmp_path: Path, big_roster: Path
) -> None:
    roster = big_roster
    db = tmp_path / "cuiban.sqlite3"
    open_engine(f"sqlite:///{db}").dispose()
    process = _start(db, "roster", "import", str(roster), "--now", "2016-11-28T08:00+08:00")
    _wait_until_writing(db, process)
    checkers = _children(process.pid)
    assert len(checkers) == 2, checkers
    process.kill()  # no clean-up at all: the checkers are sent SIGTERM by the kernel (PR_SET_PDEATHSIG)
    process.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in checkers):
        time.sleep(0.1)
    assert not [pid for pid in checkers if _alive(pid)]
    assert _count(db, "SELECT count(*) FROM teacher") == 0


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_stopped_sync_changes_no_record(tmp_path: Path, base_database: Path) -> None:
    db = _copy(base_database, tmp_path / "cuiban.sqlite3")
    export = tmp_path / "status-2016-12-01.csv"
    moves = ("未填报", "填报中", "已提交")
    write_csv(
        export,
        ["工号", "姓名", "填报状态"],
        [[f"{n:06d}", "x", moves[n % 3]] for n in range(1, BASE_TEACHERS + 1)],
    )
    states = "SELECT count(*) FROM teacher WHERE state NOT IN ('pending', 'excluded')"
    logged = _count(db, "SELECT count(*) FROM transition_log")
    assert _count(db, states) == 0

    process = _start(db, "sync", str(export), "--now", "2016-12-01T08:00+08:00")
    _wait_until_writing(db, process)
    out, err = _stop(process, signal.SIGTERM)

    assert process.returncode == 143, err
    assert err.strip().splitlines()[-1] == "stopped by SIGTERM; nothing was changed"
    assert "Traceback" not in err + out
    assert _count(db, states) == 0
    assert _count(db, "SELECT count(*) FROM transition_log") == logged


def test_a_stopped_tick_keeps_whole_chunks_and_the_next_tick_completes_it(
    tmp_path: Path, base_database: Path
) -> None:
    """A tick commits in short chunks (issue 15: no other writer waits for a whole tick), so a stopped
    tick keeps the chunks it committed — whole ones only, nothing sent — and the next tick completes
    it to exactly what an uninterrupted tick queues and moves."""
    db = _copy(base_database, tmp_path / "cuiban.sqlite3")
    twin = _copy(base_database, tmp_path / "twin.sqlite3")
    now = ("--now", "2016-12-16T09:30+08:00")
    assert _start(twin, "tick", "--no-send", *now).wait(timeout=120) == 0  # the uninterrupted tick

    process = _start(db, "tick", "--no-send", *now)
    # stop it once it has committed something (or at once, if it ends first: then nothing to test)
    while process.poll() is None and _count(db, "SELECT count(*) FROM outbox") == 0:
        time.sleep(0.005)
    out, err = _stop(process, signal.SIGTERM) if process.poll() is None else process.communicate()
    assert process.returncode in (0, 143), err
    assert "Traceback" not in err + out
    if process.returncode == 143:
        assert err.strip().splitlines()[-1].startswith("stopped by SIGTERM; ")

    assert _start(db, "tick", "--no-send", *now).wait(timeout=120) == 0  # completes it
    keys = "SELECT group_concat(key, ',') FROM (SELECT key FROM outbox ORDER BY key)"
    tasks = "SELECT group_concat(state || escalation_level, ',') FROM (SELECT * FROM task ORDER BY id)"
    assert _count(db, keys) == _count(twin, keys) and _count(db, tasks) == _count(twin, tasks)
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").iterdir())
