"""Metrics (administrators): request latency per route and the KV cache's hit rate, as bars."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.console.deps import AdminDep, MosDep
from api.console.route import PREFIX, ConsoleRoute, page

router = APIRouter(prefix=PREFIX + "/metrics", route_class=ConsoleRoute)
ROUTES_SHOWN = 20
BAR_WIDTH = 420


@router.get("")
def metrics_page(request: Request, viewer: AdminDep, mos: MosDep):
    """The service's own figures since it started."""
    routes = sorted(request.app.state.metrics.latencies(), key=lambda r: -r["count"])
    routes = routes[:ROUTES_SHOWN]
    longest = max((r["mean_s"] for r in routes), default=0.0) or 1.0
    for row in routes:
        row["bar"] = max(1, round(BAR_WIDTH * row["mean_s"] / longest))
    kv = mos.activation.stats()
    lookups = kv.get("hits", 0) + kv.get("misses", 0)
    return page(request, "metrics.html", viewer=viewer, routes=routes, bar_width=BAR_WIDTH,
                kv=kv, hit_rate=kv.get("hits", 0) / lookups if lookups else None)
