"""Scheduler benchmark: KV hit rate and time to first token over a chat workload, scheduler on/off.

A cube holds short notes about people; most questions ask about a few "hot" people again and
again, the rest about anyone. With the scheduler on, policies tick every few turns, so notes
retrieved often get their chunk KV precomputed (promote_activation); with it off, nothing runs
between turns. Per window of turns it reports the KV hit rate (cache hits / chunk lookups, on
turns about hot notes and on all turns) and the mean TTFT, as a table and a plot.

    python bench/scheduler.py [--turns 80] [--device cpu|cuda] [--out bench/out]
    python bench/scheduler.py --tight      # 16 MiB host KV, no device or disk tier, plain LRU
    python bench/scheduler.py --tight --scan --hot-share 0.5   # cold turns: one-off questions

With ``--tight`` (or explicit ``--host-mib`` etc.) the KV tiers are too small for every path
a chat computes, so plain LRU evicts hot paths whenever a few other questions come by; with
the scheduler on, ``promote_activation`` pins the path nodes of the memory sets asked for
again and again that save the most prefill (within half the host budget). ``--scan`` makes
the cold turns one-off questions about cold notes, the scan that flushes an LRU cache.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from memos.embedder import Embedder
from memos.engine import Engine, EngineConfig
from memos.kernel import MemOS
from memos.settings import Settings

NAMES = ["Maria", "Tom", "Priya", "Kenji", "Olivia", "Samuel", "Amara", "Lucas", "Hannah",
         "Diego", "Fatima", "Erik", "Chloe", "Rafael", "Ingrid", "Malik", "Nadia", "Oscar",
         "Leila", "Victor", "Greta", "Hugo", "Sofia", "Tariq", "Yuki", "Zane", "Bianca",
         "Felix", "Rosa", "Omar"]
CITIES = ["Denver", "Lisbon", "Seattle", "Austin", "Toronto", "Melbourne", "Dublin", "Portland",
          "Chicago", "Barcelona", "Vancouver", "Boston", "Edinburgh", "Nairobi", "Montreal"]
JOBS = ["nurse", "software engineer", "teacher", "architect", "pastry chef", "pilot",
        "veterinarian", "journalist", "electrician", "pharmacist"]
PETS = ["beagle", "tabby cat", "golden retriever", "parrot", "rabbit", "corgi", "husky"]
HOBBIES = ["pottery", "rock climbing", "salsa dancing", "birdwatching", "woodworking", "chess",
           "sailing", "astronomy"]
QUESTIONS = ["Where does {name} live?", "What does {name} do for a living?",
             "What pet does {name} have?", "What is {name}'s hobby?"]


@dataclass(slots=True)
class TurnRecord:
    """What one chat turn cost and how much of its memory KV came from the cache."""

    mode: str
    turn: int
    hot: bool
    cache_hits: int
    cache_misses: int
    reused_tokens: int
    prompt_tokens: int
    ttft_s: float


def notes(rng: random.Random, count: int) -> list[str]:
    """One note per person: home, job, pet and hobby, in a few sentences."""
    return [f"{name} lives in {rng.choice(CITIES)} and works as a {rng.choice(JOBS)}. "
            f"{name} has a {rng.choice(PETS)} and spends weekends on {rng.choice(HOBBIES)}. "
            f"{name} has been friends with the user since school."
            for name in NAMES[:count]]


def questions(rng: random.Random, people: int, hot: int, hot_share: float,
              turns: int, scan: bool = False) -> list[tuple[str, bool]]:
    """(question, about a hot person) per turn: hot people are asked ``hot_share`` of the time;
    the other turns ask about anyone, or with ``scan`` each ask a question about a cold person
    that is never asked again (a scan of one-off notes, which flushes an LRU cache)."""
    one_offs = [(template, person) for person in range(hot, people) for template in QUESTIONS]
    if scan:
        rng.shuffle(one_offs)
    asked = []
    for _ in range(turns):
        is_hot = rng.random() < hot_share
        if scan and not is_hot and one_offs:
            template, person = one_offs.pop()
        else:
            person = rng.randrange(hot) if is_hot else rng.randrange(people)
            template = rng.choice(QUESTIONS)
        asked.append((template.format(name=NAMES[person]), person < hot))
    return asked


def run_mode(mode: str, engine, embedder, texts: list[str], asked: list[tuple[str, bool]],
             args) -> list[TurnRecord]:
    """Play the workload on a fresh home; ``mode`` "on" ticks the scheduler between turns."""
    records = []
    with tempfile.TemporaryDirectory() as home, \
            MemOS(home, settings=kv_settings(args), engine=engine, embedder=embedder) as mos:
        policies = {"promote_activation": {"min_retrievals": args.min_retrievals,
                                           "window_s": 3600}}
        cube = mos.create_cube("people", settings={"policies": policies})
        cube.add_many([{"text": text} for text in texts])
        for turn, (question, hot) in enumerate(asked):
            if mode == "on" and turn and turn % args.tick_every == 0:
                mos.scheduler.tick()
                mos.scheduler.run_pending()
            reply = mos.chat([{"role": "user", "content": question}], cube_ids=[cube.id],
                             k=args.k, max_new_tokens=args.max_new_tokens)
            stats = reply.stats
            records.append(TurnRecord(mode, turn, hot, stats.cache_hits, stats.cache_misses,
                                      stats.reused_tokens, stats.prompt_tokens, stats.ttft_s))
    return records


def kv_settings(args) -> Settings:
    """The server defaults, with the KV budgets and policy the command line gives."""
    given = {"kv_device_mib": args.device_mib, "kv_host_mib": args.host_mib,
             "kv_disk_mib": args.disk_mib, "kv_policy": args.kv_policy}
    return Settings(**{name: value for name, value in given.items() if value is not None})


def hit_rate(records: list[TurnRecord]) -> float:
    """Cache hits over chunk lookups (NaN when there were none)."""
    lookups = sum(r.cache_hits + r.cache_misses for r in records)
    return sum(r.cache_hits for r in records) / lookups if lookups else float("nan")


def windows(records: list[TurnRecord], size: int) -> list[dict]:
    """Per window of ``size`` turns: hit rates (hot turns, all turns) and mean TTFT."""
    rows = []
    for start in range(0, len(records), size):
        chunk = records[start:start + size]
        rows.append({"turns": f"{start}-{start + len(chunk) - 1}",
                     "hot_hit_rate": hit_rate([r for r in chunk if r.hot]),
                     "hit_rate": hit_rate(chunk),
                     "ttft_s": statistics.mean(r.ttft_s for r in chunk)})
    return rows


def summary(records: list[TurnRecord], skip: int) -> dict:
    """Whole-run figures after the first ``skip`` turns (before any tick could help)."""
    steady = records[skip:]
    hot = [r for r in steady if r.hot]
    return {"hot_hit_rate": hit_rate(hot), "hit_rate": hit_rate(steady),
            "hot_ttft_s": statistics.mean(r.ttft_s for r in hot) if hot else float("nan"),
            "ttft_s": statistics.mean(r.ttft_s for r in steady),
            "hot_reused_share": sum(r.reused_tokens for r in hot)
            / max(sum(r.prompt_tokens for r in hot), 1),
            "reused_share": sum(r.reused_tokens for r in steady)
            / max(sum(r.prompt_tokens for r in steady), 1)}


def table(by_mode: dict[str, list[dict]], totals: dict[str, dict]) -> str:
    """Markdown: the per-window figures of both modes, then the steady-state totals."""
    lines = ["| turns | hot hit rate off | hot hit rate on | hit rate off | hit rate on "
             "| TTFT off (s) | TTFT on (s) |", "|---|---|---|---|---|---|---|"]
    for off, on in zip(by_mode.get("off", by_mode["on"]), by_mode.get("on", by_mode["off"]),
                       strict=True):
        lines.append(f"| {off['turns']} | {off['hot_hit_rate']:.0%} | {on['hot_hit_rate']:.0%} "
                     f"| {off['hit_rate']:.0%} | {on['hit_rate']:.0%} | {off['ttft_s']:.3f} "
                     f"| {on['ttft_s']:.3f} |")
    lines += ["", "| scheduler | hot hit rate | hit rate | hot TTFT (s) | TTFT (s) "
              "| reused prompt tokens, hot turns | all turns |", "|---|---|---|---|---|---|---|"]
    for mode, total in totals.items():
        lines.append(f"| {mode} | {total['hot_hit_rate']:.0%} | {total['hit_rate']:.0%} "
                     f"| {total['hot_ttft_s']:.3f} | {total['ttft_s']:.3f} "
                     f"| {total['hot_reused_share']:.0%} | {total['reused_share']:.0%} |")
    return "\n".join(lines)


def plot(by_mode: dict[str, list[dict]], path: Path) -> None:
    """Hot-note hit rate and mean TTFT per window, scheduler on vs off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rate_axis, ttft_axis) = plt.subplots(1, 2, figsize=(11, 4))
    for mode, rows in by_mode.items():
        x = [int(row["turns"].split("-")[0]) for row in rows]
        rate_axis.plot(x, [row["hot_hit_rate"] for row in rows], marker="o",
                       label=f"scheduler {mode}")
        ttft_axis.plot(x, [row["ttft_s"] for row in rows], marker="o", label=f"scheduler {mode}")
    rate_axis.set(title="KV hit rate, turns about hot notes", xlabel="turn", ylim=(-0.05, 1.05))
    ttft_axis.set(title="mean time to first token", xlabel="turn", ylabel="seconds")
    for axis in (rate_axis, ttft_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=80)
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--hot", type=int, default=5)
    parser.add_argument("--hot-share", type=float, default=0.8)
    parser.add_argument("--tick-every", type=int, default=5)
    parser.add_argument("--min-retrievals", type=int, default=2)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=4)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--tight", action="store_true",
                        help="same as --device-mib 0 --host-mib 16 --disk-mib 0 --kv-policy lru")
    parser.add_argument("--scan", action="store_true",
                        help="cold turns ask one-off questions about cold people")
    parser.add_argument("--device-mib", type=int, default=None)
    parser.add_argument("--host-mib", type=int, default=None)
    parser.add_argument("--disk-mib", type=int, default=None)
    parser.add_argument("--kv-policy", default=None, choices=["lru", "lfu", "cost"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", default="off,on", help="scheduler modes to play")
    parser.add_argument("--models-dir", type=Path, default=Path("memos-home/models"),
                        help="where the converted chat model is kept between runs")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if args.tight:
        args.device_mib, args.host_mib, args.disk_mib, args.kv_policy = 0, 16, 0, "lru"
    if not hasattr(MemOS, "warm"):
        sys.exit("MemOS.warm (the activation cache) is not available yet")

    rng = random.Random(args.seed)
    texts = notes(rng, args.people)
    asked = questions(rng, args.people, args.hot, args.hot_share, args.turns, args.scan)
    engine = Engine.load(EngineConfig(models_dir=args.models_dir, device=args.device,
                                      progress=False))
    embedder = Embedder.load(device=args.device)
    records = {mode: run_mode(mode, engine, embedder, texts, asked, args)
               for mode in args.modes.split(",")}

    by_mode = {mode: windows(rows, args.window) for mode, rows in records.items()}
    totals = {mode: summary(rows, args.tick_every) for mode, rows in records.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    text = table(by_mode, totals)
    stem = ("scheduler-tight" if args.tight else "scheduler") + ("-scan" if args.scan else "")
    (args.out / f"{stem}.md").write_text(text + "\n")
    (args.out / f"{stem}.json").write_text(json.dumps(
        {"args": {k: str(v) for k, v in vars(args).items()}, "windows": by_mode,
         "totals": totals, "turns": {m: [asdict(r) for r in rows]
                                     for m, rows in records.items()}}, indent=1))
    plot(by_mode, args.out / f"{stem}.png")
    print(text)


if __name__ == "__main__":
    main()
