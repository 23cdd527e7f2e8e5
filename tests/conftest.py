"""Shared fixtures: the shipped plan, a small valid plan, and helpers to write plan files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PLAN = ROOT / "config" / "plan.yaml"
MINIMAL_PLAN = Path(__file__).parent / "fixtures" / "minimal_plan.yaml"


def line_of(text: str, marker: str) -> int:
    """1-based number of the only line containing `marker`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) == 1, f"{marker!r} found on lines {hits}"
    return hits[0]


@pytest.fixture
def shipped_plan_text() -> str:
    return SHIPPED_PLAN.read_text(encoding="utf-8")


@pytest.fixture
def minimal_plan_text() -> str:
    return MINIMAL_PLAN.read_text(encoding="utf-8")


@pytest.fixture
def write_plan(tmp_path: Path):
    def write(text: str, name: str = "plan.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
