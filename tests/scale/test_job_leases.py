"""Jobs under several workers: each job is claimed once; a dead worker's job is taken back."""

from __future__ import annotations

import threading

from memos.scheduler.jobs import JobState, JobStore
from memos.scheduler.leases import LeaseConfig, owner_is_gone
from storage.clock import ManualClock
from storage.database import Database, sqlite_url


def worker_jobs(database_url, home, clock, name: str) -> JobStore:
    """The job store one worker process opens on the shared database."""
    database = Database(database_url or sqlite_url(home))
    database.migrate()
    return JobStore(database, clock, LeaseConfig(f"elsewhere:1:{name}", lease_s=30))


def test_two_workers_claim_every_job_exactly_once(database_url, tmp_path):
    clock = ManualClock()
    workers = [worker_jobs(database_url, tmp_path, clock, name) for name in ("a", "b")]
    queued = {workers[0].enqueue("work").id for _ in range(20)}
    claims: dict[str, list[str]] = {"a": [], "b": []}

    def drain(store: JobStore, name: str) -> None:
        while (claimed := store.claim_next()) is not None:
            claims[name].append(claimed[0].id)
            store.succeed(claimed[0].id)

    threads = [threading.Thread(target=drain, args=(store, name))
               for store, name in zip(workers, claims, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = claims["a"] + claims["b"]
    assert sorted(every) == sorted(queued)  # each job once, none twice
    assert all(workers[1].get(job_id).attempts == 1 for job_id in queued)
    for store in workers:
        store._database.close()


def test_a_dead_workers_job_is_taken_back_after_its_lease(database_url, tmp_path):
    clock = ManualClock()
    dying, survivor = (worker_jobs(database_url, tmp_path, clock, n) for n in ("dying", "ok"))
    job = dying.enqueue("work")
    dying.claim_next()
    clock.advance(seconds=20)
    assert dying.renew_leases() == 1  # the heartbeat keeps it
    clock.advance(seconds=20)
    assert survivor.recover() == 0 and survivor.claim_next() is None
    clock.advance(seconds=31)  # no heartbeat for longer than the lease: the worker is gone
    assert survivor.recover() == 1
    claimed, _ = survivor.claim_next()
    assert claimed.id == job.id and claimed.attempts == 2
    survivor.succeed(job.id)
    assert survivor.get(job.id).state == JobState.SUCCEEDED
    for store in (dying, survivor):
        store._database.close()



def test_a_worker_that_lost_its_lease_records_nothing(database_url, tmp_path):
    clock = ManualClock()
    stalled, survivor = (worker_jobs(database_url, tmp_path, clock, n) for n in ("slow", "ok"))
    job = stalled.enqueue("work")
    first, _ = stalled.claim_next()
    clock.advance(seconds=31)  # the stalled worker misses its heartbeats
    assert survivor.recover() == 1
    second, _ = survivor.claim_next()
    assert stalled.report_progress(job.id, 0.5, {"partial": 1}, attempt=first.attempts)
    stalled.succeed(job.id, {"stale": True}, attempt=first.attempts)  # wakes up, too late
    stalled.fail(job.id, "late failure", 1.0, attempt=first.attempts)
    held = survivor.get(job.id)
    assert held.state == JobState.RUNNING and held.result == {} and held.error is None
    survivor.succeed(job.id, {"fresh": True}, attempt=second.attempts)
    assert survivor.get(job.id).result == {"fresh": True}
    for store in (stalled, survivor):
        store._database.close()

def test_a_worker_process_of_this_host_that_exited_is_gone_at_once():
    import socket
    import subprocess
    import sys

    exited = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                            capture_output=True, text=True, check=True)
    host = socket.gethostname()
    assert owner_is_gone(f"{host}:{exited.stdout.strip()}:x")
    assert not owner_is_gone(LeaseConfig.for_this_process().owner)
    assert not owner_is_gone("another-host:1:x")
