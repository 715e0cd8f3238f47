"""Writes that race another worker's write of the same row: each lost race answers one of
the project's errors (or is harmless), never a second committed version or a resurrection.

The competing write runs, in a thread of its own, at the moment the first write has read its
row: a hook on our own code (or a clock that lets another write in) starts it there.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

import memcube.item_store as item_store
from memcube.cube_store import CubeStore
from memcube.lifecycle import State
from memos.auth import Caller, KeyStore
from memos.kernel import MemOS
from memos.scheduler.forget_retrain import FORGET_RETRAIN_JOB, queue_forget_retrain
from memos.scheduler.jobs import JobState, JobStore
from memos.settings import Settings
from storage.clock import SystemClock
from storage.errors import Conflict, IllegalTransition, NotFound
from storage.schema import AdapterRow


class ClockLettingAnotherWriteIn(SystemClock):
    """The real clock; its next reading first runs ``interruption`` to its end."""

    def __init__(self, interruption: Callable[[], object]) -> None:
        self._interruption: Callable[[], object] | None = interruption

    def now(self):
        interruption, self._interruption = self._interruption, None
        if interruption is not None:
            run_to_end(interruption)
        return super().now()


class ClockMeetingAtBarrier(SystemClock):
    """The real clock; each reading waits until every party of ``barrier`` reads it."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self._barrier = barrier

    def now(self):
        self._barrier.wait()
        return super().now()


def run_to_end(action: Callable[[], object]) -> None:
    """Run ``action`` in another thread (another worker's request) and wait for it."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as error:  # handed to the caller below
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def once(action: Callable[[], object]) -> Callable[[], None]:
    """``action`` the first time it is called, nothing after."""
    pending = [action]
    return lambda: pending and run_to_end(pending.pop())


def in_threads(*actions: Callable[[], object]) -> list[object]:
    """Run each action in its own thread; what each returned or raised."""
    outcomes: list[object] = [None] * len(actions)

    def run(index: int) -> None:
        try:
            outcomes[index] = actions[index]()
        except Exception as error:  # the outcome under test
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def workers(database_url, embedder, tmp_path):
    """Two MemOS on one home and database (two worker processes); no job runs by itself."""
    settings = Settings(home=tmp_path / "home", database_url=database_url, workers=0,
                        forget_retrain_delay_s=0)
    pair = [MemOS(settings=settings, embedder=embedder) for _ in range(2)]
    yield pair
    for mos in pair:
        mos.close()


@pytest.fixture
def mos(workers) -> MemOS:
    return workers[0]


def history(mos: MemOS, item) -> list[tuple[int, str]]:
    return [(entry.version, entry.event) for entry in mos.items.history(item.id, item.cube_id)]


def test_a_freeze_racing_a_delete_cannot_bring_the_memory_back(mos, monkeypatch):
    cube = mos.create_cube("notes", owner="dana")
    item = cube.add("Dana keeps bees on the roof.", force=True)
    delete = once(lambda: mos.items.transition(item.id, cube.id, State.DELETED))
    real_check = item_store.check_transition

    def check_then_let_the_delete_in(current: State, target: State) -> None:
        real_check(current, target)
        if target == State.FROZEN:
            delete()

    monkeypatch.setattr(item_store, "check_transition", check_then_let_the_delete_in)

    with pytest.raises(IllegalTransition, match="from deleted to frozen"):
        mos.items.transition(item.id, cube.id, State.FROZEN)

    assert mos.items.get(item.id).state == State.DELETED
    assert history(mos, item) == [(1, "created"), (2, "deleted")]


def test_two_edits_at_once_cannot_both_take_the_next_version(mos, monkeypatch):
    cube = mos.create_cube("notes", owner="dana")
    item = cube.add("Dana's car is red.", force=True)
    other_edit = once(lambda: mos.items.update(item.id, cube.id, {"text": "Dana's car is blue."}))
    real_apply = item_store.apply_fields

    def let_the_other_edit_in_then_apply(row, fields):
        other_edit()
        return real_apply(row, fields)

    monkeypatch.setattr(item_store, "apply_fields", let_the_other_edit_in_then_apply)

    with pytest.raises(Conflict, match="changed meanwhile, try again"):
        mos.items.update(item.id, cube.id, {"text": "Dana's car is green."})

    stored = mos.items.get(item.id)
    assert (stored.version, stored.text) == (2, "Dana's car is blue.")
    assert history(mos, item) == [(1, "created"), (2, "updated")]


def test_an_edit_of_a_memory_purged_meanwhile_is_not_found(mos, monkeypatch):
    cube = mos.create_cube("notes", owner="dana")
    item = cube.add("Dana's car is red.", force=True)
    purge = once(lambda: mos.items.purge(item.id, cube.id))
    real_apply = item_store.apply_fields
    monkeypatch.setattr(item_store, "apply_fields",
                        lambda row, fields: (purge(), real_apply(row, fields))[1])

    with pytest.raises(NotFound):
        mos.items.update(item.id, cube.id, {"tags": ["car"]})

    with pytest.raises(NotFound):
        mos.items.get(item.id)


def test_two_first_uses_of_a_new_user_id_at_once_both_succeed(mos):
    # Each reads the clock after deciding the user is new, before storing it.
    meeting = ClockMeetingAtBarrier(threading.Barrier(2, timeout=60))
    store = CubeStore(mos.database, meeting)

    outcomes = in_threads(lambda: store.ensure_user("newcomer"),
                          lambda: store.ensure_user("newcomer"))

    assert outcomes == ["newcomer", "newcomer"]
    assert not mos.cubes.is_admin("newcomer")


def test_a_request_whose_key_is_revoked_meanwhile_is_no_error(mos):
    mos.keys.create_user("alice")
    key, secret = mos.keys.create_key("alice", "laptop")
    # The key's row is read, then revoked before its last use is written.
    racing = KeyStore(mos.database, ClockLettingAnotherWriteIn(
        lambda: mos.keys.revoke_key(key.id)))

    assert racing.user_for_key(secret) == Caller("alice", False)
    assert mos.keys.user_for_key(secret) is None


def test_a_postpone_leaves_a_job_a_worker_claimed_meanwhile(mos):
    cube = mos.create_cube("notes", owner="dana")
    job = mos.scheduler.jobs.enqueue(FORGET_RETRAIN_JOB, cube.id, {"forgotten": ["a"]})
    worker = JobStore(mos.database, SystemClock())
    racing = JobStore(mos.database, ClockLettingAnotherWriteIn(worker.claim_next))
    later = SystemClock().now() + timedelta(minutes=5)

    assert racing.postpone_pending(FORGET_RETRAIN_JOB, cube.id, {"forgotten": ["b"]},
                                   later) is None

    claimed = mos.scheduler.jobs.get(job.id)
    assert (claimed.state, claimed.payload) == (JobState.RUNNING, {"forgotten": ["a"]})


def distilled_cube(mos: MemOS, texts: list[str]):
    """A cube whose notes an adapter learned (its record only: forgetting reads records)."""
    cube = mos.create_cube("notes", owner="dana")
    items = [cube.add(text, force=True) for text in texts]
    with mos.database.session() as session:
        session.add(AdapterRow(id=uuid.uuid4().hex, cube_id=cube.id, fingerprint="f",
                               path="adapters/x", items={i.id: i.version for i in items},
                               steps=1, size=1, created_at=mos.clock.now()))
    return cube, items


def forget_retrain_jobs(mos: MemOS, cube_id: str) -> list[JobState]:
    jobs, _ = mos.scheduler.jobs.list(kind=FORGET_RETRAIN_JOB, cube_id=cube_id)
    return sorted(job.state for job in jobs)


def test_two_forgets_at_once_queue_one_retrain(workers, monkeypatch):
    cube, items = distilled_cube(workers[0], ["Dana keeps bees.", "Dana drives a red car."])
    both_looked = threading.Barrier(2, timeout=60)  # neither found a pending job to postpone
    for mos in workers:
        look = mos.scheduler.jobs.postpone_pending
        monkeypatch.setattr(mos.scheduler.jobs, "postpone_pending",
                            lambda *args, look=look: (look(*args), both_looked.wait())[0])

    in_threads(*(lambda mos=mos, item=item: mos.get_cube(cube.id).delete(item.id)
                 for mos, item in zip(workers, items, strict=True)))

    assert forget_retrain_jobs(workers[0], cube.id) == [JobState.PENDING]


def test_a_forget_while_the_retrain_runs_queues_one_follow_up(mos):
    texts = ["Dana keeps bees.", "Dana drives a red car.", "Dana sings in a choir."]
    cube, items = distilled_cube(mos, texts)
    mos.get_cube(cube.id).delete(items[0].id)
    running, _ = mos.scheduler.jobs.claim_next()  # it may have listed the adapters already

    for item in items[1:]:
        mos.get_cube(cube.id).delete(item.id)

    assert running.kind == FORGET_RETRAIN_JOB
    assert forget_retrain_jobs(mos, cube.id) == [JobState.PENDING, JobState.RUNNING]
    assert queue_forget_retrain(mos.scheduler, cube.id).state == JobState.PENDING
