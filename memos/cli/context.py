"""Per-invocation state: where to connect, opened lazily so ``--help`` never touches a home.

Every command calls one facade: ``MemOS`` over a home folder (as the local administrator) or
``Client`` against a server (as the API key's user). The two share their calls, names and
answers, so each command is written once for both modes.

A home folder that does not exist is an error (a mistyped ``--home`` must not quietly start
an empty one), except for the commands that create one: ``serve``, ``users create``,
``cubes create`` and ``cubes import``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from memos.cli.errors import CliError

if TYPE_CHECKING:
    from memos.client import Client
    from memos.kernel import MemOS

    Facade = MemOS | Client

SERVER_TIMEOUT_S = 600.0  # distillation and imports can take minutes


@dataclass
class Connection:
    """The connection options given on the command line or in the environment."""

    url: str | None = None
    api_key: str | None = None
    home: Path | None = None
    _facade: Facade | None = field(default=None, repr=False)

    def open(self, creates_home: bool = False) -> Facade:
        """The server's Client or the home's MemOS, opened on first use (CliError for a
        missing home, unless the command may create one)."""
        if self._facade is None:
            if self.mode == "home" and not creates_home:
                _check_home_exists(self.home)
            self._facade = open_facade(self.url, self.api_key, self.home)
        return self._facade

    @property
    def mode(self) -> str:
        """``server`` or ``home``."""
        return "server" if self.url else "home"

    def close(self) -> None:
        """Release the home folder or the connection if one was opened."""
        if self._facade is not None:
            self._facade.close()
            self._facade = None


def open_facade(url: str | None, api_key: str | None, home: Path | None) -> Facade:
    """A Client of the server at ``url`` when given, else a MemOS over ``home``."""
    if url:
        if not api_key:
            raise CliError("server mode needs an API key: MEMOS_API_KEY or --api-key-file PATH")
        from memos.client import Client

        return Client(url, api_key, timeout=SERVER_TIMEOUT_S)
    from transformers.utils import logging as transformers_logging

    from memos.kernel import MemOS

    transformers_logging.disable_progress_bar()  # model loading bars would clutter the output
    return MemOS(home)


def facade(ctx: typer.Context, *, creates_home: bool = False) -> Facade:
    """The MemOS or Client of the running command (``creates_home``: a new home is fine)."""
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
