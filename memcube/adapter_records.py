"""SQL records of a cube's distilled adapters: what each learned, its files' health and its
shard (the weights are files, see ``memos.parametric.adapter_store``).

It sits in memcube, beside the other stores of the rows a cube owns, so that the kernel and
the scheduler read adapters without importing the trainer and torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from storage.database import Database
from storage.errors import NotFound
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


@dataclass(frozen=True, slots=True)
class AdapterRecord:
    """Everything SQL records of one adapter."""

    id: str
    cube_id: str
    fingerprint: str
    path: str
    items: dict[str, int]  # item id -> version it learned
    steps: int
    final_loss: float | None
    size: int
    created_at: datetime
    damaged: str | None = None  # why its files failed their checksum, once found
    evidence: int | None = None  # check questions it answered right (None: not measured)
    shard_group: str | None = None  # set for the adapters of one sharded distillation
    shard: int | None = None
    shards: int | None = None

    @classmethod
    def from_row(cls, row: AdapterRow) -> AdapterRecord:
        """Build a record from its SQL row."""
        return cls(row.id, row.cube_id, row.fingerprint, row.path, dict(row.items), row.steps,
                   row.final_loss, row.size, row.created_at, row.damaged, row.evidence,
                   row.shard_group, row.shard, row.shards)


class AdapterRecords:
    """The adapters table."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, record: AdapterRecord) -> None:
        """Record a newly distilled adapter."""
        with self._database.session() as session:
            session.add(AdapterRow(
                id=record.id, cube_id=record.cube_id, fingerprint=record.fingerprint,
                path=record.path, items=record.items, steps=record.steps,
                final_loss=record.final_loss, size=record.size, created_at=record.created_at,
                damaged=record.damaged, evidence=record.evidence,
                shard_group=record.shard_group, shard=record.shard, shards=record.shards))

    def get(self, adapter_id: str) -> AdapterRecord:
        """One adapter's record, or NotFound."""
        with self._database.session() as session:
            row = session.get(AdapterRow, adapter_id)
            if row is None:
                raise NotFound(f"no adapter {adapter_id!r}")
            return AdapterRecord.from_row(row)

    def newest_first(self, cube_id: str) -> list[AdapterRecord]:
        """A cube's adapters, newest first."""
        with self._database.session() as session:
            rows = session.scalars(select(AdapterRow).where(AdapterRow.cube_id == cube_id)
                                   .order_by(AdapterRow.created_at.desc()))
            return [AdapterRecord.from_row(row) for row in rows]

    def ids_of_cube(self, cube_id: str) -> list[str]:
        """Ids of a cube's adapters."""
        with self._database.session() as session:
            return list(session.scalars(select(AdapterRow.id).where(
                AdapterRow.cube_id == cube_id)))

    def mark_damaged(self, adapter_id: str, reason: str | None) -> None:
        """Record why an adapter's files failed their checksum (None: they pass again)."""
        with self._database.session() as session:
            session.execute(update(AdapterRow).where(AdapterRow.id == adapter_id)
                            .values(damaged=reason))

    def delete(self, adapter_id: str) -> None:
        """Forget an adapter's record."""
        with self._database.session() as session:
            session.execute(delete(AdapterRow).where(AdapterRow.id == adapter_id))

    def of_cube(self, cube_id: str) -> list[LearnedAdapter]:
        """What every adapter of the cube learned."""
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
