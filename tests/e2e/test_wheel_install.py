"""The wheel (issue 11): built from the repository, it holds `cuiban/` and nothing else at its top,
installs into a fresh venv beside a distribution that owns `workflow` and `intake` without
touching them, and `cuiban demo` runs from that install in an empty folder: its plan and
sample come from the package, not from the working folder.

Offline: the wheel is built with .venv's own setuptools (`./dev.sh` installs one that
builds wheels), the fresh venv installs with --no-index, and its dependencies come from
.venv's site-packages through PYTHONPATH (which processes no .pth file, so .venv's
editable cuiban stays out of sight: the test checks that cuiban is the wheel's).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 120
SKIPPED_AT_THE_TOP = {"build", "dist", "demo", ".venv"}


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout}\n{done.stderr}"
    return done


def _clean_copy(target: Path) -> Path:
    """The repository's files as a fresh clone of this work tree would have them (no build/, no .venv)."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if name.split("/")[0] in SKIPPED_AT_THE_TOP or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(source.read_bytes())
    return target


def _wheel(source: Path) -> Path:
    """The wheel of the project in `source`, built beside it."""
    if not _builds_wheels():
        pytest.fail("this .venv's setuptools cannot build wheels offline; ./dev.sh test installs one")
    out = source.with_name(f"{source.name}-wheel")
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    _run([*pip, "-w", str(out), str(source)], cwd=source.parent)
    (wheel,) = out.glob("*.whl")
    return wheel


def _builds_wheels() -> bool:
    import importlib.util

    from setuptools import __version__ as setuptools_version

    major, minor = (int(part) for part in setuptools_version.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


FAKE_PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "someone-elses-tools"
version = "1.0"

[tool.setuptools]
packages = ["workflow", "intake"]
"""


def _fake_distribution(folder: Path) -> Path:
    """A wheel of another project that owns the generic names `workflow` and `intake`."""
    (folder / "pyproject.toml").parent.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(FAKE_PYPROJECT, encoding="utf-8")
    for package in ("workflow", "intake"):
        (folder / package).mkdir()
        owner = f'OWNER = "someone else\'s {package}"\n'
        (folder / package / "__init__.py").write_text(owner, encoding="utf-8")
    return _wheel(folder)


def _digests(site: Path) -> dict[str, str]:
    return {
        package: hashlib.sha256((site / package / "__init__.py").read_bytes()).hexdigest()
        for package in ("workflow", "intake")
    }


def test_the_wheel_installs_as_cuiban_alone_and_runs_the_demo(tmp_path: Path) -> None:
    wheel = _wheel(_clean_copy(tmp_path / "clone"))
    top = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()} - {"cuiban-0.1.0.dist-info"}
    assert top == {"cuiban"}

    fresh = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", "--without-pip", str(fresh)])
    python = fresh / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index"]
    _run([*install, "-q", str(_fake_distribution(tmp_path / "fake"))])
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(_run([str(python), "-c", purelib]).stdout.strip())
    before = _digests(site)
    _run([*install, "-q", str(wheel)])
    assert _digests(site) == before  # someone else's packages untouched
    empty = tmp_path / "empty"  # the working folder: nothing there to import or read
    empty.mkdir()
    script = "import workflow, intake; print(workflow.OWNER, '|', intake.OWNER)"
    owners = _run([str(python), "-c", script], cwd=empty)
    assert owners.stdout.strip() == "someone else's workflow | someone else's intake"

    dependencies = sysconfig.get_path("purelib")  # .venv's: no .pth processed, so not its editable cuiban
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUIBAN_")} | {"PYTHONPATH": dependencies}
    where = _run([str(python), "-c", "import cuiban.cli; print(cuiban.cli.__file__)"], cwd=empty, env=env)
    assert Path(where.stdout.strip()).is_relative_to(fresh) and str(ROOT) not in where.stdout

    demo = _run([str(fresh / "bin" / "cuiban"), "demo", "--out", str(tmp_path / "demo")], cwd=empty, env=env)
    assert "roster: 300 rows" in demo.stdout
    assert "reports in" in demo.stdout and "messages written to" in demo.stdout
    assert (tmp_path / "demo" / "cuiban-demo.sqlite3").is_file()
    assert list(empty.iterdir()) == []  # nothing read from, or written to, the working folder
