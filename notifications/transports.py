"""Where messages go: a folder of .eml files (the default and the demo's), or SMTP via yagmail.

Both satisfy `Transport`: open once for a batch, send each message, close. Failures
are sorted into `TemporaryFailure` (try again later: 4xx replies, a dropped connection,
providers' rate limits such as 163's 451 or QQ's "550 … frequency limited") and
`PermanentFailure` (e.g. 550 user unknown), keeping the server's reply.
"""

from __future__ import annotations

import os
import smtplib
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

RATE_LIMIT_WORDS = ("frequency", "rate limit", "too many", "limited", "频率")


class TemporaryFailure(Exception):
    """Try again later; the connection may be gone."""


class PermanentFailure(Exception):
    """This message cannot be delivered as addressed."""


class Transport(Protocol):
    sender: str
    sender_name: str
    domain: str

    def open(self) -> None: ...
    def send(self, message: EmailMessage) -> None: ...
    def close(self) -> None: ...


class FileTransport:
    """Writes each message as FOLDER/NNNNNN-kind.eml, a file any mail program opens.

    The name comes from the outbox row, so sending the same row again rewrites the
    same file instead of adding a duplicate.
    """

    def __init__(
        self, folder: Path, sender: str = "cuiban@localhost.example", sender_name: str = "催办 cuiban"
    ) -> None:
        self.folder, self.sender, self.sender_name, self.domain = folder, sender, sender_name, "cuiban.local"

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: EmailMessage) -> None:
        name = message["X-Cuiban-File"]
        del message["X-Cuiban-File"]
        target = self.folder / name
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(bytes(message))
        os.replace(temporary, target)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    security: str
    sender: str
    sender_name: str = "催办 cuiban"
    timeout: float = 30.0

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> SmtpSettings:
        """CUIBAN_SMTP_HOST, _PORT, _USER, _PASSWORD, _SECURITY=ssl|starttls|none, CUIBAN_MAIL_FROM."""
        env = dict(os.environ if environ is None else environ)
        security = env.get("CUIBAN_SMTP_SECURITY", "ssl")
        if security not in ("ssl", "starttls", "none"):
            raise ValueError(f"CUIBAN_SMTP_SECURITY must be ssl, starttls or none, not {security!r}")
        if not env.get("CUIBAN_SMTP_HOST") or not env.get("CUIBAN_MAIL_FROM"):
            raise ValueError("SMTP needs CUIBAN_SMTP_HOST and CUIBAN_MAIL_FROM in the environment")
        default_port = {"ssl": 465, "starttls": 587, "none": 25}[security]
        return cls(
            env["CUIBAN_SMTP_HOST"],
            int(env.get("CUIBAN_SMTP_PORT", default_port)),
            env.get("CUIBAN_SMTP_USER") or None,
            env.get("CUIBAN_SMTP_PASSWORD") or None,
            security,
            env["CUIBAN_MAIL_FROM"],
        )


class SmtpTransport:
    """One yagmail connection, logged in once, for a whole batch."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.sender, self.sender_name = settings.sender, settings.sender_name
        self.domain = settings.sender.partition("@")[2] or "cuiban.local"
        self._client = None

    def open(self) -> None:
        import yagmail

        s = self.settings
        client = yagmail.SMTP(
            user=s.user,
            password=s.password,
            host=s.host,
            port=s.port,
            smtp_ssl=s.security == "ssl",
            smtp_starttls=s.security == "starttls",
            smtp_skip_login=s.user is None,
            soft_email_validation=False,
            local_hostname="cuiban.local",
            timeout=s.timeout,
        )
        try:
            client.login()
        except (smtplib.SMTPException, OSError) as error:
            raise _classified(error) from error
        self._client = client

    def send(self, message: EmailMessage) -> None:
        if self._client is None:
            raise TemporaryFailure("not connected")
        del message["X-Cuiban-File"]
        try:
            refused = self._client.smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise _classified(error) from error
        if refused:
            code, reply = next(iter(refused.values()))
            raise _by_code(code, reply)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _by_code(code: int, reply: bytes | str) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{code} {text}".strip()
    if 400 <= code < 500 or any(word in text.lower() for word in RATE_LIMIT_WORDS):
        return TemporaryFailure(message)
    return PermanentFailure(message)


def _classified(error: Exception) -> Exception:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return _by_code(code, reply)
    if isinstance(error, smtplib.SMTPResponseException):
        return _by_code(error.smtp_code, error.smtp_error)
    if isinstance(error, smtplib.SMTPServerDisconnected | socket.timeout | ConnectionError | OSError):
        return TemporaryFailure(f"connection problem: {error}")
    return TemporaryFailure(str(error))
