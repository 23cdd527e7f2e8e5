"""`flatten` writes the SMTP bytes directly: a reader finds in them what `build` would have sent."""

from __future__ import annotations

import dataclasses
import email
from email import policy
from email.message import EmailMessage
from email.policy import SMTP

import pendulum
import pytest

from cuiban.notifications.message import Attachment, Outgoing, build, flatten

NOW = pendulum.datetime(2016, 12, 16, 9, 30, tz="Asia/Shanghai")
CHART = Attachment("progress.png", "image/png", b"\x89PNG\r\n" + bytes(range(256)) * 160, "chart@cuiban")
WORKBOOK = Attachment(
    "附表4 2016-12.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    b"PK\x03\x04" * 900,
)
MESSAGES = [
    Outgoing(
        1,
        "cuiban@school.example",
        "催办 cuiban",
        "wang.x@school.example",
        "王晓燕",
        "【已逾期】人事处：提供全校符合填报要求的教职工数据（截止 2016-11-28）" * 2,
        "王晓燕，您好：\n\n" + "000001 张三 填报中\n" * 100,
        "<html><body><table>" + "<tr><td>000001</td><td>张三</td></tr>\n" * 100 + "</table></body></html>",
        (CHART,),
        "<0123456789abcdef.cuiban@school.example>",
    ),
    Outgoing(
        2,
        "cuiban@school.example",
        "催办\r\nBcc: x@evil.example",
        "a@school.example",
        "王\nCc: y@evil.example",
        "主题\r\nBcc: z@evil.example",
        "text\r\nwith\rold line ends\n",
        "<p>x</p>",
        (WORKBOOK, Attachment('a "quoted" name.pdf', "application/pdf", b"%PDF-1.4" * 10), CHART),
    ),
    Outgoing(
        3,
        "cuiban@school.example",
        'Office "Personnel", <HR>',
        "head@school.example",
        "",
        "Plain ASCII  subject, spaces kept  and folded when it is long " * 3,
        "English only, short lines.\n",
        "<p>English</p>",
        message_id="<fixed@school.example>",
    ),
    Outgoing(
        4,
        "cuiban@school.example",
        "x",
        "name with space@school.example",  # not a plain address: left to the email package
        "n",
        "𝄞 four-byte characters " + "é" * 40,
        "t" * 3000,
        "h",
    ),
]


def _parts(message: EmailMessage) -> list[object]:
    found: list[object] = []
    for part in message.walk():
        if part.is_multipart():
            found.append(part.get_content_type())
            continue
        content = part.get_content()
        if isinstance(content, str):
            content = content.replace("\r\n", "\n")  # 7bit text keeps CRLF when read back
        found.append(
            (
                part.get_content_type(),
                part.get_content_disposition(),
                part.get_filename(),
                part["Content-ID"],
                content,
            )
        )
    return found


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: str(m.outbox_id))
def test_flatten_says_what_build_says(message: Outgoing) -> None:
    data = flatten(message, NOW, "school.example")
    data.decode("ascii")  # 7-bit
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    header_lines = data.partition(b"\r\n\r\n")[0].split(b"\r\n")
    assert all(len(line) <= 78 for line in header_lines) or message.outbox_id == 4
    ours = email.message_from_bytes(data, policy=policy.default)
    theirs = email.message_from_bytes(
        build(message, NOW, "school.example").as_bytes(policy=SMTP), policy=policy.default
    )
    for name in ("From", "To", "Subject", "Date", "MIME-Version", "Bcc", "Cc"):
        assert ours[name] == theirs[name], name
    assert (
        ours["To"].addresses == theirs["To"].addresses and ours["From"].addresses == theirs["From"].addresses
    )
    if message.message_id:
        assert ours["Message-ID"] == theirs["Message-ID"] == message.message_id
    else:
        assert f"cuiban.{message.outbox_id}" in ours["Message-ID"]
    assert _parts(ours) == _parts(theirs)
    assert not any(part.defects for part in ours.walk())


def test_a_subject_that_looks_encoded_is_sent_as_written() -> None:
    message = dataclasses.replace(MESSAGES[2], subject="see =?utf-8?q?x?= here")
    ours = email.message_from_bytes(flatten(message, NOW, "school.example"), policy=policy.default)
    assert ours["Subject"] == "see =?utf-8?q?x?= here"
