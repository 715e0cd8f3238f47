"""Blocking work that stops when its client goes away (the client closed the connection)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import Request

POLL_S = 0.5
T = TypeVar("T")


async def run_until_disconnect(request: Request, work: Callable[[], T],
                               cancel: threading.Event) -> T:
    """Run ``work`` in a worker thread; set ``cancel`` as soon as the client disconnects.

    ``work`` is expected to watch ``cancel`` and stop (raising Cancelled) when it is set.
    """
    async with anyio.create_task_group() as watchers:
        watchers.start_soon(_cancel_on_disconnect, request, cancel)
        try:
            return await anyio.to_thread.run_sync(work)
        finally:
            watchers.cancel_scope.cancel()


async def _cancel_on_disconnect(request: Request, cancel: threading.Event) -> None:
    while not await request.is_disconnected():
        await anyio.sleep(POLL_S)
    cancel.set()
