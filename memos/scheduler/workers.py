"""Running jobs: the context a handler gets, one job's run with retries, and worker threads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from memos.scheduler.jobs import Job, JobStore
from memos.scheduler.memories import Memories
from storage.errors import Cancelled, StorageFull

logger = logging.getLogger(__name__)

ACTOR = "scheduler"


class JobContext:
    """What a handler gets: its job, the memories it works on, progress commits and the
    cancel flag."""

    def __init__(self, job: Job, jobs: JobStore, cancel: threading.Event,
                 memories: Memories) -> None:
        self.job = job
        self.memories = memories
        self.cancel = cancel
        self._jobs = jobs

    def now(self) -> datetime:
        """The scheduler's clock (a manual one in tests)."""
        return self.memories.clock.now()

    @property
    def actor(self) -> str:
        """Who history records as having made the change."""
        return ACTOR

    @property
    def reason(self) -> str:
        """Why, as history records it: the policy (job kind) that caused the change."""
        return f"policy:{self.job.kind}"

    @property
    def cancelled(self) -> bool:
        """Whether the job was cancelled or the service is stopping."""
        return self.cancel.is_set()

    def check_cancelled(self) -> None:
        """Raise Cancelled when the handler should stop now."""
        if self.cancel.is_set():
            raise Cancelled(f"job {self.job.id} was stopped")

    def progress(self, fraction: float, **result) -> None:
        """Commit progress (0..1) and partial results; also picks up a cancel from elsewhere."""
        self._jobs.report_progress(self.job.id, fraction, result or None,
                                  attempt=self.job.attempts)

    def step_progress(self, step: int, total: int, *_details) -> None:
        """Progress as ``(step, total, ...)``, the shape training loops report."""
        self.progress(step / total if total else 1.0)


Handler = Callable[[JobContext], dict | None]


class JobRunner:
    """Runs claimed jobs through their handlers and records how each attempt ended."""

    def __init__(self, jobs: JobStore, handlers: Mapping[str, Handler], memories: Memories,
                 backoff_base_s: float, training_kinds: Collection[str] = ()) -> None:
        self._jobs = jobs
        self._training_kinds = tuple(training_kinds)
        self._handlers = handlers
        self._memories = memories
        self._backoff_base_s = backoff_base_s
        self._held: list[Callable[[], Job]] = []  # outcomes a full disk refused to record
        self._held_lock = threading.Lock()

    def run_next_upkeep(self) -> Job | None:
        """Claim and run one due job that is not training; None when none is due."""
        return self.run_next(skip_kinds=self._training_kinds)

    def run_next(self, skip_kinds: Collection[str] = ()) -> Job | None:
        """Claim and run one due job (upkeep before training); None when nothing is due (or
        the outcomes of earlier jobs still cannot be recorded)."""
        if not self._record_held_outcomes():
            return None
        claimed = self._jobs.claim_next(skip_kinds, last_kinds=self._training_kinds)
        if claimed is None:
            return None
        return self.run(*claimed)

    def run(self, job: Job, cancel: threading.Event) -> Job:
        """Run one claimed job; returns it as it ended."""
        handler = self._handlers.get(job.kind)
        if handler is None:
            return self._jobs.fail(job.id, f"no handler for job kind {job.kind!r}",
                                   self._backoff_base_s, retry=False, attempt=job.attempts)
        try:
            result = handler(JobContext(job, self._jobs, cancel, self._memories))
        except Cancelled as error:
            if cancel.is_set():  # asked to stop: by a cancel, or by the service shutting down
                return self._jobs.stopped(job.id, attempt=job.attempts)
            return self._failed(job, error)
        except Exception as error:  # recorded on the job and retried, never swallowed
            return self._failed(job, error)
        return self._recorded(
            job, lambda: self._jobs.succeed(job.id, result, attempt=job.attempts))

    def _failed(self, job: Job, error: Exception) -> Job:
        logger.warning("job %s (%s) failed on attempt %d", job.id, job.kind, job.attempts,
                       exc_info=error)
        reason = f"{type(error).__name__}: {error}"
        return self._recorded(job, lambda: self._jobs.fail(job.id, reason, self._backoff_base_s,
                                                          attempt=job.attempts))

    def _recorded(self, job: Job, record: Callable[[], Job]) -> Job:
        """Record a job's outcome; on a full disk hold it and record it at a later run."""
        try:
            return record()
        except StorageFull:
            logger.warning("job %s: outcome held until the disk has room", job.id)
            with self._held_lock:
                self._held.append(record)
            return job

    def _record_held_outcomes(self) -> bool:
        """Record held outcomes, oldest first; False while the disk still refuses them."""
        with self._held_lock:
            while self._held:
                try:
                    self._held[0]()
                except StorageFull:
                    return False
                self._held.pop(0)
            return True


class WorkerPool:
    """Threads that run due jobs, one that runs only upkeep (so training never holds it up),
    and one that ticks the policies, until stopped."""

    def __init__(self, run_next: Callable[[], Job | None], tick: Callable[[], object],
                 poll_interval_s: float, tick_interval_s: float,
                 run_next_upkeep: Callable[[], Job | None] | None = None) -> None:
        self._run_next = run_next
        self._run_next_upkeep = run_next_upkeep
        self._tick = tick
        self._poll_interval_s = poll_interval_s
        self._tick_interval_s = tick_interval_s
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, workers: int) -> None:
        """Start ``workers`` job threads, the upkeep thread and the ticking thread."""
        self._threads = [threading.Thread(target=self._work, args=(self._run_next,),
                                          name=f"memos-worker-{n}", daemon=True)
                         for n in range(workers)]
        if self._run_next_upkeep is not None:
            self._threads.append(threading.Thread(target=self._work, name="memos-upkeep",
                                                  args=(self._run_next_upkeep,), daemon=True))
        self._threads.append(threading.Thread(target=self._ticks, name="memos-ticker",
                                              daemon=True))
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        """A job was enqueued: let an idle worker look now rather than at its next poll."""
        self._wake.set()

    def halt(self) -> None:
        """Claim nothing more (a handler running now finishes)."""
        self._stopping.set()
        self._wake.set()

    def stop(self, timeout_s: float) -> bool:
        """Stop the threads; True when all of them ended within ``timeout_s``."""
        self.halt()
        for thread in self._threads:
            thread.join(timeout_s)
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self, run_next: Callable[[], Job | None]) -> None:
        while not self._stopping.is_set():
            if self._guarded(run_next) is None:
                self._wake.wait(self._poll_interval_s)
                self._wake.clear()

    def _ticks(self) -> None:
        while not self._stopping.is_set():
            self._guarded(self._tick)
            self._stopping.wait(self._tick_interval_s)

    def _guarded(self, step: Callable[[], object]):
        try:
            return step()
        except Exception:  # a database hiccup must not kill the thread; logged, retried later
            logger.exception("scheduler thread step failed")
            return None
