"""The pages, one module per concern; each holds an APIRouter and registers its words."""

from cuiban.web.routes import (
    corrections,
    cycles,
    dashboard,
    downloads,
    outbox,
    plan_diff,
    sign_in,
    teachers,
    units,
    uploads,
)

ROUTERS = [
    m.router
    for m in (sign_in, dashboard, units, corrections, teachers, outbox, uploads, downloads, cycles, plan_diff)
]
