"""Scale-out: 1, 2 and 4 processes on one database, a mixed add/search load on one cube.

    python bench/scale_out.py [--database-url URL] [--seconds 20] [--processes 1 2 4]

Each process opens its own MemOS (its own in-memory indexes) on one home and database (SQLite
in a temp folder by default; PostgreSQL by URL) and runs, for a fixed time, one add for every
four searches. Reported per configuration: operations per second in all, p50/p99 latency of
adds and searches, errors; then the coherence check's cost on a search when nothing changed
(the one indexed query), and the staleness: after one process adds a note, how long until a
search in another returns it (always its next search: the time is the round trip).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import tempfile
import time

FACTS = ["{} moved to Lisbon in May.", "{} adopted a grey cat.", "{} runs every September.",
         "{} is allergic to peanuts.", "{} bought a red station wagon.", "{} plays the cello."]
QUERIES = ["Who moved to Lisbon?", "Who has a cat?", "Who plays music?", "allergies", "cars"]


def open_mos(home: str, database_url: str | None):
    """A MemOS with the real embedder, one torch thread (the processes share the cores)."""
    import torch

    from memos.embedder import Embedder
    from memos.kernel import MemOS
    from memos.settings import Settings

    torch.set_num_threads(1)
    settings = Settings(home=home, database_url=database_url)
    return MemOS(settings=settings, embedder=Embedder.load(device="cpu"))


def worker(rank: int, home: str, url: str | None, cube_id: str, seconds: float, start, out):
    """Run the mixed load until the deadline; report latencies and errors."""
    mos = open_mos(home, url)
    cube = mos.get_cube(cube_id)
    cube.search("warm up", k=5)
    adds, searches, errors, n = [], [], 0, 0
    start.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        try:
            if n % 5 == 0:
                cube.add(FACTS[n // 5 % len(FACTS)].format(f"P{rank}-{n}"), force=True)
                adds.append(time.perf_counter() - began)
            else:
                cube.search(QUERIES[n % len(QUERIES)], k=5)
                searches.append(time.perf_counter() - began)
        except Exception:  # noqa: BLE001 - counted and reported, the load goes on
            errors += 1
        n += 1
    out.put((adds, searches, errors))
    mos.close()


def run_config(processes: int, url: str | None, seconds: float) -> dict:
    """One configuration on a fresh home (and cube)."""
    home = tempfile.mkdtemp(prefix=f"memos-scale-{processes}-")
    setup = open_mos(home, url)
    cube_id = setup.create_cube(f"bench-{processes}-{time.time_ns()}").id
    setup.close()
    context = mp.get_context("spawn")
    start, out = context.Barrier(processes + 1), context.Queue()
    procs = [context.Process(target=worker, args=(r, home, url, cube_id, seconds, start, out))
             for r in range(processes)]
    for proc in procs:
        proc.start()
    start.wait()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    adds = [x for a, _, _ in results for x in a]
    searches = [x for _, s, _ in results for x in s]
    return {"processes": processes, "ops_s": (len(adds) + len(searches)) / seconds,
            "add_p50": _pct(adds, 50), "add_p99": _pct(adds, 99),
            "search_p50": _pct(searches, 50), "search_p99": _pct(searches, 99),
            "errors": sum(e for _, _, e in results)}


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
    stale = []
    for i in range(20):
        began = time.perf_counter()
        note = cube.add(f"Marker {i}: Zed keeps a green parrot number {i}.", force=True)
        hits = view.search(f"Zed green parrot number {i}", k=20)
        assert note.id in [hit.item.id for hit in hits], "a write was not visible"
        stale.append(time.perf_counter() - began)
    writer.close()
    reader.close()
    return {"check_p50_ms": _pct(checks, 50) * 1e3, "check_p99_ms": _pct(checks, 99) * 1e3,
            "visible_after_ms_p50": _pct(stale, 50) * 1e3, "visible_on_next_search": "20/20"}


def _pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    """Run every configuration and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp home")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    print(f"database: {args.database_url or 'SQLite (WAL) in a temp home'}; "
          f"{args.seconds:.0f} s per configuration; 1 add : 4 searches")
    print("| processes | ops/s | add p50 ms | add p99 ms | search p50 ms | search p99 ms "
          "| errors |\n|---|---|---|---|---|---|---|")
    base = None
    for count in args.processes:
        row = run_config(count, args.database_url, args.seconds)
        base = base or row["ops_s"]
        print(f"| {count} | {row['ops_s']:.1f} ({row['ops_s'] / base:.2f}x) "
              f"| {row['add_p50'] * 1e3:.1f} | {row['add_p99'] * 1e3:.1f} "
              f"| {row['search_p50'] * 1e3:.1f} | {row['search_p99'] * 1e3:.1f} "
              f"| {row['errors']} |", flush=True)
    check = coherence_and_staleness(args.database_url)
    print("\n| coherence check, nothing changed: p50 ms | p99 ms | add in A -> found by search "
          "in B: p50 ms | visible on B's next search |\n|---|---|---|---|")
    print(f"| {check['check_p50_ms']:.3f} | {check['check_p99_ms']:.3f} "
          f"| {check['visible_after_ms_p50']:.1f} | {check['visible_on_next_search']} |")


if __name__ == "__main__":
    main()
