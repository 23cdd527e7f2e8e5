"""Who mail comes from and where replies go, from the command line: CUIBAN_MAIL_FROM and
CUIBAN_MAIL_REPLY_TO win over the plan's `mail`; with neither, the .eml files come from cuiban@ the
coordinator's domain; with SMTP configured a sender on localhost (or none at all) is refused in
one sentence, exit 2, before the database is touched."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cuiban.cli.errors import SettingsError
from cuiban.cli.settings import Settings
from cuiban.notifications.transports import mail_identity
from cuiban.planfile.loader import load_plan
from tests.conftest import SHIPPED_PLAN

NOW = "2016-11-29T09:30+08:00"
"""附表4's first reminder (to 程兴) goes out that morning."""


def _cuiban(tmp_path: Path, plan: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUIBAN_")}
    env.update(
        CUIBAN_PLAN=str(plan),
        CUIBAN_DB=f"sqlite:///{tmp_path / 'cuiban.sqlite3'}",
        CUIBAN_OUTBOX_DIR=str(tmp_path / "outbox"),
        **variables,
    )
    command = [sys.executable, "-m", "cuiban.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _plan_with_mail(tmp_path: Path, mail: str) -> Path:
    plan = tmp_path / "plan.yaml"
    plan.write_text(SHIPPED_PLAN.read_text(encoding="utf-8") + f"\nmail: {mail}\n", encoding="utf-8")
    return plan


def _sentence(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    for word in words:
        assert word in line, (word, line)
    return line


SMTP = {"CUIBAN_SMTP_HOST": "127.0.0.1", "CUIBAN_SMTP_PORT": "2525"}


@pytest.mark.parametrize("sender", ["cuiban@localhost", "cuiban@mail.localhost", "cuiban@localhost.example"])
def test_smtp_refuses_a_sender_on_localhost_from_the_environment(sender: str) -> None:
    with pytest.raises(SettingsError, match="an address on localhost") as refused:
        Settings.from_environment({**SMTP, "CUIBAN_MAIL_FROM": sender})
    assert sender in str(refused.value) and refused.value.exit_code == 2
    assert Settings.from_environment({"CUIBAN_MAIL_FROM": sender}).smtp is None  # .eml files: no server


def test_the_command_refuses_it_in_one_sentence_before_touching_the_database(tmp_path: Path) -> None:
    localhost = {**SMTP, "CUIBAN_MAIL_FROM": "cuiban@localhost"}
    result = _cuiban(tmp_path, SHIPPED_PLAN, "tick", "--now", NOW, **localhost)
    _sentence(result, "CUIBAN_MAIL_FROM", "cuiban@localhost", "localhost")
    plan = _plan_with_mail(tmp_path, "{sender: cuiban@localhost.example}")
    _sentence(_cuiban(tmp_path, plan, "tick", "--now", NOW, **SMTP), "mail.sender", "localhost")
    assert not (tmp_path / "cuiban.sqlite3").exists()  # refused before anything was done


def test_smtp_needs_a_sender_from_the_environment_or_the_plan(tmp_path: Path) -> None:
    shipped, _ = load_plan(SHIPPED_PLAN)  # names no sender
    settings = Settings.from_environment(SMTP)
    with pytest.raises(SettingsError, match="CUIBAN_MAIL_FROM is not"):
        settings.smtp_as(mail_identity(shipped))
    plan, _ = load_plan(_plan_with_mail(tmp_path, "{sender: jsfz@hebcm.example}"))
    smtp = settings.smtp_as(mail_identity(plan))
    assert smtp is not None and smtp.sender == "jsfz@hebcm.example"


def _sent(tmp_path: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((tmp_path / "outbox").glob("*.eml"))
    ]


def test_the_eml_files_come_from_the_plans_sender_or_the_environments(tmp_path: Path) -> None:
    plan = _plan_with_mail(
        tmp_path, "{sender: jsfz@hebcm.example, sender_name: 教师发展中心, reply_to: tdc@hebcm.example}"
    )
    result = _cuiban(tmp_path / "a", plan, "tick", "--now", NOW)
    assert result.returncode == 0, result.stderr
    sent = _sent(tmp_path / "a")
    assert sent
    for message in sent:
        (sender,) = message["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ("教师发展中心", "jsfz@hebcm.example")
        assert message["Reply-To"].addresses[0].addr_spec == "tdc@hebcm.example"
    # the environment wins; with no plan sender either, cuiban@ the coordinator's domain
    result = _cuiban(
        tmp_path / "b", plan, "tick", "--now", NOW,
        CUIBAN_MAIL_FROM="notice@hebcm.example", CUIBAN_MAIL_REPLY_TO="office@hebcm.example",
    )
    assert result.returncode == 0, result.stderr
    for message in _sent(tmp_path / "b"):
        assert message["From"].addresses[0].addr_spec == "notice@hebcm.example"
        assert message["Reply-To"].addresses[0].addr_spec == "office@hebcm.example"
    # with neither: cuiban@ the coordinator's domain, no Reply-To
    identity = mail_identity(load_plan(SHIPPED_PLAN)[0])
    assert (identity.sender, identity.reply_to, identity.chosen) == ("cuiban@hebcm.example", None, False)
