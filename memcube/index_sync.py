"""Keeps one process's in-memory indexes of a cube in step with the change log in SQL.

Another process (a second server worker, the embedded API beside a server) may have changed
the cube's notes since this one last looked. Before it searches, a cube asks the log for its
newest sequence (one indexed query); only when that moved does it read the new changes and
re-index the notes they name from their SQL rows. Replaying a change is idempotent, so
replaying this process's own writes is harmless, but it costs as much as the write's own
indexing: the add path marks the changes it has already applied (``applying_own``) and
catching up skips them. Notes another process deleted, retired or rewrote leave this
process's KV too (``forget_kv`` with the texts this index held), as the writer's own forget
could only reach the shared tiers. An index that has not caught up for half the log's
retention re-reads the notes that may have changed instead, as the log may have been pruned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta

from memcube.item import MemoryItem
from memcube.item_store import ItemStore
from memcube.lifecycle import SEARCHABLE, State
from memcube.linker import Linker
from memcube.plaintext_index import PlaintextIndex
from storage import change_log
from storage.clock import Clock, SystemClock
from storage.database import Database


class IndexSync:
    """The change-log sequence one cube's in-memory index reflects, and how to catch it up."""

    def __init__(self, cube_id: str, database: Database, items: ItemStore, linker: Linker,
                 applied: int = 0,
                 forget_kv: Callable[[Sequence[str]], object] | None = None,
                 clock: Clock | None = None, resync_after_s: float | None = None) -> None:
        self.cube_id = cube_id
        self.applied = applied  # every change up to this sequence is in the index
        self.replayed = 0  # changes replayed from the log (counted for stats and tests)
        self.resyncs = 0  # re-reads instead of replays: the log may have been pruned since
        self._own: set[int] = set()  # logged by this index's own writes, already applied
        self._database = database
        self._items = items
        self._linker = linker
        self._forget_kv = forget_kv  # drops this process's KV of texts that left the cube
        self._clock = clock or SystemClock()
        self._resync_after = resync_after_s  # None: the log is never pruned under us
        self._caught_up_at = self._clock.now()
        self._lock = threading.Lock()

    def head(self) -> int:
        """The newest sequence logged for this cube (one autocommit read: the check made
        before every search)."""
        return self._database.read_scalar(change_log.head_query(self.cube_id))

    def catch_up(self, index: PlaintextIndex) -> int:
        """Apply every change logged since the last catch-up; how many were applied."""
        with self._lock:
            newest = self.head()
            if self._overdue():
                return self._resync(index, newest)
            self._caught_up_at = self._clock.now()
            if newest <= self.applied:
                return 0
            with self._database.session() as session:
                changes = [change for change in
                           change_log.since(session, self.cube_id, self.applied, newest)
                           if change.seq not in self._own]
            if changes:
                self._apply(index, {change.item_id for change in changes})
            self.applied = newest
            self._own = {seq for seq in self._own if seq > newest}
            self.replayed += len(changes)
            return len(changes)

    def _overdue(self) -> bool:
        """Whether changes this index has not seen may have been pruned from the log."""
        if self._resync_after is None:
            return False
        return (self._clock.now() - self._caught_up_at).total_seconds() > self._resync_after

    def _resync(self, index: PlaintextIndex, newest: int) -> int:
        """Re-read what may have changed instead of replaying (the log may lack it): notes
        added or gone since, and notes changed within a margin of the last catch-up."""
        since = self._caught_up_at - timedelta(seconds=self._resync_after)
        self._caught_up_at = self._clock.now()
        live, changed = self._items.index_view(self.cube_id, since)
        held = set(index.ids())
        self._apply(index, (live ^ held) | changed)
        self.applied = newest
        self._own = {seq for seq in self._own if seq > newest}
        self.resyncs += 1
        return len(live ^ held) + len(changed)

    @contextmanager
    def applying_own(self) -> Iterator[None]:
        """A block whose logged changes it applies to the index itself: catch-ups skip them.

        Only a block that completes counts; after an error its changes are replayed.
        """
        with change_log.recorded() as seqs:
            yield
        with self._lock:
            self._own.update(seq for seq in seqs if seq > self.applied)

    def _apply(self, index: PlaintextIndex, item_ids: set[str | None]) -> None:
        if None in item_ids:  # a whole-cube change (an import, a resync): re-read every note
            item_ids = {item.id for _, item in self._items.indexable(self.cube_id)} \
                | set(index.ids())
        ids = sorted(item_ids - {None})
        current = self._items.get_many(ids)
        departed = _departed_texts(index, ids, current)
        seqs = self._items.seq_of(list(current))
        live = [(seqs[item.id], item) for item in current.values()
                if item.state != State.DELETED and item.embedding is not None]
        kept = {item.id for _, item in live}
        for item_id in ids:
            if item_id not in kept:
                index.remove(item_id)
        index.upsert_many(live)
        for source, target, kind, weight in self._linker.rows_of(self.cube_id, ids):
            if index.contains(source) and index.contains(target):
                index.add_link(source, target, kind, weight)
        if departed and self._forget_kv is not None:
            self._forget_kv(departed)


def _departed_texts(index: PlaintextIndex, ids: Sequence[str],
                    current: Mapping[str, MemoryItem]) -> list[str]:
    """Texts this index held that left search or were rewritten by these changes."""
    departed = []
    for item_id in ids:
        held = index.text_of(item_id)
        item = current.get(item_id)
        if held is not None and (item is None or item.state not in SEARCHABLE
                                 or item.text != held):
            departed.append(held)
    return departed
