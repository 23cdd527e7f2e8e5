"""Attachment names Foxmail, QQ Mail, 163 and Outlook show: RFC 2231 `filename*=` plus an RFC 2047
`name=` on Content-Type, read back by Python's strictest (compat32) and most lenient (default)
parsers alike (issue 14, acceptance 4)."""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from email.message import Message

import pendulum
import pytest

from cuiban.notifications.message import Attachment, Outgoing, build, flatten

NOW = pendulum.datetime(2016, 12, 1, 9, 0, tz="Asia/Shanghai")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_4 = "附表4_河北传媒学院_2016年12月.xlsx"
LONG = "附表6_数据审核报表_" + "马克思主义学院与思想政治理论课教学研究部" * 3 + "_2016-12-19.xlsx"


def _message(*names: str, reply_to: str | None = None) -> Outgoing:
    files = tuple(Attachment(name, XLSX, b"PK\x03\x04" * 50) for name in names)
    return Outgoing(
        7, "cuiban@hebcm.example", "催办 cuiban", "cheng.xing@hebcm.example", "程兴", "【催办】附表4",
        "见附件。\n", "<p>见附件。</p>", files, "<m7@hebcm.example>", reply_to,
    )


def _written(message: Outgoing, how: str) -> bytes:
    """The bytes of the .eml folder (build) or of SMTP (flatten)."""
    return bytes(build(message, NOW, "hebcm.example")) if how == "build" else flatten(message, NOW, "x")


def _attached(data: bytes, policy: email.policy.Policy) -> list[Message]:
    parsed = email.message_from_bytes(data, policy=policy)
    return [p for p in parsed.walk() if p.get_content_disposition() == "attachment"]


@pytest.mark.parametrize("how", ["build", "flatten"])
@pytest.mark.parametrize("name", [FORM_4, LONG, "monthly 2016-12.xlsx", '附表 "4"; a=b.xlsx'])
def test_the_name_reads_back_in_both_policies(how: str, name: str) -> None:
    data = _written(_message(name), how)
    (legacy,) = _attached(data, email.policy.compat32)
    assert legacy.get_filename() == name
    assert str(make_header(decode_header(legacy.get_param("name")))) == name
    (modern,) = _attached(data, email.policy.default)
    assert modern.get_filename() == name
    assert not modern.defects and not legacy.defects


@pytest.mark.parametrize("how", ["build", "flatten"])
def test_a_chinese_name_is_one_rfc2231_parameter_and_an_rfc2047_name(how: str) -> None:
    text = _written(_message(FORM_4, LONG), how).decode("utf-8")  # the .eml file may hold 8-bit text
    assert "filename*0" not in text  # no continuations, which several Chinese clients garble
    assert text.count("filename*=utf-8''%E9%99%84%E8%A1%A8") == 2
    assert text.count('name="=?utf-8?b?') == 2
    for line in text.splitlines():
        assert len(line) <= 998


def test_a_name_past_one_line_is_continued_never_inside_a_percent_escape() -> None:
    name = "很长的名字" * 30 + ".xlsx"  # 1,350 characters once percent-encoded
    data = flatten(_message(name), NOW, "x")
    assert b"filename*1*=" in data
    for policy in (email.policy.compat32, email.policy.default):
        (part,) = _attached(data, policy)
        assert part.get_filename() == name


@pytest.mark.parametrize("how", ["build", "flatten"])
def test_reply_to_is_written_when_given_and_only_then(how: str) -> None:
    with_it = email.message_from_bytes(_written(_message(reply_to="rsc@hebcm.example"), how))
    assert with_it["Reply-To"].strip() == "<rsc@hebcm.example>" or with_it["Reply-To"] == "rsc@hebcm.example"
    without = email.message_from_bytes(_written(_message(), how))
    assert without["Reply-To"] is None
