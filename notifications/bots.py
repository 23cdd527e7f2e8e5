"""企业微信 and 钉钉 group bots: a unit's reminder as markdown, and its delivery by webhook.

A unit may list `bots: [wecom, dingtalk]` in the plan; its reminders then also go to those
group chats. The webhook addresses (and 钉钉's signing secret) come from the environment,
never the plan (`cli.settings`), and never appear in an error, a log or an outbox row:
`masked` hides the key in every address this module names.

What the platforms document (and what is checked here):
- 企业微信 group bot: `{"msgtype": "markdown", "markdown": {"content": …}}`, content at most
  4096 bytes of UTF-8 (longer: errcode 40058); at most 20 messages a minute per bot (more:
  errcode 45009, "api freq out of limit"); a wrong key: errcode 93000 "invalid webhook url".
- 钉钉 custom bot: `{"msgtype": "markdown", "markdown": {"title": …, "text": …}}`, the request
  body at most 20000 bytes (longer: errcode 460101); at most 20 messages a minute per bot, over
  that it is throttled for 10 minutes (errcode 130101, "send too fast"); with 加签, the URL
  carries `&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256 of "timestamp\\nsecret">`, the
  timestamp within an hour of the platform's clock (so it is the host's real time, never the
  campaign's `--now`); a bad signature, a missing keyword or a refused IP: errcode 310000; an
  unknown access_token: 300001.

The bot sends names and staff IDs only, like the mails: no ID-card or phone numbers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cuiban.notifications.message import Outgoing
from cuiban.notifications.transports import (
    OUTAGE_COOL_DOWN,
    PermanentFailure,
    SenderPaused,
    TemporaryFailure,
)

PLATFORMS = ("wecom", "dingtalk")
PER_MINUTE = 20
"""Both platforms' documented limit per bot; the sender paces each bot to it (`services.dispatch`)."""
WECOM_CONTENT_BYTES = 4096
DINGTALK_BODY_BYTES = 20000
WECOM_COOL_DOWN = timedelta(minutes=1)
"""45009: the minute's allowance is spent; the next minute has a new one."""
DINGTALK_COOL_DOWN = timedelta(minutes=10)
"""130101: 钉钉 throttles a bot that sent too fast for 10 minutes (its documentation)."""
TIMEOUT_S = 10.0

PLATFORM_NAMES = {
    "zh": {"wecom": "企业微信群", "dingtalk": "钉钉群"},
    "en": {"wecom": "WeCom group", "dingtalk": "DingTalk group"},
}


@dataclass(frozen=True)
class BotTarget:
    """Where one unit's bot posts: its webhook address and, for 钉钉 with 加签, the secret.
    Neither is ever shown (no repr)."""

    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)


def recipient(platform: str, unit_id: str) -> str:
    """A bot's name in the outbox (its `recipient`) and in its pause: `wecom:news`."""
    return f"{platform}:{unit_id}"


def platform_of(name: str) -> str:
    return name.partition(":")[0]


_SECRET_PARAMETER = re.compile(r"([?&](?:key|access_token|sign|secret)=)[^&#\s]*", re.IGNORECASE)


def masked(url: str) -> str:
    """The address with its key, access token and signature hidden: what an error may show."""
    return _SECRET_PARAMETER.sub(r"\1***", url)


# ── what the group sees ──

WORDS = {
    "zh": {
        "title": "【催办】{unit}：{title}",
        "overdue": "已于 {due} 截止，逾期 {days} 个工作日，请尽快完成。",
        "today": "今天（{due}）截止。",
        "left": "{due} 截止，还剩 {days} 个工作日。",
        "deliverable": "应交付：{value}",
        "owners": "负责人：{value}",
        "counts": "教职工 {total} 人，已完成 {done} 人，未完成 {missing} 人。",
        "teachers": "未完成的教职工：",
        "more": "……另有 {n} 人",
        "next": "下一步：{value}",
        "link": "[在网页上查看并办理]({link})",
    },
    "en": {
        "title": "[Reminder] {unit}: {title}",
        "overdue": "was due {due}, {days} working days ago; please finish it.",
        "today": "is due today ({due}).",
        "left": "is due {due}, {days} working days left.",
        "deliverable": "Deliverable: {value}",
        "owners": "Owners: {value}",
        "counts": "{total} staff, {done} done, {missing} not yet.",
        "teachers": "Not yet done:",
        "more": "… and {n} more",
        "next": "Next step: {value}",
        "link": "[Open on the web]({link})",
    },
}


def markdown(platform: str, context: Mapping[str, Any], language: str = "zh") -> tuple[str, str]:
    """The reminder (a task notice's template variables) as the platform's (title, markdown),
    fitted to its size limit: teachers are left out from the end and counted in 「……另有 N 人」."""
    words = WORDS.get(language, WORDS["zh"])
    task = context["task"]
    title = words["title"].format(unit=task["unit_name"], title=task["title"])
    if task["overdue"]:
        when = words["overdue"].format(due=task["due"], days=task["overdue_days"])
    elif task["working_days_left"] == 0:
        when = words["today"].format(due=task["due"])
    else:
        when = words["left"].format(due=task["due"], days=task["working_days_left"])
    head = [f"### {_plain(title)}", f"> {_plain(task['title'])} {when}"]
    if task.get("deliverable"):
        head.append(f"> {words['deliverable'].format(value=_plain(task['deliverable']))}")
    if task.get("owners"):
        head.append(f"> {words['owners'].format(value=_plain(task['owners']))}")
    counts = context.get("counts")
    if counts:
        head.append(words["counts"].format(**counts))
    tail = []
    if task.get("next_step"):
        tail.append(words["next"].format(value=_plain(task["next_step"])))
    if context.get("link"):
        tail.append(words["link"].format(link=context["link"]))
    teachers = [f"- {_plain(t['staff_id'])} {_plain(t['name'])}（{t['state']}）" for t in context["teachers"]]
    more = int(context.get("more") or 0)
    for shown in range(len(teachers), -1, -1):  # as many teachers as fit, the rest counted
        lines = list(head)
        if teachers:
            lines.append(words["teachers"])
            lines += teachers[:shown]
            left_out = len(teachers) - shown + more
            if left_out:
                lines.append(words["more"].format(n=left_out))
        text = _joined(platform, lines + tail)
        if fits(platform, title, text):
            return title, text
    return title, _cut(platform, title, text)


def _joined(platform: str, lines: list[str]) -> str:
    """Lines as the platform shows them: 钉钉 joins single newlines into one paragraph (a list item
    aside), so its lines are separated by a blank one."""
    if platform == "wecom":
        return "\n".join(lines)
    return "".join(
        line if i == 0 else ("\n" if line.startswith("- ") else "\n\n") + line for i, line in enumerate(lines)
    )


def _plain(value: object) -> str:
    """A value on one line, without the characters markdown would read as markup at a line's start."""
    return " ".join(str(value).split()).replace("[", "【").replace("]", "】")


def payload(platform: str, title: str, text: str) -> dict[str, Any]:
    """The JSON each platform's webhook takes for a markdown message."""
    if platform == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def body(platform: str, title: str, text: str) -> bytes:
    """The request body as sent: UTF-8 JSON, non-ASCII as it is (escaped it would be twice the size)."""
    return json.dumps(payload(platform, title, text), ensure_ascii=False).encode("utf-8")


def fits(platform: str, title: str, text: str) -> bool:
    if platform == "wecom":
        return len(text.encode("utf-8")) <= WECOM_CONTENT_BYTES
    return len(body(platform, title, text)) <= DINGTALK_BODY_BYTES


def _cut(platform: str, title: str, text: str) -> str:
    """The last resort (a title or next step of thousands of characters): cut at a character."""
    while text and not fits(platform, title, text + "……"):
        text = text[: max(len(text) - 64, 0)]
    return text + "……"


# ── delivery ──


def signed(url: str, secret: str, timestamp_ms: int) -> str:
    """钉钉's 加签: `timestamp + "\\n" + secret` signed with HMAC-SHA256 under the secret, base64,
    URL-encoded, appended with the timestamp."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign}"


class BotTransport:
    """One group bot as a `Transport`: each message one HTTPS POST of its markdown.

    The platform's answer decides who pays, as an SMTP reply does (`notifications.transports`):
    - errcode 0: sent. Only then is the outbox row marked sent, so an error is retried and a
      crash after the POST (before the outcome is recorded) posts that one message again;
    - the bot's rate limit (企业微信 45009, 钉钉 130101, HTTP 429): `SenderPaused` for the platform's
      own cool-down — the message is not to blame, and sending on would only extend the ban;
    - no answer (connection refused, timeout), HTTP 5xx or 钉钉's -1 "系统繁忙": `SenderPaused` for
      the outage cool-down; it is the bot's server, not this message, that is down;
    - a webhook that does not exist or is not ours to use (93000, 300001, 310000 sign/keyword/IP,
      HTTP 4xx) or a message the platform will never take (too long: 40058, 460101; bad JSON
      40035/40008): `PermanentFailure`; sending it again cannot succeed until someone fixes the
      settings, and the digest lists it (then `cuiban outbox retry --failed`);
    - any other errcode, or an answer that is not JSON: `TemporaryFailure`, retried with backoff
      and given up only after a day, so nothing is lost to an answer we do not know.
    """

    domain = "cuiban.local"
    sender = "bot"

    def __init__(
        self,
        platform: str,
        target: BotTarget,
        *,
        name: str = "",
        paced_as: str | None = None,
        timeout: float = TIMEOUT_S,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown bot platform {platform!r}")
        self.platform, self.target, self.timeout, self.wall_clock = platform, target, timeout, wall_clock
        self.sender_name = name or platform
        self.paced_as = paced_as
        """The bot (outbox recipient) whose turns and pauses this one shares: units that list the same
        webhook post to one bot, which has one limit (None: its own)."""

    def __repr__(self) -> str:
        return f"BotTransport({self.platform!r}, {masked(self.target.url)!r})"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, message: Outgoing, sent_at: datetime, name: str) -> None:
        url = self.target.url
        if self.platform == "dingtalk" and self.target.secret:
            url = signed(url, self.target.secret, int(self.wall_clock() * 1000))
        request = urllib.request.Request(
            url,
            data=body(self.platform, message.subject, message.text),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        where = masked(self.target.url)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, answer = response.status, response.read(ANSWER_LIMIT)
        except urllib.error.HTTPError as error:
            status, answer = error.code, _read(error)
        # refused, reset, timed out, no route, no name (URLError is one); or not HTTP at all (a proxy's
        # garbage, a body cut short: http.client's own errors are not OSErrors) — the bot pauses
        except (OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            said = f"{self.platform} bot {where} did not answer: {self._hidden(str(reason))}"
            raise SenderPaused(said, OUTAGE_COOL_DOWN) from None
        raise_for(self.platform, status, answer, where, self._hidden)

    def _hidden(self, text: str) -> str:
        """`text` without this bot's key, access token or secret, wherever they appear in it."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.target.url).query)
        secrets = [v for k in ("key", "access_token") for v in query.get(k, [])]
        for secret in [*secrets, self.target.secret or ""]:
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return masked(text)


ANSWER_LIMIT = 65_536
"""The most of a bot's answer read: theirs are a few dozen bytes of JSON; a proxy's page is cut."""


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(ANSWER_LIMIT)
    except (OSError, http.client.HTTPException):
        return b""


RATE_LIMITED = {"wecom": {45009}, "dingtalk": {130101}}
REFUSED = {93000, 300001, 300002, 310000, 400101, 40058, 460101, 40035, 40008, 40001, 40014, 40013}
"""Errcodes no retry can fix: the webhook (93000 invalid webhook url, 300001 token is not exist,
310000 sign not match / keywords not in content / ip not in whitelist, 400101 bot stopped, 40001
and 40014 bad key) or the message itself (40058 / 460101 too long, 40035 / 40008 bad JSON)."""


def raise_for(
    platform: str, status: int, answer: bytes, where: str, hidden: Callable[[str], str] = masked
) -> None:
    """Nothing when the bot took the message (HTTP 200, errcode 0); else the failure it stands for
    (its words passed through `hidden`, so that no key the platform echoes is kept)."""
    said = f"{platform} bot {where} answered HTTP {status}"
    try:
        found = json.loads(answer.decode("utf-8")) if answer else None
    except (UnicodeDecodeError, ValueError):
        found = None
    if isinstance(found, dict) and "errcode" in found:
        code = found.get("errcode")
        said += f", errcode {code}: {hidden(str(found.get('errmsg', '')))[:200]}"
        if status == 200 and code == 0:
            return
    else:
        code = None
    if status == 429 or code in RATE_LIMITED[platform]:
        cool = WECOM_COOL_DOWN if platform == "wecom" else DINGTALK_COOL_DOWN
        raise SenderPaused(f"rate limit: {said}", cool)
    if status >= 500 or code == -1:
        raise SenderPaused(said, OUTAGE_COOL_DOWN)
    if code in REFUSED or (400 <= status < 500):
        raise PermanentFailure(said)
    raise TemporaryFailure(said)
