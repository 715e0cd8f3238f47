"""Continuous batching decodes every reply exactly as it would decode alone."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import torch

from memos.engine import DecodeControl, DecodeTiming, GenerationConfig
from memos.engine.batching import BatchConfig, ContinuousBatcher
from memos.kernel import MemOS
from memos.settings import Settings

QUESTIONS = ["Hi", "What is the capital of France? Answer in one short sentence.",
             "Write a haiku about the sea, the wind, and the long grey winter evenings."]
TOKENS = 6


@pytest.fixture(scope="module")
def prompts(engine) -> list[list[int]]:
    return [engine.chat_token_ids([{"role": "user", "content": q}]) for q in QUESTIONS]


@pytest.fixture(scope="module")
def solo(engine, prompts) -> list[list[int]]:
    """Each prompt's greedy reply, decoded alone on the engine (the old path)."""
    config = GenerationConfig(max_new_tokens=TOKENS)
    return [engine.generate_from(ids, config=config).token_ids for ids in prompts]


@pytest.fixture
def batcher(engine) -> ContinuousBatcher:
    batcher = ContinuousBatcher(engine, BatchConfig(max_running=4, prefill_tokens=16))
    yield batcher
    batcher.close()


def read(sequence):
    text = "".join(sequence.deltas())
    return text, sequence.result()


def test_batched_greedy_replies_equal_solo_replies(batcher, prompts, solo):
    config = GenerationConfig(max_new_tokens=TOKENS)
    sequences = [batcher.submit(ids, config=config) for ids in prompts]
    results = [read(sequence) for sequence in sequences]
    assert [result.token_ids for _, result in results] == solo
    assert all(text == result.text for text, result in results)  # streamed deltas add up
    assert batcher.steps < len(prompts) * TOKENS  # sequences shared forward passes


def test_seeded_sampling_and_stop_strings_match_the_solo_path(engine, batcher, prompts):
    sampled = GenerationConfig(max_new_tokens=TOKENS, temperature=0.9, seed=7)
    stopped = GenerationConfig(max_new_tokens=TOKENS, stop=("capital",))
    runs = list(zip(prompts[:2], [sampled, stopped], strict=True))
    alone = [engine.generate_from(ids, config=config) for ids, config in runs]
    sequences = [batcher.submit(ids, config=config) for ids, config in runs]
    batched = [read(sequence)[1] for sequence in sequences]
    assert [(g.text, g.finish_reason) for g in batched] == [
        (g.text, g.finish_reason) for g in alone]


def test_a_reply_that_joins_mid_run_and_one_that_leaves_early_are_both_right(
        batcher, prompts, solo):
    long_run = batcher.submit(prompts[2], config=GenerationConfig(max_new_tokens=TOKENS))
    deltas = long_run.deltas()
    next(deltas)  # the first reply is decoding before the others join
    joining = batcher.submit(prompts[1], config=GenerationConfig(max_new_tokens=TOKENS))
    leaving = batcher.submit(prompts[0], config=GenerationConfig(max_new_tokens=2))
    assert read(leaving)[1].token_ids == solo[0][:2]
    assert read(joining)[1].token_ids == solo[1]
    list(deltas)
    assert long_run.result().token_ids == solo[2]


def test_each_reply_keeps_its_own_stats_and_starts_from_its_cached_prefix(
        engine, batcher, prompts, solo):
    ids = prompts[2]
    cached = engine.prefill(ids[:20])  # a reused prefix, as activation memory hands it over
    reused = batcher.submit(ids, cached, GenerationConfig(max_new_tokens=TOKENS),
                            timing=DecodeTiming(reused_tokens=20))
    fresh = batcher.submit(prompts[1], config=GenerationConfig(max_new_tokens=3))
    reused_reply, fresh_reply = read(reused)[1], read(fresh)[1]
    assert reused_reply.token_ids == solo[2]
    assert (reused_reply.stats.prompt_tokens, reused_reply.stats.reused_tokens,
            reused_reply.stats.computed_tokens) == (len(ids), 20, len(ids) - 20)
    assert (fresh_reply.stats.reused_tokens, fresh_reply.stats.completion_tokens) == (0, 3)
    for reply in (reused_reply, fresh_reply):
        assert 0 < reply.stats.ttft_s <= reply.stats.total_s


@contextmanager
def scaled_output_norm(engine, factor: float):
    """A stand-in adapter: changes the model's weights while it is attached."""
    with engine.lock, torch.no_grad():
        norm = engine.model.model.norm.weight
        norm.mul_(factor)
        try:
            yield
        finally:
            norm.div_(factor)


def test_replies_with_an_adapter_never_share_it_with_others(engine, batcher, prompts, solo):
    config = GenerationConfig(max_new_tokens=TOKENS)

    def adapted() -> DecodeControl:
        return DecodeControl(step_guard=lambda: scaled_output_norm(engine, -1.0), group="neg")

    alone = engine.generate_from(prompts[1], config=config, control=adapted()).token_ids
    assert alone != solo[1]  # the stand-in adapter does change the reply
    plain = [batcher.submit(prompts[0], config=config), batcher.submit(prompts[2], config=config)]
    with_adapter = batcher.submit(prompts[1], config=config, control=adapted())
    assert read(with_adapter)[1].token_ids == alone
    assert [read(s)[1].token_ids for s in plain] == [solo[0], solo[2]]


def test_cancelling_a_reply_frees_its_slot_at_the_next_step(engine, batcher, prompts, solo):
    cancel = threading.Event()
    cancelled_before = engine.counters.generations_cancelled
    doomed = batcher.submit(prompts[0], config=GenerationConfig(max_new_tokens=200),
                            control=DecodeControl(cancel=cancel))
    abandoned = batcher.submit(prompts[1], config=GenerationConfig(max_new_tokens=200))
    kept = batcher.submit(prompts[2], config=GenerationConfig(max_new_tokens=TOKENS))
    next(doomed.deltas())
    cancel.set()
    partial = abandoned.deltas()
    next(partial)
    partial.close()  # a consumer that stops reading no longer wants the reply
    assert read(kept)[1].token_ids == solo[2]
    read(doomed)
    assert doomed.finish_reason == "cancelled"
    assert abandoned.result().stats.completion_tokens < 200
    assert engine.counters.generations_cancelled - cancelled_before == 2


def test_concurrent_chats_answer_as_chats_do_with_batching_off(engine, embedder, tmp_path):
    messages = [[{"role": "user", "content": q}] for q in QUESTIONS]
    off = Settings(home=tmp_path / "off", batching=False)
    with MemOS(settings=off, engine=engine, embedder=embedder) as mos:
        assert mos.decoder is engine
        alone = [mos.chat(m, [], max_new_tokens=4) for m in messages]
    with MemOS(settings=Settings(home=tmp_path / "on"), engine=engine, embedder=embedder) as mos:
        assert isinstance(mos.decoder, ContinuousBatcher)
        with ThreadPoolExecutor(len(messages)) as pool:
            batched = list(pool.map(lambda m: mos.chat(m, [], max_new_tokens=4), messages))
    assert [(r.text, r.finish_reason) for r in batched] == [
        (r.text, r.finish_reason) for r in alone]
    assert [r.stats.prompt_tokens for r in batched] == [r.stats.prompt_tokens for r in alone]
