"""Engine benchmark: model load, prefill and decode speed, embedder throughput.

    python bench/engine.py [--device cpu|cuda] [--repeats 3] [--no-embedder]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from memos.embedder import Embedder
from memos.engine import Engine, EngineConfig, GenerationConfig

WORDS = ("memory cache agent note graph vector token layer prompt chunk adapter cube "
         "schedule archive search recall lisbon porto river garden music").split()


def synthetic_ids(engine: Engine, length: int) -> list[int]:
    """Token ids of deterministic filler text, exactly ``length`` long."""
    text = " ".join(WORDS[(i * 7) % len(WORDS)] for i in range(length * 2))
    return engine.encode(text)[:length]


def timed(fn, repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure_load(device: str, models_dir: Path) -> tuple[float, float, Engine]:
    start = time.perf_counter()
    Engine.load(EngineConfig(models_dir=models_dir, device=device, progress=False))
    first = time.perf_counter() - start
    start = time.perf_counter()
    engine = Engine.load(EngineConfig(models_dir=models_dir, device=device, progress=False))
    return first, time.perf_counter() - start, engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-embedder", action="store_true", help="skip the embedder")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as models_dir:
        first, later, engine = measure_load(args.device, Path(models_dir))
    rows.append(("model load, first start (GGUF conversion)", f"{first:.1f} s"))
    rows.append(("model load, later starts", f"{later:.2f} s"))
    for length in (128, 512, 2048):
        ids = synthetic_ids(engine, length)
        seconds = timed(lambda ids=ids: engine.prefill(ids), args.repeats)
        speed = f"{length / seconds:,.0f} tok/s ({seconds:.3f} s)"
        rows.append((f"prefill {length} tokens", speed))
    prompt = [{"role": "user", "content": "Tell me a long story about a lighthouse keeper."}]
    config = GenerationConfig(max_new_tokens=64)
    engine.generate(prompt, GenerationConfig(max_new_tokens=8))  # warm-up (kernels, allocator)
    reply = engine.generate(prompt, config)
    rows.append(("decode (greedy, 64 new tokens)", f"{reply.stats.tokens_per_s:,.1f} tok/s"))
    if not args.no_embedder:
        embedder = Embedder.load(device=args.device)
        sentences = [f"Note {i}: {' '.join(WORDS[i % 7: i % 7 + 9])}." for i in range(512)]
        seconds = timed(lambda: embedder.embed(sentences), args.repeats)
        rows.append(("embedder, 512 sentences", f"{len(sentences) / seconds:,.0f} sentences/s"))
    print(f"\nengine benchmark on {engine.describe()['device']} ({engine.describe()['dtype']}), "
          f"{torch.get_num_threads()} torch threads\n")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
