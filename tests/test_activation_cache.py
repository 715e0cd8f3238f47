"""Chunk reuse with the real model: exact prefixes, re-rotated chunks and blending."""

from __future__ import annotations

import math

import pytest
import torch

from activation_cache import (
    AssemblyConfig,
    CacheConfig,
    ChunkCache,
    Piece,
    PromptAssembler,
    RopeRotator,
    unsupported_reason,
)
from activation_cache.blending import recompute_positions
from memos.engine import DecodeTiming, GenerationConfig

SYSTEM = "You are a careful assistant. Answer from the notes below.\n"
NOTES = [
    "Note: Alice moved to Lisbon in May 2023 and works at a bakery near the river.\n",
    "Note: Bob adopted a grey cat named Miso, who sleeps on the piano all afternoon.\n",
    "Note: The team meeting moved from Monday to Thursday because of the holidays.\n",
]
QUESTION = "Question: Where does Alice live? Answer:"


@pytest.fixture(scope="module")
def parts(engine):
    return engine.encode(SYSTEM), [engine.encode(n) for n in NOTES], engine.encode(QUESTION)


def pieces_of(parts) -> list[Piece]:
    system, notes, question = parts
    return [Piece(system, True), *(Piece(n, True) for n in notes), Piece(question)]


def kl(logits: torch.Tensor, reference: torch.Tensor) -> float:
    log_p, log_q = reference.log_softmax(-1), logits.log_softmax(-1)
    return float(torch.sum(log_p.exp() * (log_p - log_q)))


def test_exact_prefix_reuse_matches_cold_prefill(engine, parts, tmp_path):
    system, _, question = parts
    cache = ChunkCache(engine, tmp_path)
    assembler = PromptAssembler(engine, cache)
    first = assembler.assemble([Piece(system, True), Piece(question)])
    assert first.misses == 1 and first.reused_tokens == 0
    again = assembler.assemble([Piece(system, True), Piece(question)])
    assert again.hits == 1 and again.reused_tokens == len(system)
    assert again.computed_tokens == len(question)
    assert again.cache.get_seq_length() == len(system) + len(question)
    cold = engine.forward(system + question).logits
    assert float((again.logits - cold).abs().max()) < 1e-3
    config = GenerationConfig(max_new_tokens=8)
    reused = assembler.assemble([Piece(system, True), Piece(question)])
    timing = DecodeTiming(reused_tokens=reused.reused_tokens)
    warm_reply = engine.generate_from(reused.token_ids, reused.cache, config, timing=timing,
                                      logits=reused.logits)
    assert warm_reply.token_ids == engine.generate_from(system + question, None, config).token_ids
    assert warm_reply.stats.reused_tokens == len(system)


def test_chunk_moved_to_offset_matches_prefill_at_that_offset(engine, parts, tmp_path):
    chunk = parts[1][0]
    offset = 57
    entry = ChunkCache(engine, tmp_path).warm(chunk)
    moved = RopeRotator.for_model(engine.model).move(entry.kv, offset)
    positions = torch.arange(offset, offset + len(chunk))[None]
    direct = engine.forward(chunk, position_ids=positions).cache
    for (keys, values), layer in zip(moved.layers, direct.layers, strict=True):
        assert float((keys - layer.keys).abs().max()) < 1e-3
        assert float((values - layer.values).abs().max()) < 1e-3


def test_stored_cache_is_not_grown_by_generation(engine, parts, tmp_path):
    system, _, question = parts
    cache = ChunkCache(engine, tmp_path)
    assembler = PromptAssembler(engine, cache)
    assembler.assemble([Piece(system, True), Piece(question)])
    assembled = assembler.assemble([Piece(system, True), Piece(question)])
    engine.generate_from(assembled.token_ids, assembled.cache, GenerationConfig(max_new_tokens=4),
                         logits=assembled.logits)
    assert cache.get(system).kv.num_tokens == len(system)


def test_recomputing_masked_out_positions_restores_the_exact_cache(engine, parts):
    system, notes, question = parts
    ids = system + notes[0] + notes[1]
    exact = engine.forward(ids).cache
    chosen = [1, 5, len(system) + 2, len(system) + 3, len(ids) - 4]
    layers = []
    for layer in exact.layers:
        keys, values = layer.keys.clone(), layer.values.clone()
        keys[:, :, chosen], values[:, :, chosen] = 0.0, 0.0  # stale entries must not be read
        layers.append((keys, values))
    rebuilt = recompute_positions(engine, layers, ids, chosen, trailing_ids=question)
    full = engine.forward(ids + question)
    assert rebuilt.cache.get_seq_length() == len(ids) + len(question)
    for fresh, reference in zip(rebuilt.cache.layers, full.cache.layers, strict=True):
        assert float((fresh.keys - reference.keys).abs().max()) < 1e-3
        assert float((fresh.values - reference.values).abs().max()) < 1e-3
    assert float((rebuilt.logits - full.logits).abs().max()) < 1e-3


def test_blended_chunks_reuse_most_tokens_and_recompute_buys_back_quality(engine, parts, tmp_path):
    cache = ChunkCache(engine, tmp_path)
    for piece in pieces_of(parts)[:-1]:
        cache.warm(piece.token_ids)
    prompt = [t for piece in pieces_of(parts) for t in piece.token_ids]
    cold = engine.forward(prompt).logits
    divergence = {}
    cases = ((0.0, "first"), (0.3, "first"), (0.3, "deviation"), (0.3, "attention"))
    for fraction, selection in cases:
        config = AssemblyConfig(recompute_fraction=fraction, selection=selection)
        assembled = PromptAssembler(engine, cache, config).assemble(pieces_of(parts))
        assert assembled.hits == 4 and assembled.misses == 0
        chunk_tokens = sum(len(n) for n in parts[1])
        assert assembled.computed_tokens <= fraction * chunk_tokens + len(parts[1]) + len(parts[2])
        assert assembled.reused_tokens + assembled.computed_tokens == len(prompt)
        divergence[fraction, selection] = kl(assembled.logits, cold)
    assert divergence[0.3, "first"] < divergence[0.0, "first"]
    assert divergence[0.3, "deviation"] < divergence[0.0, "first"]
    assert divergence[0.3, "attention"] < divergence[0.0, "first"]


def test_attention_selection_masks_placeholders_and_spends_the_budget_on_moved_chunks(
    engine, parts, tmp_path
):
    system, notes, question = parts
    cache = ChunkCache(engine, tmp_path)
    for ids in (system, notes[0], notes[2]):
        cache.warm(ids)  # notes[1] misses: computed in context, a zero placeholder meanwhile
    config = AssemblyConfig(recompute_fraction=0.25, selection="attention", store_misses=False)
    assembled = PromptAssembler(engine, cache, config).assemble(pieces_of(parts))
    moved = len(notes[0]) + len(notes[2])
    assert assembled.hits == 3 and assembled.misses == 1
    assert assembled.computed_tokens == len(notes[1]) + math.ceil(0.25 * moved) + len(question)
    prompt = [t for piece in pieces_of(parts) for t in piece.token_ids]
    cold = engine.forward(prompt).logits
    assert kl(assembled.logits, cold) < 0.1


def test_full_recompute_fraction_equals_cold_prefill(engine, parts, tmp_path):
    cache = ChunkCache(engine, tmp_path)
    config = AssemblyConfig(recompute_fraction=1.0)
    assembler = PromptAssembler(engine, cache, config)
    assembler.assemble(pieces_of(parts))  # misses: every chunk gets cached
    assembled = assembler.assemble(pieces_of(parts))
    assert assembled.hits == 4
    prompt = [t for piece in pieces_of(parts) for t in piece.token_ids]
    cold = engine.forward(prompt).logits
    assert float((assembled.logits - cold).abs().max()) < 1e-3


def test_prefix_mode_reuses_whole_blocks_of_a_repeated_prefix(engine, parts, tmp_path):
    system, notes, question = parts
    cache = ChunkCache(engine, tmp_path, CacheConfig(write_through=False))
    assembler = PromptAssembler(engine, cache, AssemblyConfig(mode="prefix", block_size=8))
    pieces = [Piece(system + notes[0], True), Piece(question)]
    first = assembler.assemble(pieces)
    assert first.reused_tokens == 0 and first.misses == (len(system) + len(notes[0])) // 8
    other = assembler.assemble([Piece(system + notes[0], True), Piece(notes[1])])
    assert other.reused_tokens == (len(system) + len(notes[0])) // 8 * 8
    cold = engine.forward(system + notes[0] + notes[1]).logits
    assert float((other.logits - cold).abs().max()) < 1e-3


def test_default_rope_is_supported_and_scaled_rope_is_not(engine):
    assert unsupported_reason(engine.model) is None
    config = engine.model.config
    original = dict(config.rope_parameters)
    try:
        config.rope_parameters = {**original, "rope_type": "linear", "factor": 2.0}
        assert "linear" in unsupported_reason(engine.model)
        assert RopeRotator.for_model(engine.model) is None
    finally:
        config.rope_parameters = original
