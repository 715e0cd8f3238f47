"""Per-minute metric samples: differences of cumulative snapshots, quantiles inside buckets."""

from __future__ import annotations

import pytest

from api.console.samples import KEPT_MINUTES, MetricSamples, Snapshot, difference, quantile
from api.metrics import BUCKETS, RequestMetrics
from memos.kernel import MemOS
from memos.settings import Settings


def snapshot(at: float, buckets: list[int], chats: int = 0, ttft: float = 0.0,
             hits: int = 0, misses: int = 0) -> Snapshot:
    return Snapshot(at, {("GET", "/x"): buckets}, chats, ttft, hits, misses)


def test_a_sample_is_what_happened_between_two_snapshots():
    empty = [0] * (len(BUCKETS) + 1)
    later = list(empty)
    later[1] = 4  # four requests in (5 ms, 10 ms]
    sample = difference(snapshot(0, empty, 2, 0.5, 3, 1),
                        snapshot(60, later, 4, 1.5, 6, 2))
    row = sample["routes"]["GET /x"]
    assert row["count"] == 4 and BUCKETS[0] < row["p50_s"] <= row["p95_s"] <= BUCKETS[1]
    assert sample["chats"] == 2 and sample["ttft_s"] == 0.5
    assert sample["kv_lookups"] == 4 and sample["kv_hit_rate"] == 0.75
    idle = difference(snapshot(60, later, 4, 1.5, 6, 2), snapshot(120, later, 4, 1.5, 6, 2))
    assert idle["routes"] == {} and idle["ttft_s"] is None and idle["kv_hit_rate"] is None


def test_quantile_interpolates_inside_the_bucket():
    buckets = [0] * (len(BUCKETS) + 1)
    buckets[0], buckets[2] = 50, 50
    assert quantile(buckets, 0.5) == BUCKETS[0]
    assert BUCKETS[1] < quantile(buckets, 0.95) <= BUCKETS[2]
    buckets = [0] * len(buckets)
    buckets[-1] = 1  # slower than the last bound
    assert quantile(buckets, 0.5) == BUCKETS[-1]


@pytest.fixture
def mos(engine, embedder, tmp_path):
    kernel = MemOS(settings=Settings(home=tmp_path), engine=engine, embedder=embedder)
    yield kernel
    kernel.close()


def test_the_first_request_of_a_minute_closes_the_one_before(mos):
    metrics = RequestMetrics()
    samples = MetricSamples(metrics, mos)
    samples.tick(now=600.0)  # the first call only takes a snapshot
    metrics.observe("GET", "/x", 200, 0.004)
    samples.tick(now=630.0)  # same minute: nothing closed
    assert not samples.samples
    metrics.observe("GET", "/x", 200, 0.2)
    samples.tick(now=661.0)
    assert [s["routes"]["GET /x"]["count"] for s in samples.samples] == [2]
    metrics.observe("GET", "/y", 200, 0.02)
    series = samples.series(now=700.0)  # the minute under way comes last
    assert len(series) == 2 and list(series[-1]["routes"]) == ["GET /y"]
    for minute in range(KEPT_MINUTES + 5):
        samples.tick(now=720.0 + 60 * minute)
    assert len(samples.samples) == KEPT_MINUTES
