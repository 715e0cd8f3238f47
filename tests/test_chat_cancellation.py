"""Chat decoding can be cancelled and is bounded in time; an adapter never holds the model."""

from __future__ import annotations

import threading
import time

import pytest

from memos.engine import GenerationConfig
from memos.kernel import MemOS
from memos.parametric import DistillConfig
from memos.settings import Settings

COUNT = [{"role": "user", "content": "Count from 1 to 500, separated by commas."}]


@pytest.fixture(scope="module")
def mos(engine, embedder, tmp_path_factory):
    home = tmp_path_factory.mktemp("cancel-home")
    with MemOS(settings=Settings(home=home), engine=engine, embedder=embedder) as mos:
        yield mos


def wait_for_tokens(engine, since: int, count: int) -> None:
    end = time.monotonic() + 300
    while engine.counters.tokens_generated - since < count:
        assert time.monotonic() < end, "decoding never started"
        time.sleep(0.01)


def test_setting_cancel_stops_a_chat_and_stores_nothing(mos, engine):
    cube = mos.create_cube("cancel-me")
    cancel = threading.Event()
    before = engine.counters.tokens_generated
    parts = mos.chat_stream(COUNT, [cube.id], cancel=cancel, max_new_tokens=400, write_back=True)
    next(parts)
    cancel.set()
    reply = list(parts)[-1]
    assert reply.finish_reason == "cancelled"
    assert engine.counters.tokens_generated - before < 400
    assert cube.list()[1] == 0  # a cancelled turn is not written back


def test_a_reply_is_bounded_in_time(mos):
    reply = mos.chat(COUNT, [], max_new_tokens=400, max_seconds=0.01)
    assert reply.finish_reason == "time"
    assert reply.stats.completion_tokens < 400


def test_an_adapter_chat_does_not_hold_the_model_for_its_whole_reply(mos, engine):
    cube = mos.create_cube("adapted")
    cube.add("Zorblat the heron lives in the old mill by the river.")
    mos.distill(cube.id, config=DistillConfig(steps=1, rank=2, target_modules=("q_proj",),
                                              replay=2))
    base_before = engine.generate(COUNT, GenerationConfig(max_new_tokens=3)).text
    cancel = threading.Event()
    before = engine.counters.tokens_generated
    replies = []
    adapted = threading.Thread(target=lambda: replies.append(mos.chat(
        COUNT, [cube.id], cancel=cancel, max_new_tokens=400, memory_kinds=("parametric",))))
    adapted.start()
    wait_for_tokens(engine, before, 3)
    base_during = engine.generate(COUNT, GenerationConfig(max_new_tokens=3)).text
    cancel.set()  # the short base generation finished while the adapter chat still ran
    adapted.join()
    assert replies[0].finish_reason == "cancelled"
    assert replies[0].adapters
    assert base_during == base_before  # and it never saw the adapter
