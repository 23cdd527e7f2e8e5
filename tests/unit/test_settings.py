"""`Settings.from_environment`: every CUIBAN_* variable typed, a bad one refused naming it, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from cuiban.cli.errors import EXIT_INVALID, SettingsError
from cuiban.cli.settings import Settings


def test_nothing_set_means_the_defaults() -> None:
    settings = Settings.from_environment({})
    assert settings == Settings()
    assert settings.plan_path == "config/plan.yaml" and settings.outbox_dir == Path("outbox")
    assert settings.smtp is None and settings.send_rate is None and settings.busy_timeout is None
    assert not settings.debug


def test_every_variable_is_read() -> None:
    settings = Settings.from_environment(
        {
            "CUIBAN_DB": "sqlite:///x.sqlite3",
            "CUIBAN_PLAN": "plan.yaml",
            "CUIBAN_OUTBOX_DIR": "mail",
            "CUIBAN_SMTP_HOST": "smtp.school.example",
            "CUIBAN_SMTP_PORT": "2525",
            "CUIBAN_SMTP_USER": "cuiban",
            "CUIBAN_SMTP_PASSWORD": " s3cret pw ",
            "CUIBAN_SMTP_SECURITY": "starttls",
            "CUIBAN_MAIL_FROM": "cuiban@school.example",
            "CUIBAN_SMTP_RATE": "30",
            "CUIBAN_DB_BUSY_TIMEOUT": "2.5",
            "CUIBAN_DEBUG": "yes",
        }
    )
    assert (settings.db, settings.plan_path) == ("sqlite:///x.sqlite3", "plan.yaml")
    assert settings.outbox_dir == Path("mail")
    assert (settings.send_rate, settings.busy_timeout, settings.debug) == (30, 2.5, True)
    smtp = settings.smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.user, smtp.security, smtp.sender) == (
        "smtp.school.example", 2525, "cuiban", "starttls", "cuiban@school.example"
    )
    assert smtp.password == " s3cret pw "  # a password's spaces are its own


@pytest.mark.parametrize(("security", "port"), [("ssl", 465), ("starttls", 587), ("none", 25), ("", 465)])
def test_the_port_follows_the_security_unless_set(security: str, port: int) -> None:
    environ = {"CUIBAN_SMTP_HOST": "h", "CUIBAN_MAIL_FROM": "a@b", "CUIBAN_SMTP_SECURITY": security}
    smtp = Settings.from_environment(environ).smtp
    assert smtp is not None and smtp.port == port


def test_the_passwords_are_not_in_any_repr() -> None:
    settings = Settings.from_environment(
        {
            "CUIBAN_SMTP_PASSWORD": "s3cret-pw",
            "CUIBAN_SMTP_HOST": "smtp.example",
            "CUIBAN_MAIL_FROM": "a@school.example",
            "CUIBAN_DB": "postgresql+psycopg://cuiban:db-s3cret@db.example/cuiban",
        }
    )
    shown = [repr(settings), str(settings), repr(settings.smtp), str(settings.smtp)]
    assert not [text for text in shown if "s3cret" in text]


@pytest.mark.parametrize("value", ["²", "-1", "1.5"])
def test_a_rate_that_only_looks_like_digits_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="CUIBAN_SMTP_RATE"):
        Settings.from_environment({"CUIBAN_SMTP_RATE": value})


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().db = "sqlite://"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value", "accepts"),
    [
        ("CUIBAN_SMTP_PORT", "abc", "1-65535"),
        ("CUIBAN_SMTP_PORT", "0", "1-65535"),
        ("CUIBAN_SMTP_PORT", "70000", "1-65535"),
        ("CUIBAN_SMTP_RATE", "x", "whole number"),
        ("CUIBAN_SMTP_RATE", "-5", "whole number"),
        ("CUIBAN_SMTP_SECURITY", "tls", "ssl (port 465), starttls (port 587) or none (port 25)"),
        ("CUIBAN_MAIL_FROM", "nobody", "e-mail address"),
        ("CUIBAN_DB_BUSY_TIMEOUT", "soon", "number of seconds"),
        ("CUIBAN_DB_BUSY_TIMEOUT", "-1", "number of seconds"),
        ("CUIBAN_DEBUG", "maybe", "1, true, yes or on (print tracebacks) or 0, false, no, off or empty"),
    ],
)
def test_a_bad_value_is_one_sentence_naming_variable_value_and_what_it_accepts(
    name: str, value: str, accepts: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_environment({name: value})
    sentence = str(refused.value)
    assert sentence.startswith(f"{name} is {value!r}") and accepts in sentence
    assert "\n" not in sentence and refused.value.exit_code == EXIT_INVALID


def test_an_smtp_host_needs_a_sender() -> None:
    settings = Settings.from_environment({"CUIBAN_SMTP_HOST": "smtp.school.example"})  # the plan may have one
    with pytest.raises(SettingsError, match="CUIBAN_SMTP_HOST is set but CUIBAN_MAIL_FROM is not"):
        _ = settings.smtp


@pytest.mark.parametrize("value", ["", "0", "no", "off", "false"])
def test_debug_off(value: str) -> None:
    assert not Settings.from_environment({"CUIBAN_DEBUG": value}).debug
