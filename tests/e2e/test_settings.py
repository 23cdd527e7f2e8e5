"""Settings are read once, up front, by the real `cuiban` process: a bad value is one sentence and exit 2.

Issue 11's acceptance: `CUIBAN_SMTP_PORT=abc cuiban tick` and `CUIBAN_SMTP_RATE=x cuiban
run` name the variable, even with no SMTP server set (the command would write .eml
files and never use either), and nothing is done before the refusal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHIPPED_PLAN

NOW = "2016-12-01T10:00+08:00"


def cuiban(tmp_path: Path, settings: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUIBAN_")}
    env |= {
        "CUIBAN_PLAN": str(SHIPPED_PLAN),
        "CUIBAN_DB": f"sqlite:///{tmp_path / 'cuiban.sqlite3'}",
        "CUIBAN_OUTBOX_DIR": str(tmp_path / "outbox"),
        **settings,
    }
    command = [sys.executable, "-m", "cuiban.cli.main", *args]
    return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def one_sentence(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.mark.parametrize(
    ("settings", "args", "words"),
    [
        ({"CUIBAN_SMTP_PORT": "abc"}, ("tick", "--now", NOW), ("CUIBAN_SMTP_PORT is 'abc'", "1-65535")),
        ({"CUIBAN_SMTP_RATE": "x"}, ("run", "--every", "1"), ("CUIBAN_SMTP_RATE is 'x'", "a whole number")),
        ({"CUIBAN_SMTP_SECURITY": "tls"}, ("outbox", "send"), ("CUIBAN_SMTP_SECURITY is 'tls'", "starttls")),
        ({"CUIBAN_DB_BUSY_TIMEOUT": "-1"}, ("task", "list"), ("CUIBAN_DB_BUSY_TIMEOUT is '-1'", "seconds")),
        ({"CUIBAN_DEBUG": "maybe"}, ("plan", "check"), ("CUIBAN_DEBUG is 'maybe'", "1")),
        ({"CUIBAN_MAIL_FROM": "nobody"}, ("digest",), ("CUIBAN_MAIL_FROM is 'nobody'", "e-mail address")),
    ],
    ids=["port-tick", "rate-run", "security-send", "busy-timeout", "debug", "mail-from"],
)
def test_a_bad_setting_is_one_sentence_and_exit_2(
    tmp_path: Path, settings: dict[str, str], args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    one_sentence(cuiban(tmp_path, settings, *args), *words)
    assert not (tmp_path / "cuiban.sqlite3").exists()  # refused before anything was done
    assert not (tmp_path / "outbox").exists()


def test_the_password_is_never_shown(tmp_path: Path) -> None:
    settings = {
        "CUIBAN_SMTP_HOST": "smtp.school.example",
        "CUIBAN_SMTP_PASSWORD": "s3cret-pw",
        "CUIBAN_SMTP_PORT": "99999",
        "CUIBAN_MAIL_FROM": "cuiban@school.example",
    }
    line = one_sentence(cuiban(tmp_path, settings, "tick", "--now", NOW), "CUIBAN_SMTP_PORT is '99999'")
    assert "s3cret-pw" not in line


def test_good_settings_are_used(tmp_path: Path) -> None:
    """CUIBAN_DB, CUIBAN_PLAN and CUIBAN_OUTBOX_DIR from the environment reach the command."""
    done = cuiban(tmp_path, {"CUIBAN_SMTP_RATE": "600", "CUIBAN_DB_BUSY_TIMEOUT": "5"}, "tick", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cuiban.sqlite3").exists()
    assert "tasks:" in done.stdout


def test_a_commands_help_is_shown_whatever_the_settings(tmp_path: Path) -> None:
    """Someone fixing a bad setting can still read how the command is used."""
    done = cuiban(tmp_path, {"CUIBAN_SMTP_PORT": "abc"}, "tick", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage:") and "--now" in done.stdout
    assert not (tmp_path / "cuiban.sqlite3").exists()
