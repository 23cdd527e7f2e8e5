"""Roster and status-export uploads through the pages: every bad row listed with nothing written, a good
file previewed then applied once by the same services as the command line, with the person as actor."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from sqlalchemy import text

from tests.web_support import SAMPLE, WebEnv

ROSTER = SAMPLE / "roster.csv"
STATUS = SAMPLE / "status"


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gbk", newline="") as handle:  # HR's Excel saves GBK
        csv.writer(handle).writerows(rows)
    return path


def _count(env: WebEnv, sql: str, **values: object) -> int:
    with env.engine.connect() as connection:
        return connection.execute(text(sql), values).scalar_one()


def _states(env: WebEnv) -> dict[str, int]:
    with env.engine.connect() as connection:
        return dict(connection.execute(text("SELECT state, COUNT(*) FROM teacher GROUP BY state")).all())


def _upload(env: WebEnv, kind: str, path: Path, name: str | None = None, **fields: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return env.post(f"/uploads/{kind}", data=fields, files={"file": (name or path.name, handle)},
                        form_page="/uploads")


def _upload_id(answer) -> str:  # type: ignore[no-untyped-def]
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/uploads/([0-9a-f]{32})", answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


def _staged(env: WebEnv) -> list[Path]:
    folder = env.context.staging
    return sorted(folder.iterdir()) if folder.exists() else []


def test_four_bad_rows_are_all_listed_and_nothing_is_written(web_env: WebEnv, tmp_path: Path) -> None:
    web_env.sign_in("cheng_xing")
    rows = _rows(ROSTER)
    rows[3][3] = "1980-13-01"  # 出生日期: no 13th month          (file row 4)
    rows[10][4] = "火星学院"  # 所属部门: no such department        (file row 11)
    rows[20][0] = rows[19][0]  # 工号: the one of the row above    (file row 21)
    rows[30][9] = "not-an-email"  # 电子邮箱                        (file row 31)
    bad = _write(tmp_path / "教职工名单.csv", rows)
    before = _count(web_env, "SELECT COUNT(*) FROM teacher")
    changed_before = _count(web_env, "SELECT MAX(updated_at) FROM teacher")

    answer = _upload(web_env, "roster", bad, name=r"C:\Users\hr\Desktop\教职工名单.csv")

    assert answer.status_code == 400
    page = answer.text
    assert "共 4 处问题，未写入任何数据" in page
    cells = r'<tr><td>教职工名单\.csv</td><td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>'
    listed = re.findall(cells, page)
    expected = [(4, "出生日期"), (11, "所属部门"), (21, "工号"), (31, "电子邮箱")]
    assert [(int(r), c) for r, c, _ in listed] == expected
    assert [v for _, _, v in listed] == ["1980-13-01", "火星学院", rows[19][0], "not-an-email"]
    assert "C:\\Users" not in page  # only the file's own name is shown
    assert _count(web_env, "SELECT COUNT(*) FROM teacher") == before == 300
    assert _count(web_env, "SELECT MAX(updated_at) FROM teacher") == changed_before
    assert _staged(web_env) == []  # a refused file is not kept


def test_a_good_roster_is_previewed_then_imported_by_the_coordinator(empty_web_env: WebEnv) -> None:
    env = empty_web_env
    env.sign_in("cheng_xing")
    upload_id = _upload_id(_upload(env, "roster", ROSTER))
    assert _count(env, "SELECT COUNT(*) FROM teacher") == 0  # the preview wrote nothing

    preview = env.client.get(f"/uploads/{upload_id}")
    assert preview.status_code == 200
    figures = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", preview.text))
    assert figures["文件行数"] == "300"
    assert int(figures["新导入"]) + int(figures["不在采集范围（排除）"]) == 300
    assert int(figures["不在采集范围（排除）"]) > 0
    assert f'action="/uploads/{upload_id}/confirm"' in preview.text
    imported = int(figures["新导入"])

    done = env.post(f"/uploads/{upload_id}/confirm", data={"kind": "roster"},
                    form_page=f"/uploads/{upload_id}")
    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    assert "已导入 roster.csv" in env.client.get("/uploads").text  # the flash message
    assert _count(env, "SELECT COUNT(*) FROM teacher") == 300
    assert _count(env, "SELECT COUNT(*) FROM teacher WHERE state = 'pending'") == imported
    actors = _count(env, "SELECT COUNT(DISTINCT actor) FROM transition_log WHERE source = 'import'")
    assert actors == 1
    assert _count(env, "SELECT COUNT(*) FROM transition_log WHERE source = 'import' AND actor = 'cheng_xing' "
                       "AND note LIKE 'roster.csv%'") == 300
    assert _staged(env) == []  # the staged file is gone once applied

    again = env.post(f"/uploads/{upload_id}/confirm", data={"kind": "roster"}, form_page="/uploads")
    assert again.status_code == 409 and "已经导入过" in again.text
    assert _count(env, "SELECT COUNT(*) FROM teacher") == 300


def test_a_moved_teacher_is_counted_in_the_preview(web_env: WebEnv, tmp_path: Path) -> None:
    web_env.sign_in("cheng_xing")
    rows = _rows(ROSTER)
    staff_id, department = rows[1][0], rows[1][4]
    rows[1][4] = "音乐学院" if department != "音乐学院" else "舞蹈学院"
    upload_id = _upload_id(_upload(web_env, "roster", _write(tmp_path / "roster-moved.csv", rows)))
    figures = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>",
                              web_env.client.get(f"/uploads/{upload_id}").text))
    assert figures["其中调动部门"] == "1" and figures["信息更新"] == "1" and figures["新导入"] == "0"
    assert _count(web_env, "SELECT unit_id FROM teacher WHERE staff_id = :s", s=staff_id) == "news"


def test_a_status_export_is_previewed_then_applied_and_the_figures_change(web_env: WebEnv) -> None:
    web_env.sign_in("cheng_xing")
    before = _states(web_env)
    exports = _count(web_env, "SELECT COUNT(*) FROM sync_export")

    upload_id = _upload_id(_upload(web_env, "status", STATUS / "status-2016-12-17.csv"))
    preview = web_env.client.get(f"/uploads/{upload_id}").text
    assert _states(web_env) == before  # the preview applied nothing
    assert _count(web_env, "SELECT COUNT(*) FROM sync_export") == exports
    assert "导出时间：2016-12-17（文件名中的日期）" in preview
    changed = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", preview))["状态变化"]
    assert int(changed) > 0 and " → " in preview

    done = web_env.post(f"/uploads/{upload_id}/confirm", data={"kind": "status"},
                        form_page=f"/uploads/{upload_id}")
    assert done.status_code == 303
    after = _states(web_env)
    assert after != before and sum(after.values()) == sum(before.values())
    assert sum(abs(after.get(s, 0) - before.get(s, 0)) for s in {*before, *after}) >= int(changed)
    newest = _count(web_env, "SELECT file_name FROM sync_export ORDER BY id DESC LIMIT 1")
    assert newest == "status-2016-12-17.csv"  # the name it came with, not the staged one
    logged = "SELECT COUNT(*) FROM transition_log WHERE source = 'sync' AND actor = 'cheng_xing'"
    assert _count(web_env, logged) >= int(changed)


def test_an_older_export_is_refused_in_one_sentence_and_the_as_of_date_is_taken(web_env: WebEnv) -> None:
    web_env.sign_in("chen_lan")
    stale = _upload(web_env, "status", STATUS / "status-2016-12-13.csv")
    assert stale.status_code == 400
    assert "本次未做任何更改" in stale.text and "status-2016-12-13.csv 的数据时间是 2016-12-13" in stale.text
    dated = _upload(web_env, "status", STATUS / "status-2016-12-13.csv", name="导出.csv", as_of="2016-12-16")
    upload_id = _upload_id(dated)
    assert "导出时间：2016-12-16 00:00（填写的日期）" in web_env.client.get(f"/uploads/{upload_id}").text
    assert _staged(web_env)  # waits for confirmation …
    cancelled = web_env.post(f"/uploads/{upload_id}/cancel", form_page="/uploads")
    assert cancelled.status_code == 303 and _staged(web_env) == []  # … or is cancelled
    undated = _upload_id(_upload(web_env, "status", STATUS / "status-2016-12-17.csv", name="export.csv"))
    assert "导出时间：2016-12-16 10:00（上传时间）" in web_env.client.get(f"/uploads/{undated}").text


def test_files_that_are_not_tables_are_refused_and_never_kept(web_env: WebEnv, tmp_path: Path) -> None:
    web_env.sign_in("cheng_xing")
    page = tmp_path / "x.html"
    page.write_text("<script>alert(1)</script>")
    answer = _upload(web_env, "roster", page)
    assert answer.status_code == 400 and "只接受 .xlsx、.xls 或 .csv" in answer.text
    assert "<script>alert" not in answer.text
    headerless = _write(tmp_path / "名单.csv", [["a", "b"], ["1", "2"]])
    answer = _upload(web_env, "roster", headerless)
    assert answer.status_code == 400 and "名单.csv：前 20 行中没有" in answer.text
    assert str(web_env.context.staging) not in answer.text
    assert _staged(web_env) == []


def test_only_admins_upload_and_ids_are_never_paths(web_env: WebEnv) -> None:
    leader = web_env.sign_in("li_jinyun")
    assert leader.get("/uploads").status_code == 403
    assert _upload(web_env, "roster", ROSTER).status_code == 403
    assert _count(web_env, "SELECT COUNT(*) FROM access_log WHERE person_id = 'li_jinyun' "
                           "AND path = '/uploads/roster'") == 1
    admin = web_env.sign_in("cheng_xing", web_env.new_client())
    for bad in ("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "0" * 31, "g" * 32, "A" * 32):
        assert admin.get(f"/uploads/{bad}").status_code in (400, 404)
        token = web_env.csrf(admin, "/uploads")
        answer = admin.post(f"/uploads/{bad}/confirm", data={"kind": "roster", "csrf": token})
        assert answer.status_code in (400, 404), bad
    assert admin.get(f"/uploads/{'0' * 32}").status_code == 404


def test_what_a_stopped_server_left_behind_is_swept_after_a_day(web_env: WebEnv) -> None:
    """Files given old times (os.utime): claims never finished, half-written records, unreadable
    records and files without a record go once they are over 24 hours old; a claim being applied, a
    waiting upload, anything younger and anything not named by the uploads stay."""
    web_env.sign_in("cheng_xing")
    waiting = _upload_id(_upload(web_env, "status", STATUS / "status-2016-12-17.csv"))
    folder = web_env.context.staging
    now = web_env.clock().timestamp()
    old, young = now - 25 * 3600, now - 3600
    files = {
        f"{'a' * 32}.applying": old, f"{'a' * 32}.csv": old,  # an apply that never finished
        f"{'b' * 32}.part": old,  # a record half written
        f"{'c' * 32}.json": old,  # a record no one can read
        f"{'d' * 32}.xlsx": old,  # a file whose record is gone
        f"{'e' * 32}.applying": young, f"{'e' * 32}.xls": old,  # being applied now: both stay
        f"{'f' * 32}.csv": young,  # too young to tell
        "notes.txt": old,  # not an upload's
    }
    for name, stamp in files.items():
        (folder / name).write_text("{not json")
        os.utime(folder / name, (stamp, stamp))
    _upload_id(_upload(web_env, "status", STATUS / "status-2016-12-17.csv"))  # an upload sweeps
    left = {p.name for p in _staged(web_env)}
    assert {f"{'e' * 32}.applying", f"{'e' * 32}.xls", f"{'f' * 32}.csv", "notes.txt"} <= left
    assert not {name for name, stamp in files.items() if stamp == old and name[0] in "abcd"} & left
    assert {f"{waiting}.json", f"{waiting}.csv"} <= left
