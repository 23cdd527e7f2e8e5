"""Fixtures of the web tests: `web_env`, the demo campaign as of 2016-12-16 10:00 on a SQLite file of
the test's own, with the app on it; `empty_web_env`, the same app on a database with no roster."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pendulum
import pytest

from tests.web_support import TZ, WebEnv, campaign_file, copy_of, make_env

NOW = pendulum.datetime(2016, 12, 16, 10, tz=TZ)


@pytest.fixture(scope="session")
def campaign_1216(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return campaign_file(tmp_path_factory.mktemp("campaign"), date(2016, 12, 16))


@pytest.fixture
def web_env(campaign_1216: Path, tmp_path: Path) -> WebEnv:
    env = make_env(copy_of(campaign_1216, tmp_path), tmp_path, NOW)
    yield env
    env.engine.dispose()


@pytest.fixture
def empty_web_env(tmp_path: Path) -> WebEnv:
    env = make_env(tmp_path / "empty.sqlite3", tmp_path, NOW)
    yield env
    env.engine.dispose()
