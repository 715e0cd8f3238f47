"""Benchmark forgetting in parametric memory: facts distilled in shards, some then forgotten.

    python bench/forgetting.py [--facts 20] [--shards 4] [--forget 5] [--epochs 6] [--measure N]

A cube holds short invented facts ("Brelo Vantik lives in Lisbon."). Measured before
distillation, after sharded distillation, right after deleting or correcting ``--forget`` of
them (the adapters that learned them are stale), and after the forget retrain job rebuilt the
affected shards: how often parametric-only chat (no retrieval) names each person's city, how
often it still names a forgotten city, whether default chat ever attached a stale adapter, and
default chat's accuracy with and without parametric memory. Times: one shard's retrain
against all shards (a full distillation's steps).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from memos import MemOS
from memos.engine import Engine, EngineConfig
from memos.parametric import DistillConfig
from memos.probe_prompts import probes_for, reproduces
from memos.settings import Settings

CITIES = ("Lisbon", "Berlin", "Oslo", "Madrid", "Vienna", "Prague", "Dublin", "Warsaw",
          "Athens", "Helsinki", "Budapest", "Brussels", "Zurich", "Munich", "Milan", "Naples",
          "Porto", "Seville", "Krakow", "Geneva", "Lyon", "Hamburg", "Venice", "Florence",
          "Bergen", "Riga", "Tallinn", "Vilnius", "Sofia", "Valencia", "Lima", "Quito", "Bogota",
          "Santiago", "Montevideo", "Havana", "Toronto", "Denver", "Boston", "Seattle", "Austin",
          "Chicago", "Nairobi", "Accra", "Dakar", "Tunis", "Cairo", "Casablanca", "Mumbai",
          "Delhi", "Chennai", "Dhaka", "Hanoi", "Manila", "Jakarta", "Osaka", "Kyoto", "Seoul",
          "Busan", "Perth", "Auckland", "Sydney", "Melbourne", "Adelaide", "Hobart")
_TOWN_ENDINGS = ("port", "burg", "ford", "vik", "stad", "haven")
_SYLLABLES = ("bre", "lo", "van", "tik", "dor", "ma", "sel", "quin", "ra", "zo", "mer", "fal",
              "ten", "gro", "vis", "lan", "kor", "pi", "nu", "das")


@dataclass(slots=True)
class Person:
    """One fact: who lives where, the note holding it, and the city it changes to, if any."""

    name: str
    city: str
    item_id: str = ""
    forgotten_city: str | None = None
    forget: bool = False


def main() -> None:
    """Run the benchmark and print a table."""
    args = _parse_args()
    engine = Engine.load(EngineConfig(device=args.device, models_dir=Path(args.models_dir)))
    people = _people(args.facts, args.seed)
    for person in people[: args.forget]:
        person.forget = True
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(distill_shards=args.shards, forget_retrain_delay_s=0)
        with MemOS(home, settings=settings, engine=engine) as mos:
            rows, times = _run(mos, people, args)
    _print_table(args, engine, rows, times)


def _run(mos: MemOS, people: list[Person], args) -> tuple[list[tuple], dict]:
    cube = mos.create_cube("people")
    for person, item in zip(people, cube.add_many(
            [{"text": f"{p.name} lives in {p.city}."} for p in people]), strict=True):
        person.item_id = item.id
    asked = _asked(people, args.measure, args.seed)
    rows = [_measure(mos, cube.id, asked, "before distillation")]
    config = DistillConfig(epochs=args.epochs, learning_rate=args.learning_rate,
                           replay=args.replay, batch_size=args.batch_size, seed=args.seed)
    started = time.perf_counter()
    mos.adapters.distill_shards(cube, args.shards, config, progress=_print_progress)
    times = {"all_shards_s": time.perf_counter() - started}
    print(f"  all {args.shards} shards distilled in {times['all_shards_s']:.1f} s", flush=True)
    rows.append(_measure(mos, cube.id, asked, "after distillation"))
    _forget(cube, [p for p in people if p.forget], args.seed)
    rows.append(_measure(mos, cube.id, asked, "after forget, stale"))
    started = time.perf_counter()
    job = mos.scheduler.jobs.list(cube_id=cube.id)[0][0]
    mos.scheduler.run_pending()
    times["retrain_s"] = time.perf_counter() - started
    times["retrain"] = mos.scheduler.jobs.get(job.id).result
    rows.append(_measure(mos, cube.id, asked, "after shard retrain"))
    return rows, times


def _asked(people: list[Person], measure: int | None, seed: int) -> list[Person]:
    """Who each phase asks about: every fact to be forgotten, and ``measure`` of the others
    drawn once (all of them when None)."""
    others = [p for p in people if not p.forget]
    if measure is not None and measure < len(others):
        others = random.Random(seed + 2).sample(others, measure)
    return [p for p in people if p.forget] + others


def _forget(cube, forgotten: list[Person], seed: int) -> None:
    """Delete half of them, correct the others to a city no one lived in."""
    spare = [c for c in CITIES if c not in {p.city for p in forgotten}]
    random.Random(seed + 1).shuffle(spare)
    for index, person in enumerate(forgotten):
        person.forgotten_city = person.city
        if index % 2 == 0:
            cube.delete(person.item_id)
            person.city = None
        else:
            person.city = spare.pop()
            cube.update(person.item_id, text=f"{person.name} lives in {person.city}.")


def _measure(mos: MemOS, cube_id: str, people: list[Person], phase: str) -> tuple:
    started = time.perf_counter()
    stale = {a.id for a in mos.adapters.list(cube_id) if a.stale}
    para = {p.name: _ask(mos, cube_id, p, ("parametric",)) for p in people}
    default = {p.name: _ask(mos, cube_id, p, ("plaintext", "activation", "parametric"))
               for p in people}
    text_only = {p.name: _ask(mos, cube_id, p, ("plaintext", "activation")) for p in people}
    kept = [p for p in people if p.forgotten_city is None]
    gone = [p for p in people if p.forgotten_city is not None]
    drawn = _drawn(mos, cube_id, [p for p in people if p.forget])
    attached = sum(bool(r.adapters) for r in default.values())
    print(f"  {phase}: {attached}/{len(people)} default replies attached an adapter "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    row = (
        phase,
        _count(kept, para, lambda p, r: p.city.lower() in r.text.lower()),
        _count(gone, para, lambda p, r: p.forgotten_city.lower() in r.text.lower()),
        drawn,
        sum(bool(stale & set(r.adapters)) for r in default.values()),
        _count(people, default, _right), _count(people, text_only, _right),
    )
    print(f"  row: {' | '.join(map(str, row))}", flush=True)
    return row


def _drawn(mos: MemOS, cube_id: str, people: list[Person]) -> str:
    """Of these people, how many facts any extraction probe (the direct question, paraphrases,
    completions) draws from parametric-only chat."""
    drawn = 0
    for person in people:
        city = person.forgotten_city or person.city
        prompts = [probe.prompt for probe in probes_for(f"{person.name} lives in {city}.")]
        drawn += any(reproduces(mos.chat([{"role": "user", "content": prompt}],
                                         cube_ids=[cube_id], memory_kinds=("parametric",),
                                         max_new_tokens=12).text, (city,))
                     for prompt in prompts)
    return f"{drawn}/{len(people)}"


def _right(person: Person, reply) -> bool:
    text = reply.text.lower()
    if person.forgotten_city is not None and person.forgotten_city.lower() in text:
        return False
    return person.city is None or person.city.lower() in text


def _count(people: list[Person], replies: dict, ok) -> str:
    if not people:
        return "–"
    return f"{sum(ok(p, replies[p.name]) for p in people)}/{len(people)}"


def _ask(mos: MemOS, cube_id: str, person: Person, kinds: tuple[str, ...]):
    question = [{"role": "user", "content": f"Where does {person.name} live?"}]
    return mos.chat(question, cube_ids=[cube_id], memory_kinds=kinds, max_new_tokens=16)


def _people(count: int, seed: int) -> list[Person]:
    rng = random.Random(seed)
    names: set[str] = set()
    while len(names) < count:
        first = "".join(rng.sample(_SYLLABLES, 2)).capitalize()
        last = "".join(rng.sample(_SYLLABLES, 2)).capitalize()
        names.add(f"{first} {last}")
    cities = rng.sample(_places(count, rng), count)
    return [Person(name, city) for name, city in zip(sorted(names), cities, strict=True)]


def _places(count: int, rng: random.Random) -> list[str]:
    """The real cities, then invented town names ("Selvanport") until there are ``count``."""
    places = list(CITIES)
    while len(places) < count:
        town = "".join(rng.sample(_SYLLABLES, 2)).capitalize() + rng.choice(_TOWN_ENDINGS)
        places += [town] if town not in places else []
    return places


def _print_progress(step: int, total: int, loss: float) -> None:
    if step == 1 or step % 20 == 0 or step == total:
        print(f"  step {step:4d}/{total}  loss {loss:.3f}", flush=True)


def _print_table(args, engine, rows: list[tuple], times: dict) -> None:
    print(f"\nmodel {engine.name} on {engine.device}; {args.facts} facts in {args.shards} "
          f"shards, {args.forget} forgotten (deleted or corrected); {args.epochs} epochs, "
          f"batch {args.batch_size}, lr {args.learning_rate}, replay {args.replay}; asked "
          f"about {'every fact' if args.measure is None else f'{args.measure} kept facts'}"
          " and every forgotten one each phase")
    header = ("phase", "param-only names city (kept)", "param-only names forgotten city",
              "probes draw the to-be/forgotten fact",
              "default replies with stale adapter", "default chat right",
              "text-only chat right")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("-" * (len(h) + 2) for h in header) + "|")
    for row in rows:
        print("| " + " | ".join(f"{str(v):>{len(h)}}" for v, h in zip(row, header,
                                                                      strict=True)) + " |")
    retrain = times["retrain"]
    print(f"\nall {args.shards} shards distilled in {times['all_shards_s']:.1f} s; forget "
          f"retrain {times['retrain_s']:.1f} s (retrained {len(retrain.get('retrained', []))} "
          f"shard(s), removed {len(retrain.get('removed', []))} stale adapter(s))")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--facts", type=int, default=20,
                        help="real cities first, then invented towns")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--forget", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--replay", type=int, default=20, help="base-model texts held to")
    parser.add_argument("--measure", type=int, default=None,
                        help="kept facts asked about each phase (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models-dir", default="memos-home/models")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


if __name__ == "__main__":
    main()
