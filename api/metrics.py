"""Request counts and latencies, rendered in the Prometheus text format."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memos.scheduler import JobState
from storage.disk_space import DiskSpace

if TYPE_CHECKING:
    from memos.kernel import MemOS

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class RequestMetrics:
    """Counters per (method, route, status) and a latency histogram per (method, route)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[tuple[str, str], list[int]] = {}
        self._sums: dict[tuple[str, str], float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        with self._lock:
            self._counts[(method, route, status)] += 1
            buckets = self._buckets.setdefault((method, route), [0] * (len(BUCKETS) + 1))
            buckets[_bucket_index(seconds)] += 1
            self._sums[(method, route)] += seconds

    def latencies(self) -> list[dict]:
        """Per route: requests, mean seconds, and the bucket bound holding the 95th percentile."""
        with self._lock:
            return [{"method": method, "route": route, "count": sum(buckets),
                     "mean_s": self._sums[(method, route)] / max(1, sum(buckets)),
                     "p95_le_s": _quantile_bound(buckets, 0.95)}
                    for (method, route), buckets in sorted(self._buckets.items())]

    def histograms(self) -> dict[tuple[str, str], list[int]]:
        """A copy of the latency bucket counts per (method, route), cumulative since start."""
        with self._lock:
            return {key: list(buckets) for key, buckets in self._buckets.items()}

    def render(self) -> list[str]:
        """Prometheus text lines."""
        lines = ["# HELP memos_http_requests_total HTTP requests by route and status.",
                 "# TYPE memos_http_requests_total counter"]
        with self._lock:
            for (method, route, status), count in sorted(self._counts.items()):
                labels = _labels(method=method, route=route, status=str(status))
                lines.append(f"memos_http_requests_total{{{labels}}} {count}")
            lines += ["# HELP memos_http_request_duration_seconds Request latency by route.",
                      "# TYPE memos_http_request_duration_seconds histogram"]
            for (method, route), buckets in sorted(self._buckets.items()):
                lines += _histogram(method, route, buckets, self._sums[(method, route)])
        return lines


class MetricsMiddleware:
    """ASGI middleware timing each request until its response (stream included) is sent."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - start)


def gauge(name: str, help_text: str, values: dict[tuple[tuple[str, str], ...], float]) -> list[str]:
    """Prometheus lines of one gauge; keys are tuples of (label, value) pairs."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in sorted(values.items()):
        lines.append(f"{name}{{{_labels(**dict(labels))}}} {value}" if labels
                     else f"{name} {value}")
    return lines


def _bucket_index(seconds: float) -> int:
    for index, bound in enumerate(BUCKETS):
        if seconds <= bound:
            return index
    return len(BUCKETS)


def _quantile_bound(buckets: list[int], quantile: float) -> float:
    wanted, cumulative = quantile * sum(buckets), 0
    for bound, count in zip((*BUCKETS, float("inf")), buckets, strict=True):
        cumulative += count
        if cumulative >= wanted:
            return bound
    return float("inf")


def _histogram(method: str, route: str, buckets: list[int], total: float) -> list[str]:
    name = "memos_http_request_duration_seconds"
    lines, cumulative = [], 0
    for bound, count in zip((*BUCKETS, float("inf")), buckets, strict=True):
        cumulative += count
        le = "+Inf" if bound == float("inf") else repr(bound)
        lines.append(f"{name}_bucket{{{_labels(method=method, route=route, le=le)}}} {cumulative}")
    labels = _labels(method=method, route=route)
    lines += [f"{name}_sum{{{labels}}} {total}", f"{name}_count{{{labels}}} {cumulative}"]
    return lines


def _labels(**labels: str) -> str:
    return ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items())


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def kernel_metrics(mos: MemOS) -> list[str]:
    """KV cache use per tier, cache failures, disk pressure and scheduler jobs by state."""
    stats = mos.activation.stats()
    tiers = stats["tiers"]
    lines = []
    for field, help_text in (("hits", "KV chunk cache hits per tier."),
                             ("evictions", "KV chunks evicted per tier."),
                             ("bytes", "Bytes of KV held per tier."),
                             ("budget_bytes", "Byte budget of each KV tier."),
                             ("entries", "KV chunks held per tier.")):
        values = {(("tier", name),): tier.get(field, 0) for name, tier in tiers.items()}
        lines += gauge(f"memos_kv_{field}", help_text, values)
    lines += gauge("memos_kv_misses", "KV chunk cache misses.", {(): stats["misses"]})
    lines += gauge("memos_cache_failures", "Cache operations that failed and were skipped.",
                   _cache_failures(mos, stats))
    lines += _pressure_metrics(mos)
    jobs = mos.scheduler.jobs
    counts = {(("state", state.value),): jobs.list(state.value, limit=1)[1] for state in JobState}
    return lines + gauge("memos_jobs", "Scheduler jobs by state.", counts) + model_metrics(mos)


def _cache_failures(mos: MemOS, kv_stats: dict) -> dict:
    counts = {("kv", op): n for op, n in kv_stats.get("failures", {}).items()}
    counts |= {("adapters", op): n for op, n in mos.adapters.failures.counts().items()}
    counts |= {("chat", op): n for op, n in mos.chat_failures.counts().items()}
    counts |= {("items", op): n for op, n in mos.items.access_count_failures.counts().items()}
    return {(("cache", cache), ("operation", op)): n for (cache, op), n in counts.items()}


def _pressure_metrics(mos: MemOS) -> list[str]:
    disk = DiskSpace.of(mos.home)
    return (gauge("memos_disk_full_events", "Writes refused by a full or read-only disk.",
                  {(): mos.database.refused_writes})
            + gauge("memos_disk_free_bytes", "Free bytes on the home's filesystem.",
                    {(): disk.free_bytes})
            + gauge("memos_disk_nearly_full", "1 when the home's disk is nearly full.",
                    {(): int(disk.nearly_full)}))


def model_metrics(mos: MemOS) -> list[str]:
    """The model queue (running, queued, refused) and the engine's decode counters."""
    queue = mos.model_queue.stats()
    lines = gauge("memos_model_requests", "Model requests running and queued.",
                  {(("state", "running"),): queue["running"],
                   (("state", "queued"),): queue["queued"]})
    lines += gauge("memos_model_refused", "Model requests refused by queue limits.",
                   {(): queue["refused_total"]})
    decode = mos.engine.counters.as_dict()
    return lines + gauge("memos_decode", "Engine decode totals.",
                         {(("counter", name),): value for name, value in decode.items()})
