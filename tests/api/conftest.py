"""A real uvicorn server on a free loopback port, over the real model and embedder."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from live_server import free_port, serve_in_thread

from api.app import create_app
from memos.client import Client
from memos.kernel import MemOS
from memos.settings import Settings

ADMIN_KEY = "memos_test-admin-key-0123456789abcdef"


@dataclass
class LiveServer:
    """A running API server and the kernel behind it."""

    url: str
    mos: MemOS
    home: Path
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, key: str) -> Client:
        """An SDK client bearing ``key``."""
        return Client(self.url, key, timeout=120)

    def http(self, key: str | None, timeout: float = 120) -> httpx.Client:
        """A raw HTTP client bearing ``key`` (none when None)."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.mos.close()


def start_server(home: Path, engine, embedder, admin_key: str | None = ADMIN_KEY,
                 **overrides) -> LiveServer:
    """Serve a fresh MemOS home on a free loopback port; returns once it accepts requests."""
    settings = Settings(home=home, admin_key=admin_key, host="127.0.0.1", port=free_port(),
                        workers=0,  # jobs stay pending unless a test runs them
                        **overrides)
    mos = MemOS(settings=settings, engine=engine, embedder=embedder)
    server, thread = serve_in_thread(create_app(mos, settings), settings.port, lifespan="on")
    return LiveServer(f"http://127.0.0.1:{settings.port}", mos, home, server, thread)


@pytest.fixture(scope="session")
def live(engine, embedder, tmp_path_factory) -> Iterator[LiveServer]:
    """The API server shared by the API tests."""
    server = start_server(tmp_path_factory.mktemp("api-home"), engine, embedder)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def admin(live) -> Iterator[Client]:
    """An SDK client with the admin key."""
    with live.client(ADMIN_KEY) as client:
        yield client


def new_user_key(admin: Client, user_id: str) -> str:
    """Create a user and return a fresh API key of theirs."""
    admin.create_user(user_id)
    return admin.create_key(user_id, name="test")["key"]


@pytest.fixture(scope="session")
def alice_key(admin) -> str:
    return new_user_key(admin, "alice")


@pytest.fixture(scope="session")
def bob_key(admin) -> str:
    return new_user_key(admin, "bob")


@pytest.fixture(scope="session")
def alice(live, alice_key) -> Iterator[Client]:
    with live.client(alice_key) as client:
        yield client


@pytest.fixture(scope="session")
def bob(live, bob_key) -> Iterator[Client]:
    with live.client(bob_key) as client:
        yield client
