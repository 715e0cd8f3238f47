"""The one place where the project's errors become HTTP statuses and JSON error bodies."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from api.schemas.common import ErrorResponse
from memos.errors import HTTP_STATUS
from storage.errors import MemosError

log = logging.getLogger("memos.api")

STATUS_OF = HTTP_STATUS  # one table, shared with the SDK (memos.errors)

CODE_OF_STATUS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                  405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
                  415: "unsupported_media_type", 422: "validation_error",
                  429: "too_many_requests", 500: "internal_error", 503: "unavailable",
                  507: "insufficient_storage"}

# Documented on every route so clients (and schema checkers) know the error shape.
ERROR_RESPONSES = {status: {"model": ErrorResponse, "description": code.replace("_", " ")}
                   for status, code in CODE_OF_STATUS.items()
                   if status in (400, 401, 403, 404, 409, 413, 422, 429)}


def status_of(error: MemosError) -> int:
    """The HTTP status of one of the project's errors."""
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def error_response(status: int, code: str, message: str, details: list | None = None,
                   headers: dict | None = None) -> JSONResponse:
    """A JSON error body ``{"error": {"code", "message"}}``."""
    body = {"code": code, "message": printable(message)}
    if details is not None:
        body["details"] = [_printable_detail(detail) for detail in details]
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def printable(text: str) -> str:
    """Text safe to send as UTF-8: a lone surrogate from a bad request shows as ``\\udxxx``."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _printable_detail(detail: dict) -> dict:
    def clean(value):
        if isinstance(value, str):
            return printable(value)
        return [clean(part) for part in value] if isinstance(value, list) else value

    return {key: clean(value) for key, value in detail.items()}


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through one JSON shape."""
    app.add_exception_handler(MemosError, _memos_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _write_conflict)
    app.add_exception_handler(StaleDataError, _write_conflict)
    app.add_exception_handler(RecursionError, _too_deep)
    app.add_exception_handler(Exception, _unexpected)


async def _memos_error(request: Request, error: MemosError) -> JSONResponse:
    status = status_of(error)
    if status >= 500:
        log.error("%s on %s %s: %s", error.code, request.method, request.url.path, error)
    return error_response(status, error.code, str(error), headers=_retry_after(error))


def _retry_after(error: MemosError) -> dict | None:
    seconds = getattr(error, "retry_after_s", None)
    return {"Retry-After": str(seconds)} if seconds is not None else None


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    details = [{"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")),
                "type": str(e.get("type", ""))} for e in error.errors()]
    message = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details[:5])
    return error_response(422, "validation_error", message or "invalid request", details)


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    code = CODE_OF_STATUS.get(error.status_code, f"http_{error.status_code}")
    return error_response(error.status_code, code, str(error.detail), headers=error.headers)


async def _write_conflict(request: Request,
                          error: IntegrityError | StaleDataError) -> JSONResponse:
    # A write that lost a race with a delete (its cube or memory went away meanwhile): an
    # insert that its parent row no longer admits, or an update that matched no row.
    log.info("write conflict on %s %s: %s", request.method, request.url.path,
             getattr(error, "orig", error))
    return error_response(409, "conflict", "the change conflicts with a concurrent change "
                          "(the cube or memory was deleted meanwhile)")


async def _too_deep(request: Request, error: RecursionError) -> JSONResponse:
    return error_response(400, "bad_request", "the request body is nested too deeply")


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "internal server error")
