"""Operational errors: one sentence naming the thing and what to do, exit 2 for input and settings,
1 for the environment, no traceback unless --debug, and never a password."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cuiban.cli.main import cuiban
from cuiban.cli.replay_commands import SAMPLE
from tests.conftest import PG_URL, SHIPPED_PLAN

ROOT = Path(__file__).resolve().parents[2]
NOW = ("--now", "2016-12-01T10:00+08:00")
ROSTER = str(SAMPLE / "roster.csv")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CUIBAN_PLAN": str(SHIPPED_PLAN),
        "CUIBAN_DB": f"sqlite:///{tmp_path / 'cuiban.sqlite3'}",
        "CUIBAN_OUTBOX_DIR": str(tmp_path / "outbox"),
        "CUIBAN_SMTP_HOST": "",
        "CUIBAN_SMTP_PORT": "",
        "CUIBAN_SMTP_SECURITY": "",
        "CUIBAN_SMTP_RATE": "",
        "CUIBAN_MAIL_FROM": "",
        "CUIBAN_DB_BUSY_TIMEOUT": "",
        "CUIBAN_DEBUG": "",
    }


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cuiban, list(args), env=env)


def refused(result: Result, code: int, *words: str) -> str:
    """The one line on stderr, after checking the exit code and that no traceback was shown."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _imported(env: dict[str, str]) -> None:
    assert invoke(env, "roster", "import", ROSTER, "--now", "2016-11-28T08:00+08:00").exit_code == 0


# ── the database ──


@pytest.mark.parametrize(
    "args",
    [
        ("roster", "import", ROSTER, *NOW),
        ("sync", str(SAMPLE / "status" / "status-2016-12-01.csv"), *NOW),
        ("tick", "--no-send", *NOW),
    ],
    ids=["roster-import", "sync", "tick"],
)
def test_a_locked_sqlite_database(env: dict[str, str], tmp_path: Path, args: tuple[str, ...]) -> None:
    _imported(env)
    holder = sqlite3.connect(tmp_path / "cuiban.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write transaction, held open
    try:
        result = invoke({**env, "CUIBAN_DB_BUSY_TIMEOUT": "0.2"}, *args)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    refused(result, 1, "cuiban.sqlite3 is locked by another process", "0.2 s", "CUIBAN_DB_BUSY_TIMEOUT")


def test_a_postgresql_server_that_is_down_or_on_the_wrong_port(env: dict[str, str]) -> None:
    url = "postgresql+psycopg://cuiban:s3cret-pw@127.0.0.1:1/cuiban"
    result = invoke(env, "task", "list", "--db", url)
    line = refused(result, 1, "cannot reach the database", "cuiban:***@127.0.0.1:1/cuiban", "server running")
    assert "s3cret-pw" not in result.output and "s3cret-pw" not in line


def test_a_postgresql_database_that_does_not_exist(env: dict[str, str]) -> None:
    if not PG_URL:
        pytest.skip("no PostgreSQL server (CUIBAN_TEST_PG_URL)")
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL).set(database="no_such_database_here", password="s3cret-pw")
    result = invoke(env, "task", "list", "--db", url.render_as_string(hide_password=False))
    refused(result, 2, 'database "no_such_database_here" does not exist', "create it or fix the name")
    assert "s3cret-pw" not in result.output


def test_a_read_only_postgresql_database(env: dict[str, str]) -> None:
    if not PG_URL:
        pytest.skip("no PostgreSQL server (CUIBAN_TEST_PG_URL)")
    url = PG_URL + ("&" if "?" in PG_URL else "?") + "options=-cdefault_transaction_read_only%3Don"
    result = invoke(env, "tick", "--no-send", "--db", url, *NOW)
    refused(result, 1, "cannot write to the database", "reads only")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("garbage", ("--db 'garbage' is not a database URL", "sqlite:///FILE")),
        ("foo://x", ("cannot open a 'foo' database", "postgresql+psycopg://")),
        ("mysql://root:s3cret-pw@localhost/x", ("needs the Python module", "root:***@localhost")),
    ],
    ids=["garbage", "unknown-kind", "driver-missing"],
)
def test_a_bad_database_url(env: dict[str, str], url: str, words: tuple[str, ...]) -> None:
    result = invoke(env, "task", "list", "--db", url)
    refused(result, 2, *words)
    assert "s3cret-pw" not in result.output


def test_a_bad_database_url_in_the_environment(env: dict[str, str]) -> None:
    result = invoke({**env, "CUIBAN_DB": "garbage"}, "task", "list")
    refused(result, 2, "$CUIBAN_DB 'garbage' is not a database URL")


def test_a_sqlite_file_in_a_missing_folder(env: dict[str, str], tmp_path: Path) -> None:
    result = invoke(env, "task", "list", "--db", f"sqlite:///{tmp_path / 'nope' / 'cuiban.sqlite3'}")
    refused(result, 2, f"the folder {tmp_path / 'nope'} does not exist", "create the folder")
    assert not (tmp_path / "nope").exists()


def test_a_sqlite_url_naming_a_folder(env: dict[str, str], tmp_path: Path) -> None:
    refused(
        invoke(env, "task", "list", "--db", f"sqlite:///{tmp_path}"), 2, "names the folder", "SQLite file"
    )


def test_a_sqlite_database_opened_read_only(env: dict[str, str], tmp_path: Path) -> None:
    _imported(env)
    url = f"sqlite:///file:{tmp_path / 'cuiban.sqlite3'}?mode=ro&uri=true"
    refused(
        invoke(env, "tick", "--no-send", "--db", url, *NOW), 1, "cannot write to the database", "read-only"
    )


# ── read-only files and folders: as another user when the tests run as root (root writes anywhere) ──


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder every user may enter (pytest's tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="cuiban-ro-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


def _as_unprivileged(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot drop the privilege to write anywhere")
        closed = [str(d) for d in (ROOT, *ROOT.parents) if not d.stat().st_mode & stat.S_IXOTH]
        if closed:  # `mktemp -d` makes a 0700 folder: another user cannot import cuiban from the checkout
            pytest.skip(f"the checkout is not open to other users ({closed[0]} is private to its owner)")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "cuiban.cli.main", *args],
        env={**os.environ, **env, "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(process: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert process.returncode == code, (process.returncode, process.stdout, process.stderr)
    assert "Traceback" not in process.stderr + process.stdout
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_a_read_only_database_file(env: dict[str, str], shared_folder: Path) -> None:
    db = shared_folder / "cuiban.sqlite3"
    _imported({**env, "CUIBAN_DB": f"sqlite:///{db}"})
    shared_folder.chmod(0o777)  # the folder is writable: only the file is not
    db.chmod(0o444)
    process = _as_unprivileged({**env, "CUIBAN_DB": f"sqlite:///{db}"}, "tick", "--no-send", *NOW)
    _one_line(process, 1, f"cannot write to the database {db}", "the file is read-only")


def test_a_database_in_a_read_only_folder(env: dict[str, str], shared_folder: Path) -> None:
    db = shared_folder / "cuiban.sqlite3"
    _imported({**env, "CUIBAN_DB": f"sqlite:///{db}"})
    db.chmod(0o666)  # the file is writable, but SQLite's journal goes beside it
    shared_folder.chmod(0o555)
    process = _as_unprivileged({**env, "CUIBAN_DB": f"sqlite:///{db}"}, "tick", "--no-send", *NOW)
    _one_line(process, 1, f"its folder {shared_folder} is read-only", "cuiban.sqlite3-wal")


def test_a_new_database_in_a_read_only_folder(env: dict[str, str], shared_folder: Path) -> None:
    shared_folder.chmod(0o555)
    db = shared_folder / "new.sqlite3"
    process = _as_unprivileged({**env, "CUIBAN_DB": f"sqlite:///{db}"}, "task", "list")
    _one_line(process, 1, f"cannot create the SQLite database {db}", "not writable")


# ── paths ──


def test_plan_pointing_at_a_folder(env: dict[str, str], tmp_path: Path) -> None:
    refused(
        invoke(env, "tick", "--plan", str(tmp_path), *NOW), 2, f"--plan {tmp_path} is a folder", "plan.yaml"
    )
    refused(invoke({**env, "CUIBAN_PLAN": str(tmp_path)}, "tick", *NOW), 2, "$CUIBAN_PLAN", "is a folder")


def test_plan_pointing_at_a_missing_file(env: dict[str, str], tmp_path: Path) -> None:
    result = invoke(env, "tick", "--plan", str(tmp_path / "nope.yaml"), *NOW)
    refused(result, 2, f"--plan {tmp_path / 'nope.yaml'}: no such file")
    assert not (tmp_path / "cuiban.sqlite3").exists()  # refused before the database was opened


def test_report_output_that_is_a_folder(env: dict[str, str], tmp_path: Path) -> None:
    _imported(env)
    folder = tmp_path / "forms"
    folder.mkdir()
    result = invoke(env, "report", "dept-audit", "-o", str(folder), *NOW)
    refused(result, 2, f"-o {folder} is a folder", "name the file", "--each")
    assert not any(folder.iterdir())


def test_report_each_into_a_file(env: dict[str, str], tmp_path: Path) -> None:
    _imported(env)
    file = tmp_path / "forms.xlsx"
    file.write_bytes(b"keep")
    result = invoke(env, "report", "dept-audit", "--each", "-o", str(file), *NOW)
    refused(result, 2, f"-o {file} is a file", "--each")
    assert file.read_bytes() == b"keep"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("day,milestone\n2016-12-01,hr_roster\n", ("no column date, unit", "date,milestone,unit[,by]")),
        ("date,milestone,unit\n2016-13-01,hr_roster,hr\n", ("row 2", "'2016-13-01' is not a date")),
        ("date,milestone,unit\n2016-12-01,,hr\n", ("row 2", "milestone or the unit is empty")),
    ],
    ids=["columns", "date", "empty"],
)
def test_simulate_done_with_a_wrong_file(env: dict[str, str], tmp_path: Path, content: str, words) -> None:
    done = tmp_path / "done.csv"
    done.write_text(content, encoding="utf-8")
    result = invoke(env, "simulate", "--from", "2016-11-28", "--to", "2016-11-30", "--done", str(done))
    refused(result, 2, f"--done {done}", *words)
    assert "date " not in result.stdout  # refused before the replay printed anything


def test_simulate_done_that_is_not_utf8(env: dict[str, str], tmp_path: Path) -> None:
    done = tmp_path / "done.csv"
    done.write_bytes("date,milestone,unit\n2016-12-01,hr_roster,人事处\n".encode("gbk"))
    result = invoke(env, "simulate", "--from", "2016-11-28", "--to", "2016-11-30", "--done", str(done))
    refused(result, 2, "is not UTF-8 text")


# ── settings ──

SMTP = {"CUIBAN_SMTP_HOST": "smtp.school.example", "CUIBAN_MAIL_FROM": "cuiban@school.example"}


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({**SMTP, "CUIBAN_SMTP_PORT": "abc"}, ("CUIBAN_SMTP_PORT is 'abc'", "port number")),
        ({"CUIBAN_SMTP_RATE": "x"}, ("CUIBAN_SMTP_RATE is 'x'", "messages a minute")),
        ({**SMTP, "CUIBAN_SMTP_SECURITY": "tls"}, ("CUIBAN_SMTP_SECURITY is 'tls'", "ssl", "starttls")),
        ({**SMTP, "CUIBAN_MAIL_FROM": ""}, ("CUIBAN_MAIL_FROM is not", "set CUIBAN_MAIL_FROM")),
        ({"CUIBAN_DB_BUSY_TIMEOUT": "soon"}, ("CUIBAN_DB_BUSY_TIMEOUT is 'soon'", "seconds")),
    ],
    ids=["port", "rate", "security", "mail-from", "busy-timeout"],
)
def test_bad_settings(env: dict[str, str], tmp_path: Path, settings: dict[str, str], words) -> None:
    result = invoke({**env, **settings}, "tick", *NOW)
    refused(result, 2, *words)
    assert not (tmp_path / "cuiban.sqlite3").exists()  # refused before anything was done


# ── the unexpected ──


def _boom(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise ZeroDivisionError("postgresql+psycopg://cuiban:s3cret-pw@db.example/cuiban went to zero")


def test_an_unexpected_error_is_one_sentence_and_points_at_debug(env: dict[str, str], monkeypatch) -> None:
    monkeypatch.setattr("cuiban.cli.bootstrap.read_plan", _boom)
    line = refused(invoke(env, "tick", *NOW), 1, "ZeroDivisionError", "run with --debug for details")
    assert "s3cret-pw" not in line and "cuiban:***@db.example" in line


@pytest.mark.parametrize("how", ["option", "environment"])
def test_debug_shows_the_traceback_without_the_password(env: dict[str, str], monkeypatch, how: str) -> None:
    monkeypatch.setattr("cuiban.cli.bootstrap.read_plan", _boom)
    if how == "option":
        result = invoke(env, "--debug", "tick", *NOW)
    else:
        result = invoke({**env, "CUIBAN_DEBUG": "1"}, "tick", *NOW)
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "ZeroDivisionError" in result.stderr
    assert "s3cret-pw" not in result.output
    assert result.stderr.strip().splitlines()[-1].startswith("cuiban failed: ZeroDivisionError")


def test_the_real_process_exit_code_and_streams() -> None:
    """Outside click's runner: the exit status the shell sees, nothing on stdout, one line on stderr."""
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "cuiban.cli.main",
            "task",
            "list",
            "--db",
            "postgresql+psycopg://u:s3cret-pw@127.0.0.1:1/x",
        ],
        env={**os.environ, "CUIBAN_PLAN": str(SHIPPED_PLAN)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 1 and process.stdout == ""
    assert process.stderr.count("\n") == 1 and "cannot reach the database" in process.stderr
    assert "s3cret-pw" not in process.stderr and "Traceback" not in process.stderr
