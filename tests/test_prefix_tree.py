"""Exact prefix reuse: a prompt built on cached tree nodes equals a cold prefill of its ids."""

import pytest

from activation_cache import CacheConfig, ChunkCache, Piece, PrefixTree
from memos import MemOS
from memos.engine import GenerationConfig
from memos.prompt import PromptBuilder
from memos.settings import Settings

FACTS = [
    "Priya was born in Chennai and moved to Toronto in 2019.",
    "Bob's cat is called Miso and sleeps on the piano.",
    "Carol plays the cello in a string quartet.",
    "Alice works as a nurse at Santa Maria hospital.",
    "The team meeting moved to Thursdays at 10am.",
]


def _tree(engine, folder):
    cache = ChunkCache(engine, folder, CacheConfig(device_bytes=64 << 20))
    return PrefixTree(engine, cache, folder)


def _max_diff(cache_a, cache_b) -> float:
    return max(
        max(float((a.keys - b.keys).abs().max()), float((a.values - b.values).abs().max()))
        for a, b in zip(cache_a.layers, cache_b.layers, strict=True)
    )


def _session_plans(engine, layout="turns"):
    builder = PromptBuilder(engine, layout=layout)
    first = [{"role": "user", "content": "Where was Priya born?"}]
    second = [*first, {"role": "assistant", "content": "Priya was born in Chennai."},
              {"role": "user", "content": "What is the name of Bob's cat?"}]
    plan_one = builder.build(first, [FACTS[0], FACTS[1]])
    plan_two = builder.build(second, [FACTS[3], FACTS[1], FACTS[0]], [[FACTS[0], FACTS[1]]])
    return plan_one, plan_two


@pytest.mark.parametrize("layout", ["turns", "accumulate"])
def test_turn_prompt_extends_the_previous_turn(engine, layout):
    plan_one, plan_two = _session_plans(engine, layout)
    assert plan_two.token_ids[: len(plan_one.token_ids)] == plan_one.token_ids


def test_layout_accumulate_places_each_memory_once(engine):
    plan_one, plan_two = _session_plans(engine, "accumulate")
    prompt = engine.decode(plan_two.token_ids)
    assert [prompt.count(fact) for fact in FACTS[:4]] == [1, 1, 0, 1]
    assert prompt.index(FACTS[1]) < prompt.index("Priya was born in Chennai.") \
        < prompt.index(FACTS[3])  # the new memory comes with the turn that was given it
    _, turns_two = _session_plans(engine, "turns")
    assert len(plan_two.token_ids) < len(turns_two.token_ids)


@pytest.mark.parametrize("layout", ["turns", "accumulate"])
def test_cached_path_equals_cold_prefill_in_a_multi_turn_session(engine, tmp_path, layout):
    tree = _tree(engine, tmp_path)
    plan_one, plan_two = _session_plans(engine, layout)
    tree.commit(tree.assemble(plan_one.pieces))
    warm = tree.assemble(plan_two.pieces)
    assert warm.reused_tokens >= len(plan_one.token_ids)
    assert warm.reused_tokens + warm.computed_tokens == len(plan_two.token_ids)
    cold = engine.forward(plan_two.token_ids)
    assert _max_diff(warm.cache, cold.cache) < 1e-3
    assert float((warm.logits - cold.logits).abs().max()) < 1e-3
    config = GenerationConfig(max_new_tokens=16)
    reused = engine.generate_from(warm.token_ids, warm.cache, config, logits=warm.logits)
    plain = engine.generate_from(plan_two.token_ids, None, config)
    assert reused.token_ids == plain.token_ids


def test_stored_nodes_never_grow_with_the_caller_cache(engine, tmp_path):
    tree = _tree(engine, tmp_path)
    plan_one, _ = _session_plans(engine)
    tree.commit(tree.assemble(plan_one.pieces))
    sizes = [entry.tokens for entry in tree.cache.entries()]
    again = tree.assemble(plan_one.pieces)
    engine.generate_from(again.token_ids, again.cache, GenerationConfig(max_new_tokens=4),
                         logits=again.logits)
    match = tree.match([piece.token_ids for piece in plan_one.pieces])
    assert match.depth == len(plan_one.pieces) - 1
    assert [kv.num_tokens for kv in match.found] == [len(p.token_ids)
                                                      for p in plan_one.pieces[:-1]]
    assert sorted(entry.tokens for entry in tree.cache.entries()) == sorted(sizes)


def test_evicted_node_cuts_the_path_and_recomputing_it_restores_the_subtree(engine, tmp_path):
    tree = _tree(engine, tmp_path)
    plan_one, _ = _session_plans(engine)
    ids = [piece.token_ids for piece in plan_one.pieces]
    tree.commit(tree.assemble(plan_one.pieces))
    keys = tree.path_keys(ids)
    tree.remove([keys[1]])
    assert tree.match(ids).depth == 1
    redone = tree.assemble(plan_one.pieces)
    tree.commit(redone)
    assert tree.match(ids).depth == len(ids) - 1


def test_pinned_path_survives_a_restart(engine, tmp_path):
    tree = _tree(engine, tmp_path)
    plan_one, _ = _session_plans(engine)
    ids = [piece.token_ids for piece in plan_one.pieces]
    tree.commit(tree.assemble(plan_one.pieces))
    pinned = tree.pin_path(ids)
    reopened = _tree(engine, tmp_path)
    assert reopened.pinned == set(pinned)
    assert {e.key for e in reopened.cache.entries() if e.pinned} == set(pinned)
    assert reopened.match(ids).depth == len(ids) - 1


def test_forgetting_a_text_removes_its_subtree_even_after_a_restart(engine, tmp_path):
    tree = _tree(engine, tmp_path)
    plan_one, plan_two = _session_plans(engine)
    tree.commit(tree.assemble(plan_one.pieces))
    tree.commit(tree.assemble(plan_two.pieces))
    chunk = PromptBuilder(engine).chunk_ids(FACTS[1])
    holders = tree.index.holding(chunk)
    below = tree.index.subtree(holders)
    assert len(holders) == 2 and len(below) > len(holders)
    reopened = _tree(engine, tmp_path)
    removed = reopened.forget([chunk])
    assert sorted(removed) == sorted(below)
    assert not any(key in reopened.cache for key in below)
    assert not any(reopened.cache.file_path(key).exists() for key in below)
    ids = [piece.token_ids for piece in plan_two.pieces]
    assert reopened.match(ids).depth == ids.index(chunk)  # the path stops at Bob's chunk


def test_adapter_id_is_part_of_the_node_key(engine, tmp_path):
    tree = _tree(engine, tmp_path)
    ids = [[1, 2, 3], [4, 5]]
    assert tree.path_keys(ids)[0] != tree.path_keys(ids, adapter="a-1")[0]
    assert tree.path_keys(ids)[1] != tree.path_keys([[1, 2, 4], [4, 5]])[1]


def test_empty_prompt_is_refused(engine, tmp_path):
    from memos.errors import InvalidInput

    with pytest.raises(InvalidInput):
        _tree(engine, tmp_path).assemble([Piece([])])


@pytest.fixture
def mos(tmp_path, engine, embedder):
    with MemOS(home=tmp_path / "home", engine=engine, embedder=embedder) as mos:
        yield mos


@pytest.fixture
def cube(mos):
    cube = mos.create_cube("facts", owner="alice")
    for fact in FACTS:  # one at a time: creation order is the canonical order
        cube.add(fact)
    return cube


def _turns(mos, cube, questions, **options):
    """A session replayed as an OpenAI-style client does: the whole history every turn."""
    messages, replies, prompts = [], [], []
    for question in questions:
        messages.append({"role": "user", "content": question})
        prompts.append(mos.chat_prompt_ids(messages, [cube.id], **options))
        reply = mos.chat(messages, cube_ids=[cube.id], max_new_tokens=12, **options)
        messages.append({"role": "assistant", "content": reply.text})
        replies.append(reply)
    return prompts, replies


def test_activation_on_or_off_gives_the_same_prompt_and_reply(mos, cube):
    texts = [item.text for item in cube.list(limit=10)[0]]
    mos.activation.warm_path(list(reversed(texts)))  # a tree path in another order
    mos.activation.warm_texts(texts)  # and every chunk alone, as blend caches them
    mos.chat([{"role": "user", "content": "Who plays the cello?"}], cube_ids=[cube.id],
             max_new_tokens=2)  # a path of the tree with other memories
    questions = ["Where was Priya born?", "What is the name of Bob's cat?",
                 "Where does Alice work?"]
    on_prompts, on = _turns(mos, cube, questions)
    off_prompts, off = _turns(mos, cube, questions, activation_mode="off")
    assert on_prompts == off_prompts
    assert [r.text for r in on] == [r.text for r in off]
    assert [r.stats.activation_mode for r in on] == ["exact"] * 3
    assert on[-1].stats.exact_reused_tokens > 0 and on[-1].stats.approx_reused_tokens == 0
    assert on[-1].stats.reused_tokens == on[-1].stats.exact_reused_tokens
    assert all(r.stats.reused_tokens == 0 and r.stats.activation_mode == "off" for r in off)
    assert [r.stats.prompt_tokens for r in on] == [len(ids) for ids in on_prompts]


QUESTIONS = ["Where was Priya born?", "What is the name of Bob's cat?", "Who plays the cello?"]


def test_later_turns_reuse_the_conversation_so_far(mos, cube):
    prompts, replies = _turns(mos, cube, QUESTIONS)
    reused = [reply.stats.exact_reused_tokens for reply in replies]
    assert 0 < reused[1] < reused[2]
    first_question = mos.chat_prompt_ids(
        [{"role": "user", "content": QUESTIONS[0]}], [cube.id], k=0)  # no memories
    assert prompts[2][: len(first_question)] == first_question


def test_layout_turns_reuses_the_whole_previous_prompt(tmp_path, engine, embedder):
    settings = Settings(prompt_layout="turns")
    with MemOS(home=tmp_path / "turns", settings=settings, engine=engine,
               embedder=embedder) as mos:
        cube = mos.create_cube("facts", owner="alice")
        for fact in FACTS:
            cube.add(fact)
        prompts, replies = _turns(mos, cube, QUESTIONS)
    assert prompts[1][: len(prompts[0])] == prompts[0]
    assert replies[2].stats.exact_reused_tokens >= len(prompts[1])


def test_layout_accumulate_is_exact_and_reuses_the_whole_previous_prompt(tmp_path, engine,
                                                                         embedder):
    settings = Settings(prompt_layout="accumulate")
    with MemOS(home=tmp_path / "accumulate", settings=settings, engine=engine,
               embedder=embedder) as mos:
        cube = mos.create_cube("facts", owner="alice")
        for fact in FACTS:
            cube.add(fact)
        questions = [*QUESTIONS, QUESTIONS[0]]  # a question asked again: no memory repeated
        on_prompts, on = _turns(mos, cube, questions)
        off_prompts, off = _turns(mos, cube, questions, activation_mode="off")
    assert on_prompts == off_prompts
    assert [r.text for r in on] == [r.text for r in off]
    for earlier, later in zip(on_prompts, on_prompts[1:], strict=False):
        assert later[: len(earlier)] == earlier
    assert on[2].stats.exact_reused_tokens >= len(on_prompts[1])
    assert on[3].stats.computed_tokens == len(on_prompts[3]) - len(on_prompts[2])
    assert "Memories:" not in engine.decode(on_prompts[3][len(on_prompts[2]):])


def test_blend_is_opt_in_and_reports_approximate_reuse(mos, cube):
    question = [{"role": "user", "content": "Where was Priya born?"}]
    mos.chat(question, cube_ids=[cube.id], max_new_tokens=1, activation_mode="blend")
    blended = mos.chat(question, cube_ids=[cube.id], max_new_tokens=1, activation_mode="blend")
    assert blended.stats.activation_mode == "blend"
    assert blended.stats.approx_reused_tokens > 0 and blended.stats.exact_reused_tokens == 0


def test_cube_setting_and_server_setting_choose_the_mode(mos, cube):
    question = [{"role": "user", "content": "Where was Priya born?"}]
    assert mos.chat(question, cube_ids=[cube.id], max_new_tokens=1).stats.activation_mode \
        == "exact"
    mos.update_cube(cube.id, settings={"activation_mode": "off"})
    assert mos.chat(question, cube_ids=[cube.id], max_new_tokens=1).stats.activation_mode \
        == "off"
    reply = mos.chat(question, cube_ids=[cube.id], max_new_tokens=1, activation_mode="blend")
    assert reply.stats.activation_mode == "blend"


def test_unknown_activation_mode_is_refused(mos, cube):
    from memos.errors import InvalidInput

    with pytest.raises(InvalidInput, match="activation_mode"):
        mos.chat([{"role": "user", "content": "hi"}], cube_ids=[cube.id],
                 activation_mode="fast")


def test_prompt_uses_canonical_memory_order(mos, cube, engine):
    hits = mos.search("Priya Bob cat born", [cube.id], k=3)
    prompt = engine.decode(mos.chat_prompt_ids(
        [{"role": "user", "content": "Priya Bob cat born"}], [cube.id], k=3))
    placed = sorted(hits, key=lambda hit: (hit.item.created_at, hit.item.seq, hit.item.id))
    positions = [prompt.index(" ".join(hit.item.text.split())) for hit in placed]
    assert positions == sorted(positions)



def _chunk_holders(mos, text):
    return mos.activation.tree.index.holding(mos.prompts.chunk_ids(text))


def test_deleted_archived_or_corrected_memory_leaves_no_kv(mos, cube):
    items = {item.text: item for item in cube.list(limit=10)[0]}
    questions = ["Where was Priya born?", "What is the name of Bob's cat?"]
    _turns(mos, cube, questions)
    for fact in FACTS[:2]:
        assert _chunk_holders(mos, fact)
    files_before = len(list((mos.home / "kv").glob("*.safetensors")))
    cube.delete(items[FACTS[0]].id)
    cube.archive(items[FACTS[1]].id)
    assert _chunk_holders(mos, FACTS[0]) == [] and _chunk_holders(mos, FACTS[1]) == []
    files = len(list((mos.home / "kv").glob("*.safetensors")))
    assert files < files_before and files == len(mos.activation.cache.entries())
    _turns(mos, cube, ["Where does Alice work?"])
    assert _chunk_holders(mos, FACTS[3])
    cube.update(items[FACTS[3]].id, text="Alice works as a pharmacist in Porto.")
    assert _chunk_holders(mos, FACTS[3]) == []


def test_deleting_a_cube_removes_the_kv_of_its_memories(mos, cube):
    _turns(mos, cube, ["Where was Priya born?"])
    assert any(_chunk_holders(mos, fact) for fact in FACTS)
    mos.delete_cube(cube.id, user="alice")
    assert not any(_chunk_holders(mos, fact) for fact in FACTS)
