"""Policies under a manual clock: expire, archive, merge, settings, dedupe and frozen items."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from memcube.lifecycle import State
from memcube.retrieval_log import RetrievalLog
from memos.scheduler import JobState, PolicySettings
from memos.scheduler.settings import ArchiveSettings


def run_policies(mos) -> list:
    """One tick, then every job it queued; returns the cube policies' jobs as they ended."""
    jobs = [job for job in mos.scheduler.tick() if job.cube_id is not None]
    mos.scheduler.run_pending()
    return [mos.scheduler.jobs.get(job.id) for job in jobs]


def last_change(cube, item_id):
    return cube.history(item_id)[-1]


def test_expire_archives_items_past_their_ttl(mos, cube, clock):
    short = cube.add("The parking code is 4711 until noon.", ttl_seconds=60)
    long = cube.add("The office wifi password is swordfish.", ttl_seconds=3600)
    forever = cube.add("Alice moved to Lisbon in May 2023.")
    clock.advance(seconds=61)
    jobs = run_policies(mos)
    assert [(job.kind, job.state, job.result) for job in jobs] == \
        [("expire", JobState.SUCCEEDED, {"archived": 1})]
    assert cube.get(short.id).state == State.ARCHIVED
    assert cube.get(long.id).state == cube.get(forever.id).state == State.CREATED
    change = last_change(cube, short.id)
    assert (change.event, change.actor, change.reason) == ("archived", "scheduler",
                                                           "policy:expire")


def test_archive_archives_items_idle_longer_than_the_cube_allows(mos, clock):
    cube = mos.create_cube("idle", settings={"policies": {"archive": {"idle_s": 3600}}})
    read = cube.add("Bob adopted a grey cat named Pixel.")
    unread = cube.add("The meeting with Carol is on Friday at 10am.")
    clock.advance(minutes=50)
    cube.get(read.id)  # an access resets the idle time
    clock.advance(minutes=20)
    run_policies(mos)
    assert cube.get(unread.id).state == State.ARCHIVED
    assert cube.get(read.id).state == State.CREATED
    assert last_change(cube, unread.id).reason == "policy:archive"


def test_archive_job_skips_items_used_after_it_was_planned(mos, clock):
    cube = mos.create_cube("idle", settings={"policies": {"archive": {"idle_s": 3600}}})
    item = cube.add("Bob adopted a grey cat named Pixel.")
    clock.advance(hours=2)
    job = mos.scheduler.tick()[0]
    cube.get(item.id)  # read between planning and running
    mos.scheduler.run_pending()
    assert mos.scheduler.jobs.get(job.id).result == {"archived": 0}
    assert cube.get(item.id).state == State.CREATED


def test_frozen_items_are_never_archived(mos, clock):
    cube = mos.create_cube("pins", settings={"policies": {"archive": {"idle_s": 60}}})
    pinned = cube.add("The parking code is 4711.", ttl_seconds=1)
    idle = cube.add("Alice moved to Lisbon in May 2023.")
    cube.freeze(pinned.id)
    cube.freeze(idle.id)
    clock.advance(days=400)
    assert run_policies(mos) == []
    assert cube.get(pinned.id).state == cube.get(idle.id).state == State.FROZEN
    assert all(entry.actor != "scheduler" for entry in cube.history(pinned.id))


def test_frozen_duplicate_is_never_merged_but_may_survive(mos, cube):
    copy = cube.add("Alice moved to Lisbon in May, 2023.")
    pinned = cube.add("Alice moved to Lisbon in May 2023.", force=True)
    cube.freeze(pinned.id)
    run_policies(mos)
    assert cube.get(pinned.id).state == State.FROZEN
    assert (cube.get(copy.id).state, cube.get(copy.id).merged_into) == (State.MERGED, pinned.id)


def test_merge_folds_near_duplicates_into_one_survivor(mos, cube):
    first = cube.add("Alice moved to Lisbon in May 2023.")
    copies = [cube.add(text, force=True) for text in
              ("Alice moved to Lisbon in May, 2023.", "Alice relocated to Lisbon in May 2023.")]
    other = cube.add("Bob adopted a grey cat named Pixel.")
    jobs = run_policies(mos)
    assert [job.result for job in jobs if job.kind == "merge"] == [{"merged": 2}]
    for copy in copies:
        merged = cube.get(copy.id)
        assert (merged.state, merged.merged_into) == (State.MERGED, first.id)
        assert last_change(cube, copy.id).reason == "policy:merge"
    assert cube.get(first.id).state == cube.get(other.id).state == State.CREATED
    assert [hit.item.id for hit in cube.search("Where did Alice move?", k=2)][0] == first.id
    assert run_policies(mos) == []  # nothing left to merge


def test_merge_threshold_is_a_cube_setting(mos):
    cube = mos.create_cube("strict", settings={"policies": {"merge": {"threshold": 0.999}}})
    cube.add("Alice moved to Lisbon in May 2023.")
    cube.add("Alice relocated to Lisbon in May 2023.", force=True)
    run_policies(mos)
    assert cube.stats()["items_by_state"] == {"created": 2}


def test_policy_disabled_for_a_cube_does_nothing(mos, clock):
    cube = mos.create_cube("keep", settings={"policies": {"expire": {"enabled": False},
                                                          "merge": {"enabled": False}}})
    item = cube.add("The parking code is 4711.", ttl_seconds=1)
    cube.add("The parking code is 4711!", force=True)
    clock.advance(seconds=10)
    assert run_policies(mos) == []
    assert cube.get(item.id).state == State.CREATED


def test_tick_does_not_queue_a_policy_twice_for_a_cube(mos, cube, clock):
    cube.add("The parking code is 4711.", ttl_seconds=1)
    clock.advance(seconds=10)
    first, second = mos.scheduler.tick(), mos.scheduler.tick()
    assert [job.id for job in first] == [job.id for job in second]
    assert mos.scheduler.jobs.list(cube_id=cube.id)[1] == 1


def test_search_retrievals_are_counted_within_a_window(mos, cube, clock):
    hot = cube.add("Alice moved to Lisbon in May 2023.")
    cube.add("Bob adopted a grey cat named Pixel.")
    for _ in range(3):
        cube.search("Where does Alice live?", k=1)
        clock.advance(hours=1)
    since = clock.now() - timedelta(hours=2, minutes=30)
    log = RetrievalLog(mos.database)
    assert log.hot_items(cube.id, since, 2, ("created",)) == [hot.id]
    assert log.hot_items(cube.id, since, 3, ("created",)) == []


def test_policy_settings_read_from_cube_settings_over_defaults():
    settings = PolicySettings.from_cube_settings({"policies": {"archive": {"idle_s": 60}}})
    assert settings.archive == ArchiveSettings(enabled=True, idle_s=60)
    assert settings.merge.threshold == 0.95 and settings.expire.enabled
    assert PolicySettings.from_cube_settings({}) == PolicySettings()
    for bad in ({"policies": {"shred": {}}}, {"policies": {"merge": {"threshold": 2}}},
                {"policies": {"archive": {"idle_days": 3}}}, {"policies": []}):
        with pytest.raises(ValueError):
            PolicySettings.from_cube_settings(bad)


def test_cube_with_bad_policy_settings_is_skipped_not_fatal(mos, clock):
    broken = mos.create_cube("broken", settings={"policies": {"merge": {"threshold": 7}}})
    fine = mos.create_cube("fine")
    kept = broken.add("The parking code is 4711.", ttl_seconds=1)
    gone = fine.add("The parking code is 4711.", ttl_seconds=1)
    clock.advance(seconds=10)
    run_policies(mos)
    assert mos.scheduler.jobs.list(cube_id=broken.id)[1] == 0  # no job planned for it
    assert fine.get(gone.id).state == State.ARCHIVED
    assert broken.get(kept.id).state == State.ARCHIVED  # its TTL still holds on read


def test_started_scheduler_ticks_and_runs_jobs_on_its_threads(mos, cube, clock):
    item = cube.add("The parking code is 4711 until noon.", ttl_seconds=60)
    clock.advance(seconds=61)
    mos.scheduler.start(workers=2)  # ticks at once, then every tick_interval_s
    deadline = time.monotonic() + 60
    while cube.get(item.id).state != State.ARCHIVED and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    assert mos.scheduler.stop()
    assert cube.get(item.id).state == State.ARCHIVED
    assert not mos.scheduler.running
