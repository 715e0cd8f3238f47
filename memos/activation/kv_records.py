"""SQL records of cached KV chunks: which cube and note each chunk was computed for."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select

from storage.clock import Clock
from storage.database import Database
from storage.schema import KvEntryRow


class KvRecords:
    """The kv_entries table: one row per cached chunk that belongs to a cube's note."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def record(self, key: str, cube_id: str | None, item_id: str | None, fingerprint: str,
               tokens: int) -> None:
        """Record (or re-record) whose chunk ``key`` is, computed now by model ``fingerprint``."""
        with self._database.session() as session:
            session.merge(KvEntryRow(key=key, cube_id=cube_id, item_id=item_id,
                                     fingerprint=fingerprint, tokens=tokens,
                                     created_at=self._clock.now()))

    def delete(self, keys: Collection[str]) -> None:
        """Forget the records of these chunks."""
        with self._database.session() as session:
            session.execute(delete(KvEntryRow).where(KvEntryRow.key.in_(keys)))

    def owners(self) -> dict[str, tuple[str | None, str | None]]:
        """(cube id, item id) of every recorded chunk, by key."""
        with self._database.session() as session:
            rows = session.execute(select(KvEntryRow.key, KvEntryRow.cube_id, KvEntryRow.item_id))
            return {key: (cube, item) for key, cube, item in rows}

    def keys_of_cube(self, cube_id: str) -> list[str]:
        """Keys of the chunks recorded for a cube's notes."""
        with self._database.session() as session:
            return list(session.scalars(select(KvEntryRow.key).where(
                KvEntryRow.cube_id == cube_id)))

    def keys_of_items(self, item_ids: Collection[str]) -> list[str]:
        """Keys of the chunks recorded for these notes."""
        with self._database.session() as session:
            return list(session.scalars(select(KvEntryRow.key).where(
                KvEntryRow.item_id.in_(item_ids))))
