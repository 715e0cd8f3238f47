"""Per-invocation state: where to connect, opened lazily so ``--help`` never touches a home."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer

from memos.cli.backend import Backend, open_backend


@dataclass
class Connection:
    """The connection options given on the command line or in the environment."""

    url: str | None = None
    api_key: str | None = None
    home: Path | None = None
    _backend: Backend | None = field(default=None, repr=False)

    @property
    def backend(self) -> Backend:
        """The server or home backend, opened on first use."""
        if self._backend is None:
            self._backend = open_backend(self.url, self.api_key, self.home)
        return self._backend

    @property
    def mode(self) -> str:
        """``server`` or ``home``."""
        return "server" if self.url else "home"

    def close(self) -> None:
        """Release the backend if one was opened."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None


def backend(ctx: typer.Context) -> Backend:
    """The backend of the running command."""
    return connection(ctx).backend


def connection(ctx: typer.Context) -> Connection:
    """The connection options of the running command."""
    return ctx.find_root().obj
