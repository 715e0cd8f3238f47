"""Jobs in SQL: enqueue, claim, progress, finish, retry with backoff, cancel and recover."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, delete, false, func, select, text, update

from memos.scheduler.leases import LeaseConfig, owner_is_gone
from storage.clock import Clock
from storage.database import Database
from storage.errors import Conflict, InvalidInput, NotFound
from storage.schema import JobRow

MAX_ERROR_CHARS = 4000
logger = logging.getLogger(__name__)


class JobState(StrEnum):
    """Where a job is: waiting, running, asked to stop, or finished one way or another."""

    PENDING = "pending"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE: frozenset[JobState] = frozenset({JobState.PENDING, JobState.RUNNING,
                                         JobState.CANCELLING})
FINISHED: frozenset[JobState] = frozenset({JobState.SUCCEEDED, JobState.FAILED,
                                           JobState.CANCELLED})


@dataclass(slots=True)
class Job:
    """A job as callers see it."""

    id: str
    kind: str
    cube_id: str | None
    payload: dict
    state: JobState
    progress: float
    attempts: int
    max_attempts: int
    error: str | None
    result: dict
    dedupe_key: str | None
    created_at: datetime
    updated_at: datetime
    run_after: datetime

    @classmethod
    def from_row(cls, row: JobRow) -> Job:
        """Build a job from its SQL row."""
        return cls(id=row.id, kind=row.kind, cube_id=row.cube_id, payload=dict(row.payload or {}),
                   state=JobState(row.state), progress=row.progress, attempts=row.attempts,
                   max_attempts=row.max_attempts, error=row.error, result=dict(row.result or {}),
                   dedupe_key=row.dedupe_key, created_at=row.created_at,
                   updated_at=row.updated_at, run_after=row.run_after)

    def to_dict(self) -> dict:
        """JSON-friendly dict."""
        data = {name: getattr(self, name) for name in self.__slots__}
        data["state"] = self.state.value
        for name in ("created_at", "updated_at", "run_after"):
            data[name] = data[name].isoformat()
        return data


class JobStore:
    """The jobs table, plus the cancel flags of the jobs this process is running."""

    def __init__(self, database: Database, clock: Clock,
                 lease: LeaseConfig | None = None) -> None:
        self._database = database
        self._clock = clock
        self.lease = lease or LeaseConfig.for_this_process()
        self._cancel_flags: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._claim_lock = threading.Lock()  # one claimer at a time: no read-then-write races

    def enqueue(self, kind: str, cube_id: str | None = None, payload: dict | None = None, *,
                dedupe_key: str | None = None, max_attempts: int = 3,
                run_after: datetime | None = None,
                admit: Callable[[list[Job]], None] | None = None) -> Job:
        """A new pending job, or the active job that already holds ``dedupe_key``. ``admit``
        sees the active jobs of ``kind`` and raises to refuse this one; enqueues of one kind
        take turns (across processes too), so no two pass it, or the dedupe check, together."""
        if max_attempts < 1:
            raise InvalidInput("max_attempts must be at least 1")
        now = self._clock.now()
        with self._database.session() as session:
            _take_turn(session, kind)
            if admit is not None:
                admit([Job.from_row(row) for row in session.scalars(select(JobRow).where(
                    JobRow.kind == kind, JobRow.state.in_([s.value for s in ACTIVE])))])
            if dedupe_key is not None:
                existing = session.scalars(select(JobRow).where(
                    JobRow.dedupe_key == dedupe_key,
                    JobRow.state.in_([s.value for s in ACTIVE]))).first()
                if existing is not None:
                    return Job.from_row(existing)
            row = JobRow(id=uuid.uuid4().hex, kind=kind, cube_id=cube_id, payload=payload or {},
                         state=JobState.PENDING.value, progress=0.0, attempts=0,
                         max_attempts=max_attempts, result={}, dedupe_key=dedupe_key,
                         created_at=now, updated_at=now, run_after=run_after or now)
            session.add(row)
            return Job.from_row(row)

    def get(self, job_id: str) -> Job:
        """One job, or NotFound."""
        with self._database.session() as session:
            return Job.from_row(_row(session, job_id))

    def list(self, state: str | None = None, cube_id: str | None = None, kind: str | None = None,
             limit: int = 50, offset: int = 0) -> tuple[list[Job], int]:
        """A page of jobs (newest first) and how many match in all."""
        if not 1 <= limit <= 1000 or offset < 0:
            raise InvalidInput("limit must be 1..1000 and offset >= 0")
        query = select(JobRow)
        if state is not None:
            query = query.where(JobRow.state == _parse_state(state).value)
        if cube_id is not None:
            query = query.where(JobRow.cube_id == cube_id)
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        with self._database.session() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(query.order_by(JobRow.created_at.desc(), JobRow.id)
                                   .limit(limit).offset(offset))
            return [Job.from_row(row) for row in rows], total

    def cancel(self, job_id: str) -> Job:
        """Cancel a job: a pending one at once, a running one when its handler next checks."""
        with self._database.session() as session:
            row = _row(session, job_id)
            state = JobState(row.state)
            if state in (JobState.SUCCEEDED, JobState.FAILED):
                raise Conflict(f"job {job_id} already {state}")
            if state in (JobState.PENDING, JobState.RUNNING):
                target = JobState.CANCELLED if state == JobState.PENDING else JobState.CANCELLING
                row.state, row.updated_at = target.value, self._clock.now()
            job = Job.from_row(row)
        if job.state == JobState.CANCELLING:
            self._signal(job_id)
        return job

    def claim_next(self, skip_kinds: Collection[str] = (),
                   last_kinds: Collection[str] = ()) -> tuple[Job, threading.Event] | None:
        """Take the oldest due pending job: it becomes running and counts one more attempt.

        Jobs of ``skip_kinds`` are left for another worker; those of ``last_kinds`` are taken
        only when no other kind is due.
        """
        now = self._clock.now()
        query = select(JobRow.id).where(JobRow.state == JobState.PENDING.value,
                                        JobRow.run_after <= now)
        if skip_kinds:
            query = query.where(JobRow.kind.not_in(list(skip_kinds)))
        order = [case((JobRow.kind.in_(list(last_kinds)), 1), else_=0)] if last_kinds else []
        with self._claim_lock, self._database.session() as session:
            # Another worker's claim in progress is skipped, not waited for (PostgreSQL);
            # the state check in the update below makes a claim exactly-once everywhere.
            due = session.scalars(query.order_by(*order, JobRow.run_after, JobRow.created_at)
                                  .limit(8).with_for_update(skip_locked=True)).all()
            for job_id in due:
                claimed = session.execute(update(JobRow).where(
                    JobRow.id == job_id, JobRow.state == JobState.PENDING.value).values(
                    state=JobState.RUNNING.value, attempts=JobRow.attempts + 1,
                    updated_at=now, lease_owner=self.lease.owner,
                    lease_until=self._lease_end(now)))
                if claimed.rowcount == 1:
                    return Job.from_row(_row(session, job_id)), self._register(job_id)
        return None

    def active(self, kind: str) -> list[Job]:
        """Jobs of ``kind`` that are pending, running or stopping."""
        with self._database.session() as session:
            rows = session.scalars(select(JobRow).where(
                JobRow.kind == kind, JobRow.state.in_([s.value for s in ACTIVE])))
            return [Job.from_row(row) for row in rows]

    def of_cube(self, cube_id: str) -> list[Job]:
        """Every job of a cube, in any state."""
        with self._database.session() as session:
            rows = session.scalars(select(JobRow).where(JobRow.cube_id == cube_id))
            return [Job.from_row(row) for row in rows]

    def rewrite_of_cube(self, cube_id: str, rewrite: Callable[[Any], Any]) -> int:
        """Replace the payload and result of each of the cube's jobs by ``rewrite`` of them;
        how many jobs changed."""
        changed = 0
        with self._database.session() as session:
            for row in session.scalars(select(JobRow).where(JobRow.cube_id == cube_id)):
                payload, result = rewrite(row.payload), rewrite(row.result)
                if payload != row.payload or result != row.result:
                    row.payload, row.result = payload, result
                    changed += 1
        return changed

    def report_progress(self, job_id: str, progress: float, result: dict | None = None,
                        attempt: int | None = None) -> bool:
        """Commit progress (0..1) and a partial result; True when the job was asked to stop,
        or when this worker no longer holds it (nothing is written then)."""
        with self._database.session() as session:
            row = _row(session, job_id)
            if not self._holds(row, attempt):
                self._signal(job_id)
                return True
            row.progress = min(max(float(progress), 0.0), 1.0)
            if result is not None:
                row.result = {**(row.result or {}), **result}
            row.updated_at = self._clock.now()
            row.lease_until = self._lease_end(row.updated_at)  # progress is a heartbeat too
            asked_to_stop = row.state == JobState.CANCELLING.value
        if asked_to_stop:
            self._signal(job_id)
        return asked_to_stop

    def succeed(self, job_id: str, result: dict | None = None,
                attempt: int | None = None) -> Job:
        """Mark a running job done (even if a cancel arrived after its work was complete)."""
        return self._finish(job_id, JobState.SUCCEEDED, progress=1.0, result=result or {},
                            attempt=attempt)

    def stopped(self, job_id: str, attempt: int | None = None) -> Job:
        """A handler stopped early: cancelled if that was asked, else (shutdown) pending again."""
        with self._database.session() as session:
            row = _row(session, job_id)
            if not self._holds(row, attempt):
                return self._fenced_out(row)
            if row.state == JobState.CANCELLING.value:
                row.state = JobState.CANCELLED.value
            else:  # interrupted by a shutdown: the attempt does not count
                row.state, row.run_after = JobState.PENDING.value, self._clock.now()
                row.attempts = max(row.attempts - 1, 0)
            row.updated_at = self._clock.now()
            job = Job.from_row(row)
        self._release(job_id)
        return job

    def interrupt_running(self) -> None:
        """Ask every handler running in this process to stop (service shutdown)."""
        with self._lock:
            for flag in self._cancel_flags.values():
                flag.set()

    def fail(self, job_id: str, error: str, backoff_base_s: float, retry: bool = True,
             attempt: int | None = None) -> Job:
        """Record a failed attempt: retry after ``base * 2**attempts`` s, or fail for good."""
        with self._database.session() as session:
            row = _row(session, job_id)
            if not self._holds(row, attempt):
                return self._fenced_out(row)
            now = self._clock.now()
            row.error, row.updated_at = error[-MAX_ERROR_CHARS:], now
            if row.state == JobState.CANCELLING.value:
                row.state = JobState.CANCELLED.value
            elif row.attempts >= row.max_attempts or not retry:
                row.state = JobState.FAILED.value
            else:
                row.state = JobState.PENDING.value
                row.run_after = now + timedelta(seconds=backoff_base_s * 2 ** row.attempts)
            job = Job.from_row(row)
        self._release(job_id)
        return job

    def recover(self) -> int:
        """Jobs whose worker died (its lease ran out, or its process on this host is gone) go
        back to pending, or to cancelled if a cancel was asked; returns how many resume."""
        now = self._clock.now()
        with self._database.session() as session:
            held = session.execute(select(JobRow.id, JobRow.lease_owner, JobRow.lease_until)
                                   .where(JobRow.state.in_([JobState.RUNNING.value,
                                                            JobState.CANCELLING.value]))).all()
            orphans = [job_id for job_id, owner, until in held
                       if owner != self.lease.owner
                       and (until is None or until < now or owner_is_gone(owner))]
            if not orphans:
                return 0
            resumed = session.execute(update(JobRow).where(
                JobRow.id.in_(orphans), JobRow.state == JobState.RUNNING.value).values(
                state=JobState.PENDING.value, run_after=now, updated_at=now,
                lease_owner=None, lease_until=None)).rowcount
            session.execute(update(JobRow).where(
                JobRow.id.in_(orphans), JobRow.state == JobState.CANCELLING.value).values(
                state=JobState.CANCELLED.value, updated_at=now))
        return resumed

    def renew_leases(self) -> int:
        """Extend the leases of every job this worker holds (the heartbeat); how many."""
        now = self._clock.now()
        with self._database.session() as session:
            return session.execute(update(JobRow).where(
                JobRow.lease_owner == self.lease.owner,
                JobRow.state.in_([JobState.RUNNING.value, JobState.CANCELLING.value])).values(
                lease_until=self._lease_end(now))).rowcount

    def postpone_pending(self, kind: str, cube_id: str | None, payload: dict,
                         run_after: datetime) -> Job | None:
        """Give the cube's pending job of ``kind`` this payload and due time (None: none,
        also when a worker claimed it meanwhile: a running job is left as it is)."""
        with self._database.session() as session:
            pending = session.scalars(select(JobRow.id).where(
                JobRow.kind == kind, JobRow.cube_id == cube_id,
                JobRow.state == JobState.PENDING.value)).first()
            if pending is None:
                return None
            postponed = session.execute(update(JobRow).where(
                JobRow.id == pending, JobRow.state == JobState.PENDING.value).values(
                payload=payload, run_after=run_after, updated_at=self._clock.now())).rowcount
        return self.get(pending) if postponed else None

    def forget_finished(self, before: datetime) -> int:
        """Delete jobs that finished before ``before``; returns how many went."""
        with self._database.session() as session:
            return session.execute(delete(JobRow).where(
                JobRow.state.in_([s.value for s in FINISHED]),
                JobRow.updated_at < before)).rowcount

    def _lease_end(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease.lease_s)

    def _holds(self, row: JobRow, attempt: int | None) -> bool:
        """Whether this worker still holds the job's lease (for ``attempt``, when given): a
        worker whose lease ran out and was taken back must not record anything on the job."""
        return (row.state in (JobState.RUNNING.value, JobState.CANCELLING.value)
                and row.lease_owner == self.lease.owner
                and (attempt is None or row.attempts == attempt))

    def _fenced_out(self, row: JobRow) -> Job:
        """The outcome of a worker that lost the job: dropped, and its handler told to stop."""
        logger.warning("job %s: this worker no longer holds it (lease taken back); its "
                       "outcome is not recorded", row.id)
        self._signal(row.id)
        self._release(row.id)
        return Job.from_row(row)

    def _finish(self, job_id: str, state: JobState, progress: float | None = None,
                result: dict | None = None, attempt: int | None = None) -> Job:
        with self._database.session() as session:
            row = _row(session, job_id)
            if not self._holds(row, attempt):
                return self._fenced_out(row)
            row.state, row.updated_at, row.error = state.value, self._clock.now(), None
            if progress is not None:
                row.progress = progress
            if result:
                row.result = {**(row.result or {}), **result}
            job = Job.from_row(row)
        self._release(job_id)
        return job

    def _register(self, job_id: str) -> threading.Event:
        flag = threading.Event()
        with self._lock:
            self._cancel_flags[job_id] = flag
        return flag

    def _signal(self, job_id: str) -> None:
        with self._lock:
            flag = self._cancel_flags.get(job_id)
        if flag is not None:
            flag.set()

    def _release(self, job_id: str) -> None:
        with self._lock:
            self._cancel_flags.pop(job_id, None)


def _take_turn(session, kind: str) -> None:
    """Hold the queue of ``kind`` until the transaction ends: an advisory lock on PostgreSQL,
    SQLite's one write lock elsewhere (taken by a write that changes no row)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:queue))"),
                        {"queue": f"jobs:{kind}"})
    else:
        session.execute(update(JobRow).where(false()).values(kind=JobRow.kind))


def _row(session, job_id: str) -> JobRow:
    row = session.get(JobRow, job_id)
    if row is None:
        raise NotFound(f"no job {job_id!r}")
    return row


def _parse_state(value: str) -> JobState:
    try:
        return JobState(value)
    except ValueError:
        raise InvalidInput(f"unknown job state {value!r}; one of "
                           f"{[s.value for s in JobState]}") from None
