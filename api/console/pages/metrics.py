"""Metrics (administrators): latency, chat TTFT and KV hit rate per minute, and since start."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.console.deps import AdminDep, MosDep
from api.console.route import PREFIX, ConsoleRoute, page

router = APIRouter(prefix=PREFIX + "/metrics", route_class=ConsoleRoute)
ROUTES_SHOWN = 20
ROUTES_PLOTTED = 5
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


@router.get("/series")
def metrics_series(request: Request, viewer: AdminDep):
    """Per-minute samples for the plots: the busiest routes' p50/p95, TTFT and KV hit rate."""
    samples = request.app.state.console_samples.series()
    totals: dict[str, int] = {}
    for sample in samples:
        for route, row in sample["routes"].items():
            totals[route] = totals.get(route, 0) + row["count"]
    busiest = sorted(totals, key=lambda route: (-totals[route], route))[:ROUTES_PLOTTED]
    return JSONResponse({"samples": samples, "routes": busiest})
