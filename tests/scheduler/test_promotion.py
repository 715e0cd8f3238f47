"""Promotion between memory kinds, and eviction: these need the kernel's activation cache and
distillation (``MemOS.warm``, ``distill``, ``enforce_budgets``) and the chat model."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from memcube.lifecycle import State
from memos.kernel import MemOS
from memos.scheduler import JobState
from memos.scheduler.policies import PromoteActivationPolicy, PromoteParametricPolicy
from memos.scheduler.settings import PromoteActivationSettings, PromoteParametricSettings
from storage.schema import AdapterRow

needs_warm = pytest.mark.skipif(not hasattr(MemOS, "warm"),
                                reason="MemOS.warm (activation cache) not available")
needs_distill = pytest.mark.skipif(not hasattr(MemOS, "distill"),
                                   reason="MemOS.distill not available")
needs_budgets = pytest.mark.skipif(not hasattr(MemOS, "enforce_budgets"),
                                   reason="MemOS.enforce_budgets not available")

QUESTION = [{"role": "user", "content": "Where does Alice live?"}]


@pytest.fixture
def chat_mos(tmp_path, embedder, engine, clock):
    """A MemOS with the chat model, for policies that touch KV caches or adapters."""
    kernel = MemOS(tmp_path / "home", embedder=embedder, engine=engine, clock=clock)
    yield kernel
    kernel.close()


def jobs_of(mos, kind: str) -> list:
    return [job for job in mos.scheduler.jobs.list(kind=kind)[0]]


def pinned_sets(mos, cube_id: str) -> list[tuple[str, ...]]:
    return mos.scheduler.memories.activation.pinned_memory_sets(cube_id)


def tick_and_run(mos) -> None:
    mos.scheduler.tick()
    mos.scheduler.run_pending()


@needs_warm
def test_notes_retrieved_often_in_the_window_get_their_kv_warmed(chat_mos, clock):
    settings = {"policies": {"promote_activation": {"min_retrievals": 3, "window_s": 3600}}}
    cube = chat_mos.create_cube("hot", settings=settings)
    hot = cube.add("Alice moved to Lisbon in May 2023 and loves the tram rides there.")
    cold = cube.add("Bob adopted a grey cat named Pixel.")
    for _ in range(3):
        cube.search("Where does Alice live?", k=1)
    clock.advance(hours=2)  # those retrievals fall out of the window
    tick_and_run(chat_mos)
    assert jobs_of(chat_mos, "promote_activation") == []
    for _ in range(3):
        cube.search("Where does Alice live?", k=1)
    tick_and_run(chat_mos)
    [job] = jobs_of(chat_mos, "promote_activation")
    assert job.state == JobState.SUCCEEDED and job.result["activated"] == 1
    assert job.result["warmed_chunks"] >= 1
    assert cube.get(hot.id).state == State.ACTIVATED and cube.get(cold.id).state == State.CREATED
    change = cube.history(hot.id)[-1]
    assert (change.actor, change.reason) == ("scheduler", "policy:promote_activation")
    reply = chat_mos.chat(QUESTION, cube_ids=[cube.id], k=1, max_new_tokens=2)
    assert reply.stats.cache_hits >= 1 and reply.stats.reused_tokens > 0


@needs_warm
def test_memory_sets_chats_place_again_and_again_get_their_paths_pinned(tmp_path, embedder,
                                                                         engine, clock):
    settings = {"policies": {"promote_activation": {"min_retrievals": 2, "window_s": 3600}}}
    with MemOS(tmp_path / "home", embedder=embedder, engine=engine, clock=clock) as kernel:
        cube = kernel.create_cube("hot", settings=settings)
        alice = cube.add("Alice moved to Lisbon in May 2023 and loves the tram rides there.")
        bob = cube.add("Bob adopted a grey cat named Pixel.")
        for _ in range(2):
            kernel.chat(QUESTION, cube_ids=[cube.id], k=2, max_new_tokens=1)
        tick_and_run(kernel)
        [job] = jobs_of(kernel, "promote_activation")
        assert job.state == JobState.SUCCEEDED, job.error
        assert job.result["pinned_paths"] == 1 and job.result["pinned_nodes"] >= 3
        assert pinned_sets(kernel, cube.id) == [tuple(sorted([alice.id, bob.id]))]
        pinned = kernel.activation.tree.pinned
        assert {e.key for e in kernel.activation.cache.entries() if e.pinned} == pinned
        tick_and_run(kernel)  # the same hot set: nothing to re-pin
        assert len(jobs_of(kernel, "promote_activation")) == 1
    with MemOS(tmp_path / "home", embedder=embedder, engine=engine, clock=clock) as restarted:
        assert pinned_sets(restarted, cube.id) == [tuple(sorted([alice.id, bob.id]))]
        assert restarted.activation.tree.pinned == pinned
        reply = restarted.chat(QUESTION, cube_ids=[cube.id], k=2, max_new_tokens=1)
        assert reply.stats.cache_hits >= 3  # head and both notes from the pinned path
        cube = restarted.get_cube(cube.id)
        cube.delete(bob.id)
        for _ in range(2):
            restarted.chat([{"role": "user", "content": "Where does Bob live?"}],
                           cube_ids=[cube.id], k=1, max_new_tokens=1)
        clock.advance(minutes=1)
        tick_and_run(restarted)
        assert pinned_sets(restarted, cube.id) == [(alice.id,)]
        now_pinned = restarted.activation.tree.pinned
        assert now_pinned & pinned and pinned - now_pinned  # the head stays; Bob's path goes


@needs_distill
def test_stable_often_used_cube_is_distilled_and_redistilled_when_stale(chat_mos, clock):
    settings = {"policies": {"promote_parametric": {"min_notes": 2, "stable_s": 3600,
                                                    "min_retrievals": 3}}}
    cube = chat_mos.create_cube("stable", settings=settings)
    alice = cube.add("Alice moved to Lisbon in May 2023.")
    cube.add("Bob adopted a grey cat named Pixel.")
    for _ in range(3):
        cube.search("Where does Alice live?", k=2)
    tick_and_run(chat_mos)
    assert jobs_of(chat_mos, "promote_parametric") == []  # notes changed under an hour ago
    clock.advance(hours=2)
    tick_and_run(chat_mos)
    [job] = jobs_of(chat_mos, "promote_parametric")
    assert job.state == JobState.SUCCEEDED, job.error
    with chat_mos.database.session() as session:
        assert session.scalars(select(AdapterRow.id).where(
            AdapterRow.cube_id == cube.id)).all() == [job.result["adapter_id"]]
    tick_and_run(chat_mos)
    assert len(jobs_of(chat_mos, "promote_parametric")) == 1  # the adapter is up to date
    cube.update(alice.id, text="Alice moved to Porto in June 2024.")
    clock.advance(hours=2)
    again = [job for job in chat_mos.scheduler.tick() if job.kind == "promote_parametric"]
    assert [job.payload for job in again] == [{"redistill": True}]
    assert chat_mos.scheduler.jobs.cancel(again[0].id).state == JobState.CANCELLED


@needs_warm
@needs_budgets
def test_evict_policy_keeps_budgets_and_never_touches_frozen_notes(chat_mos):
    cube = chat_mos.create_cube("pins")
    pinned = cube.add("Alice moved to Lisbon in May 2023.")
    cube.freeze(pinned.id)
    chat_mos.warm(cube.id, [pinned.id])
    tick_and_run(chat_mos)
    [job] = jobs_of(chat_mos, "evict")
    assert job.state == JobState.SUCCEEDED, job.error
    assert cube.get(pinned.id).state == State.FROZEN


def test_promote_activation_plans_only_notes_hot_within_the_window(mos, cube, clock):
    hot = cube.add("Alice moved to Lisbon in May 2023.")
    cube.add("Bob adopted a grey cat named Pixel.")
    memories = mos.scheduler.memories
    settings = PromoteActivationSettings(min_retrievals=3, window_s=3600)
    for _ in range(2):
        cube.search("Where does Alice live?", k=1)
    clock.advance(hours=2)
    cube.search("Where does Alice live?", k=1)
    assert PromoteActivationPolicy().plan(memories, cube.id, settings, clock.now()) is None
    cube.search("Where does Alice live?", k=1)
    cube.search("Where does Alice live?", k=1)
    assert PromoteActivationPolicy().plan(memories, cube.id, settings, clock.now()) == \
        {"item_ids": [hot.id]}


def test_promote_parametric_plans_for_stable_used_cubes_and_stale_adapters(mos, cube, clock):
    policy = PromoteParametricPolicy()
    memories = mos.scheduler.memories
    settings = PromoteParametricSettings(min_notes=2, stable_s=3600, min_retrievals=2)
    alice = cube.add("Alice moved to Lisbon in May 2023.")
    bob = cube.add("Bob adopted a grey cat named Pixel.")
    clock.advance(hours=2)
    assert policy.plan(memories, cube.id, settings, clock.now()) is None  # never used
    cube.search("Where does Alice live?", k=2)
    assert policy.plan(memories, cube.id, settings, clock.now()) == {"redistill": False}
    add_adapter(mos, cube.id, clock.now(), {alice.id: alice.version, bob.id: bob.version})
    assert policy.plan(memories, cube.id, settings, clock.now()) is None  # up to date
    cube.add("Carol plays the cello.")
    clock.advance(hours=2)
    assert policy.plan(memories, cube.id, settings, clock.now()) is None  # new notes: not stale
    cube.update(alice.id, text="Alice moved to Porto in June 2024.")
    assert policy.plan(memories, cube.id, settings, clock.now()) is None  # not stable yet
    clock.advance(hours=2)
    assert policy.plan(memories, cube.id, settings, clock.now()) == {"redistill": True}


def add_adapter(mos, cube_id: str, at, items: dict[str, int]) -> None:
    """The row distillation leaves behind (written here: planning reads only SQL)."""
    with mos.database.session() as session:
        session.add(AdapterRow(id=uuid.uuid4().hex, cube_id=cube_id, fingerprint="f" * 64,
                               path="adapter", items=items, steps=1, size=1, created_at=at))
