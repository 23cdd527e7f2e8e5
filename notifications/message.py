"""Building the email itself: text and HTML alternatives, UTF-8 headers, a Message-ID per outbox
row (fixed when the row is queued, reused on every attempt).

`build` gives an `EmailMessage`; `flatten` gives the same message as the bytes SMTP sends
(CRLF, 7-bit), written out directly: flattening an `EmailMessage` with the standard policy
parses and refolds every header, ≈ 30 times the cost (see docs/benchmarks.md, Delivery).

Built with the standard library rather than yagmail's `send()`, which turns newlines
into <br> even in the text part, makes equal subjects share a Message-ID and treats a
body that happens to be a file path as an attachment. Header values pass through
`one_line`, so a name or subject with CR/LF cannot add a header.
"""

from __future__ import annotations

import base64
import random
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, quote
from urllib.parse import quote as percent_encoded

from cuiban.notifications.render import one_line


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    """Set for an image the HTML shows inline (`<img src="cid:…">`)."""


@dataclass(frozen=True)
class Outgoing:
    outbox_id: int
    sender: str
    sender_name: str
    recipient: str
    recipient_name: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()
    message_id: str | None = None
    """The outbox row's own, fixed when it was queued: the same on every attempt."""
    reply_to: str | None = None
    """Where replies go (the plan's `mail.reply_to` or CUIBAN_MAIL_REPLY_TO); no header when None."""
    cc: tuple[str, ...] = ()
    """Addresses in copy (a teacher's reminder to their collector, when the plan says so)."""


def build(message: Outgoing, sent_at, domain: str) -> EmailMessage:  # type: ignore[no-untyped-def]
    email = EmailMessage()
    email["From"] = _address(message.sender_name, message.sender)
    email["To"] = _address(message.recipient_name, message.recipient)
    if message.cc:
        email["Cc"] = [_address("", address) for address in message.cc]
    email["Subject"] = one_line(message.subject)
    if message.reply_to:
        email["Reply-To"] = _address("", message.reply_to)
    email["Date"] = format_datetime(sent_at)
    email["Message-ID"] = message.message_id or make_msgid(f"cuiban.{message.outbox_id}", domain=domain)
    email.set_content(message.text, subtype="plain", charset="utf-8")
    email.add_alternative(message.html, subtype="html", charset="utf-8")
    html_part = email.get_payload()[1]
    for item in message.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        if item.content_id:
            html_part.add_related(
                item.content, maintype, subtype, cid=f"<{item.content_id}>", disposition="inline"
            )
        else:
            email.add_attachment(item.content, maintype, subtype, filename=item.filename)
            part = email.get_payload()[-1]
            content_type, disposition = attachment_headers(item)
            part.replace_header("Content-Type", _Verbatim("Content-Type", content_type))
            part.replace_header("Content-Disposition", _Verbatim("Content-Disposition", disposition))
    return email


# ── attachment names every mail client shows ──

_PARAMETER_LINE = 990
"""A `filename*=` parameter longer than this (RFC 5322 allows 998 characters a line) is continued."""


def attachment_headers(item: Attachment) -> tuple[str, str]:
    """The Content-Type and Content-Disposition values of an attached file, folded with "\n ".

    The name is written twice, for the readers of each standard: Content-Disposition's
    `filename*=utf-8''…` (RFC 2231, what Python, Thunderbird, Gmail and Apple Mail read) and
    Content-Type's `name="=?utf-8?b?…?="` (RFC 2047 words, what Outlook, Foxmail, QQ Mail and
    163 fall back on). The email package would fold a long RFC 2231 value into `filename*0*=`,
    `filename*1*=` continuations, which several Chinese clients show garbled; here the value is
    one `filename*=` parameter on a line of its own unless it passes 990 characters. A name
    in plain ASCII is written plainly (`name="…"`, `filename="…"`), in both headers too.
    """
    name = one_line(item.filename)
    if name.isascii() and "=?" not in name:
        quoted = f'"{quote(name)}"'
        return f"{item.content_type};\n name={quoted}", f"attachment;\n filename={quoted}"
    words = " ".join(_phrase(name, quoted=False))
    encoded = percent_encoded(name, safe="")
    if len(encoded) + len(" filename*=utf-8''") <= _PARAMETER_LINE:
        disposition = f"attachment;\n filename*=utf-8''{encoded}"
    else:  # too long for one line: RFC 2231 continuations, never inside a %XX
        pieces, rest = [], encoded
        while rest:
            cut = min(len(rest), 60)
            while 0 < cut < len(rest) and "%" in rest[max(cut - 2, 0) : cut]:
                cut -= 1
            pieces.append(rest[:cut])
            rest = rest[cut:]
        first = f" filename*0*=utf-8''{pieces[0]}"
        disposition = "attachment;\n" + ";\n".join(
            [first, *(f" filename*{n}*={piece}" for n, piece in enumerate(pieces[1:], 1))]
        )
    return f'{item.content_type};\n name="{words}"', disposition


class _Verbatim(str):
    """A header value the email package writes as it is, not refolded (see `attachment_headers`)."""

    def __new__(cls, name: str, value: str) -> _Verbatim:
        made = super().__new__(cls, value.replace("\n ", " "))
        made.name, made.folded = name, value
        return made

    name: str
    folded: str

    def fold(self, *, policy) -> str:  # type: ignore[no-untyped-def]
        return f"{self.name}: {self.folded}".replace("\n", policy.linesep) + policy.linesep


def _address(name: str, address: str) -> Address:
    local, _, domain = one_line(address).partition("@")
    return Address(display_name=one_line(name), username=local, domain=domain)


# ── the same message, written out directly for SMTP ──

_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9.-]+"
)
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')
_LINE = 78
_WORD_BYTES = 39
"""UTF-8 bytes per encoded word: 52 base64 characters, a 64-character word (RFC 2047 allows 75)."""


def flatten(message: Outgoing, sent_at, domain: str) -> bytes:  # type: ignore[no-untyped-def]
    """`build(message, sent_at, domain).as_bytes(policy=SMTP)` in meaning — the same headers, parts,
    contents and Message-ID — written out directly: headers as RFC 2047 words, bodies in base64."""
    if not (
        _PLAIN_ADDRESS.fullmatch(one_line(message.sender))
        and _PLAIN_ADDRESS.fullmatch(one_line(message.recipient))
        and all(_PLAIN_ADDRESS.fullmatch(one_line(address)) for address in message.cc)
    ):
        return build(message, sent_at, domain).as_bytes(policy=SMTP)  # quoting left to the email package
    head = [
        _header("From", _mailbox(message.sender_name, message.sender)),
        _header("To", _mailbox(message.recipient_name, message.recipient)),
        *([_header("Cc", _copies(message.cc))] if message.cc else []),
        _header("Subject", _phrase(one_line(message.subject), quoted=False)),
        *([_header("Reply-To", [f"<{one_line(message.reply_to)}>"])] if message.reply_to else []),
        f"Date: {format_datetime(sent_at)}",
        f"Message-ID: {message.message_id or make_msgid(f'cuiban.{message.outbox_id}', domain=domain)}",
        "MIME-Version: 1.0",
    ]
    html = _text_part(message.html, "html")
    inline = [_file_part(item) for item in message.attachments if item.content_id]
    if inline:
        html = _multipart("related", [html, *inline])
    entity = _multipart("alternative", [_text_part(message.text, "plain"), html])
    attached = [_file_part(item) for item in message.attachments if not item.content_id]
    if attached:
        entity = _multipart("mixed", [entity, *attached])
    return "\r\n".join(head).encode("ascii") + b"\r\n" + entity


def _copies(addresses: tuple[str, ...]) -> list[str]:
    """`<a>, <b>` as tokens `_header` may fold between."""
    return [f"<{one_line(a)}>{',' if n < len(addresses) - 1 else ''}" for n, a in enumerate(addresses)]


def _mailbox(name: str, address: str) -> list[str]:
    name = one_line(name)
    return [*_phrase(name, quoted=True), f"<{one_line(address)}>"] if name else [one_line(address)]


def _phrase(text: str, quoted: bool) -> list[str]:
    """`text` as header tokens: as it is when plain ASCII, else RFC 2047 words of UTF-8 in base64."""
    if text.isascii() and "=?" not in text:
        if quoted and _SPECIALS.search(text):
            return [f'"{quote(text)}"']
        return text.split(" ")
    data, words = text.encode("utf-8"), []
    while data:
        cut = min(len(data), _WORD_BYTES)
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # never inside a character
            cut -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[:cut]).decode('ascii')}?=")
        data = data[cut:]
    return words


def _header(name: str, tokens: list[str]) -> str:
    """`name: tokens` folded before a token that would pass 78 characters."""
    line, lines = f"{name}:", []
    for token in tokens:
        if len(line) + 1 + len(token) > _LINE and line.strip() and token:
            lines.append(line)
            line = ""
        line += " " + token
    return "\r\n".join([*lines, line])


def _text_part(text: str, subtype: str) -> bytes:
    data = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"  # as set_content normalises it
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'.encode()
        + _base64(data)
    )


def _file_part(item: Attachment) -> bytes:
    if item.content_id:
        content_type = item.content_type
        disposition = f"Content-Disposition: inline\r\nContent-ID: <{one_line(item.content_id)}>"
    else:
        content_type, disposition = attachment_headers(item)
        content_type, disposition = content_type.replace("\n", "\r\n"), "Content-Disposition: " + (
            disposition.replace("\n", "\r\n")
        )
    headers = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n{disposition}"
    return (headers + "\r\n\r\n").encode("ascii") + _base64(item.content)


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    """Parts in base64 never hold a line of '=' signs: the boundary cannot occur in them."""
    boundary = f"==============={random.randrange(10**18, 10**19)}==".encode("ascii")
    body = [f'Content-Type: multipart/{subtype};\r\n boundary="'.encode() + boundary + b'"\r\n\r\n']
    for part in parts:
        body += [b"--", boundary, b"\r\n", part, b"\r\n"]
    body += [b"--", boundary, b"--\r\n"]
    return b"".join(body)
