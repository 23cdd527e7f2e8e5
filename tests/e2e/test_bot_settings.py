"""A group bot the plan lists needs its webhook (and 钉钉's secret) in the environment: the real `cuiban`
process refuses to start without it, in one sentence naming the variable, exit 2, before it touches the
database; and no webhook key or secret is ever printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHIPPED_PLAN
from tests.e2e.test_settings import NOW, cuiban, one_sentence

KEY = "93a1f6c2-7e4b-4bc4-97a0-0ec2s3cr3tkey"
SECRET = "SECs1gn1ng-s3cr3t-0123456789"


def bot_plan(tmp_path: Path) -> str:
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    unit = "  news:      {name: 新闻传播学院, kind: department, head: h_news, collector: c_news"
    assert unit in text
    text = text.replace(unit, unit + ", bots: [wecom, dingtalk]")
    (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")
    return str(tmp_path / "plan.yaml")


@pytest.mark.parametrize(
    ("settings", "args", "words"),
    [
        ({}, ("tick", "--now", NOW), ("units.news.bots lists wecom", "CUIBAN_WECOM_WEBHOOK_NEWS is not set")),
        (
            {"CUIBAN_WECOM_WEBHOOK_NEWS": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"},
            ("outbox", "send", "--now", NOW),
            ("units.news.bots lists dingtalk", "CUIBAN_DINGTALK_WEBHOOK_NEWS is not set"),
        ),
        (
            {
                "CUIBAN_WECOM_WEBHOOK_NEWS": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}",
                "CUIBAN_DINGTALK_WEBHOOK_NEWS": f"https://oapi.dingtalk.com/robot/send?access_token={KEY}",
            },
            ("run", "--every", "1"),
            ("CUIBAN_DINGTALK_SECRET_NEWS is not set", "加签"),
        ),
        (
            {"CUIBAN_WECOM_WEBHOOK_NEWS": KEY},  # the key alone, not the address: refused, and not shown
            ("task", "list"),
            ("CUIBAN_WECOM_WEBHOOK_NEWS is set but is not a webhook address", "https://"),
        ),
    ],
    ids=["wecom-unset-tick", "dingtalk-unset-send", "secret-unset-run", "not-an-address"],
)
def test_a_bot_without_its_webhook_is_one_sentence_and_exit_2(
    tmp_path: Path, settings: dict[str, str], args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    line = one_sentence(cuiban(tmp_path, {"CUIBAN_PLAN": bot_plan(tmp_path), **settings}, *args), *words)
    assert KEY not in line and SECRET not in line
    assert not (tmp_path / "cuiban.sqlite3").exists()  # refused before the database was touched


def test_with_every_variable_set_the_tick_queues_the_units_reminder_for_both_groups(tmp_path: Path) -> None:
    """Set, the variables are taken; --no-send: queued for both groups, nothing posted."""
    settings = {
        "CUIBAN_PLAN": bot_plan(tmp_path),
        "CUIBAN_WECOM_WEBHOOK_NEWS": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}",
        "CUIBAN_DINGTALK_WEBHOOK_NEWS": f"https://oapi.dingtalk.com/robot/send?access_token={KEY}",
        "CUIBAN_DINGTALK_SECRET_NEWS": SECRET,
    }
    done = cuiban(tmp_path, settings, "tick", "--no-send", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert "2 bot" in done.stdout
    assert KEY not in done.stdout + done.stderr and SECRET not in done.stdout + done.stderr
