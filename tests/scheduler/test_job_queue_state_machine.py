"""Stateful property test of the job queue: two workers, leases, retries, cancels, recovery.

Two job stores (two worker processes) share one real SQLite database and one manual clock.
Random enqueues, claims, progress commits, outcomes (succeed, fail, stop), cancels, clock
advances, heartbeats and recoveries run against a plain model of the queue; after every step
each job's state, attempts and holder match the model. A worker keeps reporting on jobs it
believes it holds even after its lease was taken back: those outcomes must change nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from memos.errors import Conflict
from memos.scheduler.jobs import JobState, JobStore
from memos.scheduler.leases import LeaseConfig
from storage.clock import ManualClock
from storage.database import Database, sqlite_url

LEASE_S = 30.0
BACKOFF_S = 1.0
WORKERS = ("a", "b")
HELD = (JobState.RUNNING, JobState.CANCELLING)


@dataclass(slots=True)
class ModelJob:
    """What the queue should hold for one job."""

    state: JobState
    attempts: int
    max_attempts: int
    run_after: datetime
    owner: str | None = None
    lease_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's belief that it runs a job: the attempt it claimed."""

    worker: str
    job_id: str
    attempt: int


class JobQueueMachine(RuleBasedStateMachine):
    """Drives two JobStores over one database against a model of the queue."""

    claims = Bundle("claims")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="job-queue-"))
        self.clock = ManualClock()
        self.databases = {name: Database(sqlite_url(self.folder)) for name in WORKERS}
        self.databases["a"].migrate()
        self.stores = {name: JobStore(self.databases[name], self.clock,
                                      LeaseConfig(f"elsewhere:1:{name}", lease_s=LEASE_S))
                       for name in WORKERS}
        self.model: dict[str, ModelJob] = {}

    def teardown(self) -> None:
        for database in self.databases.values():
            database.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(max_attempts=st.integers(1, 3))
    def enqueue(self, max_attempts: int) -> None:
        job = self.stores["a"].enqueue("work", max_attempts=max_attempts)
        self.model[job.id] = ModelJob(JobState.PENDING, 0, max_attempts, self.clock.now())

    @rule(target=claims, worker=st.sampled_from(WORKERS))
    def claim(self, worker: str):
        due = {job_id for job_id, job in self.model.items()
               if job.state == JobState.PENDING and job.run_after <= self.clock.now()}
        claimed = self.stores[worker].claim_next()
        if not due:
            assert claimed is None
            return Claim(worker, "", 0)
        assert claimed is not None and claimed[0].id in due
        job = self.model[claimed[0].id]
        job.state, job.attempts, job.owner = JobState.RUNNING, job.attempts + 1, worker
        job.lease_until = self.clock.now() + timedelta(seconds=LEASE_S)
        assert claimed[0].attempts == job.attempts
        return Claim(worker, claimed[0].id, job.attempts)

    @rule(claim=claims, outcome=st.sampled_from(["succeed", "fail", "stop"]))
    def finish(self, claim: Claim, outcome: str) -> None:
        if not claim.job_id:
            return
        store = self.stores[claim.worker]
        if outcome == "succeed":
            store.succeed(claim.job_id, {"done": True}, attempt=claim.attempt)
        elif outcome == "fail":
            store.fail(claim.job_id, "boom", BACKOFF_S, attempt=claim.attempt)
        else:
            store.stopped(claim.job_id, attempt=claim.attempt)
        if self._holds(claim):
            self._apply(self.model[claim.job_id], outcome)

    @rule(claim=claims, fraction=st.floats(0, 1))
    def progress(self, claim: Claim, fraction: float) -> None:
        if not claim.job_id:
            return
        stop = self.stores[claim.worker].report_progress(claim.job_id, fraction,
                                                         attempt=claim.attempt)
        job = self.model[claim.job_id]
        if self._holds(claim):
            job.lease_until = self.clock.now() + timedelta(seconds=LEASE_S)
            assert stop == (job.state == JobState.CANCELLING)
        else:
            assert stop  # a worker that lost the job is told to stop

    @rule(data=st.data())
    def cancel(self, data) -> None:
        if not self.model:
            return
        job_id = data.draw(st.sampled_from(sorted(self.model)))
        job = self.model[job_id]
        try:
            self.stores["b"].cancel(job_id)
        except Conflict:
            assert job.state in (JobState.SUCCEEDED, JobState.FAILED)
            return
        assert job.state not in (JobState.SUCCEEDED, JobState.FAILED)
        if job.state == JobState.PENDING:
            job.state = JobState.CANCELLED
        elif job.state == JobState.RUNNING:
            job.state = JobState.CANCELLING

    @rule(seconds=st.sampled_from([1, 5, 20, 31]))
    def advance(self, seconds: int) -> None:
        self.clock.advance(seconds=seconds)

    @rule(worker=st.sampled_from(WORKERS))
    def heartbeat(self, worker: str) -> None:
        renewed = self.stores[worker].renew_leases()
        mine = [job for job in self.model.values() if job.owner == worker and job.state in HELD]
        assert renewed == len(mine)
        for job in mine:
            job.lease_until = self.clock.now() + timedelta(seconds=LEASE_S)

    @rule(worker=st.sampled_from(WORKERS))
    def recover(self, worker: str) -> None:
        now = self.clock.now()
        orphans = [job for job in self.model.values() if job.state in HELD
                   and job.owner != worker and job.lease_until < now]
        resumed = self.stores[worker].recover()
        assert resumed == sum(job.state == JobState.RUNNING for job in orphans)
        for job in orphans:
            if job.state == JobState.RUNNING:
                job.state, job.run_after, job.owner, job.lease_until = (
                    JobState.PENDING, now, None, None)
            else:
                job.state = JobState.CANCELLED

    @invariant()
    def queue_matches_the_model(self) -> None:
        for job_id, expected in self.model.items():
            job = self.stores["b"].get(job_id)
            assert (job.state, job.attempts) == (expected.state, expected.attempts), job_id
            assert job.attempts <= job.max_attempts
            if expected.state == JobState.SUCCEEDED:
                assert job.result == {"done": True} and job.progress == 1.0

    def _holds(self, claim: Claim) -> bool:
        job = self.model[claim.job_id]
        return job.state in HELD and job.owner == claim.worker and job.attempts == claim.attempt

    def _apply(self, job: ModelJob, outcome: str) -> None:
        now = self.clock.now()
        if outcome == "succeed":
            job.state = JobState.SUCCEEDED
        elif job.state == JobState.CANCELLING:
            job.state = JobState.CANCELLED
        elif outcome == "stop":  # a shutdown: pending again, the attempt does not count
            job.state, job.attempts, job.run_after = JobState.PENDING, job.attempts - 1, now
        elif job.attempts >= job.max_attempts:
            job.state = JobState.FAILED
        else:
            job.state = JobState.PENDING
            job.run_after = now + timedelta(seconds=BACKOFF_S * 2 ** job.attempts)


def test_job_queue_under_random_operations_of_two_workers():
    run_state_machine_as_test(JobQueueMachine, settings=settings(
        max_examples=40, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
