"""Chat benchmark: time to first token and decode speed with each memory kind on or off.

A multi-turn workload over a cube of a few hundred conversation notes: every question is
asked twice in a session, the way users come back to the same topics. The baseline stuffs
the same retrieved notes into the prompt with no caching (plaintext only); the other rows
add the KV chunk cache (activation) and a distilled adapter (parametric).

    python bench/chat.py [--device cpu|cuda] [--notes 300] [--questions 8] [--distill-steps 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval_data import generate  # noqa: E402

from memos import MemOS  # noqa: E402
from memos.parametric import DistillConfig  # noqa: E402
from memos.settings import Settings  # noqa: E402

CONFIGS = {
    "baseline: notes stuffed, no cache": ("plaintext",),
    "plaintext + activation": ("plaintext", "activation"),
    "plaintext + activation + parametric": ("plaintext", "activation", "parametric"),
    "parametric only (no retrieval)": ("parametric",),
    "no memory": (),
}


def build_cube(mos: MemOS, notes: int):
    """A cube holding the first ``notes`` turns of the generated conversations."""
    data = generate(seed=11, conversations=4)
    cube = mos.create_cube("bench-chat", owner="bench")
    turns = data.turns[:notes]
    cube.add_many([{"text": turn.note_text, "force": True} for turn in turns])
    kept = {turn.id for turn in turns}
    questions = [q for q in data.questions if q.category == "single-hop"
                 and set(q.evidence) <= kept]
    return cube, questions


def run_config(mos: MemOS, cube, questions, kinds, new_tokens: int) -> dict:
    """Ask every question twice in one session; collect stats of every turn."""
    replies = []
    for repeat in range(2):
        for question in questions:
            reply = mos.chat([{"role": "user", "content": question.text}], cube_ids=[cube.id],
                             memory_kinds=kinds, max_new_tokens=new_tokens, k=5)
            replies.append((repeat, question, reply))
    return summarise(replies)


def summarise(replies) -> dict:
    ttft = [r.stats.ttft_s for _, _, r in replies]
    second = [r.stats.ttft_s for repeat, _, r in replies if repeat == 1]
    prompt = sum(r.stats.prompt_tokens for _, _, r in replies)
    computed = sum(r.stats.computed_tokens for _, _, r in replies)
    return {
        "ttft_p50": statistics.median(ttft),
        "ttft_p95": sorted(ttft)[max(0, int(0.95 * len(ttft)) - 1)],
        "ttft_repeat_p50": statistics.median(second),
        "tok_s": statistics.mean(r.stats.tokens_per_s for _, _, r in replies),
        "prompt_tokens": prompt / len(replies),
        "computed_share": computed / prompt,
        "hits": sum(r.stats.cache_hits for _, _, r in replies),
        "answered": sum(q.answer.lower() in r.text.lower() for _, q, r in replies) / len(replies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=24)
    parser.add_argument("--distill-steps", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        mos = MemOS(settings=Settings(home=Path(home), device=args.device))
        cube, questions = build_cube(mos, args.notes)
        questions = questions[: args.questions]
        mos.chat([{"role": "user", "content": "hello"}], max_new_tokens=1)  # load and warm up
        evidence = [item for item in cube.list(limit=1000)[0]
                    if any(q.answer.lower() in item.text.lower() for q in questions)]
        adapter = mos.distill(cube.id, [i.id for i in evidence[:64]],
                              DistillConfig(steps=args.distill_steps))
        rows = {name: run_config(mos, cube, questions, kinds, args.new_tokens)
                for name, kinds in CONFIGS.items()}
        device = mos.engine.describe()
        mos.close()
    print(f"\nchat benchmark on {device['device']} ({device['dtype']}): {args.notes} notes, "
          f"{len(questions)} questions asked twice, {args.new_tokens} new tokens, "
          f"adapter of {len(adapter.items)} notes ({args.distill_steps} steps)\n")
    base = rows["baseline: notes stuffed, no cache"]["ttft_p50"]
    header = (f"{'memory kinds':<38}{'TTFT p50':>10}{'p95':>8}{'repeat p50':>12}{'vs base':>9}"
              f"{'tok/s':>8}{'prompt':>8}{'computed':>10}{'hits':>6}{'answered':>10}")
    print(header)
    for name, row in rows.items():
        print(f"{name:<38}{row['ttft_p50']:>9.3f}s{row['ttft_p95']:>7.3f}s"
              f"{row['ttft_repeat_p50']:>11.3f}s{base / row['ttft_p50']:>8.1f}x{row['tok_s']:>8.1f}"
              f"{row['prompt_tokens']:>8.0f}{row['computed_share']:>9.0%}{row['hits']:>6}"
              f"{row['answered']:>10.0%}")


if __name__ == "__main__":
    main()
