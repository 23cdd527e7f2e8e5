"""A real `cuiban serve` process on the demo campaign (as of 2016-12-16 10:00) and a real headless
Chromium driving it through Playwright for Python, pointed at Debian's chromium (`executable_path`).

Screenshots go to a temporary folder, or to $CUIBAN_WEB_SCREENSHOTS (docs/images when the docs'
pictures are remade: `CUIBAN_WEB_SCREENSHOTS=docs/images ./dev.sh test tests/e2e/test_web_browser.py`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cuiban.cli.bootstrap import packaged_plan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("CUIBAN_REQUIRE_BROWSER") == "1"
SECRET = "browser-test-secret-key-0123456789-abcdefghij"


def need_browser() -> str:
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail("CUIBAN_REQUIRE_BROWSER=1 but no chromium on PATH (bash .ci/browser.sh installs it)")
        pytest.skip("no chromium on PATH: bash .ci/browser.sh installs Debian's")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[dev]')")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    outbox: Path
    evidence: Path
    database: Path
    log: Path

    def mails_to(self, address: str) -> list[Path]:
        return sorted(p for p in self.outbox.glob("*.eml") if address in p.read_bytes().decode("latin-1"))


def serve(database: Path, folder: Path, now: str = "2016-12-16T10:00:00+08:00") -> Iterator[Served]:
    """`cuiban serve` as a subprocess until the test ends; waits until it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    outbox, evidence, log = folder / "outbox", folder / "evidence", folder / "serve.log"
    env = {
        **os.environ,
        "CUIBAN_SECRET_KEY": SECRET,
        "CUIBAN_BASE_URL": url,
        "CUIBAN_OUTBOX_DIR": str(outbox),
        "CUIBAN_EVIDENCE_DIR": str(evidence),
    }
    command = [
        sys.executable, "-m", "cuiban.cli.main", "serve", "--port", str(port), "--now", now,
        "--db", f"sqlite:///{database}", "--plan", str(packaged_plan()),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/sign-in", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"cuiban serve did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield Served(url, outbox, evidence, database, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def screenshots_folder(tmp: Path) -> Path:
    folder = Path(os.environ.get("CUIBAN_WEB_SCREENSHOTS") or tmp)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, folder: Path, what: str) -> Path:  # type: ignore[no-untyped-def]
    """The whole page as `folder/web-<what>.png`; for the docs, in 256 colours (a third of the bytes,
    the same to the eye: pages are flat colours and text)."""
    path = folder / f"web-{what}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("CUIBAN_WEB_SCREENSHOTS"):
        from PIL import Image  # matplotlib's own dependency

        with Image.open(path) as taken:
            flat = taken.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT,
                                                 dither=Image.Dither.NONE)
        flat.save(path, optimize=True)
    return path
