"""Failures of caches, which degrade to working without them: counted, each kind logged once."""

from __future__ import annotations

import logging
import threading
from collections import Counter


class CacheFailures:
    """Counts failed cache operations by name; logs the first failure of each kind only."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._logged: set[tuple[str, str]] = set()

    def record(self, operation: str, error: BaseException) -> None:
        """Count one failure of ``operation``; log it if it is the first of its kind."""
        kind = (operation, type(error).__name__)
        with self._lock:
            self._counts[operation] += 1
            first = kind not in self._logged
            self._logged.add(kind)
        if first:
            self._logger.warning("cache %s failed, going on without it (%s: %s); further "
                                 "failures of this kind are only counted", operation,
                                 type(error).__name__, error, exc_info=error)

    @property
    def total(self) -> int:
        """Failures of every kind so far."""
        with self._lock:
            return sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        """Failures so far per operation."""
        with self._lock:
            return dict(self._counts)
