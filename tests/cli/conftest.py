"""The CLI run in-process with CliRunner, on a real home folder and against a real server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from click.testing import Result
from live_server import free_port, serve_in_thread
from typer.testing import CliRunner

from api.app import create_app
from memos.cli import app
from memos.kernel import MemOS
from memos.settings import Settings

ADMIN_KEY = "memos_cli-test-admin-key-0123456789"


@dataclass
class Cli:
    """Runs ``memos`` with fixed connection options; ``json`` also checks exit code 0."""

    connection: list[str]
    mode: str
    env: dict[str, str] = field(default_factory=dict)
    runner: CliRunner = field(default_factory=CliRunner)

    def run(self, *args: str, input: str | None = None) -> Result:
        """The result of ``memos <connection> <args>``."""
        return self.runner.invoke(app, [*self.connection, *args], input=input, env=self.env,
                                  prog_name="memos")

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Like ``run``, asserting exit code 0."""
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    def json(self, *args: str, input: str | None = None):
        """The parsed JSON a command prints with ``--json``."""
        return json.loads(self.ok(*args, "--json", input=input).stdout)


@dataclass
class Server:
    """A uvicorn server on a loopback port and the MemOS behind it."""

    url: str
    mos: MemOS
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.mos.close()


def start_server(home: Path, engine, embedder) -> Server:
    """Serve ``home`` with the session's real model and embedder; lifespan off, so the
    scheduler's workers never start and queued jobs stay pending."""
    settings = Settings(home=home, admin_key=ADMIN_KEY, host="127.0.0.1", port=free_port())
    mos = MemOS(settings=settings, engine=engine, embedder=embedder)
    server, thread = serve_in_thread(create_app(mos, settings), settings.port, lifespan="off")
    return Server(f"http://127.0.0.1:{settings.port}", mos, server, thread)


@pytest.fixture(scope="session")
def cli_home(tmp_path_factory) -> Path:
    """One home folder shared by the home-mode tests (each test uses its own cube names)."""
    return tmp_path_factory.mktemp("cli-home")


@pytest.fixture(scope="session")
def server(engine, embedder, tmp_path_factory) -> Iterator[Server]:
    """A real memos server for the server-mode tests, with the chat model loaded as the
    service loads it at startup (the KV cache, adapters and stats need it)."""
    running = start_server(tmp_path_factory.mktemp("cli-server-home"), engine, embedder)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def home_cli(cli_home) -> Cli:
    """The CLI working directly on a home folder."""
    return Cli(["--home", str(cli_home)], "home")


@pytest.fixture(scope="session")
def admin_cli(server) -> Cli:
    """The CLI against the server, with the admin key."""
    return Cli(["--url", server.url], "server", env={"MEMOS_API_KEY": ADMIN_KEY})


@pytest.fixture(params=["home", "server"])
def cli(request) -> Cli:
    """The CLI in each mode: on a home folder, and against a server as admin."""
    return request.getfixturevalue("home_cli" if request.param == "home" else "admin_cli")
