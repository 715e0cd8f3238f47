"""The model's own lane: admitted through the fair queue, run on a pool of its own.

Model work never runs on the thread pool that every other synchronous route shares, so
health, metrics, listing and reads answer while the model is saturated. A client that goes
away while its request waits gives its place up; one that goes away while its request runs
has its generation cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from memos.admission import FairQueue, Slot
from storage.errors import Cancelled

T = TypeVar("T")
DISCONNECT_POLL_S = 0.1


class ModelLane:
    """Admission (fair, bounded) plus the threads that run admitted model work."""

    def __init__(self, queue: FairQueue, threads: int) -> None:
        self.queue = queue
        # More threads than slots: a cancelled stream's thread may still be finishing a token.
        self._executor = ThreadPoolExecutor(threads * 2, thread_name_prefix="memos-model")

    async def admit(self, request: Request, user: str) -> Slot:
        """Wait for this user's turn (429/503 at once when queues are full)."""
        future = self.queue.request(user)
        waiting = asyncio.wrap_future(future)
        if not await _finished_unless_gone(request, waiting):
            self.queue.withdraw(future)
            raise Cancelled("the client went away while its request was queued")
        return waiting.result()

    async def call(self, fn: Callable[..., T], *args) -> T:
        """Run ``fn(*args)`` on the model's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def run(self, request: Request, user: str, work: Callable[[], T],
                  cancel: threading.Event | None = None) -> T:
        """Admit, run ``work`` on the model's threads, cancel it if the client leaves."""
        slot = await self.admit(request, user)
        try:
            running = asyncio.ensure_future(self.call(work))
            if not await _finished_unless_gone(request, running) and cancel is not None:
                cancel.set()
            return await running
        finally:
            self.queue.release(slot)

    def close(self) -> None:
        """Stop taking work; running work finishes on its own."""
        self._executor.shutdown(wait=False, cancel_futures=True)


async def _finished_unless_gone(request: Request, pending: asyncio.Future | Future) -> bool:
    """Wait for ``pending``; False as soon as the client disconnects first."""
    while True:
        done, _ = await asyncio.wait({pending}, timeout=DISCONNECT_POLL_S)
        if done:
            return True
        if await request.is_disconnected():
            return False


def get_lane(request: Request) -> ModelLane:
    """The app's model lane."""
    return request.app.state.model_lane


LaneDep = Annotated[ModelLane, Depends(get_lane)]
