"""Errors at the CLI edge: every expected failure becomes exit code 1 and one line of text."""

from __future__ import annotations

import httpx

from storage.errors import MemosError


class CliError(Exception):
    """A failure the CLI reports as ``Error: <message>`` with exit code 1."""


def one_line(text: str) -> str:
    """A message squeezed onto one line."""
    return " ".join(str(text).split()) or "unknown error"


def describe(error: BaseException) -> str | None:
    """The one-line message for an expected error, or None for a bug (which should surface)."""
    if isinstance(error, CliError):
        return one_line(str(error))
    if isinstance(error, MemosError):
        return one_line(str(error))
    if isinstance(error, httpx.HTTPStatusError):
        return one_line(_http_status_message(error.response))
    if isinstance(error, httpx.TransportError):
        return one_line(f"cannot reach the memos server at {_url_of(error)}: {error}")
    if isinstance(error, httpx.HTTPError):
        return one_line(f"HTTP error: {error}")
    if isinstance(error, OSError):
        return one_line(f"{error.strerror or error}: {error.filename}" if error.filename
                        else str(error))
    return None


def _http_status_message(response: httpx.Response) -> str:
    detail = _detail(response)
    if response.status_code == 401:
        return f"the server rejected the API key (401): {detail}"
    return f"server answered {response.status_code}: {detail}"


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error") if isinstance(body.get("error"), dict) else body
        return str(error.get("message") or error.get("detail") or body)
    return str(body)


def _url_of(error: httpx.TransportError) -> str:
    try:
        return str(error.request.url)
    except RuntimeError:
        return "the given URL"
