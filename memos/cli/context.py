"""Per-invocation state: where to connect, opened lazily so ``--help`` never touches a home.

A home folder that does not exist is an error (a mistyped ``--home`` must not quietly start
an empty one), except for the commands that create one: ``serve``, ``users create``,
``cubes create`` and ``cubes import``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer

from memos.cli.backend import Backend, open_backend
from memos.cli.errors import CliError


@dataclass
class Connection:
    """The connection options given on the command line or in the environment."""

    url: str | None = None
    api_key: str | None = None
    home: Path | None = None
    _backend: Backend | None = field(default=None, repr=False)

    def open(self, creates_home: bool = False) -> Backend:
        """The server or home backend, opened on first use (CliError for a missing home,
        unless the command may create one)."""
        if self._backend is None:
            if self.mode == "home" and not creates_home:
                _check_home_exists(self.home)
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


def backend(ctx: typer.Context, *, creates_home: bool = False) -> Backend:
    """The backend of the running command (``creates_home``: a new home folder is fine)."""
    return connection(ctx).open(creates_home)


def connection(ctx: typer.Context) -> Connection:
    """The connection options of the running command."""
    return ctx.find_root().obj


def _check_home_exists(home: Path | None) -> None:
    from memos.settings import Settings

    folder = Path(home) if home is not None else Settings().home
    if not folder.is_dir():
        raise CliError(f"no memos home at {folder} (check --home / MEMOS_HOME); "
                       "`memos cubes create`, `memos users create` or `memos serve` start one")
