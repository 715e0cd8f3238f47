"""Benchmark parametric memory: distill invented facts into a LoRA adapter and measure it.

    python bench/distill.py [--device cpu|cuda] [--notes 50]

Reports training time per 100 notes, perplexity of the facts and of an unrelated control
text with and without the adapter, and the share of questions about the facts that greedy
chat answers without retrieval, with and without the adapter.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from memos.engine import Engine, EngineConfig
from memos.parametric import AdapterManager, AdapterStore, DistillConfig, DistillNote, distill
from memos.parametric.evaluation import answer_rate, perplexity
from memos.parametric.probe_facts import CONTROL_TEXT, probe_facts


def main() -> None:
    """Run the benchmark and print a table."""
    args = _parse_args()
    engine = Engine.load(
        EngineConfig(device=args.device, models_dir=Path(args.models_dir), progress=True)
    )
    facts = probe_facts(args.notes, seed=args.seed)
    notes = [DistillNote(f"fact-{i}", 1, fact.text) for i, fact in enumerate(facts)]
    texts = [fact.text for fact in facts]
    print(f"model {engine.name} on {engine.device} ({engine.dtype}), {args.notes} notes")

    base = _measure(engine, facts, texts)
    overrides = {"epochs": args.epochs, "learning_rate": args.learning_rate}
    config = DistillConfig(seed=args.seed, **{k: v for k, v in overrides.items() if v})
    started = time.perf_counter()
    artifact = distill(engine, notes, config, progress=_print_progress)
    train_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        store = AdapterStore(folder)
        store.save(artifact)
        manager = AdapterManager(engine, store)
        with manager.attached([artifact.id]):
            tuned = _measure(engine, facts, texts)
        manager.unload_all()
    _print_table(args, engine, artifact, train_s, base, tuned)


def _measure(engine, facts, texts) -> dict:
    rate = answer_rate(engine, facts)
    return {
        "facts_ppl": perplexity(engine, texts),
        "control_ppl": perplexity(engine, [CONTROL_TEXT]),
        "answered": rate.answered,
        "asked": rate.asked,
    }


def _print_progress(step: int, total: int, loss: float) -> None:
    if step == 1 or step % 25 == 0 or step == total:
        print(f"  step {step:4d}/{total}  loss {loss:.3f}", flush=True)


def _print_table(args, engine, artifact, train_s, base, tuned) -> None:
    meta = artifact.metadata
    per_100 = train_s * 100 / args.notes
    rows = [
        ("device / dtype", f"{engine.device} / {str(engine.dtype).removeprefix('torch.')}", ""),
        ("notes / steps / final loss", f"{args.notes} / {meta.steps} / {meta.final_loss:.3f}", ""),
        ("training time (s)", f"{train_s:.1f}", ""),
        ("training time per 100 notes (s)", f"{per_100:.1f}", ""),
        ("adapter size (MiB)", f"{meta.bytes / 2**20:.1f}", ""),
        ("", "base", "adapter"),
        ("perplexity, facts", f"{base['facts_ppl']:.2f}", f"{tuned['facts_ppl']:.2f}"),
        ("perplexity, control text", f"{base['control_ppl']:.2f}", f"{tuned['control_ppl']:.2f}"),
        ("questions answered", _share(base), _share(tuned)),
    ]
    print()
    print(f"| {'measure':<34} | {'value / base':>18} | {'adapter':>18} |")
    print(f"|{'-' * 36}|{'-' * 20}|{'-' * 20}|")
    for name, first, second in rows:
        print(f"| {name:<34} | {first:>18} | {second:>18} |")
    print(
        f"\nfacts perplexity ÷{base['facts_ppl'] / tuned['facts_ppl']:.1f}, "
        f"control perplexity {100 * (tuned['control_ppl'] / base['control_ppl'] - 1):+.1f} %"
    )


def _share(result: dict) -> str:
    answered, asked = result["answered"], result["asked"]
    return f"{answered}/{asked} ({100 * answered / asked:.0f} %)"


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--notes", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=None, help="override DistillConfig.epochs")
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models-dir", default="memos-home/models")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


if __name__ == "__main__":
    main()
