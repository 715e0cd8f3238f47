"""KV reuse on a RAG workload: full prefill vs prefix-only caching vs re-rotated chunks.

Each query is the SDK's own chat prompt (``PromptBuilder``: the chat template's system turn
with the shared system prompt, 4 of N cached memory chunks of ~256 tokens in random order,
then the user's short question). Compared in one run, query by query (so machine load hits
every variant alike): (a) full prefill, (b) prefix-only block caching (vLLM style), (c) memos
chunk reuse with recompute fractions 0, 5 % and 15 % (the chunk tokens the question attends
to most, the default), 15 % as the first tokens of each chunk (EPIC style) and 15 % chosen by
layer-1 KV deviation (CacheBlend style), and (d) the 15 % variant served from int8 and 4-bit
files after a restart. Quality is measured against (a). Two reference rows: ``floor-15%``, a
forward pass of only as many tokens as ``memos-15%`` computes, on a ready cache of the rest
of the prompt (no method that computes that many tokens in every layer, attending to the
whole prompt, can be faster), and ``full-bf16``, a full prefill with bf16 weights (fp32
engines only), to show what a harmless numeric change scores on the same quality measures.

    python bench/kv_reuse.py [--device cpu|cuda] [--queries N]   (plot: bench/out/kv_reuse.png)
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout

from activation_cache import (  # noqa: E402
    AssemblyConfig,
    CacheConfig,
    ChunkCache,
    Piece,
    PromptAssembler,
)
from activation_cache.serialization import read_chunk  # noqa: E402
from memos.engine import Engine, EngineConfig  # noqa: E402
from memos.prompt import PromptBuilder  # noqa: E402

SECTION = "## KV reuse (bench/kv_reuse.py)"
NAMES = ["Amara", "Bruno", "Chen", "Dalia", "Emeka", "Freya", "Goran", "Hana", "Ilya", "Jonas",
         "Kira", "Lucia", "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tomas"]
PLACES = ["Lisbon", "Oslo", "Nairobi", "Kyoto", "Lima", "Tallinn", "Porto", "Hanoi", "Quebec",
          "Tbilisi", "Cork", "Valparaiso", "Dakar", "Bergen", "Cusco", "Split"]
THINGS = ["a bakery", "a bicycle repair shop", "a small observatory", "a ferry company",
          "a community garden", "a jazz club", "a printing press", "a seed library",
          "a ceramics studio", "a radio station", "a bookshop", "a rowing club"]
EVENTS = ["opened", "sold", "rebuilt", "inherited", "closed", "expanded", "renamed", "moved"]
DETAILS = [
    "The roof leaked every winter, so the neighbours brought buckets and stayed for tea.",
    "Most customers came on Saturdays, when the market square was full of stalls.",
    "A local newspaper wrote about it twice, once praising it and once complaining.",
    "The accounts were kept in a green notebook that nobody else was allowed to read.",
    "Several students worked there in the summer and later started similar projects.",
    "The building had once been a customs office, and the old scales still stood inside.",
    "On foggy mornings the street was so quiet that the river could be heard clearly.",
    "Prices rose slowly, but the regulars said the quality was worth every coin.",
]
VARIANTS = ("full", "prefix", "memos-0%", "memos-5%", "memos-15%", "memos-15%-first",
            "memos-15%-dev", "int8-15%", "int4-15%", "floor-15%", "full-bf16")


@dataclass
class Record:
    """Per-variant measurements over all queries."""

    ttft: list[float] = field(default_factory=list)
    computed: list[float] = field(default_factory=list)
    token_agreement: list[float] = field(default_factory=list)
    stepwise_agreement: list[float] = field(default_factory=list)
    sequence_match: list[float] = field(default_factory=list)
    first_kl: list[float] = field(default_factory=list)


def make_document(rng: random.Random, builder: PromptBuilder, tokens: int) -> tuple[str, str]:
    """A memory text of varied facts whose chunk has ~``tokens`` tokens, and one question it
    answers."""
    sentences, facts = [], []
    while len(builder.chunk_ids(" ".join(sentences))) < tokens:
        name, place = rng.choice(NAMES), rng.choice(PLACES)
        thing, event = rng.choice(THINGS), rng.choice(EVENTS)
        year = rng.randint(1950, 2023)
        facts.append(f"What did {name} do with {thing} in {place}?")
        sentences.append(f"In {year}, {name} {event} {thing} in {place}. {rng.choice(DETAILS)}")
    return " ".join(sentences), facts[0]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def greedy_tokens(engine: Engine, first_logits, cache, count: int,
                  fed: list[int] | None = None) -> list[int]:
    """The argmax at each of ``count`` steps after a prompt's last logits, feeding back each
    argmax (greedy decoding) or, given ``fed``, those tokens instead (teacher forcing)."""
    tokens = [int(first_logits.argmax())]
    while len(tokens) < count:
        step = engine.forward([(fed or tokens)[len(tokens) - 1]], cache)
        cache = step.cache
        tokens.append(int(step.logits.argmax()))
    return tokens


def kl(logits: torch.Tensor, reference: torch.Tensor) -> float:
    log_p, log_q = reference.float().log_softmax(-1), logits.float().log_softmax(-1)
    return float(torch.sum(log_p.exp() * (log_p - log_q)))


def run_full(engine: Engine, pieces: list[Piece]):
    ids = [t for piece in pieces for t in piece.token_ids]
    sync(engine.device)
    start = time.perf_counter()
    step = engine.forward(ids)
    sync(engine.device)
    return time.perf_counter() - start, len(ids), step.logits, step.cache


def run_assembled(engine: Engine, assembler: PromptAssembler, pieces: list[Piece]):
    sync(engine.device)
    start = time.perf_counter()
    assembled = assembler.assemble(pieces)
    sync(engine.device)
    elapsed = time.perf_counter() - start
    return elapsed, assembled.computed_tokens, assembled.logits, assembled.cache


def run_floor(engine: Engine, pieces: list[Piece], count: int) -> float:
    """Time to compute the prompt's last ``count`` tokens on a ready cache of the rest: what
    computing that many tokens in every layer, attending to the whole prompt, costs at best."""
    ids = [t for piece in pieces for t in piece.token_ids]
    cache = engine.prefill(ids[:-count])
    sync(engine.device)
    start = time.perf_counter()
    engine.forward(ids[-count:], cache)
    sync(engine.device)
    return time.perf_counter() - start


def bf16_copy(engine: Engine) -> Engine | None:
    """The engine's model with bf16 weights, for the calibration row (fp32 engines only)."""
    if engine.dtype != torch.float32:
        return None
    model = copy.deepcopy(engine.model).to(torch.bfloat16)
    return Engine(model, engine.tokenizer, name=engine.name, fingerprint=engine.fingerprint
                  + "-bf16", model_dir=engine.model_dir)


def build_assemblers(engine: Engine, folder: Path, chunks, system_ids, big: int):
    memory = CacheConfig(device_bytes=big, host_bytes=big, disk_bytes=big)
    chunk_cache = ChunkCache(engine, folder / "chunks", memory)
    for ids in [system_ids, *chunks]:
        chunk_cache.warm(ids)
    quantized = {}
    for method in ("int8", "int4"):
        config = CacheConfig(device_bytes=big, host_bytes=big, disk_bytes=big, quantization=method)
        writer = ChunkCache(engine, folder / method, config)
        for ids in [system_ids, *chunks]:
            writer.put(ids, chunk_cache.get(ids).kv)
        quantized[method] = ChunkCache(engine, folder / method, config)  # a restart: disk tier
    prefix_cache = ChunkCache(engine, folder / "prefix",
                              CacheConfig(device_bytes=big, host_bytes=big, write_through=False))

    def memos(cache, fraction, selection="attention"):
        config = AssemblyConfig(recompute_fraction=fraction, selection=selection)
        return PromptAssembler(engine, cache, config)

    assemblers = {
        "prefix": PromptAssembler(engine, prefix_cache, AssemblyConfig(mode="prefix")),
        "memos-0%": memos(chunk_cache, 0.0),
        "memos-5%": memos(chunk_cache, 0.05),
        "memos-15%": memos(chunk_cache, 0.15),
        "memos-15%-first": memos(chunk_cache, 0.15, "first"),
        "memos-15%-dev": memos(chunk_cache, 0.15, "deviation"),
        "int8-15%": memos(quantized["int8"], 0.15),
        "int4-15%": memos(quantized["int4"], 0.15),
    }
    caches = {"chunks": chunk_cache, "prefix": prefix_cache, **quantized}
    return assemblers, caches


def measure_query(engine, assemblers, pieces, records, new_tokens, calibration=None):
    ttft, computed, logits, cache = run_full(engine, pieces)
    reference = greedy_tokens(engine, logits, cache, new_tokens)
    prompt_tokens = sum(len(piece.token_ids) for piece in pieces)
    full = records["full"]
    full.ttft.append(ttft)
    full.computed.append(1.0)
    _record_quality(full, engine, logits, None, reference, logits)
    for name, assembler in assemblers.items():
        ttft, computed, got_logits, cache = run_assembled(engine, assembler, pieces)
        records[name].ttft.append(ttft)
        records[name].computed.append(computed / prompt_tokens)
        _record_quality(records[name], engine, got_logits, cache, reference, logits)
    share = records["memos-15%"].computed[-1]
    records["floor-15%"].ttft.append(run_floor(engine, pieces, round(share * prompt_tokens)))
    records["floor-15%"].computed.append(share)
    if calibration is not None:
        ttft, _, got_logits, cache = run_full(calibration, pieces)
        records["full-bf16"].ttft.append(ttft)
        records["full-bf16"].computed.append(1.0)
        _record_quality(records["full-bf16"], calibration, got_logits, cache, reference, logits)


def _record_quality(record: Record, engine, logits, cache, reference, reference_logits) -> None:
    """Free-running and stepwise agreement with the reference tokens, and first-token KL."""
    if cache is None:  # the reference itself
        free = stepwise = reference
    else:
        stepwise = greedy_tokens(engine, logits, copy.deepcopy(cache), len(reference), reference)
        free = greedy_tokens(engine, logits, cache, len(reference))
    same = [a == b for a, b in zip(free, reference, strict=True)]
    record.token_agreement.append(sum(same) / len(same))
    record.sequence_match.append(float(all(same)))
    forced = [a == b for a, b in zip(stepwise, reference, strict=True)]
    record.stepwise_agreement.append(sum(forced) / len(forced))
    record.first_kl.append(kl(logits, reference_logits))


def disk_load_rows(caches, chunk_ids, fingerprint, device) -> list[str]:
    rows = []
    for method in ("chunks", "int8", "int4"):
        cache = caches[method]
        path = cache.file_path(cache.key_for(chunk_ids))
        start = time.perf_counter()
        for _ in range(5):
            payload = path.read_bytes()
        plain = (time.perf_counter() - start) / 5
        start = time.perf_counter()
        for _ in range(5):
            read_chunk(path, fingerprint=fingerprint, device=device)
        checked = (time.perf_counter() - start) / 5
        label = "none" if method == "chunks" else method
        rows.append(f"| {label} | {len(payload) / len(chunk_ids):,.0f} | {plain * 1e3:.1f} | "
                    f"{checked * 1e3:.1f} |")
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def results_table(records: dict[str, Record]) -> list[str]:
    base = statistics.median(records["full"].ttft)
    lines = [
        "| variant | TTFT p50 (s) | TTFT p95 (s) | speed-up p50 | computed share | "
        "greedy agreement, free-running | greedy agreement, stepwise | 16-token match | "
        "first-token KL |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in VARIANTS:
        rec = records[name]
        if not rec.ttft:
            continue
        p50 = statistics.median(rec.ttft)
        quality = ["–"] * 4
        if rec.first_kl:
            quality = [f"{statistics.mean(rec.token_agreement):.1%}",
                       f"{statistics.mean(rec.stepwise_agreement):.1%}",
                       f"{statistics.mean(rec.sequence_match):.0%}",
                       f"{statistics.mean(rec.first_kl):.4f}"]
        lines.append(
            f"| {name} | {p50:.3f} | {percentile(rec.ttft, 0.95):.3f} | {base / p50:.1f}x | "
            f"{statistics.mean(rec.computed):.1%} | " + " | ".join(quality) + " |"
        )
    return lines


def plot(records: dict[str, Record], path: Path) -> None:
    """Speed-up against stepwise agreement and first-token KL, one point per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = statistics.median(records["full"].ttft)
    figure, (agree_axis, kl_axis) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, rec in records.items():
        if not rec.first_kl or name == "full":
            continue
        speedup = base / statistics.median(rec.ttft)
        agree_axis.scatter(speedup, statistics.mean(rec.stepwise_agreement))
        agree_axis.annotate(name, (speedup, statistics.mean(rec.stepwise_agreement)), fontsize=8)
        divergence = statistics.mean(rec.first_kl)
        if divergence > 0:  # exact variants (prefix) have no place on a log scale
            kl_axis.scatter(speedup, divergence)
            kl_axis.annotate(name, (speedup, divergence), fontsize=8)
    floor = base / statistics.median(records["floor-15%"].ttft)
    for axis in (agree_axis, kl_axis):
        axis.axvline(floor, linestyle=":", color="grey", label=f"floor-15% ({floor:.1f}x)")
        axis.axvline(5.0, linestyle="--", color="red", label="target 5x")
        axis.set_xlabel("TTFT speed-up over full prefill (p50)")
        axis.grid(alpha=0.3)
    agree_axis.axhline(0.9, linestyle="--", color="red")
    agree_axis.set(title="greedy agreement, stepwise", ylim=(0.7, 1.01))
    kl_axis.set(title="first-token KL vs full prefill", yscale="log")
    kl_axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)


def bytes_lines(caches, tokens_cached: int) -> list[str]:
    lines = []
    for label, cache in (("chunks in memory (memos)", "chunks"), ("prefix blocks in memory",
                                                                     "prefix")):
        stats = caches[cache].stats()["tiers"]
        held = stats["device"]["bytes"] + stats["host"]["bytes"]
        lines.append(f"- {label}: {held / 2**20:.1f} MiB")
    for method in ("chunks", "int8", "int4"):
        disk = caches[method].stats()["tiers"]["disk"]["bytes"]
        label = "none" if method == "chunks" else method
        lines.append(f"- disk files, {label}: {disk / 2**20:.1f} MiB "
                     f"({disk / tokens_cached:,.0f} B/token)")
    return lines


def write_docs(path: Path, body: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"{re.escape(SECTION)}\n.*?(?=\n## |\Z)", re.S)
    section = f"{SECTION}\n\n{body.strip()}\n"
    text = pattern.sub(lambda _: section.rstrip("\n"), text) if pattern.search(text) else (
        text.rstrip("\n") + "\n\n" + section)
    path.write_text(text if text.endswith("\n") else text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--queries", type=int, default=8)
    parser.add_argument("--chunks", type=int, default=12)
    parser.add_argument("--chunk-tokens", type=int, default=256)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models-dir", default="memos-home/models")
    parser.add_argument("--docs", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--plot", default=str(ROOT / "bench" / "out" / "kv_reuse.png"))
    args = parser.parse_args()

    engine = Engine.load(EngineConfig(device=args.device, models_dir=Path(args.models_dir),
                                      progress=False))
    rng = random.Random(args.seed)
    builder = PromptBuilder(engine, layout="system")
    docs = [make_document(rng, builder, args.chunk_tokens) for _ in range(args.chunks)]
    chunks = [builder.chunk_ids(text) for text, _ in docs]
    system_ids = builder.build([{"role": "user", "content": "?"}], ["?"]).pieces[0].token_ids
    calibration = bf16_copy(engine)
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        assemblers, caches = build_assemblers(engine, Path(scratch), chunks, system_ids, 2**34)
        warm_s = time.perf_counter() - start
        records = {name: Record() for name in VARIANTS}
        # One untimed query warms the prefix cache's system-prompt blocks and the allocator.
        queries = [rng.sample(range(args.chunks), 4) for _ in range(args.queries + 1)]
        for number, picked in enumerate(queries):
            question = [{"role": "user", "content": docs[rng.choice(picked)][1]}]
            pieces = builder.build(question, [docs[i][0] for i in picked]).pieces
            target = records if number else {name: Record() for name in VARIANTS}
            measure_query(engine, assemblers, pieces, target, args.new_tokens, calibration)
            print(f"query {number}/{args.queries} done", file=sys.stderr)
        load_rows = disk_load_rows(caches, chunks[0], engine.fingerprint, engine.device)
        tokens_cached = len(system_ids) + sum(len(c) for c in chunks)
        memory = bytes_lines(caches, tokens_cached)
    chunk_tokens = statistics.mean(len(c) for c in chunks)
    prompt_tokens = len(system_ids) + 4 * chunk_tokens
    body = "\n".join([
        f"Command: `python bench/kv_reuse.py --device {args.device} --queries {args.queries}` "
        f"({engine.describe()['device']}, {engine.describe()['dtype']}, torch threads "
        f"{torch.get_num_threads()}). {args.chunks} chunks of ~{chunk_tokens:.0f} tokens, "
        f"prompts of ~{prompt_tokens:.0f} tokens + question, quality vs full prefill over the "
        f"first {args.new_tokens} greedy tokens. Warming all chunks took {warm_s:.1f} s.",
        "",
        *results_table(records),
        "",
        "Cache bytes:",
        *memory,
        "",
        "Loading one chunk file from the page cache (mean of 5):",
        "",
        "| quantization | file B/token | plain read (ms) | checked load (ms) |",
        "|---|---|---|---|",
        *load_rows,
    ])
    print(body)
    plot(records, Path(args.plot))
    if not args.no_docs:
        write_docs(Path(args.docs), body)


if __name__ == "__main__":
    main()
