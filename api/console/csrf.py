"""CSRF: every state-changing console form carries its session's token, checked here."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

LOGIN_COOKIE = "memos_console_login"


class CsrfRefused(Exception):
    """A form came without the right CSRF token."""


def tokens_match(sent: object, expected: str | None) -> bool:
    """Whether a submitted token equals the expected one (in constant time)."""
    if not isinstance(sent, str) or not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


async def submitted_token(request: Request) -> object:
    """The ``csrf`` field of a submitted form (None when there is none)."""
    form = await request.form()
    return form.get("csrf")


def new_login_token() -> str:
    """A token for the login form, also set as a cookie (double submit: no session yet)."""
    return secrets.token_urlsafe(32)
