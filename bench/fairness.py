"""Fairness under one heavy tenant: light tenants' chat latency and /health latency.

    python bench/fairness.py            # full run
    python bench/fairness.py --quick    # a smoke run of a few minutes

Starts ``memos serve`` in a subprocess on a free loopback port. Three light tenants each send
chats one after another; first alone (unloaded), then while one heavy tenant keeps many chats
in flight (its queue may hold 64; refused ones are retried after ``Retry-After``).
``/health`` is polled throughout. Prints a markdown table and checks the goals: light p99
under load within 2x of unloaded, ``/health`` p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import mkdtemp

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from api_load import ADMIN_KEY, free_port  # noqa: E402
from api_load import start_server as start_api_server  # noqa: E402

LIGHT_USERS = ("light-a", "light-b", "light-c")
HEAVY_USER = "heavy"


@dataclass
class Plan:
    """How much work each phase does."""

    light_chats: int
    heavy_in_flight: int
    tokens: int
    heavy_tokens: int


FULL = Plan(light_chats=12, heavy_in_flight=48, tokens=16, heavy_tokens=30)
QUICK = Plan(light_chats=4, heavy_in_flight=16, tokens=8, heavy_tokens=16)


@dataclass
class Samples:
    """Latencies in seconds, appended from several threads."""

    values: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float) -> None:
        with self.lock:
            self.values.append(seconds)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def start_server(home: Path, port: int, running: int, batching: bool) -> subprocess.Popen:
    return start_api_server(home, port, {
        "MEMOS_MODEL_MAX_RUNNING": str(running), "MEMOS_MODEL_MAX_QUEUED_PER_USER": "64",
        "MEMOS_MODEL_MAX_QUEUED": "128", "MEMOS_BATCHING": str(batching).lower()}, wait_s=900)


def make_keys(url: str) -> dict[str, str]:
    keys = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as http:
        for user in (*LIGHT_USERS, HEAVY_USER):
            http.post("/v1/users", json={"id": user}).raise_for_status()
            keys[user] = http.post("/v1/keys", json={"user_id": user}).json()["key"]
    return keys


def chat_body(user: str, n: int, tokens: int) -> dict:
    return {"messages": [{"role": "user", "content": f"Say hello to {user} number {n}."}],
            "max_new_tokens": tokens, "memory_kinds": ["plaintext"]}


def light_tenant(url: str, key: str, user: str, plan: Plan, samples: Samples) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                      timeout=600) as http:
        for n in range(plan.light_chats):
            started = time.perf_counter()
            http.post("/v1/chat", json=chat_body(user, n, plan.tokens)).raise_for_status()
            samples.add(time.perf_counter() - started)


def heavy_tenant(url: str, key: str, plan: Plan, stop: threading.Event,
                 counts: dict[int, int]) -> None:
    def one_client(n: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                          timeout=600) as http:
            while not stop.is_set():
                reply = http.post("/v1/chat", json=chat_body(HEAVY_USER, n, plan.heavy_tokens))
                counts[reply.status_code] = counts.get(reply.status_code, 0) + 1
                if reply.status_code in (429, 503):
                    stop.wait(float(reply.headers.get("Retry-After", "1")))

    threads = [threading.Thread(target=one_client, args=(n,)) for n in range(plan.heavy_in_flight)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def poll_health(url: str, stop: threading.Event, samples: Samples) -> None:
    with httpx.Client(base_url=url, timeout=600) as http:
        while not stop.is_set():
            started = time.perf_counter()
            http.get("/health").raise_for_status()
            samples.add(time.perf_counter() - started)
            stop.wait(0.05)


def phase(url: str, keys: dict[str, str], plan: Plan, heavy: bool) -> dict:
    light, health, counts = Samples(), Samples(), {}
    stop, heavy_stop = threading.Event(), threading.Event()
    background = [threading.Thread(target=poll_health, args=(url, stop, health))]
    if heavy:
        background.append(threading.Thread(target=heavy_tenant,
                                           args=(url, keys[HEAVY_USER], plan, heavy_stop,
                                                 counts)))
    for thread in background:
        thread.start()
    if heavy:
        time.sleep(3)  # let the heavy tenant fill its queue first
    tenants = [threading.Thread(target=light_tenant, args=(url, keys[u], u, plan, light))
               for u in LIGHT_USERS]
    for thread in tenants:
        thread.start()
    for thread in tenants:
        thread.join()
    stop.set()
    heavy_stop.set()
    for thread in background:
        thread.join()
    return {"light_p50": statistics.median(light.values), "light_p99": light.percentile(0.99),
            "health_p50": statistics.median(health.values),
            "health_p99": health.percentile(0.99), "health_n": len(health.values),
            "heavy_status": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter chats")
    parser.add_argument("--home", type=Path, help="server home (default: a temp folder)")
    parser.add_argument("--running", type=int, default=8,
                        help="MEMOS_MODEL_MAX_RUNNING (the server's default: 8)")
    parser.add_argument("--no-batching", action="store_true",
                        help="decode each reply alone (MEMOS_BATCHING=false)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    home = args.home or Path(mkdtemp(prefix="memos-fairness-"))
    port = free_port()
    server = start_server(home, port, args.running, not args.no_batching)
    url = f"http://127.0.0.1:{port}"
    try:
        keys = make_keys(url)
        phase(url, keys, Plan(1, 0, plan.tokens, 0), heavy=False)  # warm-up
        unloaded = phase(url, keys, plan, heavy=False)
        loaded = phase(url, keys, plan, heavy=True)
    finally:
        server.terminate()
        server.wait(timeout=60)
    report(plan, unloaded, loaded)


def report(plan: Plan, unloaded: dict, loaded: dict) -> None:
    print(json.dumps({"plan": plan.__dict__, "unloaded": unloaded, "loaded": loaded}, indent=2))
    print("\n| phase | light p50 (s) | light p99 (s) | /health p50 (ms) | /health p99 (ms) |")
    print("|---|---|---|---|---|")
    for name, run in (("unloaded", unloaded), ("heavy tenant", loaded)):
        print(f"| {name} | {run['light_p50']:.2f} | {run['light_p99']:.2f} | "
              f"{1000 * run['health_p50']:.1f} | {1000 * run['health_p99']:.1f} |")
    ratio = loaded["light_p99"] / unloaded["light_p99"]
    print(f"\nlight p99 loaded/unloaded: {ratio:.2f}x (goal <= 2x): "
          f"{'met' if ratio <= 2 else 'NOT met'}")
    health = 1000 * loaded["health_p99"]
    print(f"/health p99 under load: {health:.1f} ms (goal < 100 ms): "
          f"{'met' if health < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
