"""memos as a Model Context Protocol server: over stdio for desktop clients (``memos mcp``) and
over streamable HTTP at ``/mcp`` in the API server, taking the same bearer keys as ``/v1``."""

from __future__ import annotations

from fastapi import APIRouter
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from starlette.concurrency import run_in_threadpool

from api.mcp_tools import MemoryTools, UserOf
from memos import __version__
from memos.auth import KeyStore
from memos.kernel import MemOS
from memos.settings import Settings

MCP_PATH = "/mcp"
INSTRUCTIONS = (
    "memos is a long-term memory for agents. Memories are notes kept in cubes: call list_cubes "
    "(or create_cube) first, store facts worth keeping with add_memories, find them with "
    "search_memories (each hit says why it matched), correct them with update_memory, and "
    "retire them with archive_memory or delete_memory.")


def build_mcp_server(mos: MemOS, user_of: UserOf, **auth) -> MCPServer:
    """An MCP server whose tools act for the user ``user_of`` names for each call."""
    server = MCPServer("memos", version=__version__, instructions=INSTRUCTIONS,
                       log_level="WARNING", **auth)
    MemoryTools(mos, user_of).register(server)
    return server


def run_stdio(mos: MemOS, user: str | None) -> None:
    """Serve MCP over stdin/stdout, acting for ``user`` (None: the home's local administrator)."""
    build_mcp_server(mos, lambda ctx: user).run("stdio")


class KeyVerifier:
    """Bearer tokens are memos API keys; the token's client id is the key's user."""

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys

    async def verify_token(self, token: str) -> AccessToken | None:
        """The key's user as an access token, or None for an unknown key."""
        caller = await run_in_threadpool(self._keys.user_for_key, token)
        if caller is None:
            return None
        return AccessToken(token=token, client_id=caller.user_id, scopes=[])


def key_user(ctx: Context) -> str:
    """The user whose API key authenticated the HTTP request being served."""
    token = get_access_token()
    if token is None:  # the transport refuses unauthenticated requests before any tool runs
        raise ToolError("an API key is required")
    return token.client_id


def mcp_router(mos: MemOS, keys: KeyStore, settings: Settings) -> APIRouter:
    """Streamable HTTP MCP at ``/mcp`` (stateless: every request carries its own key)."""
    # memos issues its own keys; the SDK wants an issuer URL, which it would only advertise in
    # OAuth metadata, and that is not served without a resource server URL.
    auth = AuthSettings(issuer_url=f"http://{settings.host}:{settings.port}",
                        resource_server_url=None)
    server = build_mcp_server(mos, key_user, token_verifier=KeyVerifier(keys), auth=auth)
    http_app = server.streamable_http_app(streamable_http_path=MCP_PATH, stateless_http=True,
                                          host=settings.host)
    router = APIRouter(lifespan=lambda app: server.session_manager.run())
    router.add_route(MCP_PATH, http_app, include_in_schema=False)
    return router
