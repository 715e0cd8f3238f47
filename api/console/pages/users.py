"""Users and API keys (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.console.deps import AdminDep, FormDep, text_field
from api.console.route import PREFIX, ConsoleRoute, page, redirect
from api.schemas.users import KeyCreate, UserCreate

router = APIRouter(prefix=PREFIX + "/users", route_class=ConsoleRoute)


def _users_page(request: Request, viewer, new_key: str | None = None):
    keys = request.app.state.keys
    return page(request, "users.html", viewer=viewer, users=keys.list_users(),
                keys=keys.list_keys(None), new_key=new_key)


@router.get("")
def users_page(request: Request, viewer: AdminDep):
    """Every user and every key (never a key's secret)."""
    return _users_page(request, viewer)


@router.post("")
def create_user(request: Request, viewer: AdminDep, form: FormDep):
    """Create a user."""
    body = UserCreate(id=text_field(form, "user_id"), is_admin=form.get("is_admin") == "on")
    request.app.state.keys.create_user(body.id, body.is_admin)
    viewer.notify(f"Created user {body.id}.")
    return redirect(f"{PREFIX}/users")


@router.post("/keys")
def create_key(request: Request, viewer: AdminDep, form: FormDep):
    """Create a key; its secret is shown on this one page only."""
    body = KeyCreate(user_id=text_field(form, "user_id"), name=text_field(form, "name"))
    _, secret = request.app.state.keys.create_key(body.user_id, body.name)
    return _users_page(request, viewer, new_key=secret)


@router.post("/keys/revoke")
def revoke_key(request: Request, viewer: AdminDep, form: FormDep):
    """Revoke a key."""
    request.app.state.keys.revoke_key(text_field(form, "key_id"))
    viewer.notify("Key revoked.")
    return redirect(f"{PREFIX}/users")
