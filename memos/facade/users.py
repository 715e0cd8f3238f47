"""Users and API keys, and who is an administrator."""

from __future__ import annotations

from dataclasses import asdict

from memcube.cube_store import CubeStore
from memos.auth import KeyStore
from storage.errors import PermissionDenied

LOCAL_USER = "local"  # the owner of what the embedded caller creates


class UserCalls:
    """Users and keys (administrators only, except ``whoami``)."""

    cubes: CubeStore
    keys: KeyStore

    def is_admin(self, user: str | None) -> bool:
        """Whether ``user`` administers this home (the local caller, None, always does)."""
        return user is None or self.cubes.is_admin(user)

    def require_admin(self, user: str | None) -> None:
        """PermissionDenied unless ``user`` is an administrator."""
        if not self.is_admin(user):
            raise PermissionDenied("administrator access is required")

    def whoami(self, user: str | None = None) -> dict:
        """The user calling (the local administrator when None)."""
        if user is None:
            return {"id": LOCAL_USER, "is_admin": True, "created_at": None}
        return asdict(self.keys.get_user(user))

    def create_user(self, user_id: str, is_admin: bool = False, user: str | None = None) -> dict:
        """A new user (administrators only)."""
        self.require_admin(user)
        return asdict(self.keys.create_user(user_id, is_admin))

    def create_key(self, user_id: str, name: str = "", user: str | None = None) -> dict:
        """A new API key for a user; its secret is in ``["key"]``, shown only now."""
        self.require_admin(user)
        info, secret = self.keys.create_key(user_id, name)
        return {**asdict(info), "key": secret}

    def list_users(self, user: str | None = None) -> list[dict]:
        """Every user (administrators only)."""
        self.require_admin(user)
        return [asdict(info) for info in self.keys.list_users()]

    def list_keys(self, user_id: str | None = None, user: str | None = None) -> list[dict]:
        """API keys of one user, or of everyone, without secrets (administrators only)."""
        self.require_admin(user)
        return [asdict(info) for info in self.keys.list_keys(user_id)]

    def revoke_key(self, key_id: str, user: str | None = None) -> None:
        """Revoke an API key (administrators only)."""
        self.require_admin(user)
        self.keys.revoke_key(key_id)
