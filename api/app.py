"""The FastAPI application: routers under ``/v1``, auth, limits, errors and metrics."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.console import install_console
from api.docs import install_offline_docs
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.limits import BODY_LIMIT, IMPORT_LIMIT, BodyLimit
from api.mcp_server import mcp_router
from api.metrics import MetricsMiddleware, RequestMetrics
from api.model_lane import ModelLane
from api.routes import (
    adapters,
    chat,
    cubes,
    forgetting,
    health,
    jobs,
    kv,
    limits,
    memories,
    search,
    users,
)
from api.routes.openai_chat import router as openai_router
from memos import __version__
from memos.auth import ADMIN_KEY_FILE, KeyStore
from memos.kernel import MemOS
from memos.settings import Settings


def create_app(mos: MemOS, settings: Settings, *, keys: KeyStore | None = None) -> FastAPI:
    """The REST API over ``mos``; the model and embedder are loaded at startup."""
    keys = keys or mos.keys
    _announce(keys.ensure_admin_key(mos.home, settings.admin_key), mos)
    app = FastAPI(title="memos", version=__version__, lifespan=_load_models,
                  description="A memory OS for LLM agents: cubes of memories, search and chat.",
                  docs_url=None, redoc_url=None)
    app.state.mos, app.state.keys, app.state.settings = mos, keys, settings
    app.state.metrics = RequestMetrics()
    app.state.model_lane = ModelLane(mos.model_queue, settings.model_max_running)
    for module in (users, cubes, memories, search, chat, kv, adapters, jobs, limits,
                   forgetting):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.include_router(openai_router)
    app.include_router(mcp_router(mos, keys, settings))
    app.include_router(health.router)
    install_offline_docs(app)
    install_error_handlers(app)
    install_console(app)
    app.add_middleware(BodyLimit, default_bytes=BODY_LIMIT,
                       overrides={"/v1/cubes/import": IMPORT_LIMIT})
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app


@asynccontextmanager
async def _load_models(app: FastAPI):
    mos, settings = app.state.mos, app.state.settings
    await run_in_threadpool(lambda: (mos.engine, mos.embedder))
    mos.scheduler.start(settings.workers)
    yield
    app.state.model_lane.close()
    mos.scheduler.stop()


def _announce(secret: str | None, mos: MemOS) -> None:
    if secret is not None:
        print(f"memos: created the admin API key (shown once; also in "
              f"{mos.home / ADMIN_KEY_FILE}):\n  {secret}", file=sys.stderr)
