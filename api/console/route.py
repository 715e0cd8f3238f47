"""Console pages' plumbing: templates, security headers, and errors shown as HTML pages."""

from __future__ import annotations

import logging
from pathlib import Path

import jinja2
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response

from api.console.csrf import CsrfRefused
from api.errors import printable, status_of
from storage.errors import MemosError

log = logging.getLogger("memos.console")
PREFIX = "/console"
HERE = Path(__file__).parent
# Memory text is untrusted: no inline script may run, only the console's own files.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
    undefined=jinja2.StrictUndefined))


class LoginRequired(Exception):
    """The browser has no live console session."""


def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    """Render one of the console's templates."""
    viewer = context.pop("viewer", None)
    notice = viewer.session.notices.pop() if viewer and viewer.session.notices else None
    return templates.TemplateResponse(request, name, {
        "viewer": viewer, "csrf": viewer.session.csrf if viewer else "", "notice": notice,
        "prefix": PREFIX, **context}, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A readable error page (never a blank one)."""
    return page(request, "error.html", status, status_code=status, message=printable(message))


def redirect(url: str) -> RedirectResponse:
    """See-other after a form: the browser then GETs ``url``."""
    return RedirectResponse(url, status_code=303)


class ConsoleRoute(APIRoute):
    """A console route: errors become HTML pages, every response gets the security headers."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as error:  # each kind becomes its page below
                response = _error_response(request, error)
            response.headers.update(SECURITY_HEADERS)
            return response

        return route


def _error_response(request: Request, error: Exception) -> Response:
    if isinstance(error, LoginRequired):
        return redirect(f"{PREFIX}/login")
    if isinstance(error, CsrfRefused):
        return error_page(request, 403, "The form's security token is missing or stale: "
                          "reload the page and try again.")
    if isinstance(error, MemosError):
        return error_page(request, status_of(error), str(error))
    if isinstance(error, RequestValidationError | ValidationError):
        return error_page(request, 400, _validation_message(error.errors()))
    if isinstance(error, HTTPException):
        return error_page(request, error.status_code, str(error.detail))
    if isinstance(error, IntegrityError):
        return error_page(request, 409, "The change conflicts with a concurrent change.")
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_page(request, 500, "Internal error: the server log has the details.")


def _validation_message(errors) -> str:
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'input'}: "
             f"{e.get('msg', 'invalid')}" for e in list(errors)[:5]]
    return "Invalid input. " + "; ".join(parts)
