"""Users and API keys (administrators only, except ``/users/me``)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import AdminUser, CurrentUser, MosDep
from api.routes import V1
from api.schemas.users import (
    KeyCreate,
    KeyCreated,
    KeyPublic,
    KeysPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
)

router = APIRouter(prefix=V1, tags=["users"])


@router.post("/users", status_code=201, response_model=UserPublic)
def create_user(body: UserCreate, mos: MosDep, admin: AdminUser):
    """Create a user (admin only)."""
    return mos.create_user(body.id, body.is_admin, admin.user_id)


@router.get("/users", response_model=UsersPublic)
def list_users(mos: MosDep, admin: AdminUser):
    """List every user (admin only)."""
    users = mos.list_users(admin.user_id)
    return UsersPublic(data=[UserPublic.model_validate(u) for u in users], count=len(users))


@router.get("/users/me", response_model=UserPublic)
def whoami(mos: MosDep, caller: CurrentUser):
    """The user the API key belongs to."""
    return mos.whoami(caller.user_id)


@router.post("/keys", status_code=201, response_model=KeyCreated)
def create_key(body: KeyCreate, mos: MosDep, admin: AdminUser):
    """Create an API key for a user; the secret is shown only in this response (admin only)."""
    return KeyCreated(**mos.create_key(body.user_id, body.name, admin.user_id))


@router.get("/keys", response_model=KeysPublic)
def list_keys(mos: MosDep, admin: AdminUser,
              user_id: str | None = Query(None, max_length=64, description="Only this user's.")):
    """List API keys, without their secrets (admin only)."""
    found = mos.list_keys(user_id, admin.user_id)
    return KeysPublic(data=[KeyPublic.model_validate(k) for k in found], count=len(found))


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, mos: MosDep, admin: AdminUser) -> None:
    """Revoke an API key (admin only)."""
    mos.revoke_key(key_id, admin.user_id)
