"""Scheduler jobs as callers see them: a cube's jobs for its users, every job for admins."""

from __future__ import annotations

from memcube.access import Access
from memos.scheduler import Job, JobState
from storage.errors import InvalidInput, NotFound


class JobCalls:
    """List, read and cancel jobs, each visible only to who may see its cube."""

    def list_jobs(self, cube_id: str | None = None, state: str | JobState | None = None,
                  kind: str | None = None, limit: int = 50, offset: int = 0,
                  user: str | None = None) -> tuple[list[Job], int]:
        """A page of jobs (newest first) and how many match in all (non-admins name a cube)."""
        if not self.is_admin(user):
            if cube_id is None:
                raise InvalidInput("cube_id is required to list jobs without an admin key")
            self.get_cube(cube_id, user)
        state = state.value if isinstance(state, JobState) else state
        return self.scheduler.jobs.list(state, cube_id, kind, limit, offset)

    def get_job(self, job_id: str, user: str | None = None) -> Job:
        """One job (NotFound unless ``user`` may read its cube)."""
        return self._visible_job(job_id, user, Access.READ)

    def cancel_job(self, job_id: str, user: str | None = None) -> Job:
        """Cancel a job: a pending one at once, a running one when it next checks."""
        self._visible_job(job_id, user, Access.WRITE)
        return self.scheduler.jobs.cancel(job_id)

    def _visible_job(self, job_id: str, user: str | None, needed: Access) -> Job:
        job = self.scheduler.jobs.get(job_id)
        if not self.is_admin(user):
            try:
                if job.cube_id is None:
                    raise NotFound(f"no job {job_id!r}")
                self.get_cube(job.cube_id, user, needed=needed)
            except NotFound:  # answered as for a random id: the job's cube is not named
                raise NotFound(f"no job {job_id!r}") from None
        return job
