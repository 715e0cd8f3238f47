"""The web console at ``/console``: server-rendered pages over the same kernel as the REST API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.console.route import HERE, PREFIX
from api.console.samples import MetricSamples, SamplingMiddleware
from api.console.session import SessionStore


def install_console(app: FastAPI) -> None:
    """Serve the console's pages and its static files (no CDN: everything is in the package)."""
    from api.console.pages import auth, chat, cubes, graph, jobs, kv, memories, metrics, users

    app.state.console_sessions = SessionStore()
    for module in (auth, cubes, memories, graph, kv, jobs, chat, metrics, users):
        app.include_router(module.router, include_in_schema=False)
    app.state.console_samples = MetricSamples(app.state.metrics, app.state.mos)
    app.add_middleware(SamplingMiddleware, samples=app.state.console_samples)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
