"""Forgetting in parametric memory: a forgotten note's adapter is stale, never attached, and
its shard is retrained without it; KV computed with an adapter is keyed by its weights."""

from __future__ import annotations

import json

import pytest

from memos import MemOS
from memos.parametric import DistillConfig
from memos.parametric.adapter_sets import AdapterSets
from memos.scheduler.forget_retrain import FORGET_RETRAIN_JOB
from memos.settings import Settings
from storage.clock import ManualClock
from storage.errors import InvalidInput

FACTS = [f"{name} lives in {city}." for name, city in (
    ("Brelo Vantik", "Lisbon"), ("Dorma Selquin", "Oslo"), ("Razo Merfal", "Vienna"),
    ("Tengro Vislan", "Prague"), ("Korpi Nudas", "Dublin"), ("Quinra Zomer", "Athens"))]
ONE_STEP = DistillConfig(steps=1, replay=0, rank=2, target_modules=("down_proj",), batch_size=2)
DELAY_S = 30


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def mos(tmp_path, engine, embedder, clock):
    settings = Settings(adapter_check_questions=0, forget_retrain_delay_s=DELAY_S,
                        adapter_routing="all")  # every fresh shard attached: staleness shows
    with MemOS(home=tmp_path / "home", settings=settings, engine=engine, embedder=embedder,
               clock=clock) as mos:
        yield mos


@pytest.fixture
def distilled(mos):
    """A cube of 6 facts distilled into 2 shards; the note to forget is in a shard with others
    when the ids allow it."""
    cube = mos.create_cube("people")
    items = cube.add_many([{"text": fact} for fact in FACTS])
    adapters = mos.adapters.distill_shards(cube, 2, ONE_STEP)
    biggest = max(adapters, key=lambda adapter: len(adapter.items))
    victim = next(item for item in items if item.id in biggest.items)
    return cube, items, adapters, biggest, victim


def _parametric_chat(mos, cube, **options):
    return mos.chat([{"role": "user", "content": "Where does Brelo Vantik live?"}],
                    cube_ids=[cube.id], max_new_tokens=2, **options)


def test_a_deleted_note_makes_its_shard_stale_and_never_attached(mos, distilled):
    cube, _, adapters, shard, victim = distilled
    cube.delete(victim.id)
    assert mos.adapters.get(shard.id).stale
    reply = _parametric_chat(mos, cube, memory_kinds=("parametric",))
    assert shard.id not in reply.adapters
    assert reply.adapters == [a.id for a in adapters if a.id != shard.id]
    assert any(shard.id in note and "not attached: stale" in note for note in reply.stats.notes)


def test_a_correction_makes_the_shard_stale_too(mos, distilled):
    cube, _, _, shard, victim = distilled
    cube.update(victim.id, text="Brelo Vantik lives in Bergen.")
    ids, _ = AdapterSets(mos.adapters, mos.engine.fingerprint).attachable([cube.id], None)
    assert shard.id not in ids


def test_forgetting_queues_one_debounced_retrain_that_names_ids_not_texts(mos, distilled,
                                                                          clock):
    cube, items, adapters, shard, victim = distilled
    others = [item for item in items if item.id in shard.items and item.id != victim.id]
    cube.delete(victim.id)
    clock.advance(seconds=DELAY_S - 1)
    if others:
        cube.update(others[0].id, text="Dorma Selquin lives in Bergen.")
    jobs, count = mos.scheduler.jobs.list(kind=FORGET_RETRAIN_JOB)
    assert count == 1
    payload = json.dumps(jobs[0].payload)
    assert victim.id in payload and "Vantik" not in payload and "Lisbon" not in payload
    assert mos.scheduler.run_pending() == 0  # the second forget pushed the retrain back
    clock.advance(seconds=DELAY_S + 1)
    assert mos.scheduler.run_pending() == 1
    result = mos.scheduler.jobs.get(jobs[0].id).result
    assert result["removed"] == [shard.id]
    _assert_shard_retrained_without(mos, cube, adapters, shard, victim.id)


def _assert_shard_retrained_without(mos, cube, adapters, shard, forgotten_id: str) -> None:
    now = {adapter.id: adapter for adapter in mos.adapters.list(cube.id)}
    assert shard.id not in now and not mos.adapters.store.exists(shard.id)
    untouched = [a.id for a in adapters if a.id != shard.id]
    assert all(adapter_id in now for adapter_id in untouched)
    fresh = [a for a in now.values() if a.id not in untouched]
    if len(shard.items) == 1:  # the shard held only the forgotten note: nothing to retrain
        assert fresh == []
        return
    (retrained,) = fresh
    assert retrained.shard == shard.shard and not retrained.stale
    assert forgotten_id not in retrained.items
    assert set(retrained.items) == set(shard.items) - {forgotten_id}


def test_kv_computed_with_a_forgotten_adapter_is_never_reused(mos, distilled):
    cube, _, adapters, shard, victim = distilled
    kinds = ("activation", "parametric")
    first = _parametric_chat(mos, cube, memory_kinds=kinds)
    again = _parametric_chat(mos, cube, memory_kinds=kinds)
    assert first.adapters == again.adapters == [a.id for a in adapters]
    assert again.stats.exact_reused_tokens > 0
    cube.delete(victim.id)
    after = _parametric_chat(mos, cube, memory_kinds=kinds, activation_mode="blend")
    assert shard.id not in after.adapters
    assert after.stats.activation_mode == "exact"  # blend has no adapter's KV: exact instead
    assert after.stats.exact_reused_tokens == 0


def test_no_distillation_relearns_a_deleted_note(mos, distilled):
    cube, items, _, _, victim = distilled
    cube.delete(victim.id)
    live = {note.item_id for note in mos.adapters.notes_to_distill(cube, None)}
    assert victim.id not in live and live == {item.id for item in items} - {victim.id}
    with pytest.raises(InvalidInput):
        mos.adapters.notes_to_distill(cube, [victim.id])  # a queued job naming it learns nothing


def test_forgetting_in_a_cube_without_adapters_queues_nothing(mos, clock):
    cube = mos.create_cube("plain")
    item = cube.add("Brelo Vantik lives in Lisbon.")
    cube.delete(item.id)
    clock.advance(seconds=DELAY_S + 1)
    assert mos.scheduler.jobs.list(kind=FORGET_RETRAIN_JOB)[1] == 0
