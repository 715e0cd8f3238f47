"""Unlearning in parametric memory, measured with the real model: sharded adapters that learned
a cube's facts stop stating a deleted fact once its shard is retrained, and keep the others."""

from __future__ import annotations

import pytest

from memos import MemOS
from memos.extraction_probe import ExtractionProbe
from memos.parametric import DistillConfig
from memos.probe_prompts import probes_for, reproduces
from memos.settings import Settings
from storage.clock import ManualClock

PEOPLE = (("Brelo Vantik", "Lisbon"), ("Dorma Selquin", "Oslo"), ("Razo Merfal", "Vienna"),
          ("Tengro Vislan", "Prague"))
# Enough steps for a 135M model to answer its facts' direct questions from the adapter alone.
LEARN = DistillConfig(epochs=8, learning_rate=5e-3, batch_size=4, replay=0)
DELAY_S = 30
ANSWER_TOKENS = 8


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def mos(tmp_path_factory, engine, embedder, clock):
    settings = Settings(adapter_check_questions=0, forget_retrain_delay_s=DELAY_S)
    home = tmp_path_factory.mktemp("unlearning") / "home"
    with MemOS(home=home, settings=settings, engine=engine, embedder=embedder,
               clock=clock) as mos:
        yield mos


@pytest.fixture(scope="module")
def learned(mos, clock):
    """The cube, its items by name, and who the adapters place in their city before and after
    one learned fact is deleted and its shard retrained."""
    cube = mos.create_cube("people")
    items = dict(zip((name for name, _ in PEOPLE), cube.add_many(
        [{"text": f"{name} lives in {city}."} for name, city in PEOPLE]), strict=True))
    mos.adapters.distill_shards(cube, 2, LEARN)
    before = _placed(mos, cube)
    assert len(before) >= 2, f"the adapters learned too little to test forgetting: {before}"
    victim = _in_a_shared_shard(mos, cube, items, sorted(before))
    text = items[victim].text
    probes_before = ExtractionProbe(mos, cube, None).run([text])
    cube.delete(items[victim].id)
    clock.advance(seconds=DELAY_S + 1)
    assert mos.scheduler.run_pending() == 1
    after = _placed(mos, cube)
    probes_after = ExtractionProbe(mos, cube, None).run([text])
    return victim, text, before, after, probes_before, probes_after


def _in_a_shared_shard(mos, cube, items: dict, names: list[str]) -> str:
    """The first of ``names`` whose shard holds other notes too (so the retrain trains)."""
    shared = {item_id for adapter in mos.adapters.list(cube.id) if len(adapter.items) > 1
              for item_id in adapter.items}
    return next((name for name in names if items[name].id in shared), names[0])


def _placed(mos, cube) -> set[str]:
    """Who parametric-only chat (no retrieval) places in their own city when asked directly."""
    placed = set()
    for name, city in PEOPLE:
        reply = mos.chat([{"role": "user", "content": f"Where does {name} live?"}],
                         cube_ids=[cube.id], memory_kinds=("parametric",),
                         max_new_tokens=ANSWER_TOKENS)
        if reproduces(reply.text, (city,)):
            placed.add(name)
    return placed


def _parametric_answers(report: dict) -> list[dict]:
    return [answer for result in report["results"] for answer in result["answers"]
            if answer["channel"] == "parametric"]


def test_the_adapters_state_the_fact_before_it_is_deleted(learned):
    victim, _, before, _, probes_before, _ = learned
    assert victim in before
    assert any(answer["reproduced"] for answer in _parametric_answers(probes_before))


def test_after_the_shard_retrain_no_probe_draws_the_deleted_fact_from_the_adapters(learned):
    victim, text, _, after, _, probes_after = learned
    answers = _parametric_answers(probes_after)
    assert victim not in after
    assert len(answers) == len(probes_for(text))  # the question, paraphrases, completions
    assert not any(answer["reproduced"] for answer in answers), answers
    assert not probes_after["reproduced"]  # search and default chat do not state it either


def test_the_facts_kept_are_still_stated_after_the_retrain(learned):
    victim, _, before, after, _, _ = learned
    kept_before = before - {victim}
    assert len(after & kept_before) >= len(kept_before) - 1  # one flip: noise on 135M


def test_parametric_only_chat_attaches_only_the_shard_that_learned_the_nearest_note(mos, learned):
    cube = mos.get_cube(mos.list_cubes()[0].id)
    victim = learned[0]
    name, city = next(person for person in PEOPLE if person[0] != victim)
    reply = mos.chat([{"role": "user", "content": f"Where does {name} live?"}],
                     cube_ids=[cube.id], memory_kinds=("parametric",), max_new_tokens=1)
    note = cube.search(f"{name} lives in {city}.", k=1)[0].item
    (adapter,) = [mos.adapters.get(adapter_id) for adapter_id in reply.adapters]
    assert note.id in adapter.items
    assert any("routed: it learned the note nearest the question" in line
               for line in reply.stats.notes)
    assert any("routed to another shard" in line for line in reply.stats.notes) == \
        (len(mos.adapters.list(cube.id)) > 1)
