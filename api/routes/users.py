"""Users and API keys (administrators only, except ``/users/me``)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Query

from api.deps import AdminUser, CurrentUser, KeysDep
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
def create_user(body: UserCreate, keys: KeysDep, _: AdminUser):
    """Create a user (admin only)."""
    return keys.create_user(body.id, body.is_admin)


@router.get("/users", response_model=UsersPublic)
def list_users(keys: KeysDep, _: AdminUser):
    """List every user (admin only)."""
    users = keys.list_users()
    return UsersPublic(data=[UserPublic.model_validate(u) for u in users], count=len(users))


@router.get("/users/me", response_model=UserPublic)
def whoami(keys: KeysDep, caller: CurrentUser):
    """The user the API key belongs to."""
    return keys.get_user(caller.user_id)


@router.post("/keys", status_code=201, response_model=KeyCreated)
def create_key(body: KeyCreate, keys: KeysDep, _: AdminUser):
    """Create an API key for a user; the secret is shown only in this response (admin only)."""
    info, secret = keys.create_key(body.user_id, body.name)
    return KeyCreated(**asdict(info), key=secret)


@router.get("/keys", response_model=KeysPublic)
def list_keys(keys: KeysDep, _: AdminUser,
              user_id: str | None = Query(None, max_length=64, description="Only this user's.")):
    """List API keys, without their secrets (admin only)."""
    found = keys.list_keys(user_id)
    return KeysPublic(data=[KeyPublic.model_validate(k) for k in found], count=len(found))


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, keys: KeysDep, _: AdminUser) -> None:
    """Revoke an API key (admin only)."""
    keys.revoke_key(key_id)
