"""Write the demo's synthetic 2016 campaign: a roster, daily status exports, tasks done by hand.

Deterministic (seeded), so the committed files are reproducible:
    .venv/bin/python -m cuiban.samples.generate
Twelve departments of 25 teachers each (a few out of scope), with four kinds of pace:
fast and on-time departments finish filling before 12-15, slow ones finish late, and
one is stuck. Names are invented from common characters; addresses are .example.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from cuiban.planfile.loader import load_plan

HERE = Path(__file__).resolve().parent / "2016"
PLAN = Path(__file__).resolve().parent.parent / "config" / "plan.yaml"
PER_DEPARTMENT = 25
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯晨瑞"
# pace: (first submissions, last submission, share that ever submits)
PACES = {
    "fast": (date(2016, 12, 3), date(2016, 12, 12), 1.0),
    "on_time": (date(2016, 12, 5), date(2016, 12, 15), 1.0),
    "slow": (date(2016, 12, 7), date(2016, 12, 21), 1.0),
    "stuck": (date(2016, 12, 9), date(2016, 12, 30), 0.6),
}
PACE_OF = ["fast"] * 5 + ["on_time"] * 4 + ["slow"] * 2 + ["stuck"]
EXPORT_DAYS = [date(2016, 11, 30)] + [date(2016, 12, 1) + timedelta(days=n) for n in range(0, 30, 2)]
STATUS = {
    "account_issued": "未填报",
    "filling": "填报中",
    "submitted": "已提交",
    "reviewed": "已审核",
    "confirmed": "已确认",
    "reported": "已上报",
}


def main() -> None:
    plan, _ = load_plan(PLAN)
    rng = random.Random(2016)
    departments = plan.departments()
    headers = list(plan.roster.columns.values())
    teachers = []
    (HERE / "status").mkdir(parents=True, exist_ok=True)
    with (HERE / "roster.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for d, unit_id in enumerate(departments):
            pace = PACE_OF[d % len(PACE_OF)]
            for n in range(PER_DEPARTMENT):
                number = 100 * (d + 1) + n + 1
                staff_id = f"{number:06d}"
                contract = "6" if n == 24 else "36"
                elsewhere = "是" if n == 23 else "否"
                name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
                writer.writerow(
                    [
                        staff_id,
                        name,
                        rng.choice("男女"),
                        f"{rng.randint(1958, 1992)}-{rng.randint(1, 12):02d}-01",
                        plan.units[unit_id].name,
                        "教师岗位",
                        "外聘" if n % 9 == 0 else "合同",
                        contract,
                        elsewhere,
                        f"t{number}@hebcm.example",
                    ]
                )
                if contract == "36" and elsewhere == "否":
                    teachers.append((staff_id, unit_id, _timeline(rng, pace)))
    for day in EXPORT_DAYS:
        with (HERE / "status" / f"status-{day.isoformat()}.csv").open(
            "w", encoding="utf-8-sig", newline=""
        ) as handle:
            writer = csv.writer(handle)
            writer.writerow(["工号", "填报状态"])
            for staff_id, _, timeline in teachers:
                state = max((s for s, when in timeline.items() if when <= day), key=list(STATUS).index)
                writer.writerow([staff_id, STATUS[state]])
    _tasks(departments)


def _timeline(rng: random.Random, pace: str) -> dict[str, date]:
    first, last, share = PACES[pace]
    timeline = {"account_issued": date(2016, 11, 30)}
    if rng.random() > share:
        timeline["filling"] = first + timedelta(days=rng.randint(0, 5))
        return timeline
    submitted = first + timedelta(days=rng.randint(0, (last - first).days))
    timeline["filling"] = max(submitted - timedelta(days=rng.randint(0, 3)), date(2016, 12, 2))
    timeline["submitted"] = submitted
    timeline["reviewed"] = submitted + timedelta(days=rng.randint(1, 4))
    timeline["confirmed"] = max(timeline["reviewed"] + timedelta(days=rng.randint(1, 5)), date(2016, 12, 22))
    timeline["reported"] = max(timeline["confirmed"] + timedelta(days=1), date(2016, 12, 27))
    return timeline


def _tasks(departments: list[str]) -> None:
    rows = [
        ("2016-11-28", "hr_roster", "hr", "陈岚"),
        ("2016-12-01", "monthly_report", "tdc", "程兴"),
        ("2016-12-14", "hr_tables", "hr", "陈岚"),
        ("2016-12-15", "hr_tables", "tdc", "程兴"),
        ("2016-12-23", "tdc_collect_audit", "tdc", "程兴"),
    ]
    for d, unit_id in enumerate(departments):
        pace = PACE_OF[d % len(PACE_OF)]
        collector_day = {
            "fast": "2016-12-01",
            "on_time": "2016-12-05",
            "slow": "2016-12-06",
            "stuck": "2016-12-08",
        }
        audit_day = {"fast": "2016-12-16", "on_time": "2016-12-19", "slow": "2016-12-22", "stuck": None}
        rows.append((collector_day[pace], "dept_collector", unit_id, f"{unit_id} head"))
        if audit_day[pace]:
            rows.append((audit_day[pace], "dept_audit_report", unit_id, f"{unit_id} collector"))
            rows.append((audit_day[pace], "dept_audit_paper", unit_id, f"{unit_id} collector"))
    with (HERE / "tasks.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "milestone", "unit", "by"])
        writer.writerows(sorted(rows))


if __name__ == "__main__":
    main()
