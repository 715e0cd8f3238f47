"""The retrieval log: how often search returned a cube's items within a time window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from storage.database import Database
from storage.schema import ItemRow, RetrievalRow


class RetrievalLog:
    """The retrievals table (``ItemStore.touch`` writes it; the scheduler's policies read it)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def hot_items(self, cube_id: str, since: datetime, min_retrievals: int,
                  states: tuple[str, ...]) -> list[str]:
        """Items of a cube in ``states`` retrieved at least ``min_retrievals`` times since then."""
        count = func.count(RetrievalRow.seq)
        with self._database.session() as session:
            rows = session.execute(
                select(RetrievalRow.item_id).join(ItemRow, ItemRow.id == RetrievalRow.item_id)
                .where(ItemRow.cube_id == cube_id, ItemRow.state.in_(states),
                       RetrievalRow.at >= since)
                .group_by(RetrievalRow.item_id).having(count >= min_retrievals)
                .order_by(count.desc(), RetrievalRow.item_id))
            return list(rows.scalars())

    def count_since(self, cube_id: str, since: datetime) -> int:
        """How many retrievals of a cube's items happened since ``since``."""
        with self._database.session() as session:
            return session.scalar(
                select(func.count(RetrievalRow.seq))
                .join(ItemRow, ItemRow.id == RetrievalRow.item_id)
                .where(ItemRow.cube_id == cube_id, RetrievalRow.at >= since)) or 0

    def prune(self, before: datetime) -> int:
        """Forget retrievals older than ``before``; returns how many were dropped."""
        with self._database.session() as session:
            return session.execute(
                delete(RetrievalRow).where(RetrievalRow.at < before)).rowcount
