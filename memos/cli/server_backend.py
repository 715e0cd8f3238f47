"""The CLI's backend over a running server: memos.Client, with the caller's API key."""

from __future__ import annotations

from pathlib import Path

import httpx

from memos.cli.backend import Backend, as_dict
from memos.cli.errors import CliError
from memos.client import Client, raise_for_error

TIMEOUT_S = 600.0  # distillation and imports can take minutes


class ServerBackend(Backend):
    """A memos server reached through Client; permissions are those of the key's user."""

    mode = "server"

    def __init__(self, client: Client, http: httpx.Client) -> None:
        super().__init__(client)
        self.client = client
        self.http = http  # the Client's own connection, for the calls Client does not wrap

    @classmethod
    def connect(cls, url: str, api_key: str | None) -> ServerBackend:
        """A backend for the server at ``url``, authenticating with ``api_key``."""
        if not api_key:
            raise CliError("server mode needs an API key: --api-key or MEMOS_API_KEY")
        http = httpx.Client(base_url=url, timeout=TIMEOUT_S,
                            headers={"Authorization": f"Bearer {api_key}"})
        return cls(Client(url, api_key, http=http), http)

    def create_cube(self, name: str, owner: str | None, description: str) -> dict:
        """A new cube owned by the key's user."""
        _no_owner(owner, "create a cube")
        return as_dict(self.client.create_cube(name, description).info)

    def import_cube(self, path: Path, owner: str | None) -> dict:
        """Upload an archive; the cube belongs to the key's user."""
        _no_owner(owner, "import a cube")
        return as_dict(self.client.import_cube(path).info)

    def list_users(self) -> list[dict]:
        """Every user (admin key needed)."""
        return self._get("/v1/users")["data"]

    def create_user(self, user_id: str, is_admin: bool) -> dict:
        """A new user (admin key needed)."""
        return self.client.create_user(user_id, is_admin)

    def list_keys(self, user_id: str | None) -> list[dict]:
        """API keys of one user, or of everyone (admin key needed)."""
        params = {"user_id": user_id} if user_id else None
        return self._get("/v1/keys", params)["data"]

    def create_key(self, user_id: str, name: str) -> dict:
        """A new API key; the secret is in ``key`` (admin key needed)."""
        return self.client.create_key(user_id, name)

    def revoke_key(self, key_id: str) -> None:
        """Revoke an API key (admin key needed)."""
        self.client.revoke_key(key_id)

    def list_jobs(self, state: str | None, cube_id: str | None, kind: str | None, limit: int,
                  offset: int) -> dict:
        """Jobs are not served over HTTP (yet)."""
        raise _home_only("jobs")

    def get_job(self, job_id: str) -> dict:
        """Jobs are not served over HTTP (yet)."""
        raise _home_only("jobs")

    def cancel_job(self, job_id: str) -> dict:
        """Jobs are not served over HTTP (yet)."""
        raise _home_only("jobs")

    def kv_entries(self, cube_id: str | None) -> list[dict]:
        """The KV cache is not served over HTTP (yet)."""
        raise _home_only("KV cache")

    def kv_stats(self) -> dict:
        """The KV cache is not served over HTTP (yet)."""
        raise _home_only("KV cache")

    def warm(self, cube_id: str, item_ids) -> int:
        """The KV cache is not served over HTTP (yet)."""
        raise _home_only("KV cache")

    def kv_evict(self, key: str) -> None:
        """The KV cache is not served over HTTP (yet)."""
        raise _home_only("KV cache")

    def list_adapters(self, cube_id: str) -> list[dict]:
        """Adapters are not served over HTTP (yet)."""
        raise _home_only("adapter")

    def distill(self, cube_id: str, item_ids, steps, progress) -> dict:
        """Adapters are not served over HTTP (yet)."""
        raise _home_only("adapter")

    def delete_adapter(self, adapter_id: str) -> None:
        """Adapters are not served over HTTP (yet)."""
        raise _home_only("adapter")

    def _get(self, path: str, params: dict | None = None):
        response = self.http.get(path, params=params)
        raise_for_error(response)
        return response.json()


def _no_owner(owner: str | None, action: str) -> None:
    if owner:
        raise CliError(f"--owner works only on a home folder; on a server you {action} as the "
                       "API key's user (log in with that user's key)")


def _home_only(what: str) -> CliError:
    return CliError(f"the server's API has no {what} endpoints; run this command with --home "
                    "on the server's home folder")
