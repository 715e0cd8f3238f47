"""Which adapters a chat attaches: the current shards, fresh, on evidence, each with a reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from memos import MemOS
from memos.parametric import DistillConfig
from memos.parametric.adapter_sets import AdapterSets, current_adapters
from memos.parametric.memory import AdapterInfo, ShardPlace
from memos.parametric.shards import shard_of, split_notes
from memos.settings import Settings
from storage.schema import AdapterRow

FACTS = [f"{name} lives in {city}." for name, city in (
    ("Brelo Vantik", "Lisbon"), ("Dorma Selquin", "Oslo"), ("Razo Merfal", "Vienna"),
    ("Tengro Vislan", "Prague"), ("Korpi Nudas", "Dublin"), ("Quinra Zomer", "Athens"),
    ("Falten Grovis", "Riga"), ("Lanko Pinu", "Sofia"))]
ONE_STEP = DistillConfig(steps=1, replay=0, rank=2, target_modules=("down_proj",), batch_size=2)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory, engine, embedder):
    """A cube of 8 facts distilled once into 2 shards (one training step each)."""
    settings = Settings(adapter_check_questions=1)
    with MemOS(home=tmp_path_factory.mktemp("home"), settings=settings, engine=engine,
               embedder=embedder) as mos:
        cube = mos.create_cube("people")
        items = cube.add_many([{"text": fact} for fact in FACTS])
        adapters = mos.adapters.distill_shards(cube, 2, ONE_STEP)
        yield mos, cube, items, adapters


def _sets(mos) -> AdapterSets:
    return AdapterSets(mos.adapters, mos.engine.fingerprint)


def test_each_non_empty_shard_learns_its_own_disjoint_notes(sharded):
    mos, cube, items, adapters = sharded
    notes = mos.adapters.notes_to_distill(cube, None)
    expected = [{note.item_id for note in part} for part in split_notes(notes, 2) if part]
    assert [set(adapter.items) for adapter in adapters] == expected
    assert len({adapter.shard.group for adapter in adapters}) == 1
    for adapter in adapters:
        assert all(shard_of(item_id, 2) == adapter.shard.index for item_id in adapter.items)
        assert adapter.evidence is not None and adapter.to_dict()["shards"] == 2


def test_without_evidence_every_fresh_shard_is_attached_with_a_reason(sharded):
    mos, cube, _, adapters = sharded
    ids, notes = _sets(mos).attachable([cube.id], None)
    assert ids == [adapter.id for adapter in adapters]
    assert all("attached: shard" in note and "not attached" not in note for note in notes)


def test_on_evidence_only_the_shard_that_learned_a_retrieved_note_is_attached(sharded):
    mos, cube, items, adapters = sharded
    _reset_evidence(mos, adapters)
    retrieved = items[0].id
    ids, notes = _sets(mos).attachable([cube.id], {retrieved})
    assert ids == [a.id for a in adapters if retrieved in a.items]
    others = [a for a in adapters if retrieved not in a.items]
    assert all(any(a.id in n and "none of the retrieved notes" in n for n in notes)
               for a in others)


def test_an_adapter_that_answered_no_check_question_is_attached_only_when_asked_for(sharded):
    mos, cube, items, adapters = sharded
    _reset_evidence(mos, adapters, value=0)
    on_evidence = {item.id for item in items}
    ids, notes = _sets(mos).attachable([cube.id], on_evidence)
    assert ids == [] and all("answered none of its check questions" in n for n in notes)
    assert _sets(mos).attachable([cube.id], None)[0] == [a.id for a in adapters]
    _reset_evidence(mos, adapters)


def test_parametric_only_chat_attaches_the_shard_of_the_nearest_note_and_says_why(sharded):
    mos, cube, _, adapters = sharded
    question = "Where does Brelo Vantik live?"
    reply = mos.chat([{"role": "user", "content": question}],
                     cube_ids=[cube.id], memory_kinds=("parametric",), max_new_tokens=2)
    nearest = cube.search(question, k=1)[0].item.id
    assert reply.adapters == [adapter.id for adapter in adapters if nearest in adapter.items]
    assert sum("attached: shard" in note for note in reply.stats.notes) == 1
    assert sum("routed to another shard" in note for note in reply.stats.notes) == \
        len(adapters) - 1


def test_kv_key_names_each_adapter_with_its_weights_checksum(sharded):
    mos, _, _, adapters = sharded
    sets = _sets(mos)
    key = sets.kv_key([adapter.id for adapter in adapters])
    assert sets.kv_key([]) is None
    for adapter in adapters:
        assert f"{adapter.id}:xxh3_64:" in key
    assert key == sets.kv_key([adapter.id for adapter in reversed(adapters)])


def test_current_adapters_are_the_newest_adapter_of_each_shard_of_the_newest_group():
    def info(adapter_id: str, shard: ShardPlace | None, minute: int) -> AdapterInfo:
        return AdapterInfo(adapter_id, "c", "f", {}, 1, None, 0, False,
                           datetime(2026, 1, 1, 0, minute, tzinfo=UTC), shard=shard)

    old = info("old", None, 0)
    first = [info(f"g{i}", ShardPlace("g", i, 3), 1) for i in range(3)]
    retrained = info("g1b", ShardPlace("g", 1, 3), 2)
    newest_first = [retrained, *reversed(first), old]
    assert [a.id for a in current_adapters(newest_first)] == ["g0", "g1b", "g2"]
    assert current_adapters([old]) == [old] and current_adapters([]) == []
    assert current_adapters([replace(old, id="new"), old])[0].id == "new"


def _reset_evidence(mos, adapters, value: int = 1) -> None:
    with mos.database.session() as session:
        session.execute(update(AdapterRow).where(AdapterRow.id.in_([a.id for a in adapters]))
                        .values(evidence=value))


def test_parametric_only_chat_searches_only_cubes_with_shards_to_route(sharded, engine,
                                                                       embedder, tmp_path):
    with MemOS(home=tmp_path, engine=engine, embedder=embedder) as mos:
        plain = mos.create_cube("no adapters")
        item = plain.add("Brelo Vantik lives in Lisbon.")
        reply = mos.chat([{"role": "user", "content": "Where does Brelo Vantik live?"}],
                         cube_ids=[plain.id], memory_kinds=("parametric",), max_new_tokens=2)
        assert reply.adapters == [] and not _sets(mos).routes(plain.id)
        assert plain.get(item.id).retrieval_count == 0  # no routing search ran
    mos, cube, _, _ = sharded
    assert _sets(mos).routes(cube.id)


def test_default_chat_attaches_only_the_shard_of_the_best_retrieved_note(sharded):
    mos, cube, _, adapters = sharded
    _reset_evidence(mos, adapters)
    question = "Where does Brelo Vantik live?"
    reply = mos.chat([{"role": "user", "content": question}], cube_ids=[cube.id],
                     k=len(FACTS), max_new_tokens=2)  # every note retrieved: every shard
    best = max(reply.memories, key=lambda hit: hit.score).item.id
    assert reply.adapters == [a.id for a in adapters if best in a.items]
    assert sum("routed: it learned the best retrieved note" in n for n in reply.stats.notes) == 1
    assert sum("routed to another shard" in n for n in reply.stats.notes) == len(adapters) - 1
