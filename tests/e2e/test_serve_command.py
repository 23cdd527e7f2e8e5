"""`cuiban serve` as a real process: `--dev` prints a sign-in link and answers with the security
headers; what it must not start with is refused in one sentence (exit 2); `./dev.sh web` and the
demo's last line say how to look at the demo in a browser.

Each server is a subprocess on a free port, polled with a deadline and stopped in a `finally`;
a refusal runs with a timeout, so a serve that wrongly starts fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from cuiban.services.demo import DEMO_DATABASE, WEB_NOW, browser_line
from tests.conftest import MINIMAL_PLAN

ROOT = Path(__file__).resolve().parents[2]
START_WITHIN = 60.0
"""Seconds a server may take to answer (imports, migrations); a refusal must come sooner."""
SECRET = "serve-test-secret-key-0123456789-abcdefghij"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any CUIBAN_* of the developer's, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUIBAN_")}
    env.update(
        PYTHONUNBUFFERED="1",
        CUIBAN_OUTBOX_DIR=str(tmp_path / "outbox"),
        CUIBAN_EVIDENCE_DIR=str(tmp_path / "evidence"),
        **settings,
    )
    return env


def serve_command(tmp_path: Path, *options: str) -> list[str]:
    database = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    return [sys.executable, "-m", "cuiban.cli.main", "serve", "--db", database, "--plan", str(MINIMAL_PLAN),
            *options]


@dataclass
class Server:
    url: str
    output: Path

    def printed(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serving(tmp_path: Path, env: dict[str, str], *options: str) -> Iterator[Server]:
    """`cuiban serve … --port FREE` until the block ends; waits (with a deadline) until it answers."""
    port = free_port()
    output = tmp_path / "serve.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            serve_command(tmp_path, "--port", str(port), *options),
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", output)
    try:
        deadline = time.monotonic() + START_WITHIN
        while not _answers(f"{server.url}/sign-in"):
            if process.poll() is not None or time.monotonic() > deadline:
                said = server.printed()
                raise AssertionError(f"cuiban serve did not answer (exit {process.poll()}):\n{said}")
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # the 303 itself is the answer under test


def test_serve_dev_prints_a_sign_in_link_and_answers_with_the_security_headers(tmp_path: Path) -> None:
    with serving(tmp_path, environment(tmp_path), "--dev") as server:
        with urllib.request.urlopen(f"{server.url}/sign-in", timeout=10) as answer:
            status, headers, page = answer.status, answer.headers, answer.read().decode("utf-8")
        try:  # a mail's link to a department's page, followed without a session: sign in first
            urllib.request.build_opener(NoRedirect).open(f"{server.url}/units/dept_a", timeout=10)
            raise AssertionError("/units/dept_a answered without a session")
        except urllib.error.HTTPError as redirect:
            unit_status, unit_location = redirect.code, redirect.headers["Location"]
        printed = server.printed()

    assert status == 200 and "<form" in page and 'name="csrf"' in page
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=lax" in headers["Set-Cookie"]
    assert (unit_status, unit_location) == (303, "/sign-in")
    links = [line for line in printed.splitlines() if line.startswith("sign in as the coordinator: ")]
    assert len(links) == 1, printed
    link = links[0].removeprefix("sign in as the coordinator: ")
    assert link.startswith(f"{server.url}/sign-in/link?token=")


def refused(tmp_path: Path, env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    """A serve that must stop before serving: it has START_WITHIN seconds to say why."""
    return subprocess.run(
        serve_command(tmp_path, "--port", str(free_port()), *options),
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=START_WITHIN,
    )


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_dev_on_an_address_others_reach_is_refused(tmp_path: Path) -> None:
    said = one_sentence(refused(tmp_path, environment(tmp_path), "--dev", "--host", "0.0.0.0"))
    assert said.startswith("--dev serves on this machine only; --host 0.0.0.0") and "127.0.0.1" in said


def test_without_a_secret_key_only_dev_starts(tmp_path: Path) -> None:
    said = one_sentence(refused(tmp_path, environment(tmp_path)))
    assert said.startswith("cuiban serve needs CUIBAN_SECRET_KEY") and "--dev" in said


@pytest.mark.parametrize("dev", [(), ("--dev",)], ids=["service", "dev"])  # --dev excuses no bad value
def test_a_short_secret_key_is_refused(tmp_path: Path, dev: tuple[str, ...]) -> None:
    said = one_sentence(refused(tmp_path, environment(tmp_path, CUIBAN_SECRET_KEY="too-short"), *dev))
    assert said.startswith("CUIBAN_SECRET_KEY is 9 characters long, too short to sign sessions safely")


def test_a_base_url_that_is_no_web_address_is_refused(tmp_path: Path) -> None:
    env = environment(tmp_path, CUIBAN_SECRET_KEY=SECRET, CUIBAN_BASE_URL="cuiban.example.edu.cn")
    said = one_sentence(refused(tmp_path, env))
    assert said.startswith("CUIBAN_BASE_URL is 'cuiban.example.edu.cn', not the address of the web pages")


# ── the demo in a browser ──


def test_dev_sh_web_asks_for_the_demo_first(tmp_path: Path) -> None:
    """Without demo/cuiban-demo.sqlite3, `./dev.sh web` says to run the demo, before touching .venv."""
    shutil.copy(ROOT / "dev.sh", tmp_path / "dev.sh")
    result = subprocess.run(
        ["bash", str(tmp_path / "dev.sh"), "web"], capture_output=True, text=True, timeout=30,
        env=environment(tmp_path),
    )
    assert result.returncode == 2 and "run ./dev.sh demo first" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_dev_sh_web_serves_the_demo_database_at_the_demos_last_moment() -> None:
    script = (ROOT / "dev.sh").read_text(encoding="utf-8")
    web = script.split("    web)", 1)[1].split(";;", 1)[0]
    assert f"--db sqlite:///demo/{DEMO_DATABASE}" in web and f"--now {WEB_NOW}" in web
    assert "serve --dev" in web and "CUIBAN_OUTBOX_DIR=demo/outbox" in web


def test_the_demo_ends_with_one_command_for_a_browser(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "my plan.yaml"
    elsewhere = browser_line(tmp_path / "demo", plan)  # no dev.sh here: a wheel install
    (tmp_path / "dev.sh").write_text("", encoding="utf-8")
    here = browser_line(Path("demo"), plan)

    assert here == "look at it in a browser: ./dev.sh web (then open the sign-in link it prints)"
    command = elsewhere.removeprefix("look at it in a browser: ").removesuffix(
        " (then open the sign-in link it prints)"
    )
    assert shlex.split(command) == [
        f"CUIBAN_OUTBOX_DIR={tmp_path / 'demo' / 'outbox'}", "cuiban", "serve", "--dev",
        "--db", f"sqlite:///{tmp_path / 'demo' / DEMO_DATABASE}", "--plan", str(plan), "--now", WEB_NOW,
    ]


def test_without_a_base_url_only_dev_starts(tmp_path: Path) -> None:
    said = one_sentence(refused(tmp_path, environment(tmp_path, CUIBAN_SECRET_KEY=SECRET)))
    assert said.startswith("cuiban serve needs CUIBAN_BASE_URL") and "--dev" in said


def test_a_base_url_with_a_path_is_refused(tmp_path: Path) -> None:
    env = environment(tmp_path, CUIBAN_SECRET_KEY=SECRET, CUIBAN_BASE_URL="https://www.example.edu.cn/cuiban")
    said = one_sentence(refused(tmp_path, env))
    assert "a host name of their own, no path" in said


def test_sigterm_stops_it_cleanly_like_cuiban_run(tmp_path: Path) -> None:
    """`systemctl stop`: the requests in flight finish, it says so and exits 0 (not 143, not a traceback)."""
    env = environment(tmp_path, CUIBAN_SECRET_KEY=SECRET, CUIBAN_BASE_URL="http://127.0.0.1")
    port = free_port()
    output = tmp_path / "serve.out"
    with output.open("wb") as out:
        process = subprocess.Popen(serve_command(tmp_path, "--port", str(port)), env=env, cwd=tmp_path,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_WITHIN
        while not _answers(f"http://127.0.0.1:{port}/sign-in"):
            assert process.poll() is None and time.monotonic() < deadline, output.read_text()
            time.sleep(0.05)
        process.terminate()
        code = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    printed = output.read_text(encoding="utf-8")
    assert code == 0, printed
    assert printed.strip().endswith("stopped") and "Traceback" not in printed
