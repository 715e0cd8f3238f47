"""Console pages on a large cube: list, deep page, search and graph neighbourhood, against the
REST API's JSON for the same data (the baseline), over a real uvicorn server.

    python bench/console.py [--notes 10000] [--repeat 5]

Seeds one cube with ``--notes`` synthetic notes through the kernel (batched embedding), starts
the app on a free loopback port, logs into the console like a browser (login form, CSRF token,
session cookie), then times each page and its REST counterpart (median of ``--repeat``).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from live_server import free_port, serve_in_thread  # noqa: E402

from api.app import create_app  # noqa: E402
from memos import MemOS  # noqa: E402
from memos.settings import Settings  # noqa: E402

ADMIN_KEY = "memos_bench-admin-key-0123456789abcdef"
SUBJECTS = ["Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
VERBS = ["moved to", "visited", "bought a flat in", "works remotely from", "studied in",
         "met a friend in", "lost a bag in", "ran a marathon in"]
PLACES = ["Lisbon", "Oslo", "Kyoto", "Lima", "Accra", "Hanoi", "Quito", "Tartu", "Perth", "Cork"]


def notes(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    return [{"text": f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(PLACES)} "
                     f"in week {i // 7} of year {2000 + i % 25} (note {i}).",
             "tags": [f"batch{i % 10}"], "force": True} for i in range(count)]


def seed_cube(mos: MemOS, count: int) -> str:
    cube = mos.create_cube("big", owner="admin")
    entries, started = notes(count), time.perf_counter()
    for start in range(0, count, 500):
        cube.add_many(entries[start:start + 500])
    print(f"seeded {count} notes in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return cube.id


def console_session(url: str) -> tuple[httpx.Client, str]:
    http = httpx.Client(base_url=url, timeout=300)
    form = http.get("/console/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    http.post("/console/login", data={"csrf": token, "api_key": ADMIN_KEY})
    return http, token


def median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return 1000 * statistics.median(times)


def measure(url: str, cube: str, repeat: int) -> list[tuple[str, float, float | None]]:
    page, _ = console_session(url)
    rest = httpx.Client(base_url=url, timeout=300,
                        headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    center = rest.get(f"/v1/cubes/{cube}/memories", params={"limit": 1}).json()["data"][0]["id"]
    query = "Where did Alice run a marathon?"
    return [
        ("memories, page 1 (50)", median_ms(lambda: page.get(f"/console/cubes/{cube}"), repeat),
         median_ms(lambda: rest.get(f"/v1/cubes/{cube}/memories"), repeat)),
        ("memories, page 150", median_ms(
            lambda: page.get(f"/console/cubes/{cube}", params={"page_no": 150}), repeat),
         median_ms(lambda: rest.get(f"/v1/cubes/{cube}/memories",
                                    params={"offset": 149 * 50}), repeat)),
        ("search, 20 hits with why", median_ms(
            lambda: page.get(f"/console/cubes/{cube}", params={"q": query}), repeat),
         median_ms(lambda: rest.post(f"/v1/cubes/{cube}/search",
                                     json={"query": query, "k": 20}), repeat)),
        ("graph page", median_ms(lambda: page.get(f"/console/cubes/{cube}/graph",
                                                  params={"center": center}), repeat), None),
        ("graph data, 2 hops (<= 80 notes)", median_ms(
            lambda: page.get(f"/console/cubes/{cube}/graph/data",
                             params={"center": center, "hops": 2}), repeat), None),
        ("cubes list", median_ms(lambda: page.get("/console/"), repeat),
         median_ms(lambda: rest.get("/v1/cubes"), repeat)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="memos-bench-console-") as home:
        settings = Settings(home=home, admin_key=ADMIN_KEY, host="127.0.0.1", port=free_port(),
                            workers=0)
        mos = MemOS(settings=settings)
        _ = (mos.engine, mos.embedder)  # load (convert once) before the start deadline
        cube_id = seed_cube(mos, args.notes)
        app = create_app(mos, settings)
        server, thread = serve_in_thread(app, settings.port, lifespan="on")
        try:
            rows = measure(f"http://127.0.0.1:{settings.port}", cube_id, args.repeat)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            mos.close()
    print(f"\nconsole pages on a cube of {args.notes} notes (median of {args.repeat}, ms)\n")
    print("| page | console (HTML) | REST (JSON) baseline |\n|---|---:|---:|")
    for name, console_ms, rest_ms in rows:
        rest = f"{rest_ms:.1f}" if rest_ms is not None else "—"
        print(f"| {name} | {console_ms:.1f} | {rest} |")


if __name__ == "__main__":
    main()
