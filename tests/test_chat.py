import pytest
from pydantic import ValidationError

from memos import ChatOptions, MemOS
from memos.errors import InvalidInput, NotFound
from memos.settings import Settings

FACTS = [
    "Alice moved to Lisbon in May 2023.",
    "Bob adopted a beagle named Rex.",
    "Alice works as a nurse at Santa Maria hospital.",
    "Carol plays the cello in a string quartet.",
    "Bob's favourite dish is mushroom risotto.",
]
QUESTION = [{"role": "user", "content": "Where does Alice live?"}]


@pytest.fixture
def mos(tmp_path, engine, embedder):
    with MemOS(home=tmp_path / "home", engine=engine, embedder=embedder) as mos:
        yield mos


@pytest.fixture
def cube(mos):
    cube = mos.create_cube("facts", owner="alice")
    cube.add_many([{"text": fact} for fact in FACTS])
    return cube


def test_reply_uses_the_retrieved_fact(mos, cube):
    reply = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=24)
    assert reply.memories[0].item.text == FACTS[0]
    assert "Lisbon" in reply.text
    assert reply.stats.prompt_tokens > 0 and reply.stats.ttft_s > 0


def test_second_identical_question_reuses_cached_chunks(mos, cube):
    first = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=8)
    second = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=8)
    assert first.stats.reused_tokens == 0
    assert second.stats.cache_hits > 0
    assert second.stats.computed_tokens < first.stats.computed_tokens / 2
    assert second.stats.prompt_tokens == first.stats.prompt_tokens


def test_first_token_selection_is_a_setting(tmp_path, engine, embedder):
    settings = Settings(kv_selection="first", kv_recompute_fraction=0.5, activation_mode="blend")
    with MemOS(home=tmp_path / "home", settings=settings, engine=engine,
               embedder=embedder) as mos:
        cube = mos.create_cube("facts", owner="alice")
        cube.add_many([{"text": fact} for fact in FACTS])
        mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=1)  # fills the cache
        reply = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=8)
        assert mos.activation.assembler.config.selection == "first"
        assert 0 < reply.stats.reused_tokens < reply.stats.prompt_tokens
    with pytest.raises(ValidationError, match="kv_selection"):
        Settings(kv_selection="largest")


def test_exact_reuse_keeps_the_greedy_reply(mos, cube):
    plain = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=16, memory_kinds=("plaintext",))
    mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=1)  # fills the cache
    cached = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=16)
    assert plain.stats.reused_tokens == 0
    assert cached.stats.reused_tokens > 0
    assert cached.stats.activation_mode == "exact"
    assert cached.text == plain.text


def test_streaming_equals_non_streaming(mos, cube):
    whole = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=24)
    parts = list(mos.chat_stream(QUESTION, cube_ids=[cube.id], max_new_tokens=24))
    *deltas, reply = parts
    assert "".join(deltas) == whole.text == reply.text
    assert [h.item.id for h in reply.memories] == [h.item.id for h in whole.memories]


def test_memory_kinds_without_plaintext_retrieve_nothing(mos, cube):
    reply = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=4, memory_kinds=("activation",))
    assert reply.memories == []


def test_token_budget_keeps_whole_memories_in_rank_order(mos, cube):
    everything = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=1, k=5)
    budgeted = mos.chat(QUESTION, cube_ids=[cube.id], max_new_tokens=1, k=5,
                        memory_token_budget=25)
    assert 0 < len(budgeted.memories) < len(everything.memories)
    kept = [h.item.id for h in budgeted.memories]
    assert kept == [h.item.id for h in everything.memories][: len(kept)]


def test_write_back_stores_turns_with_provenance(mos, cube):
    mos.chat([{"role": "user", "content": "I just bought a red bicycle."}], cube_ids=[cube.id],
             max_new_tokens=8, write_back=True, write_back_reply=True, session_id="s-1",
             user="alice")
    items, _ = cube.list(limit=50)
    stored = {item.metadata.get("role"): item for item in items if item.provenance.session_id}
    assert stored["user"].text == "I just bought a red bicycle."
    assert stored["user"].provenance.source_type == "chat"
    assert stored["user"].provenance.actor == "alice"
    assert "assistant" in stored


def test_session_keeps_recent_turns_and_spills_older_ones_as_notes(mos, cube):
    mos.sessions.window = 2
    for text in ("My cat is called Miso.", "I live on the third floor."):
        mos.chat([{"role": "user", "content": text}], cube_ids=[cube.id], max_new_tokens=4,
                 session_id="s-2")
    recent = mos.sessions.recent("s-2")
    assert [turn["role"] for turn in recent] == ["user", "assistant"]
    assert recent[0]["content"] == "I live on the third floor."
    spilled = [i.text for i in cube.list(limit=50)[0] if i.provenance.session_id == "s-2"]
    assert "My cat is called Miso." in spilled


def test_chat_refuses_unknown_memory_kinds_and_unreadable_cubes(mos, cube):
    with pytest.raises(InvalidInput):
        mos.chat(QUESTION, cube_ids=[cube.id], memory_kinds=("episodic",))
    with pytest.raises(NotFound):
        mos.chat(QUESTION, cube_ids=[cube.id], user="mallory")


def test_an_options_object_and_keywords_ask_the_same(mos, cube):
    by_keywords = mos.chat_prompt_ids(QUESTION, [cube.id], k=2, memory_token_budget=64)
    options = ChatOptions(k=2, memory_token_budget=64)
    assert mos.chat_prompt_ids(QUESTION, [cube.id], options=options) == by_keywords
    assert mos.chat_prompt_ids(QUESTION, [cube.id], options=options, k=5) != by_keywords
