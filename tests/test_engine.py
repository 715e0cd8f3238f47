import pytest
import torch

from memos.engine import Engine, EngineConfig, GenerationConfig
from memos.errors import InvalidInput, ModelNotAvailable

QUESTION = [{"role": "user", "content": "Name three colours of the rainbow."}]


def test_greedy_generation_is_deterministic(engine):
    config = GenerationConfig(max_new_tokens=24)
    first = engine.generate(QUESTION, config)
    second = engine.generate(QUESTION, config)
    assert first.token_ids == second.token_ids
    assert first.text.strip()


def test_sampled_generation_repeats_with_the_same_seed(engine):
    config = GenerationConfig(max_new_tokens=16, temperature=0.9, top_p=0.9, seed=7)
    assert engine.generate(QUESTION, config).text == engine.generate(QUESTION, config).text


def test_generation_on_prefilled_cache_matches_cold_prefill(engine):
    ids = engine.chat_token_ids(QUESTION)
    cold = engine.forward(ids).logits
    warm_cache = engine.prefill(ids[:-5])
    warm = engine.forward(ids[-5:], warm_cache).logits
    assert torch.max(torch.abs(cold - warm)).item() < 1e-3
    assert warm_cache.get_seq_length() == len(ids)


def test_reply_after_cache_reports_reused_tokens(engine):
    ids = engine.chat_token_ids(QUESTION)
    cache = engine.prefill(ids[:-3])
    reply = engine.generate_from(ids, cache, GenerationConfig(max_new_tokens=8))
    assert reply.stats.reused_tokens == len(ids) - 3
    assert reply.stats.computed_tokens == 3
    cold = engine.generate(QUESTION, GenerationConfig(max_new_tokens=8))
    assert reply.token_ids == cold.token_ids


def test_reply_from_a_whole_prompt_cache_and_its_logits_matches_cold(engine):
    ids = engine.chat_token_ids(QUESTION)
    step = engine.forward(ids)
    config = GenerationConfig(max_new_tokens=8)
    reply = engine.generate_from(ids, step.cache, config, logits=step.logits)
    assert reply.token_ids == engine.generate(QUESTION, config).token_ids
    with pytest.raises(InvalidInput, match="cover the whole prompt"):
        engine.generate_from(ids, engine.prefill(ids[:-2]), config, logits=step.logits)


def test_streamed_reply_equals_non_streamed(engine):
    config = GenerationConfig(max_new_tokens=32)
    assert "".join(engine.stream(QUESTION, config)) == engine.generate(QUESTION, config).text


def test_stop_sequence_truncates_reply_in_both_modes(engine):
    full = engine.generate(QUESTION, GenerationConfig(max_new_tokens=32)).text
    stop = full.split()[1]
    config = GenerationConfig(max_new_tokens=32, stop=(stop,))
    stopped = engine.generate(QUESTION, config)
    assert stop not in stopped.text
    assert stopped.finish_reason == "stop"
    assert "".join(engine.stream(QUESTION, config)) == stopped.text


def test_max_new_tokens_limits_the_reply(engine):
    reply = engine.generate(QUESTION, GenerationConfig(max_new_tokens=3))
    assert reply.stats.completion_tokens <= 3


def test_token_counting_matches_encoding(engine):
    text = "Alice moved to Lisbon."
    assert engine.count_tokens(text) == len(engine.encode(text))


def test_fingerprint_is_stable_and_depends_on_dtype(engine, models_dir):
    again = Engine.load(EngineConfig(models_dir=models_dir, device="cpu", progress=False))
    assert again.fingerprint == engine.fingerprint
    half = Engine.load(EngineConfig(models_dir=models_dir, device="cpu", dtype="bfloat16"))
    assert half.fingerprint != engine.fingerprint


def test_bad_messages_are_rejected(engine):
    with pytest.raises(InvalidInput):
        engine.generate([{"role": "robot", "content": "hi"}])
    with pytest.raises(InvalidInput):
        engine.generate([])


def test_missing_model_folder_names_the_install_step(tmp_path):
    with pytest.raises(ModelNotAvailable, match="MEMOS_MODEL"):
        Engine.load(EngineConfig(model=str(tmp_path / "nowhere")))


def test_embedder_ranks_paraphrase_above_unrelated(embedder):
    vectors = embedder.embed(
        ["Alice moved to Lisbon in May.", "In May, Alice relocated to Lisbon.",
         "Stocks fell today."]
    )
    assert vectors.shape == (3, 384)
    similarity = vectors @ vectors[0]
    assert similarity[1] > similarity[2] + 0.3
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-5


def test_embedder_keeps_input_order_across_length_sorted_batches(embedder):
    texts = ["short", "a much longer sentence about the sea and the sky", "mid length text"]
    batched = embedder.embed(texts)
    for text, vector in zip(texts, batched, strict=True):
        assert abs(float(vector @ embedder.embed_one(text)) - 1.0) < 1e-4
