"""Scale-out: 1, 2 and 4 server processes on one database, a mixed add/search/chat load over HTTP.

    python bench/scale_out.py [--database-url URL|sqlite] [--seconds 25] [--processes 1 2 4]

For each configuration, ``memos serve --workers N`` (api.server.serve with
MEMOS_SERVER_PROCESSES=N) starts on a fresh home over one database: PostgreSQL by default (the
one ``.ci/postgres`` starts), each run in a fresh schema dropped afterwards; ``sqlite`` serves
the home's SQLite file instead. The same number of concurrent HTTP clients then run, for a
fixed time, a mix of adds, searches and short chats on a few shared cubes. Reported per
configuration: operations per second in all and per kind, p50/p99 per kind, errors.

Before the first load, each kind runs alone from one client on the one-process server while
the server's CPU time is read: CPU seconds per operation, hence the roofline (the cores divided
by the mix's CPU cost per operation) that no number of processes on this machine can pass.
Last, two embedded instances on a fresh database measure the coherence check a search makes
when nothing changed, and how soon a note added in one is found by a search in the other.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).parent))
import api_load as load  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://memos:memos@127.0.0.1:5432/memos_test"
KINDS = ("add", "search", "chat")
FACTS = ["{} moved to Lisbon in May.", "{} adopted a grey cat.", "{} runs every September.",
         "{} is allergic to peanuts.", "{} bought a red station wagon.", "{} plays the cello."]


class Database:
    """A fresh place per run: a new PostgreSQL schema (dropped after), or None for SQLite."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._schemas: list[str] = []

    def fresh(self) -> str | None:
        """A URL whose tables land in a new, empty schema."""
        if self.url is None:
            return None
        from sqlalchemy import create_engine, text

        name = f"scale_{time.time_ns()}"
        engine = create_engine(self.url)
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {name}"))
        engine.dispose()
        self._schemas.append(name)
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}options=-csearch_path%3D{name}"

    def drop_all(self) -> None:
        """Drop every schema this run made."""
        if not self._schemas:
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        with engine.begin() as conn:
            for name in self._schemas:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        engine.dispose()


def fresh_home(models: Path, processes: int) -> Path:
    """A new home that shares the converted model (converted once, not per configuration)."""
    home = Path(tempfile.mkdtemp(prefix=f"memos-scale-{processes}-"))
    models.mkdir(parents=True, exist_ok=True)
    (home / "models").symlink_to(models, target_is_directory=True)
    return home


def server_env(url: str | None, processes: int, cores: int) -> dict[str, str]:
    """Settings of one configuration: N processes, their torch threads splitting the cores."""
    env = {"MEMOS_SERVER_PROCESSES": str(processes),
           "OMP_NUM_THREADS": str(max(1, cores // processes))}
    if url:
        env["MEMOS_DATABASE_URL"] = url
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its children (the worker processes)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def wait_until_idle(pid: int, quiet_cpu_s: float = 0.3, window_s: float = 2.0,
                    limit_s: float = 600.0) -> None:
    """Wait until every worker has started: /health answers once the first one is up, the
    others may still be loading their models (and would eat the measured window's CPU)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(window_s)
        if cpu_seconds(pid) - before < quiet_cpu_s:
            return


def one_op(http: httpx.Client, kind: str, cube: str, rng: random.Random, tokens: int) -> None:
    """One add, search or chat, raising on an error."""
    if kind == "add":
        body, path = {"text": load.fact(rng, "solo"), "force": True}, f"/v1/cubes/{cube}/memories"
    elif kind == "search":
        body, path = {"query": load.question(rng), "k": 5}, f"/v1/cubes/{cube}/search"
    else:
        body, path = {"messages": [{"role": "user", "content": load.question(rng)}],
                      "cube_ids": [cube], "k": 3, "max_new_tokens": tokens}, "/v1/chat"
    http.post(path, json=body).raise_for_status()


def solo_costs(http: httpx.Client, pid: int, cube: str, tokens: int, rounds: int) -> dict:
    """Each kind alone from one client: latency p50 and server CPU seconds per operation."""
    rng, costs = random.Random(7), {}
    for kind in KINDS:
        one_op(http, kind, cube, rng, tokens)  # warm the path
        latencies, cpu_before = [], cpu_seconds(pid)
        for _ in range(rounds):
            began = time.perf_counter()
            one_op(http, kind, cube, rng, tokens)
            latencies.append(time.perf_counter() - began)
        costs[kind] = {"p50_ms": load.percentile(latencies, 0.5) * 1e3,
                       "cpu_ms": (cpu_seconds(pid) - cpu_before) / rounds * 1e3}
    return costs


def run_load(base_url: str, headers: dict, cubes: list[str], args, mix: dict) -> dict:
    """The clients' mixed load for args.seconds; per kind counts, rates and percentiles."""
    rec, stop = load.Recorder(), threading.Event()
    clients = [httpx.Client(base_url=base_url, timeout=300, headers=headers)
               for _ in range(args.clients)]
    threads = [threading.Thread(target=load.client_loop,
                                args=(c, cubes, rec, stop, n, mix, args.chat_tokens))
               for n, c in enumerate(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for client in clients:
        client.close()
    kinds = {k: {"per_s": len(rec.latencies[k]) / elapsed,
                 "p50_ms": load.percentile(rec.latencies[k], 0.5) * 1e3,
                 "p99_ms": load.percentile(rec.latencies[k], 0.99) * 1e3,
                 "errors": rec.errors[k]} for k in KINDS}
    return {"ops_s": sum(len(v) for v in rec.latencies.values()) / elapsed, "kinds": kinds,
            "errors": sum(rec.errors.values())}


def serve_config(processes: int, db: Database, args, mix: dict, solo: bool) -> dict:
    """One configuration: a fresh home and database, N server processes, the mixed load."""
    url, home, port = db.fresh(), fresh_home(args.models, processes), load.free_port()
    server = load.start_server(home, port, server_env(url, processes, args.cores), wait_s=900)
    base_url = f"http://127.0.0.1:{port}"
    wait_until_idle(server.pid)
    try:
        with httpx.Client(base_url=base_url, timeout=300,
                          headers={"Authorization": f"Bearer {load.ADMIN_KEY}"}) as http:
            cubes = load.setup(http, args.cubes + solo, args.seed_notes)
            costs = solo_costs(http, server.pid, cubes[-1], args.chat_tokens, args.solo_rounds) \
                if solo else None  # on a cube of its own, not one the load uses
            row = run_load(base_url, dict(http.headers), cubes[:args.cubes], args, mix)
    finally:
        server.terminate()
        server.wait(timeout=120)
    return {"processes": processes, **row, "solo": costs}


def open_mos(home: str, database_url: str | None):
    """An embedded MemOS with the real embedder, one torch thread."""
    import torch

    from memos.embedder import Embedder
    from memos.kernel import MemOS
    from memos.settings import Settings

    torch.set_num_threads(1)
    settings = Settings(home=home, database_url=database_url)
    return MemOS(settings=settings, embedder=Embedder.load(device="cpu"))


def coherence_and_staleness(url: str | None, rounds: int = 200) -> dict:
    """The check's cost when nothing changed, and add-to-visible time across two instances."""
    home = tempfile.mkdtemp(prefix="memos-scale-check-")
    writer, reader = open_mos(home, url), open_mos(home, url)
    cube = writer.create_cube("check")
    for i in range(50):
        cube.add(FACTS[i % len(FACTS)].format(f"N{i}"), force=True)
    view = reader.get_cube(cube.id)
    view.search("warm up")
    checks = []
    for _ in range(rounds):
        began = time.perf_counter()
        view._sync.catch_up(view._index)
        checks.append(time.perf_counter() - began)
    stale, seen = [], 0
    for i in range(20):
        began = time.perf_counter()
        note = cube.add(f"Marker {i}: Zed keeps a green parrot number {i}.", force=True)
        hits = view.search(f"Zed green parrot number {i}", k=20)
        seen += note.id in [hit.item.id for hit in hits]
        stale.append(time.perf_counter() - began)
    writer.close()
    reader.close()
    return {"check_p50_ms": _pct(checks, 50) * 1e3, "check_p99_ms": _pct(checks, 99) * 1e3,
            "visible_after_ms_p50": _pct(stale, 50) * 1e3, "visible_on_next_search": f"{seen}/20"}


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def print_solo(costs: dict, mix: dict, cores: int) -> None:
    """One process, one client, each kind alone; and the roofline they imply."""
    print("\n| one process, one client, kind alone | p50 ms | server CPU ms per op |\n"
          "|---|---|---|")
    for kind, c in costs.items():
        print(f"| {kind} | {c['p50_ms']:.1f} | {c['cpu_ms']:.1f} |")
    weight = sum(mix.values())
    cpu_per_op = sum(mix[k] / weight * costs[k]["cpu_ms"] for k in KINDS) / 1e3
    print(f"\nroofline: {cores} cores / {cpu_per_op * 1e3:.1f} CPU ms per mixed op = "
          f"{cores / cpu_per_op:.1f} ops/s, whatever the number of processes (an estimate "
          f"from one op at a time: batched chats under load cost less each; the clients' own "
          f"CPU comes on top)", flush=True)


def print_row(row: dict, base: float) -> None:
    """One configuration's line of the main table."""
    k = row["kinds"]
    cells = " | ".join(f"{k[n]['per_s']:.2f} | {k[n]['p50_ms']:.0f} / {k[n]['p99_ms']:.0f}"
                       for n in KINDS)
    print(f"| {row['processes']} | {row['ops_s']:.2f} ({row['ops_s'] / base:.2f}x) | {cells} "
          f"| {row['errors']} |", flush=True)


def parse_args():
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help=f"PostgreSQL URL (default {DEFAULT_URL}) or 'sqlite' for the home's")
    parser.add_argument("--seconds", type=float, default=25.0, help="load per configuration")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--cubes", type=int, default=2)
    parser.add_argument("--seed-notes", type=int, default=30)
    parser.add_argument("--chat-tokens", type=int, default=4)
    parser.add_argument("--mix", default="add=0.4,search=0.5,chat=0.1")
    parser.add_argument("--solo-rounds", type=int, default=10)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--models", type=Path, default=Path("/tmp/memos-bench-scale-models"),
                        help="shared converted-model folder, reused between runs")
    args = parser.parse_args()
    if args.database_url == "sqlite":
        args.database_url = None
    return args


def main() -> None:
    """Run every configuration and print the tables."""
    args = parse_args()
    mix = {k: float(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    db = Database(args.database_url)
    print(f"database: {args.database_url or 'SQLite (WAL) in each home'}; {args.clients} HTTP "
          f"clients; {args.seconds:.0f} s per configuration; mix {args.mix}; chats of "
          f"{args.chat_tokens} tokens; {args.cores} cores; load average "
          f"{os.getloadavg()[0]:.1f} at start", flush=True)
    rows = []
    try:
        for count in args.processes:
            rows.append(serve_config(count, db, args, mix, solo=not rows))
            if rows[0]["solo"] and len(rows) == 1:
                print_solo(rows[0]["solo"], mix, args.cores)
                print("\n| processes | ops/s | add/s | add p50/p99 ms | search/s "
                      "| search p50/p99 ms | chat/s | chat p50/p99 ms | errors |\n"
                      "|---|---|---|---|---|---|---|---|---|")
            print_row(rows[-1], rows[0]["ops_s"])
        check = coherence_and_staleness(db.fresh())
    finally:
        db.drop_all()
    print("\n| coherence check, nothing changed: p50 ms | p99 ms | add in A -> found by search "
          "in B: p50 ms | visible on B's next search |\n|---|---|---|---|")
    print(f"| {check['check_p50_ms']:.3f} | {check['check_p99_ms']:.3f} "
          f"| {check['visible_after_ms_p50']:.1f} | {check['visible_on_next_search']} |")
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
