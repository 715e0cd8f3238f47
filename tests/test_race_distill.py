"""A distillation that races a delete or an edit: no adapter's files outlive a failed record,
and an adapter that learned a note changed while it trained is stale from the start, with a
forget retrain queued for it (the note's own forget ran before the adapter was recorded)."""

from __future__ import annotations

import pytest

from memos.kernel import MemOS
from memos.parametric import DistillConfig
from memos.scheduler.forget_retrain import FORGET_RETRAIN_JOB
from memos.settings import Settings
from storage.errors import NotFound

ONE_STEP = DistillConfig(steps=1, replay=0, rank=2, target_modules=("down_proj",), batch_size=2)
FACTS = ["Brelo Vantik lives in Lisbon.", "Dorma Selquin lives in Oslo."]


@pytest.fixture
def mos(tmp_path, engine, embedder):
    settings = Settings(adapter_check_questions=0, workers=0)
    with MemOS(home=tmp_path / "home", settings=settings, engine=engine,
               embedder=embedder) as mos:
        yield mos


def while_training(action):
    """A progress callback that runs ``action`` once, mid-training."""
    pending = [action]
    return lambda *_: pending and pending.pop()()


def test_a_cube_deleted_while_its_adapter_trains_leaves_no_adapter_files(mos):
    cube = mos.create_cube("people")
    cube.add_many([{"text": fact} for fact in FACTS])

    with pytest.raises(NotFound):
        mos.adapters.distill(cube, config=ONE_STEP,
                             progress=while_training(lambda: mos.delete_cube(cube.id)))

    assert mos.adapters.store.list_ids() == []


def test_a_note_deleted_while_it_trains_queues_a_forget_retrain(mos):
    cube = mos.create_cube("people")
    victim, _ = cube.add_many([{"text": fact} for fact in FACTS])

    adapter = mos.adapters.distill(cube, config=ONE_STEP,
                                   progress=while_training(lambda: cube.delete(victim.id)))

    assert adapter.stale
    jobs, _ = mos.scheduler.jobs.list(kind=FORGET_RETRAIN_JOB, cube_id=cube.id)
    assert [job.payload["adapters"] for job in jobs] == [[adapter.id]]


def test_a_note_edited_while_it_trains_leaves_the_adapter_stale(mos):
    cube = mos.create_cube("people")
    victim, _ = cube.add_many([{"text": fact} for fact in FACTS])
    correct = while_training(lambda: cube.update(victim.id, text="Brelo Vantik lives in Bergen."))

    adapter = mos.adapters.distill(cube, config=ONE_STEP, progress=correct)

    assert adapter.stale
    assert adapter.items[victim.id] == victim.version  # the version it learned
