"""Errors of the OpenAI-compatible routes in OpenAI's shape: ``{"error": {"message", "type",
"param", "code"}}``, so OpenAI clients raise their own exception classes for them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from api.errors import status_of
from api.schemas.openai import OpenAIError
from storage.errors import MemosError

log = logging.getLogger("memos.api")

CODE_OF_STATUS = {401: "invalid_api_key", 403: "forbidden", 404: "not_found",
                  409: "conflict", 500: "internal_error", 503: "unavailable"}
OPENAI_ERROR_RESPONSES = {
    status: {"model": OpenAIError, "description": description}
    for status, description in ((400, "invalid request"), (401, "missing or invalid API key"),
                                (404, "unknown model or cube"))}


def openai_error(status: int, message: str, param: str | None = None,
                 code: str | None = None) -> dict:
    """The body of an OpenAI-shaped error."""
    return {"error": {"message": message,
                      "type": "server_error" if status >= 500 else "invalid_request_error",
                      "param": param, "code": code or CODE_OF_STATUS.get(status)}}


def memos_error_body(error: MemosError) -> tuple[int, dict]:
    """The status and OpenAI-shaped body of one of the project's errors."""
    status = status_of(error)
    if status >= 500:
        log.error("%s on an OpenAI-compatible route: %s", error.code, error)
    return status, openai_error(status, str(error), code=error.code)


class OpenAIRoute(APIRoute):
    """A route whose errors (auth, validation, the kernel's) take OpenAI's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def openai_shaped(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return _invalid(error)
            except HTTPException as error:
                body = openai_error(error.status_code, str(error.detail))
                return JSONResponse(body, error.status_code, headers=error.headers)
            except MemosError as error:
                status, body = memos_error_body(error)
                return JSONResponse(body, status)

        return openai_shaped


def _invalid(error: RequestValidationError) -> JSONResponse:
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return JSONResponse(openai_error(400, "the request body is not valid JSON",
                                         code="invalid_json"), 400)
    params = [_param(problem.get("loc", ())) for problem in problems]
    message = "; ".join(f"{param or 'body'}: {problem.get('msg', '')}"
                        for param, problem in zip(params[:5], problems, strict=False))
    return JSONResponse(openai_error(400, message or "invalid request",
                                     param=params[0] if params else None,
                                     code="invalid_value"), 400)


def _param(loc) -> str | None:
    """A field path like ``messages.0.role``, without ``body`` and union branch tags."""
    parts = [str(part) for part in loc
             if isinstance(part, int) or (part != "body" and str(part).isidentifier())]
    return ".".join(parts) or None
