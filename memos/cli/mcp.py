"""``memos mcp``: serve a home folder to an MCP client (Claude Desktop, Cursor, agent SDKs) over
stdio, acting for one user."""

from __future__ import annotations

from typing import Annotated

import typer

from memos.cli.context import connection
from memos.cli.errors import CliError


def mcp(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option(
        help="Act as this user (instead of an API key's user).")] = None,
) -> None:
    """Serve the home folder over the Model Context Protocol on stdin/stdout.

    The tools act for the user of the API key (MEMOS_API_KEY, or the file named by the global
    --api-key-file), or for --user; with neither, for the home's local administrator, who sees
    every cube.

    Example: memos --home ./memos-home --api-key-file ./alice.key mcp
    """
    conn = connection(ctx)
    if conn.url:
        raise CliError("`memos mcp` serves a home folder over stdio; a running server offers "
                       "MCP over HTTP at <url>/mcp")
    key = conn.api_key
    if key and user:
        raise CliError("give either an API key or --user, not both")
    from transformers.utils import logging as transformers_logging

    from api.mcp_server import run_stdio
    from memos.kernel import MemOS

    transformers_logging.disable_progress_bar()  # stdout carries the protocol; keep it clean
    with MemOS(conn.home) as mos:
        run_stdio(mos, _acting_user(mos.keys, key, user))


def _acting_user(keys, key: str | None, user: str | None) -> str | None:
    if user:
        keys.get_user(user)  # NotFound for an unknown user
        return user
    if not key:
        return None
    caller = keys.user_for_key(key)
    if caller is None:
        raise CliError("invalid API key")
    return caller.user_id
