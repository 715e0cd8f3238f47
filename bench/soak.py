"""Soak benchmark: adds, searches and chats through a real server, under tight and default KV
budgets, sampling resident memory, open files, KV bytes per tier and latency over time.

Each configuration gets a fresh home and its own uvicorn server (in this process, over one
shared engine and embedder, the way ``memos serve`` runs them). Every chat must answer 200 and
every tier must be within its budget at every sample.

    python bench/soak.py [--quick] [--cubes 8] [--notes 200] [--searches 1000] [--chats 60]
    (plot: bench/out/soak.png)
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout

from api.app import create_app  # noqa: E402
from memos import MemOS  # noqa: E402
from memos.settings import Settings  # noqa: E402

ADMIN_KEY = "memos_soak-admin-key-0123456789abcdef"
ADD_BATCH = 25
BUDGETS = {"tight 4/8/32 MiB": (4, 8, 32), "default": (None, None, None)}
PEOPLE = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun"]
CITIES = ["Lisbon", "Oslo", "Quito", "Kyoto", "Accra", "Perth", "Lima", "Riga", "Dakar", "Hue"]
THINGS = ["chess", "kayaks", "ferns", "jazz", "kites", "tea", "maps", "bees", "clocks", "ink"]


@dataclass
class Run:
    """Samples of one configuration: (seconds, value) series and per-operation latencies."""

    name: str
    rss_mib: list[tuple[float, float]] = field(default_factory=list)
    fds: list[tuple[float, int]] = field(default_factory=list)
    tier_mib: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    latency: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    over_budget: int = 0
    samples: int = 0


def note(cube: int, n: int) -> str:
    person, city, thing = PEOPLE[n % 10], CITIES[(n // 10 + cube) % 10], THINGS[(n * 7) % 10]
    return f"{person} #{n} of group {cube} moved to {city} and collects {thing}."


def serve(mos: MemOS, settings: Settings) -> tuple[uvicorn.Server, threading.Thread]:
    """The real app on a free loopback port, in a thread; returns once it accepts requests."""
    config = uvicorn.Config(create_app(mos, settings), host="127.0.0.1", port=settings.port,
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample(run: Run, mos: MemOS, started: float) -> None:
    """Record RSS, open fds and KV bytes per tier; count tiers over their budget."""
    now = time.perf_counter() - started
    process = psutil.Process()
    run.rss_mib.append((now, process.memory_info().rss / 2**20))
    run.fds.append((now, process.num_fds()))
    stats = mos.activation.stats()
    for name, tier in stats["tiers"].items():
        run.tier_mib.setdefault(name, []).append((now, tier["bytes"] / 2**20))
        run.over_budget += tier["bytes"] > tier["budget_bytes"]
    run.samples += 1


def timed(run: Run, kind: str, started: float, call) -> httpx.Response:
    begin = time.perf_counter()
    response = call()
    run.latency.setdefault(kind, []).append((begin - started, time.perf_counter() - begin))
    if response.status_code >= 300:
        run.failures[kind] = run.failures.get(kind, 0) + 1
    return response


def soak(name: str, budgets, args, engine, embedder) -> Run:
    """One configuration: fill the cubes, then interleave searches and chats."""
    run = Run(name)
    device, host, disk = budgets
    with tempfile.TemporaryDirectory(prefix="memos-soak-") as home:
        limits = {key: value for key, value in (("kv_device_mib", device), ("kv_host_mib", host),
                                                 ("kv_disk_mib", disk)) if value is not None}
        settings = Settings(home=Path(home), admin_key=ADMIN_KEY, port=free_port(), workers=1,
                            **limits)
        mos = MemOS(settings=settings, engine=engine, embedder=embedder)
        server, thread = serve(mos, settings)
        started = time.perf_counter()
        with httpx.Client(base_url=f"http://127.0.0.1:{settings.port}", timeout=600,
                          headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as http:
            cubes = [http.post("/v1/cubes", json={"name": f"soak-{c}"}).json()["id"]
                     for c in range(args.cubes)]
            fill(run, http, cubes, args, started, mos)
            interleave(run, http, cubes, args, started, mos)
        server.should_exit = True
        thread.join(timeout=60)
        mos.close()
    return run


def fill(run: Run, http: httpx.Client, cubes: list[str], args, started: float, mos) -> None:
    """Add every cube's notes in batches of ADD_BATCH (one embedding batch per request)."""
    for index, cube_id in enumerate(cubes):
        for first in range(0, args.notes, ADD_BATCH):
            items = [{"text": note(index, n), "force": True}
                     for n in range(first, min(first + ADD_BATCH, args.notes))]
            timed(run, "add", started, lambda c=cube_id, items=items: http.post(
                f"/v1/cubes/{c}/memories/batch", json={"items": items}))
            sample(run, mos, started)


def interleave(run: Run, http: httpx.Client, cubes: list[str], args, started: float,
               mos) -> None:
    searches_per_chat = max(1, args.searches // max(args.chats, 1))
    for turn in range(args.chats):
        for s in range(searches_per_chat):
            cube_id = cubes[(turn + s) % len(cubes)]
            timed(run, "search", started, lambda c=cube_id, s=s: http.post(
                "/v1/search", json={"query": f"Who collects {THINGS[s % 10]}?",
                                    "cube_ids": [c], "k": 5}))
        question = f"Where did {PEOPLE[turn % 10]} #{turn * 3 % args.notes} move to?"
        timed(run, "chat", started, lambda t=turn, q=question: http.post("/v1/chat", json={
            "messages": [{"role": "user", "content": q}], "cube_ids": [cubes[t % len(cubes)]],
            "k": 5, "max_new_tokens": args.new_tokens}))
        sample(run, mos, started)


def growth_after_warmup(series: list[tuple[float, float]]) -> float:
    """Median of the last quarter minus median of the second quarter of the samples."""
    values = [value for _, value in series]
    quarter = max(len(values) // 4, 1)
    return statistics.median(values[-quarter:]) - statistics.median(values[quarter:2 * quarter])


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def report(runs: list[Run], args) -> None:
    print(f"\nsoak: {args.cubes} cubes x {args.notes} notes, {args.searches} searches, "
          f"{args.chats} chats ({args.new_tokens} new tokens), pid {os.getpid()}\n")
    print(f"{'budgets':<18}{'kind':>7}{'ok':>6}{'failed':>7}{'p50 ms':>9}{'p95 ms':>9}")
    for run in runs:
        for kind, series in run.latency.items():
            ms = [1000 * seconds for _, seconds in series]
            failed = run.failures.get(kind, 0)
            print(f"{run.name:<18}{kind:>7}{len(ms) - failed:>6}{failed:>7}"
                  f"{p(ms, 0.5):>9.0f}{p(ms, 0.95):>9.0f}")
    print(f"\n{'budgets':<18}{'samples':>8}{'over budget':>12}{'RSS MiB end':>12}"
          f"{'RSS growth':>11}{'fds end':>8}{'fd growth':>10}  KV MiB max (device/host/disk)")
    for run in runs:
        peaks = "/".join(f"{max(v for _, v in run.tier_mib[t]):.1f}"
                         for t in ("device", "host", "disk"))
        print(f"{run.name:<18}{run.samples:>8}{run.over_budget:>12}{run.rss_mib[-1][1]:>12.0f}"
              f"{growth_after_warmup(run.rss_mib):>+10.0f}M{run.fds[-1][1]:>8}"
              f"{growth_after_warmup(run.fds):>+10.0f}  {peaks}")


def plot(runs: list[Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(12, 8))
    for run in runs:
        axes[0][0].plot(*zip(*run.rss_mib, strict=True), label=run.name)
        axes[0][1].plot(*zip(*run.fds, strict=True), label=run.name)
        for tier, series in run.tier_mib.items():
            axes[1][0].plot(*zip(*series, strict=True), label=f"{run.name}: {tier}")
        chats = run.latency.get("chat", [])
        if chats:
            axes[1][1].plot(*zip(*chats, strict=True), ".", label=f"{run.name}: chat")
    titles = ("resident memory (MiB)", "open file descriptors", "KV bytes per tier (MiB)",
              "chat latency (s)")
    for axis, title in zip(axes.flat, titles, strict=True):
        axis.set_title(title)
        axis.set_xlabel("seconds since start")
        axis.legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few minutes on a small CPU")
    parser.add_argument("--cubes", type=int, default=8)
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=60)
    parser.add_argument("--new-tokens", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.quick:
        args.cubes, args.notes, args.searches, args.chats = 4, 200, 600, 60
    loader = MemOS(settings=Settings(home=ROOT / "bench" / "out" / "soak-models",
                                     device=args.device))
    engine, embedder = loader.engine, loader.embedder
    runs = [soak(name, budgets, args, engine, embedder) for name, budgets in BUDGETS.items()]
    report(runs, args)
    plot(runs, ROOT / "bench" / "out" / "soak.png")
    print("\nplot: bench/out/soak.png")


if __name__ == "__main__":
    main()
