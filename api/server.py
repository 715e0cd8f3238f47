"""Run the API with uvicorn (``memos serve``)."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from memos.kernel import MemOS
from memos.settings import Settings


def serve(settings: Settings | None = None, log_level: str = "info") -> None:
    """Open the home folder, load the model and embedder, and serve on settings.host:port."""
    settings = settings or Settings()
    if settings.server_processes > 1:
        from api.workers import serve_processes

        serve_processes(settings, log_level)
        return
    mos = MemOS(settings=settings)
    try:
        uvicorn.run(create_app(mos, settings), host=settings.host, port=settings.port,
                    log_level=log_level)
    finally:
        mos.close()
