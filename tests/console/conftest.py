"""A real `memos serve` app on a free port, and one headless Debian Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from console_browser import ADMIN_KEY, CHROMIUM, CHROMIUM_ARGS, Console, seed
from live_server import free_port, serve_in_thread

from api.app import create_app
from memos.kernel import MemOS
from memos.settings import Settings


@pytest.fixture(scope="module")
def console(engine, embedder, tmp_path_factory) -> Iterator[Console]:
    """A real uvicorn server over a fresh home, with alice's and bob's cubes in it."""
    settings = Settings(home=tmp_path_factory.mktemp("console-home"), admin_key=ADMIN_KEY,
                        host="127.0.0.1", port=free_port(), workers=0)
    mos = MemOS(settings=settings, engine=engine, embedder=embedder)
    app = create_app(mos, settings)
    server, thread = serve_in_thread(app, settings.port, lifespan="on")
    keys, cubes, items = seed(mos, app)
    yield Console(f"http://127.0.0.1:{settings.port}", mos, keys, cubes, items)
    server.should_exit = True
    thread.join(timeout=30)
    mos.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's Chromium driven by Playwright (never Playwright's own browser download)."""
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium "
                    "(apt-get install -y chromium; .ci/chromium does it)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="browser tests need the playwright package")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


