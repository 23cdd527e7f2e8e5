"""The settings: every CUIBAN_* variable, read once per command, checked, frozen.

Why one place: a bad value (`CUIBAN_SMTP_PORT=abc`) is refused before the command does
anything, as one sentence naming the variable, the value and what it accepts (a
`SettingsError`, exit 2), even by a command that would not have used it; and nothing
else reads the environment, so a test can hand any mapping to `Settings.from_environment`.
The SMTP password never appears in a repr or a message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cuiban.cli.errors import SettingsError
from cuiban.notifications.transports import SENDER_NAME, MailIdentity, SmtpSettings, local_domain
from cuiban.workflow.institution_id import TenancyError, check_id

WHERE = "fix it in the environment (for the service: its EnvironmentFile)"
SECURITY_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
DEFAULT_PLAN = "config/plan.yaml"
DEFAULT_OUTBOX = "outbox"
DEFAULT_EVIDENCE = "evidence"
MIN_SECRET = 32


@dataclass(frozen=True)
class Settings:
    """What the environment says, typed. None: the variable is unset (or empty)."""

    db: str | None = field(default=None, repr=False)
    """CUIBAN_DB: the database URL when --db is not given (not in the repr: it may hold a password)."""
    plan: str | None = None
    """CUIBAN_PLAN: the plan file when --plan is not given."""
    outbox_dir: Path = Path(DEFAULT_OUTBOX)
    """CUIBAN_OUTBOX_DIR: where .eml files go when there is no SMTP server."""
    smtp_host: str | None = None
    smtp_port: int | None = None
    """None: the security's usual port (465, 587 or 25)."""
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_security: str = "ssl"
    mail_from: str | None = None
    """CUIBAN_MAIL_FROM: who messages come from (wins over the plan's `mail.sender`)."""
    mail_reply_to: str | None = None
    """CUIBAN_MAIL_REPLY_TO: where replies go (wins over the plan's `mail.reply_to`)."""
    send_rate: int | None = None
    """CUIBAN_SMTP_RATE: at most this many messages a minute (None: no limit)."""
    busy_timeout: float | None = None
    """CUIBAN_DB_BUSY_TIMEOUT: seconds a SQLite command waits for another one's lock (None: the default)."""
    debug: bool = False
    """CUIBAN_DEBUG: print the traceback with the sentence."""
    base_url: str | None = None
    """CUIBAN_BASE_URL: where people reach `cuiban serve` (https://cuiban.example.edu.cn); links in mail."""
    secret_key: str | None = field(default=None, repr=False)
    """CUIBAN_SECRET_KEY: signs the web sessions (at least 32 characters; `serve --dev` makes its own)."""
    evidence_dir: Path = Path(DEFAULT_EVIDENCE)
    """CUIBAN_EVIDENCE_DIR: where files handed in with tasks are kept (never served as a folder)."""
    institution: str | None = None
    """CUIBAN_INSTITUTION: the institution a command acts for when --institution is not given
    (PostgreSQL deployments of several institutions; `models.tenancy`)."""
    plans: Path | None = None
    """CUIBAN_PLANS: a folder of plans, one per institution (`<id>.yaml`): an institution's plan when
    --plan is not given, and the institutions `cuiban run --all` ticks."""
    environment: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The environment as it was read, frozen: the plan names the variables of its group bots'
    webhooks and secrets (`bots`), known only once it is loaded (`variable`). Never shown."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        """Every CUIBAN_* variable in `environ`, checked (SettingsError on the first bad one)."""

        def get(name: str) -> str | None:
            return (environ.get(name) or "").strip() or None

        host, sender = get("CUIBAN_SMTP_HOST"), get("CUIBAN_MAIL_FROM")
        if host and sender:
            _deliverable(sender, "CUIBAN_MAIL_FROM")
        return cls(
            db=get("CUIBAN_DB"),
            plan=get("CUIBAN_PLAN"),
            outbox_dir=Path(get("CUIBAN_OUTBOX_DIR") or DEFAULT_OUTBOX),
            smtp_host=host,
            smtp_port=_port(get("CUIBAN_SMTP_PORT")),
            smtp_user=get("CUIBAN_SMTP_USER"),
            smtp_password=environ.get("CUIBAN_SMTP_PASSWORD") or None,  # spaces may be part of it
            smtp_security=_security(get("CUIBAN_SMTP_SECURITY")),
            mail_from=_address(sender),
            mail_reply_to=_address(get("CUIBAN_MAIL_REPLY_TO"), "CUIBAN_MAIL_REPLY_TO"),
            send_rate=_rate(get("CUIBAN_SMTP_RATE")),
            busy_timeout=_seconds(get("CUIBAN_DB_BUSY_TIMEOUT")),
            debug=_flag(get("CUIBAN_DEBUG")),
            base_url=_base_url(get("CUIBAN_BASE_URL")),
            secret_key=_secret(environ.get("CUIBAN_SECRET_KEY") or None),
            evidence_dir=Path(get("CUIBAN_EVIDENCE_DIR") or DEFAULT_EVIDENCE),
            institution=_institution(get("CUIBAN_INSTITUTION")),
            plans=_folder(get("CUIBAN_PLANS"), "CUIBAN_PLANS"),
            environment=MappingProxyType(dict(environ)),
        )

    def variable(self, name: str) -> str | None:
        """A variable the plan names (a group bot's webhook or secret); None when unset or empty."""
        return (self.environment.get(name) or "").strip() or None

    @property
    def plan_path(self) -> str:
        """CUIBAN_PLAN, else config/plan.yaml in the working folder."""
        return self.plan or DEFAULT_PLAN

    @property
    def smtp(self) -> SmtpSettings | None:
        """The SMTP server's settings when CUIBAN_SMTP_HOST is set (else messages go to files),
        sending as CUIBAN_MAIL_FROM (SettingsError without it)."""
        sender = self.mail_from
        return self.smtp_as(MailIdentity(sender, reply_to=self.mail_reply_to) if sender else None)

    def smtp_as(self, identity: MailIdentity | None) -> SmtpSettings | None:
        """The SMTP server's settings when CUIBAN_SMTP_HOST is set, sending as `identity` (the
        environment's, else the plan's `mail`): a SettingsError (exit 2) when no sender was chosen
        or it is on localhost, which no mail server outside this machine takes mail from."""
        if self.smtp_host is None:
            return None
        if identity is None or not identity.chosen:
            raise SettingsError(
                "CUIBAN_SMTP_HOST is set but CUIBAN_MAIL_FROM is not: set CUIBAN_MAIL_FROM (or the plan's "
                "mail.sender) to the address messages come from (or unset CUIBAN_SMTP_HOST to write .eml "
                "files instead)"
            )
        source = "CUIBAN_MAIL_FROM" if identity.sender == self.mail_from else "the plan's mail.sender"
        _deliverable(identity.sender, source)
        port = self.smtp_port or SECURITY_PORTS[self.smtp_security]
        return SmtpSettings(
            self.smtp_host, port, self.smtp_user, self.smtp_password, self.smtp_security, identity.sender,
            identity.sender_name or SENDER_NAME, reply_to=identity.reply_to,
        )


def _institution(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_id(value)
    except TenancyError as error:
        raise SettingsError(f"CUIBAN_INSTITUTION: {error}; {WHERE}") from None


def _folder(value: str | None, name: str) -> Path | None:
    if value is None:
        return None
    if not Path(value).is_dir():
        raise SettingsError(f"{name} is {value!r}, which is not a folder; {WHERE}")
    return Path(value)


def from_process() -> Settings:
    """The settings of this process: the entry point's one read of the environment."""
    return Settings.from_environment(os.environ)


def _port(value: str | None) -> int | None:
    if value is not None and not (value.isdecimal() and 1 <= int(value) <= 65535):
        raise SettingsError(f"CUIBAN_SMTP_PORT is {value!r}, not a port number (1-65535); {WHERE}")
    return int(value) if value else None


def _security(value: str | None) -> str:
    if value is not None and value not in SECURITY_PORTS:
        raise SettingsError(
            f"CUIBAN_SMTP_SECURITY is {value!r}; it must be ssl (port 465), starttls (port 587) "
            f"or none (port 25); {WHERE}"
        )
    return value or "ssl"


def _address(value: str | None, name: str = "CUIBAN_MAIL_FROM") -> str | None:
    if value is not None and "@" not in value:
        raise SettingsError(f"{name} is {value!r}, not an e-mail address; {WHERE}")
    return value


def _deliverable(sender: str, source: str) -> None:
    """Refuse a sender on localhost when mail goes to a real server: it would be rejected or junked."""
    if local_domain(sender):
        where = WHERE if source.startswith("CUIBAN") else "fix it in the plan or set CUIBAN_MAIL_FROM"
        raise SettingsError(
            f"{source} is {sender!r}, an address on localhost, which no mail server accepts mail from "
            f"while CUIBAN_SMTP_HOST is set: use the school's own address; {where}"
        )


def _rate(value: str | None) -> int | None:
    if value is not None and not value.isdecimal():
        raise SettingsError(
            f"CUIBAN_SMTP_RATE is {value!r}, not a number of messages a minute "
            f"(a whole number, 0 or unset for no limit); {WHERE}"
        )
    return int(value) or None if value else None


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 1e6:
        raise SettingsError(
            f"CUIBAN_DB_BUSY_TIMEOUT is {value!r}, not a number of seconds (e.g. 30); {WHERE}"
        )
    return seconds


def _flag(value: str | None) -> bool:
    lowered = (value or "").lower()
    if lowered not in TRUE + FALSE:
        raise SettingsError(
            f"CUIBAN_DEBUG is {value!r}; it must be 1, true, yes or on (print tracebacks) "
            f"or 0, false, no, off or empty; {WHERE}"
        )
    return lowered in TRUE


def _base_url(value: str | None) -> str | None:
    if value is None:
        return None
    scheme, _, rest = value.partition("://")
    host, _, path = rest.partition("/")
    if scheme not in ("http", "https") or not host or any(c in rest for c in "?# ") or path.strip("/"):
        raise SettingsError(
            f"CUIBAN_BASE_URL is {value!r}, not the address of the web pages: a scheme and a host name of "
            f"their own, no path (e.g. https://cuiban.example.edu.cn); {WHERE}"
        )
    return value.rstrip("/")


def _secret(value: str | None) -> str | None:
    if value is not None and len(value) < MIN_SECRET:
        raise SettingsError(
            f"CUIBAN_SECRET_KEY is {len(value)} characters long, too short to sign sessions safely "
            f"(at least {MIN_SECRET}; make one with "
            f"python3 -c 'import secrets; print(secrets.token_urlsafe(48))'); {WHERE}"
        )
    return value
