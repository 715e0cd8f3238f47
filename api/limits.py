"""Request body size limits, enforced before a route reads the body."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

MIB = 1024 * 1024
BODY_LIMIT = MIB
IMPORT_LIMIT = 256 * MIB


class BodyLimit:
    """ASGI middleware: 413 for bodies over ``default_bytes`` (or a per-path override)."""

    def __init__(self, app: ASGIApp, default_bytes: int = MIB,
                 overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.overrides.get(scope["path"], self.default_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await error_response(413, "payload_too_large", _message(limit))(scope, receive, send)
            return
        await self.app(scope, _counting(receive, limit), send)


def _counting(receive: Receive, limit: int) -> Receive:
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, _message(limit))
        return message

    return limited


def _message(limit: int) -> str:
    return f"request body larger than {limit} bytes"
