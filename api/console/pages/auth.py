"""Logging in with an API key, and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console.csrf import LOGIN_COOKIE, CsrfRefused, new_login_token, tokens_match
from api.console.deps import FormDep, get_sessions
from api.console.route import PREFIX, ConsoleRoute, page, redirect
from api.console.session import COOKIE

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute)


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict", path=PREFIX,
                        secure=request.url.scheme == "https")


@router.get("/login")
def login_form(request: Request):
    """The login page."""
    token = new_login_token()
    response = page(request, "login.html", login_token=token, error=None)
    _set_cookie(request, response, LOGIN_COOKIE, token)
    return response


@router.post("/login")
async def login(request: Request):
    """Check the API key and open a session (its id goes in an HttpOnly cookie)."""
    form = await request.form()
    if not tokens_match(form.get("csrf"), request.cookies.get(LOGIN_COOKIE)):
        raise CsrfRefused()
    key = form.get("api_key")
    caller = request.app.state.keys.user_for_key(key) if isinstance(key, str) and key else None
    if caller is None:
        token = new_login_token()
        response = page(request, "login.html", 401, login_token=token,
                        error="That API key is not valid.")
        _set_cookie(request, response, LOGIN_COOKIE, token)
        return response
    response = redirect(f"{PREFIX}/")
    _set_cookie(request, response, COOKIE, get_sessions(request).open(key))
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
def logout(request: Request, _: FormDep):
    """Close the session."""
    get_sessions(request).close(request.cookies.get(COOKIE))
    response = redirect(f"{PREFIX}/login")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
