"""Scheduler: ticks the policies of every cube into jobs and runs them on worker threads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from memos.scheduler.distill_job import DISTILL_JOB, run_distill_job
from memos.scheduler.forget_retrain import FORGET_RETRAIN_JOB, run_forget_retrain
from memos.scheduler.jobs import Job, JobStore
from memos.scheduler.leases import LeaseKeeper
from memos.scheduler.memories import Memories
from memos.scheduler.policies import Policy, default_policies
from memos.scheduler.settings import PolicySettings, SchedulerConfig
from memos.scheduler.workers import Handler, JobRunner, WorkerPool

logger = logging.getLogger(__name__)
# Jobs users ask for that can run for hours; upkeep (expire, archive, merge, eviction) has a
# worker of its own and is always claimed before these.
TRAINING_KINDS = frozenset({DISTILL_JOB, "promote_parametric", FORGET_RETRAIN_JOB})


class Scheduler:
    """Plans policy jobs at each tick and runs due jobs: on threads, or on call in tests."""

    def __init__(self, memories: Memories, jobs: JobStore, *,
                 config: SchedulerConfig | None = None,
                 policies: Sequence[Policy] | None = None) -> None:
        self.memories = memories
        self.clock = memories.clock
        self.config = config or SchedulerConfig()
        self.jobs = jobs
        chosen = default_policies() if policies is None else policies
        self.policies: dict[str, Policy] = {policy.name: policy for policy in chosen}
        self._handlers: dict[str, Handler] = {name: p.run for name, p in self.policies.items()}
        self._handlers[DISTILL_JOB] = run_distill_job  # asked for by users, not by a policy
        self._handlers[FORGET_RETRAIN_JOB] = run_forget_retrain  # queued when notes are forgotten
        self._runner = JobRunner(self.jobs, self._handlers, memories,
                                 self.config.backoff_base_s, TRAINING_KINDS)
        self._workers: WorkerPool | None = None
        self._recovered = False
        self._leases: LeaseKeeper | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether worker threads are running."""
        return self._workers is not None

    def register(self, kind: str, handler: Handler) -> None:
        """Run jobs of ``kind`` with ``handler(ctx) -> result dict``."""
        self._handlers[kind] = handler

    def enqueue(self, kind: str, cube_id: str | None = None, payload: dict | None = None, *,
                dedupe_key: str | None = None, max_attempts: int | None = None,
                run_after: datetime | None = None,
                admit: Callable[[list[Job]], None] | None = None) -> Job:
        """Queue a job (or return the active one holding ``dedupe_key``); ``admit`` may refuse
        it, seeing the active jobs of its kind (``JobStore.enqueue``)."""
        job = self.jobs.enqueue(kind, cube_id, payload, dedupe_key=dedupe_key,
                                max_attempts=max_attempts or self.config.max_attempts,
                                run_after=run_after, admit=admit)
        if self._workers is not None:
            self._workers.wake()
        return job

    def tick(self) -> list[Job]:
        """Run every policy once over every cube; returns the jobs it queued (or found queued)."""
        now = self.clock.now()
        queued, longest_window = [], self.config.retrieval_log_keep_s
        for cube in self.memories.cubes.visible_to(None):
            settings = self._settings_of(cube.id, cube.settings)
            if settings is None:
                continue
            longest_window = max(longest_window, settings.promote_activation.window_s,
                                 settings.promote_parametric.window_s)
            queued += self._plan(cube.id, settings, now)
        queued += self._plan(None, None, now)
        self.memories.retrievals.prune(now - timedelta(seconds=longest_window))
        self.jobs.forget_finished(now - timedelta(seconds=self.config.finished_job_keep_s))
        if self.memories.prune_changes is not None:
            self.memories.prune_changes(
                now - timedelta(seconds=self.memories.settings.change_log_keep_s))
        return queued

    def run_pending(self) -> int:
        """Run due jobs here until none is due (tests, CLI); returns how many runs were made."""
        if self._workers is None and not self._recovered:
            self.recover()
        runs = 0
        while self._runner.run_next() is not None:
            runs += 1
        return runs

    def recover(self) -> int:
        """Put jobs a dead process left running back to pending; returns how many."""
        self._recovered = True
        resumed = self.jobs.recover()
        if resumed:
            logger.info("resuming %d interrupted job(s)", resumed)
        return resumed

    def start(self, workers: int = 1) -> None:
        """Resume interrupted jobs, then run jobs on ``workers`` threads and tick periodically.

        ``workers=0`` leaves the scheduler off in this process (jobs wait for another one).
        """
        with self._lock:
            if self._workers is not None or workers < 1:
                return
            self.recover()
            self._workers = WorkerPool(self._runner.run_next, self.tick,
                                       self.config.poll_interval_s, self.config.tick_interval_s,
                                       self._runner.run_next_upkeep)
            self._workers.start(workers)
            self._leases = LeaseKeeper(self.jobs.renew_leases, self.jobs.recover,
                                       self.jobs.lease.lease_s / 3)
            self._leases.start()

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Stop the threads; running handlers are asked to stop and their jobs stay pending."""
        with self._lock:
            workers, self._workers = self._workers, None
            leases, self._leases = self._leases, None
        if leases is not None:
            leases.stop()
        if workers is None:
            return True
        workers.halt()  # no new claims first: an interrupted job must not start again
        self.jobs.interrupt_running()
        return workers.stop(timeout_s)

    def _plan(self, cube_id: str | None, settings: PolicySettings | None,
              now: datetime) -> list[Job]:
        queued = []
        for policy in self._active_policies(per_cube=cube_id is not None):
            section = settings.of(policy.name) if settings is not None else None
            if section is not None and not section.enabled:
                continue
            payload = policy.plan(self.memories, cube_id, section, now)
            if payload is not None:
                queued.append(self.enqueue(policy.name, cube_id, payload,
                                           dedupe_key=f"{policy.name}:{cube_id or '*'}"))
        return queued

    def _active_policies(self, per_cube: bool) -> list[Policy]:
        return [policy for policy in self.policies.values() if policy.per_cube == per_cube
                and (policy.requires is None
                     or getattr(self.memories, policy.requires) is not None)]

    def _settings_of(self, cube_id: str, cube_settings: dict) -> PolicySettings | None:
        try:
            return PolicySettings.from_cube_settings(cube_settings)
        except ValueError as error:  # one cube's bad settings must not stop the others
            logger.warning("cube %s: policies skipped, bad settings: %s", cube_id, error)
            return None
