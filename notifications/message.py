"""Building the email itself: text and HTML alternatives, UTF-8 headers, a Message-ID per outbox
row (fixed when the row is queued, reused on every attempt).

Built with the standard library rather than yagmail's `send()`, which turns newlines
into <br> even in the text part, makes equal subjects share a Message-ID and treats a
body that happens to be a file path as an attachment. Header values pass through
`one_line`, so a name or subject with CR/LF cannot add a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from notifications.render import one_line


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


def build(message: Outgoing, sent_at, domain: str) -> EmailMessage:  # type: ignore[no-untyped-def]
    email = EmailMessage()
    email["From"] = _address(message.sender_name, message.sender)
    email["To"] = _address(message.recipient_name, message.recipient)
    email["Subject"] = one_line(message.subject)
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
    return email


def _address(name: str, address: str) -> Address:
    local, _, domain = one_line(address).partition("@")
    return Address(display_name=one_line(name), username=local, domain=domain)
