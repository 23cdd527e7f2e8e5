"""`cuiban demo --out DIR` only ever empties a folder it made itself (it leaves a marker there)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cuiban.cli.main import cuiban
from cuiban.services.demo import DEMO_DATABASE, DEMO_MARKER
from cuiban.services.demo import claim_folder as _demo_folder
from cuiban.services.rejection import Refusal
from tests.conftest import SHIPPED_PLAN


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "inside", [["notes.txt"], ["outbox/mine.eml", "reports/附表6.xlsx"], ["cuiban.sqlite3"]]
)
def test_a_folder_with_other_files_is_refused_and_nothing_is_deleted(
    tmp_path: Path, inside: list[str]
) -> None:
    out = tmp_path / "work"
    for name in inside:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(f"kept: {name}", encoding="utf-8")
    before = _files(out)

    result = CliRunner().invoke(cuiban, ["demo", "--out", str(out)], env={"CUIBAN_PLAN": str(SHIPPED_PLAN)})

    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"--out {out} is not empty and was not made by the demo, whose files there it would replace; "
        "name a new or empty folder, e.g. --out demo"
    )
    assert "Traceback" not in result.output and result.stdout == ""
    assert _files(out) == before  # nothing deleted, nothing added


def test_the_working_folder_is_refused(tmp_path: Path, monkeypatch) -> None:
    """`cuiban demo --out .` in a folder with an outbox of real messages: refused, not emptied."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / "000001-reminder.eml").write_text("real", encoding="utf-8")
    (tmp_path / "plan.yaml").write_text("", encoding="utf-8")
    result = CliRunner().invoke(cuiban, ["demo", "--out", "."], env={"CUIBAN_PLAN": str(SHIPPED_PLAN)})
    assert result.exit_code == 2 and "not made by the demo" in result.stderr
    assert (tmp_path / "outbox" / "000001-reminder.eml").read_text(encoding="utf-8") == "real"


def test_a_new_or_empty_folder_is_made_the_demos(tmp_path: Path) -> None:
    new, empty = tmp_path / "a" / "new", tmp_path / "empty"
    empty.mkdir()
    for folder in (new, empty):
        _demo_folder(folder)
        assert (folder / DEMO_MARKER).is_file()


def test_a_folder_the_demo_made_may_be_used_again(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    _demo_folder(out)
    (out / DEMO_DATABASE).write_bytes(b"old")
    (out / "outbox").mkdir()
    (out / "outbox" / "000001-digest.eml").write_text("old", encoding="utf-8")
    (out / "notes.txt").write_text("the user's", encoding="utf-8")  # marked: the demo's folder all the same
    _demo_folder(out)  # no refusal
    assert (out / DEMO_MARKER).is_file()


def test_a_demo_folder_from_before_the_marker_is_recognised(tmp_path: Path) -> None:
    """An earlier demo's folder holds only the demo's own names, its database among them."""
    out = tmp_path / "demo"
    (out / "outbox").mkdir(parents=True)
    (out / "reports").mkdir()
    for name in (DEMO_DATABASE, f"{DEMO_DATABASE}-wal"):
        (out / name).write_bytes(b"old")
    _demo_folder(out)
    assert (out / DEMO_MARKER).is_file()


def test_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "demo"
    file.write_text("a file", encoding="utf-8")
    with pytest.raises(Refusal, match="is a file"):
        _demo_folder(file)
    assert file.read_text(encoding="utf-8") == "a file"
