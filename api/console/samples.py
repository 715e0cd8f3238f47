"""Per-minute samples of the service's own metrics, kept in a ring buffer for the console's plots.

Nothing runs in the background: the first request of a new minute closes the minute before
(so an idle minute leaves no sample), and the metrics page adds the minute under way. Each
sample is the difference of two snapshots of cumulative counters: the request latency
histograms (p50/p95 interpolated inside their bucket, as Prometheus does), the engine's
time-to-first-token totals and the KV cache's hits and misses.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from api.metrics import BUCKETS, RequestMetrics

KEPT_MINUTES = 120


@dataclass(slots=True)
class Snapshot:
    """Cumulative counters at one moment."""

    at: float
    histograms: dict[tuple[str, str], list[int]]
    first_tokens: int
    ttft_total_s: float
    kv_hits: int
    kv_misses: int


@dataclass
class MetricSamples:
    """The last KEPT_MINUTES per-minute samples of one service."""

    metrics: RequestMetrics
    mos: object
    samples: deque = field(default_factory=lambda: deque(maxlen=KEPT_MINUTES))
    _last: Snapshot | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self, now: float | None = None) -> None:
        """Close the previous minute if a new one has begun (the first call only snapshots)."""
        now = time.time() if now is None else now
        with self._lock:
            if self._last is not None and int(now // 60) == int(self._last.at // 60):
                return
            current = self._snapshot(now)
            if self._last is not None:
                self.samples.append(difference(self._last, current))
            self._last = current

    def series(self, now: float | None = None) -> list[dict]:
        """The kept samples, oldest first, and the minute under way as the last one."""
        now = time.time() if now is None else now
        self.tick(now)
        with self._lock:
            kept, last = list(self.samples), self._last
        return kept + [difference(last, self._snapshot(now))] if last else kept

    def _snapshot(self, now: float) -> Snapshot:
        # Never load the model (or the KV cache, which needs it) just to count: before they
        # are loaded there is nothing to count.
        engine = getattr(self.mos, "_engine", None)
        activation = getattr(self.mos, "_activation", None)
        decode = engine.counters.as_dict() if engine is not None else {}
        kv = activation.stats() if activation is not None else {}
        return Snapshot(now, self.metrics.histograms(), decode.get("first_tokens", 0),
                        decode.get("ttft_total_s", 0.0), kv.get("hits", 0), kv.get("misses", 0))


def difference(before: Snapshot, after: Snapshot) -> dict:
    """One sample: what happened between two snapshots."""
    routes = {}
    for (method, route), buckets in after.histograms.items():
        old = before.histograms.get((method, route), [0] * len(buckets))
        delta = [b - a for a, b in zip(old, buckets, strict=True)]
        if sum(delta):
            routes[f"{method} {route}"] = {"count": sum(delta), "p50_s": quantile(delta, 0.5),
                                           "p95_s": quantile(delta, 0.95)}
    chats = after.first_tokens - before.first_tokens
    lookups = (after.kv_hits - before.kv_hits) + (after.kv_misses - before.kv_misses)
    return {"t": round(after.at), "routes": routes, "chats": chats,
            "ttft_s": (after.ttft_total_s - before.ttft_total_s) / chats if chats else None,
            "kv_lookups": lookups,
            "kv_hit_rate": (after.kv_hits - before.kv_hits) / lookups if lookups else None}


def quantile(buckets: list[int], q: float) -> float:
    """The q-quantile of a latency histogram, linear inside its bucket (the last is open)."""
    wanted, seen, lower = q * sum(buckets), 0, 0.0
    for bound, count in zip((*BUCKETS, BUCKETS[-1]), buckets, strict=True):
        if count and seen + count >= wanted:
            return lower + (bound - lower) * (wanted - seen) / count
        seen, lower = seen + count, bound
    return BUCKETS[-1]


class SamplingMiddleware:
    """Lets the samples close a minute on the first request of the next one."""

    def __init__(self, app: ASGIApp, samples: MetricSamples) -> None:
        self.app = app
        self.samples = samples

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.samples.tick()
        await self.app(scope, receive, send)
