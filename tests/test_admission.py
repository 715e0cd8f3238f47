"""The fair queue: slots go round-robin across users; bounded queues refuse at once."""

from __future__ import annotations

import pytest

from memos.admission import AdmissionLimits, FairQueue
from storage.errors import Overloaded, TooManyRequests


def test_a_freed_slot_goes_to_the_next_user_in_turn_not_the_oldest_request():
    queue = FairQueue(AdmissionLimits(max_running=1, max_queued_per_user=10, max_queued=20))
    running = queue.request("heavy").result()
    waiting = [("heavy", queue.request("heavy")) for _ in range(5)]
    waiting.append(("light", queue.request("light")))
    order = []
    while waiting:
        queue.release(running)
        user, future = next((u, f) for u, f in waiting if f.done())
        waiting.remove((user, future))
        order.append(user)
        running = future.result()
    assert order == ["heavy", "light", "heavy", "heavy", "heavy", "heavy"]


def test_queues_refuse_past_their_bounds_naming_the_limit():
    queue = FairQueue(AdmissionLimits(max_running=1, max_queued_per_user=1, max_queued=2,
                                      retry_after_s=3))
    queue.request("ann")
    queue.request("ann")
    with pytest.raises(TooManyRequests, match="the limit is 1") as per_user:
        queue.request("ann")
    queue.request("bea")
    with pytest.raises(Overloaded) as overall:
        queue.request("cid")
    assert per_user.value.retry_after_s == overall.value.retry_after_s == 3
    assert queue.stats()["refused_total"] == 2


def test_a_waiter_that_withdraws_frees_its_place():
    queue = FairQueue(AdmissionLimits(max_running=1, max_queued_per_user=1, max_queued=1))
    first = queue.request("ann").result()
    gone = queue.request("bea")
    queue.withdraw(gone)
    assert gone.cancelled() and queue.stats()["queued"] == 0
    later = queue.request("cid")
    queue.release(first)
    assert later.done() and queue.stats()["running_by_user"] == {"cid": 1}


def test_a_freed_slot_goes_first_to_a_user_with_nothing_running():
    queue = FairQueue(AdmissionLimits(max_running=2, max_queued_per_user=10, max_queued=20))
    heavy_slots = [queue.request("heavy").result(), queue.request("heavy").result()]
    heavy_waiting = queue.request("heavy")
    light_waiting = queue.request("light")
    queue.release(heavy_slots[0])
    assert light_waiting.done() and not heavy_waiting.done()
