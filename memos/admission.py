"""Admission to the model: a few slots, shared round-robin between users, with bounded queues.

Model work (chat, streaming chat, KV warming) asks for a slot before it starts. A slot that
frees goes to the waiting user with the fewest requests running, then to the next *user* in
turn, never simply to the oldest request: one user's long queue never delays another user's
request behind all of it. Queues are bounded per user and in all; a
request over a bound is refused at once, before any work is done.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from concurrent.futures import Future
from dataclasses import dataclass

from storage.errors import Overloaded, TooManyRequests


@dataclass(slots=True)
class AdmissionLimits:
    """How many model requests run at once, and how many may wait (per user and in all)."""

    max_running: int = 2
    max_queued_per_user: int = 8
    max_queued: int = 64
    retry_after_s: int = 2

    def __post_init__(self) -> None:
        if self.max_running < 1:
            raise ValueError("max_running must be at least 1")
        if self.max_queued_per_user < 0 or self.max_queued < 0:
            raise ValueError("queue limits must not be negative")


@dataclass(slots=True)
class Slot:
    """A granted right to run one piece of model work; give it back with ``release``."""

    user: str
    released: bool = False


class FairQueue:
    """Model slots granted round-robin across users (thread-safe; futures for any caller)."""

    def __init__(self, limits: AdmissionLimits | None = None) -> None:
        self.limits = limits or AdmissionLimits()
        self._lock = threading.Lock()
        self._waiting: OrderedDict[str, deque[Future]] = OrderedDict()
        self._running: dict[str, int] = {}
        self.granted_total = 0
        self.refused_total = 0

    def request(self, user: str) -> Future:
        """A future that resolves to a Slot when it is this request's turn.

        Raises TooManyRequests (this user queues too much) or Overloaded (everyone does).
        """
        with self._lock:
            if self._free_slots() > 0 and not self._waiting:
                return self._resolved(self._grant(user))
            self._check_room(user)
            future: Future = Future()
            self._waiting.setdefault(user, deque()).append(future)
            return future

    def release(self, slot: Slot) -> None:
        """Give a slot back; the next user in turn gets it."""
        with self._lock:
            if slot.released:
                return
            slot.released = True
            self._running[slot.user] -= 1
            if not self._running[slot.user]:
                del self._running[slot.user]
            self._hand_out()

    def withdraw(self, future: Future) -> None:
        """A waiter gave up (its client left): drop it, or release the slot it just got."""
        with self._lock:
            cancelled = future.cancel()
            if cancelled:
                self._forget(future)
        if not cancelled and not future.cancelled():
            self.release(future.result())

    def stats(self) -> dict:
        """Running and queued requests, in all and per user."""
        with self._lock:
            queued = {user: len(waiters) for user, waiters in self._waiting.items()}
            return {"running": sum(self._running.values()), "queued": sum(queued.values()),
                    "running_by_user": dict(self._running), "queued_by_user": queued,
                    "granted_total": self.granted_total, "refused_total": self.refused_total}

    def queued(self, user: str) -> int:
        """How many of ``user``'s requests wait for a slot."""
        with self._lock:
            return len(self._waiting.get(user, ()))

    def _free_slots(self) -> int:
        return self.limits.max_running - sum(self._running.values())

    def _check_room(self, user: str) -> None:
        queued_total = sum(len(waiters) for waiters in self._waiting.values())
        if queued_total >= self.limits.max_queued:
            self.refused_total += 1
            raise Overloaded(f"the model is saturated ({queued_total} requests queued); "
                             "try again shortly", retry_after_s=self.limits.retry_after_s)
        mine = len(self._waiting.get(user, ()))
        if mine >= self.limits.max_queued_per_user:
            self.refused_total += 1
            raise TooManyRequests(
                f"too many model requests queued for this user ({mine}; the limit is "
                f"{self.limits.max_queued_per_user}); try again when some have finished",
                retry_after_s=self.limits.retry_after_s)

    def _grant(self, user: str) -> Slot:
        self._running[user] = self._running.get(user, 0) + 1
        self.granted_total += 1
        return Slot(user)

    def _hand_out(self) -> None:
        while self._free_slots() > 0 and self._waiting:
            user = self._next_user()
            waiters = self._waiting[user]
            future = waiters.popleft()
            if waiters:
                self._waiting.move_to_end(user)  # round-robin: this user goes to the back
            else:
                del self._waiting[user]
            if future.set_running_or_notify_cancel():
                future.set_result(self._grant(user))

    def _next_user(self) -> str:
        """The waiting user with the fewest running requests; ties go round-robin."""
        return min(self._waiting, key=lambda user: self._running.get(user, 0))

    def _forget(self, future: Future) -> None:
        for user, waiters in list(self._waiting.items()):
            if future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self._waiting[user]
                return

    @staticmethod
    def _resolved(slot: Slot) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        future.set_result(slot)
        return future
