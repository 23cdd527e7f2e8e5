"""Where messages go: a folder of .eml files (the default and the demo's), or SMTP via yagmail.

Both satisfy `Transport`: open once, send each message, close. What can go wrong is sorted
the way a mail server sorts it, because the answer decides who pays for it:

- `PermanentFailure`: this message cannot be delivered as addressed (`550 5.1.1 User unknown`);
- `TemporaryFailure`: this recipient, not now (`452 4.2.2 Mailbox full`, `450 mailbox busy`):
  the message waits and the run goes on with the others;
- `SenderPaused`: the sender as a whole must stop for a while — a provider's rate limit (QQ's
  "550 … frequency limited", 163's "451 MI:SFQ"), a server that closes (`421`), no connection,
  a refused login, a folder that cannot be written. No message is charged for it.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import socket
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from cuiban.notifications.message import Outgoing, build, flatten
from cuiban.notifications.render import one_line
from cuiban.workflow.plan.schema import Plan

SENDER_NAME = "催办 cuiban"
"""Who messages come from when neither the plan's `mail.sender_name` nor anything else says."""


@dataclass(frozen=True)
class MailIdentity:
    """Who messages come from and where replies go: the environment's, else the plan's `mail`."""

    sender: str
    sender_name: str = SENDER_NAME
    reply_to: str | None = None
    chosen: bool = True
    """False when the sender is only the default made from the coordinator's domain (not for SMTP)."""


def mail_identity(plan: Plan, sender: str | None = None, reply_to: str | None = None) -> MailIdentity:
    """CUIBAN_MAIL_FROM and CUIBAN_MAIL_REPLY_TO (`sender`, `reply_to`) win over the plan's `mail`:
    an operator may move mail to another account without editing the plan. With neither, the
    sender is cuiban@ the coordinator's email domain, a real-looking address the .eml files show."""
    mail = plan.mail
    chosen = sender or (str(mail.sender) if mail.sender else None)
    coordinator = plan.people.get(plan.roles.coordinator)
    domain = str(coordinator.email).rpartition("@")[2] if coordinator else "cuiban.local"
    return MailIdentity(
        chosen or f"cuiban@{domain}",
        mail.sender_name or SENDER_NAME,
        reply_to or (str(mail.reply_to) if mail.reply_to else None),
        chosen is not None,
    )


def local_domain(address: str) -> bool:
    """An address no mail server outside this machine delivers from: @localhost, @….localhost,
    @localhost.example (what cuiban once wrote by default)."""
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    return domain == "localhost" or domain.endswith(".localhost") or domain.endswith("localhost.example")


class DeliveryError(Exception):
    """A send that did not succeed; the server's reply (or the system's error) is the message."""


class PermanentFailure(DeliveryError):
    """This message cannot be delivered as addressed."""


class TemporaryFailure(DeliveryError):
    """This recipient cannot take it now; try this message again later."""


class SenderPaused(DeliveryError):
    """Nothing can be sent for a while; no message is to blame."""

    def __init__(self, reason: str, cool_down: timedelta, reconnect: bool = False) -> None:
        super().__init__(reason)
        self.cool_down = cool_down
        self.reconnect = reconnect
        """The connection dropped: worth one new connection before pausing."""


RATE_LIMIT_COOL_DOWN = timedelta(minutes=10)
QUOTA_COOL_DOWN = timedelta(hours=1)
OUTAGE_COOL_DOWN = timedelta(minutes=2)
LOGIN_COOL_DOWN = timedelta(minutes=30)

MAILBOX = re.compile(r"^\s*[45]\.2\.[12]\b|mailbox (for user )?(is )?full", re.IGNORECASE | re.MULTILINE)
"""Replies about the recipient's own mailbox, whatever else they say: RFC 3463's X.2.1 (disabled) and
X.2.2 (full), e.g. Dovecot's "4.2.2 Quota exceeded (mailbox for user is full)" or "5.2.2 Mailbox size
limit exceeded", whose words would otherwise read as the sender's quota or rate limit."""

QUOTA = re.compile(
    r"MI:STC|RP:TRC|RP:QRC|5\.4\.5|daily (user )?sending quota|quota ?exceeded|out of (send )?quota|"
    r"exceeded the daily|每天|当天|日发送",
    re.IGNORECASE,
)
"""Replies that mean the account's daily allowance is used up (163 MI:STC, Gmail 5.4.5, Aliyun, Office 365's
"SubmissionQuotaExceededException")."""

RATE_LIMIT = re.compile(
    r"frequency|MI:SFQ|MI:CEL|RP:CEL|4\.7\.28|rate limit|rate-limit|ratelimit|too many (messages|mails|"
    r"connections|emails|requests)|throttl|unusual rate|sending limit|limit exceeded|exceed(ed|s)? the "
    r"limit|temporarily (deferred|rejected|frozen)|try again later, closing|频率|超过限制|超出限制|过于频繁",
    re.IGNORECASE,
)
"""Providers' words for "you are sending too fast": QQ and exmail ("Ip/Connection frequency
limited"), 163/126 (MI:SFQ, MI:CEL, RP:CEL), Gmail (4.7.28, "unusual rate"), Aliyun ("sending
limit"), and the generic ones."""

SERVER_WIDE = re.compile(r"4\.3\.[0-9]|insufficient system storage|system (is )?busy|服务器繁忙", re.I)
"""4xx replies about the server, not the mailbox: wait for the server, charge nobody."""


def classify(code: int, reply: bytes | str) -> DeliveryError:
    """The failure an SMTP reply stands for (see the module's docstring)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{code} {' '.join(text.split())}".strip()
    if code != 421 and MAILBOX.search(text):
        return TemporaryFailure(message) if 400 <= code < 500 else PermanentFailure(message)
    if QUOTA.search(text):
        return SenderPaused(message, QUOTA_COOL_DOWN)
    if RATE_LIMIT.search(text):
        return SenderPaused(message, RATE_LIMIT_COOL_DOWN)
    if code == 421 or (400 <= code < 500 and SERVER_WIDE.search(text)):
        return SenderPaused(message, OUTAGE_COOL_DOWN)
    if code in (530, 534, 535):
        return SenderPaused(f"login refused: {message}", LOGIN_COOL_DOWN)
    if 400 <= code < 500:
        return TemporaryFailure(message)
    return PermanentFailure(message)


class Transport(Protocol):
    sender: str
    sender_name: str
    domain: str

    def open(self) -> None: ...
    def send(self, message: Outgoing, sent_at: datetime, name: str) -> None:
        """Send `message` dated `sent_at`; `name` is unique to its outbox row (`000042-reminder.eml`)."""
        ...

    def close(self) -> None: ...


class FileTransport:
    """Writes each message as FOLDER/NNNNNN-kind.eml, a file any mail program opens.

    The name comes from the outbox row, so sending the same row again rewrites the
    same file instead of adding a duplicate. A folder that cannot be written (read-only,
    disk full) pauses the sender: the messages stay queued with the reason recorded.
    """

    def __init__(
        self,
        folder: Path,
        sender: str = "cuiban@cuiban.local",
        sender_name: str = SENDER_NAME,
        reply_to: str | None = None,
    ) -> None:
        """`sender`: the composition root passes `mail_identity(plan)`'s; the default is for callers
        without a plan (benchmarks) and is a name no mail server accepts."""
        self.folder, self.sender, self.sender_name, self.domain = folder, sender, sender_name, "cuiban.local"
        self.reply_to = reply_to

    @classmethod
    def for_identity(cls, folder: Path, identity: MailIdentity) -> FileTransport:
        return cls(folder, identity.sender, identity.sender_name, identity.reply_to)

    def open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _unwritable(self.folder, error) from error

    def send(self, message: Outgoing, sent_at: datetime, name: str) -> None:
        message = _replying(message, self.reply_to)
        target = self.folder / name
        temporary = target.with_suffix(".tmp")
        try:
            temporary.write_bytes(bytes(build(message, sent_at, self.domain)))
            os.replace(temporary, target)
        except OSError as error:
            raise _unwritable(self.folder, error) from error

    def close(self) -> None:
        pass


def _unwritable(folder: Path, error: OSError) -> SenderPaused:
    return SenderPaused(f"cannot write to {folder}: {error.strerror or error}", OUTAGE_COOL_DOWN)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    security: str
    sender: str
    sender_name: str = SENDER_NAME
    timeout: float = 30.0
    reply_to: str | None = None

class SmtpTransport:
    """One yagmail connection, logged in once, reused for every message until closed."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.sender, self.sender_name = settings.sender, settings.sender_name
        self.domain = settings.sender.partition("@")[2] or "cuiban.local"
        self._client = None

    def open(self) -> None:
        import yagmail

        s = self.settings
        try:
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
            client.login()
        except (smtplib.SMTPException, OSError) as error:
            raise _classified(error) from error
        self._client = client

    def send(self, message: Outgoing, sent_at: datetime, name: str) -> None:
        if self._client is None:
            raise SenderPaused("not connected", OUTAGE_COOL_DOWN)
        message = _replying(message, self.settings.reply_to)
        data = flatten(message, sent_at, self.domain)  # not build(): see notifications.message
        try:
            to = one_line(message.recipient)
            refused = self._client.smtp.sendmail(self.sender, [to], data)
        except (smtplib.SMTPException, OSError) as error:
            raise _classified(error) from error
        if refused:
            code, reply = next(iter(refused.values()))
            raise classify(code, reply)
        self._copy(message, data)

    def _copy(self, message: Outgoing, data: bytes) -> None:
        """The copies, once the recipient's server has taken the message: a message deferred for its
        recipient is not copied again at every retry, and a copy refused is not the message's failure
        (its recipient has it); a copy lost to a dropped connection is not retried either."""
        copies = [c for c in map(one_line, message.cc) if c.lower() != one_line(message.recipient).lower()]
        if copies and self._client is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._client.smtp.sendmail(self.sender, copies, data)

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):  # already gone: nothing to close
                self._client.close()
            self._client = None


def _replying(message: Outgoing, reply_to: str | None) -> Outgoing:
    """The message with the transport's Reply-To, unless it has its own."""
    return replace(message, reply_to=reply_to) if reply_to and not message.reply_to else message


def _classified(error: Exception) -> DeliveryError:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return classify(code, reply)
    if isinstance(error, smtplib.SMTPSenderRefused):  # about the account, whatever the code says
        found = classify(error.smtp_code, error.smtp_error)
        if isinstance(found, SenderPaused):
            return found
        return SenderPaused(f"sender {error.sender} refused: {found}", LOGIN_COOL_DOWN)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return SenderPaused(f"connection lost: {error}", OUTAGE_COOL_DOWN, reconnect=True)
    if isinstance(error, smtplib.SMTPResponseException):
        return classify(error.smtp_code, error.smtp_error)
    if isinstance(error, socket.timeout | ConnectionError | OSError):
        return SenderPaused(f"could not connect: {error}", OUTAGE_COOL_DOWN)
    return SenderPaused(str(error), OUTAGE_COOL_DOWN)
