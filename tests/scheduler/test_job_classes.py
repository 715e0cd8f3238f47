"""Upkeep never waits behind training, and time to live holds on read."""

from __future__ import annotations

from memos.scheduler.distill_job import DISTILL_JOB
from memos.scheduler.scheduler import TRAINING_KINDS


def queue_distills(mos, cube_id: str, count: int) -> None:
    for n in range(count):
        mos.scheduler.enqueue(DISTILL_JOB, cube_id, {"item_ids": None, "options": {"steps": n}})


def test_upkeep_is_claimed_before_training_queued_earlier(mos, cube):
    queue_distills(mos, cube.id, 3)
    expire = mos.scheduler.enqueue("expire", cube.id, {"item_ids": []})
    job, _ = mos.scheduler.jobs.claim_next(last_kinds=TRAINING_KINDS)
    assert job.id == expire.id


def test_the_upkeep_lane_never_takes_training(mos, cube):
    queue_distills(mos, cube.id, 2)
    assert mos.scheduler.jobs.claim_next(skip_kinds=TRAINING_KINDS) is None
    archive = mos.scheduler.enqueue("archive", cube.id, {"item_ids": []})
    job, _ = mos.scheduler.jobs.claim_next(skip_kinds=TRAINING_KINDS)
    assert job.id == archive.id


def test_expired_note_is_hidden_from_reads_while_training_is_queued(mos, cube, clock):
    short = cube.add("The door code is 4412 until noon.", ttl_seconds=60)
    kept = cube.add("The office is on the third floor.")
    queue_distills(mos, cube.id, 3)
    clock.advance(seconds=61)
    hits = cube.search("door code", k=5)
    assert short.id not in [hit.item.id for hit in hits]
    assert kept.id in [hit.item.id for hit in mos.search("office floor", [cube.id], k=5)]
    assert cube.get(short.id).state.value == "archived"
    live, _ = cube.list(states=["created", "activated"])
    assert [item.id for item in live] == [kept.id]
    assert mos.scheduler.jobs.list("pending", kind=DISTILL_JOB)[1] == 3  # nothing ran


def test_a_note_within_its_time_to_live_is_returned(mos, cube, clock):
    note = cube.add("The parcel arrives on Friday.", ttl_seconds=60)
    clock.advance(seconds=30)
    assert note.id in [hit.item.id for hit in cube.search("parcel", k=3)]
    assert cube.get(note.id).state.value == "created"
