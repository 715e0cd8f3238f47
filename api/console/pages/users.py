"""Users and API keys (administrators only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request

from api.console.deps import AdminDep, FormDep, text_field
from api.console.route import PREFIX, ConsoleRoute, page, redirect
from api.deps import MosDep
from api.schemas.users import KeyCreate, UserCreate

if TYPE_CHECKING:
    from memos.kernel import MemOS

router = APIRouter(prefix=PREFIX + "/users", route_class=ConsoleRoute)


def _users_page(request: Request, viewer, mos: MemOS, new_key: str | None = None):
    return page(request, "users.html", viewer=viewer, users=mos.list_users(viewer.user_id),
                keys=mos.list_keys(None, viewer.user_id), new_key=new_key)


@router.get("")
def users_page(request: Request, viewer: AdminDep, mos: MosDep):
    """Every user and every key (never a key's secret)."""
    return _users_page(request, viewer, mos)


@router.post("")
def create_user(viewer: AdminDep, form: FormDep, mos: MosDep):
    """Create a user."""
    body = UserCreate(id=text_field(form, "user_id"), is_admin=form.get("is_admin") == "on")
    mos.create_user(body.id, body.is_admin, viewer.user_id)
    viewer.notify(f"Created user {body.id}.")
    return redirect(f"{PREFIX}/users")


@router.post("/keys")
def create_key(request: Request, viewer: AdminDep, form: FormDep, mos: MosDep):
    """Create a key; its secret is shown on this one page only."""
    body = KeyCreate(user_id=text_field(form, "user_id"), name=text_field(form, "name"))
    secret = mos.create_key(body.user_id, body.name, viewer.user_id)["key"]
    return _users_page(request, viewer, mos, new_key=secret)


@router.post("/keys/revoke")
def revoke_key(viewer: AdminDep, form: FormDep, mos: MosDep):
    """Revoke a key."""
    mos.revoke_key(text_field(form, "key_id"), viewer.user_id)
    viewer.notify("Key revoked.")
    return redirect(f"{PREFIX}/users")
