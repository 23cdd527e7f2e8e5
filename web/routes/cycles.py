"""The campaign's cycles on this database, and which one the pages show (the plan's): read only.

Why no button to start one: starting next year's cycle closes this year's and sends every
teacher's progress back to the start. It is an administrator's deliberate act with a new plan
file, on the command line (`cuiban cycle start --plan …`), and the page says so.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from cuiban.services import cycles
from cuiban.web import pages, responses
from cuiban.workflow.access import Action

router = APIRouter()

pages.words(
    {
        "nav_cycles": ("采集周期", "Cycles"),
        "cy_title": ("采集周期", "Campaign cycles"),
        "cy_intro": (
            "每年的采集是一个周期。本数据库中的周期如下；最后一个未结束的周期是当前周期，"
            "之前的周期只读，报表仍可查看。",
            "Each year's campaign is a cycle. These are this database's cycles; the one not closed is "
            "the current one, and earlier ones are read only and still reportable.",
        ),
        "cy_shown": ("本网站各页面显示的是 {cycle} 周期（当前计划文件的周期）。",
                     "The pages show cycle {cycle} (the cycle of the plan file in use)."),
        "cy_cycle": ("周期", "Cycle"),
        "cy_name": ("名称", "Title"),
        "cy_started": ("开始时间", "Started"),
        "cy_closed": ("结束时间", "Closed"),
        "cy_current": ("当前周期", "current"),
        "cy_on_pages": ("页面显示", "shown here"),
        "cy_none": (
            "数据库中还没有周期：第一次用计划文件运行命令时，计划的周期即成为第一个周期。",
            "No cycle yet: the first command run with a plan makes its cycle the first.",
        ),
        "cy_start_title": ("开始新一年的周期", "Starting next year's cycle"),
        "cy_start_how": (
            "开始新周期会结束当前周期，并使所有教职工的进度从头开始，因此只能由管理员在命令行中、"
            "用新一年的计划文件执行（见 docs/plan.md “Next year's cycle, step by step”）：",
            "Starting a cycle closes the current one and starts every teacher's progress afresh, so an "
            "administrator does it on the command line with next year's plan file (docs/plan.md, "
            "\"Next year's cycle, step by step\"):",
        ),
    }
)


@router.get("/cycles")
def cycles_page(request: Request) -> Response:
    pages.guard(request, Action.VIEW_ALL)
    found = cycles.cycles(pages.context_of(request).engine)
    return pages.page(request, "cycles.html", cycles=found, shown_at=responses.shown_at(request))
