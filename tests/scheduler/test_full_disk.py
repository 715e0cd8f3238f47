"""Jobs on a full disk: they fail with the reason, their outcome waits for room, they retry."""

from __future__ import annotations

import uuid

from small_disk import fill_to_the_last_byte, mounted_tmpfs

from memos.kernel import MemOS
from memos.scheduler import JobState, JobStore, Scheduler, SchedulerConfig


def test_job_hitting_a_full_disk_fails_with_its_reason_and_retries_once_there_is_room(
        tmp_path, embedder, clock):
    with mounted_tmpfs(tmp_path / "small-disk", "8m") as disk:
        mos = MemOS(disk / "home", embedder=embedder, clock=clock)
        scheduler = Scheduler(mos.scheduler.memories, JobStore(mos.database, clock), policies=[],
                              config=SchedulerConfig(backoff_base_s=10.0, max_attempts=3))
        filler = []

        def writes_until_refused(ctx) -> dict:
            if not filler:
                filler.append(fill_to_the_last_byte(disk))
                while True:  # SQLite may still fit a few rows into pages it already holds
                    mos.create_cube(f"cube-{uuid.uuid4().hex[:8]}", owner="alice")
            return {"written": True}

        scheduler.register("writer", writes_until_refused)
        job = scheduler.enqueue("writer")
        scheduler.run_pending()  # the handler and then the recording of its failure hit the disk
        filler[0].unlink()
        scheduler.run_pending()  # the held outcome is recorded now
        job = scheduler.jobs.get(job.id)
        assert (job.state, job.attempts) == (JobState.PENDING, 1)
        assert job.error.startswith("StorageFull: the write could not be stored")
        clock.advance(seconds=20)
        scheduler.run_pending()
        assert scheduler.jobs.get(job.id).state == JobState.SUCCEEDED
        mos.close()
