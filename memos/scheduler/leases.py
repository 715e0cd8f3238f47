"""Job leases: which worker process holds a running job, kept alive by a heartbeat.

A claimed job carries its worker's name (host, pid and a nonce) and a lease deadline. The
worker renews the leases of its running jobs every third of the lease; a job whose lease ran
out, or whose worker on this host is gone, is put back to pending for any worker to take.
The claim's attempt number fences the old worker out: progress and outcomes it reports for an
attempt it no longer holds change nothing (``JobStore._holds``), and its handler is told to stop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from storage.database import DATABASE_ERRORS
from storage.errors import MemosError

logger = logging.getLogger(__name__)
RETRIED = (*DATABASE_ERRORS, MemosError)  # the heartbeat tries again at its next beat


@dataclass(frozen=True, slots=True)
class LeaseConfig:
    """Who this worker is and how long its leases last without a heartbeat."""

    owner: str
    lease_s: float = 60.0

    def __post_init__(self) -> None:
        if self.lease_s <= 0:
            raise ValueError("a lease must last a positive number of seconds")

    @classmethod
    def for_this_process(cls, lease_s: float = 60.0) -> LeaseConfig:
        """A fresh worker name for this process."""
        return cls(f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}", lease_s)


def owner_is_gone(owner: str | None) -> bool:
    """Whether a lease's worker is known dead: a process of this host that no longer runs."""
    if owner is None:
        return True  # rows claimed before leases existed
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's worker: only its lease deadline tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LeaseKeeper:
    """A thread that renews this worker's leases and takes back expired ones."""

    def __init__(self, renew: Callable[[], object], reclaim: Callable[[], int],
                 interval_s: float) -> None:
        self._renew = renew
        self._reclaim = reclaim
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin the heartbeat."""
        self._thread = threading.Thread(target=self._beat, name="memos-leases", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the heartbeat."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stopping.wait(self._interval_s):
            try:
                self._renew()
                if self._reclaim():
                    logger.info("took back jobs whose worker stopped renewing its lease")
            except RETRIED:
                logger.exception("job lease heartbeat failed")
