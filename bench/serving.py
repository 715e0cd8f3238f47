"""Concurrent chat serving: continuous batching against today's serialized path, over HTTP.

    python bench/serving.py --clients 1,4,8,16 --requests 4 --tokens 32

Starts ``memos serve`` twice on one home, once with ``MEMOS_BATCHING=false`` and
``MEMOS_MODEL_MAX_RUNNING=2`` (the path before batching) and once with the defaults (batching on,
8 running). For each client count, every client sends ``--requests`` chats in a row, a mix of
prompt lengths, alternately blocking (``/v1/chat``) and streaming (``/v1/chat/stream``).
Reports aggregate output tokens/s, request latency, TTFT (client-side for streams, server stats
for blocking replies; ``steady`` leaves out each client's first chat), inter-token latency (gaps
between streamed deltas) and errors, for two arrival patterns: ``burst`` (every client's first
chat at the same instant) and ``staggered`` (first chats spread over ``--stagger`` seconds).
Last, the burst's floor: the time to prefill all first prompts in one packed forward pass
against one prompt alone, which no scheduler can beat on a compute-bound device.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from api_load import ADMIN_KEY, free_port, start_server

PADDING = ("Context: the harbour office keeps a ledger of ships, their cargo, their crews and "
           "the weather on the day they sailed. ")
TOPICS = ["the sea", "a lighthouse", "autumn rain", "a mountain village", "the night train"]
MODES = {"serialized": {"MEMOS_BATCHING": "false", "MEMOS_MODEL_MAX_RUNNING": "2"},
         "batched": {"MEMOS_BATCHING": "true", "MEMOS_MODEL_MAX_RUNNING": "8"}}


@dataclass
class Samples:
    """What one (mode, client count) run measured."""

    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)
    steady_ttfts: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    tokens: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def prompt(client: int, request: int) -> str:
    """A mix of lengths: none, some or much context before the question."""
    context = PADDING * (3 * ((client + request) % 3))
    topic = TOPICS[(client * 7 + request) % len(TOPICS)]
    return f"{context}Request {client}.{request}: write a short poem about {topic}."


def body(client: int, request: int, tokens: int) -> dict:
    return {"messages": [{"role": "user", "content": prompt(client, request)}],
            "k": 0, "max_new_tokens": tokens}


def blocking(http: httpx.Client, payload: dict, samples: Samples, steady: bool = False) -> None:
    start = time.perf_counter()
    response = http.post("/v1/chat", json=payload)
    response.raise_for_status()
    stats = response.json()["stats"]
    with samples.lock:
        samples.latencies.append(time.perf_counter() - start)
        samples.ttfts.append(stats["ttft_s"])
        if steady:
            samples.steady_ttfts.append(stats["ttft_s"])
        samples.tokens += stats["completion_tokens"]


def streaming(http: httpx.Client, payload: dict, samples: Samples, steady: bool = False) -> None:
    start, stamps, stats = time.perf_counter(), [], None
    with http.stream("POST", "/v1/chat/stream", json=payload) as response:
        response.raise_for_status()
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "delta":
                stamps.append(time.perf_counter())
            elif line.startswith("data: ") and event == "done":
                stats = json.loads(line[6:])["stats"]
            elif line.startswith("data: ") and event == "error":
                raise RuntimeError(line)
    with samples.lock:
        samples.latencies.append(time.perf_counter() - start)
        ttft = (stamps[0] if stamps else time.perf_counter()) - start
        samples.ttfts.append(ttft)
        if steady:
            samples.steady_ttfts.append(ttft)
        samples.gaps.extend(b - a for a, b in zip(stamps, stamps[1:], strict=False))
        samples.tokens += stats["completion_tokens"]


def client_loop(http: httpx.Client, client: int, args, samples: Samples,
                delay: float = 0.0) -> None:
    time.sleep(delay)
    for request in range(args.requests):
        call = streaming if (client + request) % 2 else blocking
        try:
            call(http, body(client, request, args.tokens), samples, steady=request > 0)
        except (httpx.HTTPError, RuntimeError, KeyError, TypeError):
            with samples.lock:
                samples.errors += 1


def start_delays(clients: int, arrivals: str, stagger_s: float) -> list[float]:
    """Burst: every client's first chat at once. Staggered: first chats spread evenly over
    ``stagger_s`` (agents rarely start in the same millisecond), in a shuffled order."""
    if arrivals == "burst" or clients == 1:
        return [0.0] * clients
    delays = [stagger_s * n / clients for n in range(clients)]
    random.Random(clients).shuffle(delays)
    return delays


def run_clients(base_url: str, headers: dict, clients: int, args, arrivals: str) -> dict:
    samples = Samples()
    https = [httpx.Client(base_url=base_url, headers=headers, timeout=600)
             for _ in range(clients)]
    delays = start_delays(clients, arrivals, args.stagger)
    threads = [threading.Thread(target=client_loop, args=(http, n, args, samples, delay))
               for n, (http, delay) in enumerate(zip(https, delays, strict=True))]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start - max(delays)
    for http in https:
        http.close()
    return {"arrivals": arrivals, **summarize(samples, elapsed, clients)}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def summarize(samples: Samples, elapsed: float, clients: int) -> dict:
    ms = lambda v: None if math.isnan(v) else round(v * 1000)  # noqa: E731
    return {"clients": clients, "requests": len(samples.latencies), "errors": samples.errors,
            "tokens": samples.tokens, "tokens_per_s": round(samples.tokens / elapsed, 2),
            "latency_p50_ms": ms(pct(samples.latencies, 0.5)),
            "latency_p99_ms": ms(pct(samples.latencies, 0.99)),
            "ttft_p50_ms": ms(pct(samples.ttfts, 0.5)), "ttft_p99_ms": ms(pct(samples.ttfts, 0.99)),
            "steady_ttft_p99_ms": ms(pct(samples.steady_ttfts, 0.99)),
            "itl_p50_ms": ms(pct(samples.gaps, 0.5)), "itl_p99_ms": ms(pct(samples.gaps, 0.99))}


def measure_mode(mode: str, args) -> list[dict]:
    port = free_port()
    server = start_server(args.home, port, MODES[mode])
    base_url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base_url, timeout=600,
                          headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as http:
            user = f"serving-{mode}-{time.time_ns()}"
            http.post("/v1/users", json={"id": user}).raise_for_status()
            key = http.post("/v1/keys", json={"user_id": user}).json()["key"]
            headers = {"Authorization": f"Bearer {key}"}
            warm = httpx.Client(base_url=base_url, headers=headers, timeout=600)
            blocking(warm, body(99, 0, 4), Samples())  # load the model before timing
            warm.close()
            return [{"mode": mode, **run_clients(base_url, headers, n, args, arrivals)}
                    for arrivals in args.arrivals for n in args.clients]
    finally:
        server.terminate()
        server.wait(timeout=60)


def prefill_floor(home: Path, clients: list[int], repeats: int = 3) -> dict[int, float]:
    """Seconds to prefill the first prompts of n clients in one packed forward pass (best of
    ``repeats``): with every first chat arriving at once, the last first token cannot come
    sooner than this on a compute-bound device, however requests are scheduled."""
    from transformers import DynamicCache

    from memos import MemOS
    from memos.engine.packed import PackedBatch, packed_forward, register_packed_attention

    register_packed_attention()
    mos = MemOS(home)
    engine = mos.engine
    prompts = [mos.chat_prompt_ids(body(n, 0, 1)["messages"], k=0) for n in range(max(clients))]

    def once(n: int) -> float:
        caches = [DynamicCache(config=engine.model.config) for _ in range(n)]
        batch = PackedBatch(caches, [len(p) for p in prompts[:n]])
        start = time.perf_counter()
        with engine.lock:
            packed_forward(engine.model, batch, [t for p in prompts[:n] for t in p])
        return time.perf_counter() - start

    once(1)  # warm-up
    return {n: min(once(n) for _ in range(repeats)) for n in clients}


def floor_table(floor: dict[int, float], rows: list[dict]) -> str:
    """The burst's physical floor next to what the batched server reached."""
    solo = next((r for r in rows if r["mode"] == "batched" and r["clients"] == 1), None)
    lines = ["| clients | prefill of all first prompts ms | x one prompt | "
             "burst TTFT p99 x 1 client (measured) |", "|---|---|---|---|"]
    for n, seconds in floor.items():
        burst = next((r for r in rows if r["mode"] == "batched" and r["arrivals"] == "burst"
                      and r["clients"] == n), None)
        measured = (f"{burst['ttft_p99_ms'] / solo['ttft_p99_ms']:.1f}x"
                    if burst and solo and solo["ttft_p99_ms"] else "-")
        lines.append(f"| {n} | {seconds * 1000:.0f} | {seconds / floor[min(floor)]:.1f}x | "
                     f"{measured} |")
    return "\n".join(lines)


def markdown(rows: list[dict]) -> str:
    cols = ["mode", "arrivals", "clients", "requests", "errors", "tokens_per_s", "latency_p50_ms",
            "latency_p99_ms", "ttft_p50_ms", "ttft_p99_ms", "steady_ttft_p99_ms", "itl_p50_ms",
            "itl_p99_ms"]
    lines = ["| " + " | ".join(cols) + " | speed-up |", "|" + "---|" * (len(cols) + 1)]
    base = {(r["arrivals"], r["clients"]): r["tokens_per_s"]
            for r in rows if r["mode"] == "serialized"}
    for r in rows:
        serial = base.get((r["arrivals"], r["clients"]))
        ratio = r["tokens_per_s"] / serial if serial else 0
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + f" | {ratio:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,4,8",
                        type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--requests", type=int, default=2, help="chats per client, in a row")
    parser.add_argument("--tokens", type=int, default=32, help="max_new_tokens per chat")
    parser.add_argument("--no-batching", action="store_true",
                        help="measure only the serialized path")
    parser.add_argument("--arrivals", default="burst,staggered", type=lambda s: s.split(","),
                        help="burst: all first chats at once; staggered: spread over --stagger")
    parser.add_argument("--stagger", type=float, default=2.0,
                        help="seconds over which staggered clients send their first chat")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip measuring the prefill floor of a burst")
    parser.add_argument("--batched-only", action="store_true",
                        help="measure only the batched path (no baseline: for quick checks)")
    parser.add_argument("--home", type=Path, default=Path("/tmp/memos-bench-serving"),
                        help="reused between runs so the model is converted only once")
    args = parser.parse_args()
    modes = ["serialized"] if args.no_batching else ["serialized", "batched"]
    if args.batched_only:
        modes = ["batched"]
    rows = [row for mode in modes for row in measure_mode(mode, args)]
    print(json.dumps(rows, indent=2))
    print(markdown(rows))
    if not args.no_floor:
        print()
        print(floor_table(prefill_floor(args.home, args.clients), rows))


if __name__ == "__main__":
    main()
