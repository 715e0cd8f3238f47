"""``memos serve``: run the REST API over a home folder."""

from __future__ import annotations

from typing import Annotated

import typer

from memos.cli.context import connection
from memos.cli.errors import CliError
from memos.settings import Settings


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (MEMOS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (MEMOS_PORT).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    workers: Annotated[int | None, typer.Option(
        min=1, help="Server processes sharing the port and the database "
                    "(MEMOS_SERVER_PROCESSES).")] = None,
) -> None:
    """Serve the REST API over the home folder (loads the model and embedder first).

    On the first start an admin API key is created and printed once (also written to
    <home>/admin.key), unless MEMOS_ADMIN_KEY is set.

    Example: memos --home ./memos-home serve --port 8765 --workers 2
    """
    conn = connection(ctx)
    if conn.url:
        raise CliError("`memos serve` runs a server over a home folder; drop --url / MEMOS_URL")
    from api.server import serve as run_server

    updates = {"home": conn.home, "host": host, "port": port, "server_processes": workers}
    settings = Settings()
    settings = settings.model_copy(update={k: v for k, v in updates.items() if v is not None})
    run_server(settings, log_level=log_level)
