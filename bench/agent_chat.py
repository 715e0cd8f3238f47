"""Agent chat benchmark: multi-turn sessions over one cube, with each activation mode.

Sessions of an agent that resends its whole history every turn (as OpenAI-style clients do),
asking questions with known answers about a cube of conversation notes; some notes are hot
(their questions come back often, across sessions). Every variant answers the same sessions
with the SDK's own prompts, greedy and short, in a fresh home:

    (a)  no cache: activation off, default layout (memories with the latest user turn)
    (a1) no cache, every user turn keeps its memories (layout "turns")
    (a0) no cache, the earlier layout (every memory in the system text), rank order
    (b)  retrieval-order prefix caching: exact prefix reuse, memories in rank order
    (c)  exact prefix tree, canonical (cache-aware) memory order: the default
    (c1) exact prefix tree, layout "turns"
    (a2) no cache, every memory placed once, with the first turn given it (layout "accumulate")
    (c2) exact prefix tree, layout "accumulate"
    (d)  blend: chunks reused at any position, 15 % of their tokens recomputed

Per variant: time to first token (p50/p95, overall and from turn 3 on), the share of prompt
tokens computed, answers containing the expected answer, replies equal to (a)'s, cache bytes.

    python bench/agent_chat.py [--quick] [--sessions 16] [--turns 8] [--notes 300] [--k 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval_data import generate  # noqa: E402

from memos import MemOS  # noqa: E402
from memos.embedder import Embedder  # noqa: E402
from memos.engine import Engine, EngineConfig, GenerationConfig  # noqa: E402
from memos.settings import Settings  # noqa: E402

VARIANTS = {
    "(a) no cache": dict(activation_mode="off"),
    "(a1) no cache, layout turns": dict(activation_mode="off", prompt_layout="turns"),
    "(a0) no cache, memories in system text": dict(activation_mode="off", prompt_layout="system",
                                                   memory_order="rank"),
    "(b) prefix cache, retrieval order": dict(activation_mode="exact", memory_order="rank"),
    "(c) exact tree, canonical order": dict(activation_mode="exact"),
    "(c1) exact tree, layout turns": dict(activation_mode="exact", prompt_layout="turns"),
    "(a2) no cache, layout accumulate": dict(activation_mode="off",
                                             prompt_layout="accumulate"),
    "(c2) exact tree, layout accumulate": dict(activation_mode="exact",
                                               prompt_layout="accumulate"),
    "(d) blend 15 %": dict(activation_mode="blend", kv_recompute_fraction=0.15),
}
BASELINE = "(a) no cache"
SAME_PROMPTS_AS = {"(c1) exact tree, layout turns": "(a1) no cache, layout turns",
                   "(c2) exact tree, layout accumulate": "(a2) no cache, layout accumulate"}


@dataclass(slots=True)
class TurnResult:
    """One answered turn of one session."""

    session: int
    turn: int
    text: str
    correct: bool
    ttft_s: float
    prompt_tokens: int
    computed_tokens: int


def workload(notes: int, sessions: int, turns: int, seed: int = 5):
    """Notes to store (conversation order) and per session the (question, answer) turns."""
    data = generate(seed=11, conversations=8)
    pool = [q for q in data.questions if q.category == "single-hop"]
    rng = random.Random(seed)
    rng.shuffle(pool)
    pool = pool[:24]
    evidence = {turn_id for q in pool for turn_id in q.evidence}
    fillers = [t for t in data.turns if t.id not in evidence]
    kept = evidence | {t.id for t in fillers[: max(notes - len(evidence), 0)]}
    texts = [t.note_text for t in data.turns if t.id in kept]
    hot = pool[:6]
    plan = [[(rng.choice(hot) if rng.random() < 0.5 else rng.choice(pool)) for _ in range(turns)]
            for _ in range(sessions)]
    return texts, [[(q.text, q.answer) for q in session] for session in plan]


def run_variant(engine, embedder, home: Path, overrides: dict, texts, sessions, args):
    """Answer every session in a fresh home with these settings; results and cache bytes."""
    settings = Settings(home=home, **overrides)
    with MemOS(settings=settings, engine=engine, embedder=embedder) as mos:
        cube = mos.create_cube("agent", owner="bench")
        cube.add_many([{"text": text, "force": True} for text in texts])
        results = []
        for number, session in enumerate(sessions):
            results.extend(run_session(mos, cube.id, number, session, args))
        cache_bytes = _cache_bytes(mos) if overrides["activation_mode"] != "off" else (0, 0)
    return results, cache_bytes


def run_session(mos, cube_id: str, number: int, session, args) -> list[TurnResult]:
    messages, results = [], []
    for turn, (question, answer) in enumerate(session):
        messages.append({"role": "user", "content": question})
        reply = mos.chat(messages, cube_ids=[cube_id], k=args.k,
                         max_new_tokens=args.new_tokens)
        messages.append({"role": "assistant", "content": reply.text})
        stats = reply.stats
        results.append(TurnResult(number, turn, reply.text, answer.lower() in reply.text.lower(),
                                  stats.ttft_s, stats.prompt_tokens, stats.computed_tokens))
    return results


def _cache_bytes(mos) -> tuple[int, int]:
    tiers = mos.activation.stats()["tiers"]
    return tiers["device"]["bytes"] + tiers["host"]["bytes"], tiers["disk"]["bytes"]


def summarise(results: list[TurnResult], baseline: list[TurnResult], cache_bytes) -> dict:
    later = [r.ttft_s for r in results if r.turn >= 2]
    ttft = [r.ttft_s for r in results]
    later_computed = [r.computed_tokens for r in results if r.turn >= 2]
    return {
        "later_computed": statistics.mean(later_computed),
        "p50": statistics.median(ttft), "p95": _p95(ttft),
        "later_p50": statistics.median(later), "later_p95": _p95(later),
        "computed": sum(r.computed_tokens for r in results)
        / sum(r.prompt_tokens for r in results),
        "prompt": statistics.mean(r.prompt_tokens for r in results),
        "accuracy": sum(r.correct for r in results) / len(results),
        "agreement": sum(r.text == b.text for r, b in zip(results, baseline, strict=True))
        / len(results),
        "memory_mib": cache_bytes[0] / 2**20, "disk_mib": cache_bytes[1] / 2**20,
    }


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(0.95 * len(values)) - 1)]


def print_table(rows: dict[str, dict], header: str) -> None:
    print(header)
    print(f"{'variant':<40}{'TTFT p50':>9}{'p95':>7}{'t>=3 p50':>9}{'p95':>7}{'vs base':>8}"
          f"{'vs (a)':>7}{'prompt':>7}{'computed':>9}{'t>=3 tok':>9}{'correct':>8}{'= (a)':>7}"
          f"{'mem MiB':>8}{'disk MiB':>9}")
    for name, row in rows.items():
        print(f"{name:<40}{row['p50']:>8.2f}s{row['p95']:>6.2f}s{row['later_p50']:>8.2f}s"
              f"{row['later_p95']:>6.2f}s{_base(rows, name)['later_p50'] / row['later_p50']:>7.1f}x"
              f"{rows[BASELINE]['later_p50'] / row['later_p50']:>6.1f}x"
              f"{row['prompt']:>7.0f}{row['computed']:>9.0%}{row['later_computed']:>9.0f}"
              f"{row['accuracy']:>8.0%}{row['agreement']:>7.0%}{row['memory_mib']:>8.1f}"
              f"{row['disk_mib']:>9.1f}")


def _base_name(name: str, runs: dict) -> str:
    """The no-cache variant with the same prompts as ``name`` (the baseline if not run)."""
    same = SAME_PROMPTS_AS.get(name, BASELINE)
    return same if same in runs else BASELINE


def _base(rows: dict[str, dict], name: str) -> dict:
    return rows[_base_name(name, rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="4 sessions x 6 turns, 150 notes")
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="folder of converted models (default: a temporary one)")
    parser.add_argument("--variants", default="", help="comma-separated letters, e.g. a,c")
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.turns, args.notes = 4, 6, 150
    texts, sessions = workload(args.notes, args.sessions, args.turns)
    chosen = {name: overrides for name, overrides in VARIANTS.items()
              if not args.variants or name == BASELINE
              or name[1:].split(")")[0] in args.variants.split(",")}
    with tempfile.TemporaryDirectory() as scratch:
        models = args.models_dir or Path(scratch) / "models"
        engine = Engine.load(EngineConfig(models_dir=models, device=args.device, progress=False))
        embedder = Embedder.load(device=args.device)
        engine.generate_from(engine.encode("Hello there"), config=GenerationConfig(2))  # warm-up
        runs = {}
        for index, (name, overrides) in enumerate(chosen.items()):
            runs[name] = run_variant(engine, embedder, Path(scratch) / str(index), overrides,
                                     texts, sessions, args)
            print(f"done: {name}", file=sys.stderr, flush=True)
    rows = {name: summarise(results, runs[_base_name(name, runs)][0], cache)
            for name, (results, cache) in runs.items()}
    device = engine.describe()
    print_table(rows, f"\nagent chat on {device['device']} ({device['dtype']}): {len(texts)} "
                      f"notes, {args.sessions} sessions x {args.turns} turns, k={args.k}, "
                      f"{args.new_tokens} new tokens, greedy\n")


if __name__ == "__main__":
    main()
