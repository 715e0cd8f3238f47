"""Kill the service mid-job: the job finishes after the restart, with no duplicate effects."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select

from memcube.lifecycle import State
from memos.kernel import MemOS
from memos.scheduler import JobState
from storage.database import Database, sqlite_url
from storage.schema import JobRow

SERVICE = Path(__file__).with_name("slow_merge_service.py")
ROOT = Path(__file__).resolve().parents[2]
FACTS = ["Alice moved to Lisbon in May 2023.", "Bob adopted a grey cat named Pixel.",
         "The meeting with Carol is on Friday at 10am.",
         "Dan runs the Berlin marathon every September.",
         "Erin is allergic to peanuts and shellfish.",
         "Frank bought a red Volvo station wagon last spring."]


def make_home(home: Path, embedder) -> tuple[str, list[str], list[str]]:
    """A cube holding six notes, each with one near-duplicate."""
    with MemOS(home, embedder=embedder) as mos:
        cube = mos.create_cube("notes", settings={"policies": {"merge": {"threshold": 0.9}}})
        originals = [cube.add(fact).id for fact in FACTS]
        copies = [cube.add(fact.replace(".", "!"), force=True).id for fact in FACTS]
        return cube.id, originals, copies


def job_rows(home: Path) -> list[JobRow]:
    database = Database(sqlite_url(home))
    try:
        with database.session() as session:
            return list(session.scalars(select(JobRow)))
    finally:
        database.close()


def wait_until_partly_done(service: subprocess.Popen, home: Path, deadline_s: float) -> None:
    """Return once the merge job has committed progress but is not finished."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise AssertionError(f"service exited early: {service.stderr.read().decode()}")
        rows = job_rows(home) if (home / "memos.db").exists() else []
        if rows and rows[0].state == "running" and 0 < rows[0].progress < 1:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the merge job never got under way")


def test_job_killed_mid_run_finishes_after_restart_without_duplicate_effects(tmp_path, embedder):
    home = tmp_path / "home"
    cube_id, originals, copies = make_home(home, embedder)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    service = subprocess.Popen([sys.executable, str(SERVICE), str(home)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_partly_done(service, home, deadline_s=240)
    finally:
        service.send_signal(signal.SIGKILL)
        service.wait()
    [killed] = job_rows(home)
    assert killed.state == "running" and killed.progress < 1

    with MemOS(home, embedder=embedder) as mos:
        mos.scheduler.run_pending()
        queued = [job for job in mos.scheduler.tick() if job.cube_id == cube_id]
        assert queued == []  # nothing left for the policies to do
        [job] = mos.scheduler.jobs.list(cube_id=cube_id)[0]
        assert (job.id, job.state, job.attempts) == (killed.id, JobState.SUCCEEDED, 2)
        cube = mos.get_cube(cube_id)
        for original, copy in zip(originals, copies, strict=True):
            assert cube.get(original).state == State.CREATED
            assert (cube.get(copy).state, cube.get(copy).merged_into) == (State.MERGED, original)
            assert [e.event for e in cube.history(copy)] == ["created", "merged"]
            assert [e.event for e in cube.history(original)] == ["created"]
