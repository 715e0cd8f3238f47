"""REST API load: N concurrent clients mixing adds, searches and chats against a real server.

    python bench/api_load.py --clients 8 --seconds 60

For each serving mode (the serialized path, ``MEMOS_BATCHING=false``, then continuous
batching, the default) starts ``memos serve`` (api.server.serve) in a subprocess on a free
loopback port, measures idle search latency, runs the mixed load, then checks that every
acknowledged add is stored with the text that was sent. Prints a JSON summary, a markdown
table per mode and one comparing chat latency, errors and lost writes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

ADMIN_KEY = "memos_bench-admin-key-0123456789abcdef"
SUBJECTS = ["Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi"]
VERBS = ["moved to", "visited", "bought a flat in", "works remotely from", "studied in"]
PLACES = ["Lisbon", "Oslo", "Kyoto", "Lima", "Accra", "Hanoi", "Quito", "Tartu"]
QUESTIONS = ["Where does {s} live?", "Which city did {s} visit?", "Where did {s} study?"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home: Path, port: int, extra_env: dict[str, str] | None = None,
                 wait_s: float = 600) -> subprocess.Popen:
    """``memos serve`` in a subprocess on ``port``; returns once /health answers."""
    env = {**os.environ, "MEMOS_HOME": str(home), "MEMOS_PORT": str(port),
           "MEMOS_ADMIN_KEY": ADMIN_KEY, "MEMOS_WORKERS": "0", "MEMOS_DEVICE": "cpu",
           **(extra_env or {})}
    code = "from api.server import serve; serve(log_level='warning')"
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("server did not start")


def fact(rng: random.Random, tag: str) -> str:
    return (f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(PLACES)} "
            f"({tag}, {rng.randrange(10**6)}).")


def question(rng: random.Random) -> str:
    return rng.choice(QUESTIONS).format(s=rng.choice(SUBJECTS))


class Recorder:
    """Latencies per route, errors, and every acknowledged add."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.acked: list[tuple[str, str, str]] = []  # cube id, item id, text sent

    def timed(self, route: str, http: httpx.Client, path: str, body: dict):
        start = time.perf_counter()
        try:
            response = http.post(path, json=body)
        except httpx.HTTPError:
            with self.lock:
                self.errors[route] += 1
            return None
        elapsed = time.perf_counter() - start
        with self.lock:
            if response.is_success:
                self.latencies[route].append(elapsed)
            else:
                self.errors[route] += 1
        return response if response.is_success else None


def client_loop(http: httpx.Client, cubes: list[str], rec: Recorder, stop: threading.Event,
                seed: int, mix: dict[str, float], chat_tokens: int) -> None:
    rng = random.Random(seed)
    routes, weights = zip(*mix.items(), strict=True)
    n = 0
    while not stop.is_set():
        route, cube = rng.choices(routes, weights)[0], rng.choice(cubes)
        n += 1
        if route == "add":
            text = fact(rng, f"c{seed}-n{n}")
            response = rec.timed("add", http, f"/v1/cubes/{cube}/memories",
                                 {"text": text, "force": True})
            if response is not None:
                with rec.lock:
                    rec.acked.append((cube, response.json()["id"], text))
        elif route == "search":
            rec.timed("search", http, f"/v1/cubes/{cube}/search",
                      {"query": question(rng), "k": 5})
        else:
            body = {"messages": [{"role": "user", "content": question(rng)}],
                    "cube_ids": [cube], "k": 3, "max_new_tokens": chat_tokens}
            rec.timed("chat", http, "/v1/chat", body)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def idle_search_p99(http: httpx.Client, cube: str, rounds: int) -> float:
    rng, latencies = random.Random(0), []
    for _ in range(rounds):
        start = time.perf_counter()
        http.post(f"/v1/cubes/{cube}/search", json={"query": question(rng), "k": 5})
        latencies.append(time.perf_counter() - start)
    return percentile(latencies, 0.99)


def verify(http: httpx.Client, cubes: list[str], rec: Recorder, seeded: int) -> dict:
    stored: dict[str, str] = {}
    for cube in cubes:
        offset = 0
        while True:
            page = http.get(f"/v1/cubes/{cube}/memories",
                            params={"limit": 1000, "offset": offset}).json()
            stored.update({item["id"]: item["text"] for item in page["data"]})
            offset += len(page["data"])
            if offset >= page["count"] or not page["data"]:
                break
    missing = [i for _, i, _ in rec.acked if i not in stored]
    wrong = [i for _, i, text in rec.acked if i in stored and stored[i] != text]
    return {"acknowledged": len(rec.acked), "stored": len(stored) - seeded,
            "missing": len(missing), "wrong_text": len(wrong)}


def setup(http: httpx.Client, cubes_n: int, seed_notes: int) -> list[str]:
    http.post("/v1/users", json={"id": "bench"})
    key = http.post("/v1/keys", json={"user_id": "bench"}).json()["key"]
    http.headers["Authorization"] = f"Bearer {key}"
    rng, cubes = random.Random(1), []
    for c in range(cubes_n):
        cube = http.post("/v1/cubes", json={"name": f"load-{c}-{time.time_ns()}"}).json()["id"]
        items = [{"text": fact(rng, f"seed{c}-{i}"), "force": True} for i in range(seed_notes)]
        http.post(f"/v1/cubes/{cube}/memories/batch", json={"items": items}).raise_for_status()
        cubes.append(cube)
    return cubes


def report(rec: Recorder, seconds: float, idle_p99: float, check: dict, args) -> dict:
    routes = {}
    for route in ("add", "search", "chat"):
        values = rec.latencies[route]
        routes[route] = {"ok": len(values), "errors": rec.errors[route],
                         "per_s": round(len(values) / seconds, 2),
                         "p50_ms": round(percentile(values, 0.5) * 1000, 1),
                         "p99_ms": round(percentile(values, 0.99) * 1000, 1)}
    load_p99 = percentile(rec.latencies["search"], 0.99)
    return {"clients": args.clients, "seconds": round(seconds, 1), "routes": routes,
            "total_per_s": round(sum(len(v) for v in rec.latencies.values()) / seconds, 2),
            "errors": sum(rec.errors.values()), "idle_search_p99_ms": round(idle_p99 * 1000, 1),
            "search_p99_ratio": round(load_p99 / idle_p99, 2), "durability": check}


def markdown(summary: dict) -> str:
    lines = ["| route | ok | errors | per s | p50 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for route, r in summary["routes"].items():
        lines.append(f"| {route} | {r['ok']} | {r['errors']} | {r['per_s']} | {r['p50_ms']} "
                     f"| {r['p99_ms']} |")
    return "\n".join(lines)


MODES = {"serialized": {"MEMOS_BATCHING": "false", "MEMOS_MODEL_MAX_RUNNING": "2"},
         "batched": {"MEMOS_BATCHING": "true"}}


def run_mode(mode: str, mix: dict[str, float], args) -> dict:
    """The mixed load against a fresh server in ``mode``; the summary with its durability check."""
    port = free_port()
    server = start_server(args.home, port, MODES[mode])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300,
                          headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as http:
            cubes = setup(http, args.cubes, args.seed_notes)
            idle_p99 = idle_search_p99(http, cubes[0], 100)
            rec, stop = Recorder(), threading.Event()
            clients = [httpx.Client(base_url=str(http.base_url), timeout=300,
                                    headers=dict(http.headers)) for _ in range(args.clients)]
            threads = [threading.Thread(target=client_loop, args=(c, cubes, rec, stop, n, mix,
                                                                  args.chat_tokens))
                       for n, c in enumerate(clients)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            time.sleep(args.seconds)
            stop.set()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
            check = verify(http, cubes, rec, args.cubes * args.seed_notes)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {"mode": mode, **report(rec, elapsed, idle_p99, check, args)}


def comparison(summaries: list[dict]) -> str:
    """Chat latency and the whole run's health, one row per serving mode."""
    lines = ["| mode | chats | chat p50 ms | chat p99 ms | requests/s | errors | lost writes |",
             "|---|---|---|---|---|---|---|"]
    for s in summaries:
        chat, lost = s["routes"]["chat"], s["durability"]
        lines.append(f"| {s['mode']} | {chat['ok']} | {chat['p50_ms']} | {chat['p99_ms']} | "
                     f"{s['total_per_s']} | {s['errors']} | "
                     f"{lost['missing'] + lost['wrong_text']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--cubes", type=int, default=4)
    parser.add_argument("--seed-notes", type=int, default=50)
    parser.add_argument("--chat-tokens", type=int, default=16)
    parser.add_argument("--mix", default="add=0.45,search=0.45,chat=0.10")
    parser.add_argument("--modes", default="serialized,batched", type=lambda s: s.split(","),
                        help="serving modes, each against a fresh server: "
                             "serialized (MEMOS_BATCHING=false) and batched (the default)")
    parser.add_argument("--home", type=Path, default=Path("/tmp/memos-bench-api"),
                        help="reused between runs so the model is converted only once")
    args = parser.parse_args()
    mix = {k: float(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    summaries = [run_mode(mode, mix, args) for mode in args.modes]
    print(json.dumps(summaries, indent=2))
    for summary in summaries:
        print(f"\n{summary['mode']}:")
        print(markdown(summary))
    print()
    print(comparison(summaries))


if __name__ == "__main__":
    main()
