"""Jobs: retries with backoff, final failure, cancellation, dedupe, listing and recovery."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from memos.scheduler import JobState, JobStore, Scheduler, SchedulerConfig
from memos.scheduler.workers import JobContext
from storage.errors import Cancelled, Conflict, InvalidInput, NotFound


@pytest.fixture
def scheduler(mos, clock) -> Scheduler:
    """A scheduler with no policies: the tests register their own job kinds."""
    return Scheduler(mos.scheduler.memories, JobStore(mos.database, clock), policies=[],
                     config=SchedulerConfig(backoff_base_s=10.0, max_attempts=3))


class FlakyHandler:
    """Fails the first ``failures`` attempts, then returns a result."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, ctx: JobContext) -> dict:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"boom {self.calls}")
        return {"calls": self.calls}


def test_failing_job_retries_with_exponential_backoff_then_succeeds(scheduler, clock):
    handler = FlakyHandler(failures=2)
    scheduler.register("flaky", handler)
    job = scheduler.enqueue("flaky")
    assert scheduler.run_pending() == 1
    job = scheduler.jobs.get(job.id)
    assert (job.state, job.attempts, job.error) == (JobState.PENDING, 1, "RuntimeError: boom 1")
    assert job.run_after == clock.now() + timedelta(seconds=10.0 * 2**1)
    assert scheduler.run_pending() == 0  # not due yet
    clock.advance(seconds=20)
    scheduler.run_pending()
    job = scheduler.jobs.get(job.id)
    assert job.attempts == 2 and job.run_after == clock.now() + timedelta(seconds=10.0 * 2**2)
    clock.advance(seconds=40)
    scheduler.run_pending()
    job = scheduler.jobs.get(job.id)
    assert (job.state, job.attempts, job.error) == (JobState.SUCCEEDED, 3, None)
    assert job.result == {"calls": 3} and job.progress == 1.0


def test_job_that_always_fails_ends_failed_with_its_error(scheduler, clock):
    scheduler.register("broken", FlakyHandler(failures=99))
    job = scheduler.enqueue("broken")
    for _ in range(5):
        scheduler.run_pending()
        clock.advance(hours=1)
    job = scheduler.jobs.get(job.id)
    assert job.state == JobState.FAILED
    assert job.attempts == job.max_attempts == 3
    assert job.error == "RuntimeError: boom 3"


def test_job_of_unknown_kind_fails_without_retrying(scheduler):
    job = scheduler.enqueue("nobody-handles-this")
    scheduler.run_pending()
    job = scheduler.jobs.get(job.id)
    assert job.state == JobState.FAILED and job.attempts == 1
    assert "no handler" in job.error


def test_cancel_pending_job_cancels_it_at_once(scheduler):
    ran = []
    scheduler.register("noop", lambda ctx: ran.append(ctx.job.id))
    job = scheduler.enqueue("noop")
    assert scheduler.jobs.cancel(job.id).state == JobState.CANCELLED
    assert scheduler.run_pending() == 0 and ran == []
    assert scheduler.jobs.cancel(job.id).state == JobState.CANCELLED  # idempotent


def test_cancel_running_job_is_seen_by_its_handler(scheduler):
    steps = []

    def stepper(ctx: JobContext) -> dict:
        for step in range(10):
            ctx.check_cancelled()
            steps.append(step)
            if step == 2:  # as if the API cancelled it now, from another thread
                assert scheduler.jobs.cancel(ctx.job.id).state == JobState.CANCELLING
            ctx.progress((step + 1) / 10)
        return {}

    scheduler.register("stepper", stepper)
    job = scheduler.enqueue("stepper")
    scheduler.run_pending()
    job = scheduler.jobs.get(job.id)
    assert job.state == JobState.CANCELLED and steps == [0, 1, 2]
    assert job.progress == pytest.approx(0.3)


def test_cancel_reaches_a_handler_on_a_worker_thread(scheduler):
    started, saw_cancel = threading.Event(), threading.Event()

    def waiter(ctx: JobContext) -> dict:
        started.set()
        if ctx.cancel.wait(timeout=30):
            saw_cancel.set()
        ctx.check_cancelled()
        return {"finished": True}

    scheduler.register("waiter", waiter)
    scheduler.start(workers=1)
    job = scheduler.enqueue("waiter")
    assert started.wait(timeout=30)
    scheduler.jobs.cancel(job.id)
    assert saw_cancel.wait(timeout=30)
    assert scheduler.stop()
    assert scheduler.jobs.get(job.id).state == JobState.CANCELLED


def test_cancel_finished_job_is_a_conflict(scheduler):
    scheduler.register("noop", lambda ctx: None)
    job = scheduler.enqueue("noop")
    scheduler.run_pending()
    with pytest.raises(Conflict):
        scheduler.jobs.cancel(job.id)
    with pytest.raises(NotFound):
        scheduler.jobs.cancel("missing")


def test_stopping_the_service_puts_a_running_job_back_without_using_an_attempt(scheduler):
    started = threading.Event()

    def waiter(ctx: JobContext) -> dict:
        started.set()
        ctx.cancel.wait(timeout=30)
        ctx.check_cancelled()
        return {}

    scheduler.register("waiter", waiter)
    scheduler.start(workers=1)
    job = scheduler.enqueue("waiter")
    assert started.wait(timeout=30)
    assert scheduler.stop(timeout_s=300)  # a loaded machine may take a while to wind down
    job = scheduler.jobs.get(job.id)
    assert (job.state, job.attempts) == (JobState.PENDING, 0)


def test_job_left_running_by_a_dead_process_resumes(mos, clock, scheduler):
    scheduler.enqueue("work")
    job, _ = scheduler.jobs.claim_next()  # claimed, then the process "dies"
    restarted = Scheduler(mos.scheduler.memories, JobStore(mos.database, clock), policies=[])
    restarted.register("work", lambda ctx: {"resumed": True})
    assert restarted.jobs.recover() == 0  # its lease still runs: the worker may be alive
    clock.advance(seconds=scheduler.jobs.lease.lease_s + 1)  # no heartbeat came
    assert restarted.run_pending() == 1
    job = restarted.jobs.get(job.id)
    assert job.state == JobState.SUCCEEDED and job.result == {"resumed": True}


def test_same_dedupe_key_enqueues_one_active_job(scheduler):
    scheduler.register("noop", lambda ctx: None)
    first = scheduler.enqueue("noop", dedupe_key="k")
    assert scheduler.enqueue("noop", dedupe_key="k").id == first.id
    scheduler.run_pending()
    assert scheduler.enqueue("noop", dedupe_key="k").id != first.id  # the first one finished


def test_progress_and_partial_results_are_committed(scheduler):
    seen = {}

    def reporter(ctx: JobContext) -> dict:
        ctx.progress(0.5, done=5)
        seen["mid"] = scheduler.jobs.get(ctx.job.id)
        return {"total": 10}

    scheduler.register("reporter", reporter)
    job = scheduler.enqueue("reporter")
    scheduler.run_pending()
    assert (seen["mid"].state, seen["mid"].progress, seen["mid"].result) == \
        (JobState.RUNNING, 0.5, {"done": 5})
    assert scheduler.jobs.get(job.id).result == {"done": 5, "total": 10}


def test_jobs_list_filters_and_pages(scheduler, cube, clock):
    for n in range(3):
        scheduler.enqueue("a", cube.id, {"n": n})
        clock.advance(seconds=1)
    scheduler.enqueue("b")
    jobs, total = scheduler.jobs.list(kind="a", limit=2)
    assert total == 3 and [job.payload["n"] for job in jobs] == [2, 1]
    assert scheduler.jobs.list(cube_id=cube.id, offset=2)[0][0].payload == {"n": 0}
    assert scheduler.jobs.list(state="pending")[1] == 4
    assert scheduler.jobs.list(state="failed")[1] == 0
    with pytest.raises(InvalidInput):
        scheduler.jobs.list(state="sleeping")
    assert scheduler.jobs.get(jobs[0].id).to_dict()["state"] == "pending"


def test_handler_raising_cancelled_unasked_counts_as_a_failure(scheduler):
    def refuses(ctx: JobContext) -> dict:
        raise Cancelled("gave up on its own")

    scheduler.register("refuses", refuses)
    job = scheduler.enqueue("refuses")
    scheduler.run_pending()
    job = scheduler.jobs.get(job.id)
    assert (job.state, job.attempts, job.error) == \
        (JobState.PENDING, 1, "Cancelled: gave up on its own")
