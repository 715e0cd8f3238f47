"""What a cube's adapters learned, as their rows record it (read by the scheduler)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from storage.database import Database
from storage.schema import AdapterRow


@dataclass(frozen=True, slots=True)
class LearnedAdapter:
    """One adapter as the scheduler judges it: the note versions it learned, and whether its
    row marks it stale or damaged."""

    id: str
    items: dict[str, int]
    stale: bool
    damaged: str | None

    @classmethod
    def from_row(cls, row: AdapterRow) -> LearnedAdapter:
        """Build a record from its SQL row."""
        return cls(row.id, dict(row.items), bool(row.stale), row.damaged)


class AdapterRecords:
    """The adapters table, read for what each adapter learned (the scheduler's reads)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def of_cube(self, cube_id: str) -> list[LearnedAdapter]:
        """Every adapter of the cube."""
        with self._database.session() as session:
            return [LearnedAdapter.from_row(row) for row in session.scalars(
                select(AdapterRow).where(AdapterRow.cube_id == cube_id))]

    def newest_group(self, cube_id: str) -> list[LearnedAdapter]:
        """The cube's newest adapter, or every adapter of its shard group when it is a shard
        (empty: the cube has none)."""
        with self._database.session() as session:
            newest = session.scalars(select(AdapterRow).where(AdapterRow.cube_id == cube_id)
                                     .order_by(AdapterRow.created_at.desc()).limit(1)).first()
            if newest is None or newest.shard_group is None:
                rows = [newest] if newest is not None else []
            else:
                rows = session.scalars(select(AdapterRow).where(
                    AdapterRow.shard_group == newest.shard_group))
            return [LearnedAdapter.from_row(row) for row in rows]
