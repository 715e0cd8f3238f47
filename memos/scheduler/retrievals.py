"""The retrieval log: how often search returned items within a time window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from storage.database import Database
from storage.schema import ItemRow, RetrievalRow


def hot_items(database: Database, cube_id: str, since: datetime, min_retrievals: int,
              states: tuple[str, ...]) -> list[str]:
    """Items of a cube in ``states`` retrieved at least ``min_retrievals`` times since then."""
    count = func.count(RetrievalRow.seq)
    with database.session() as session:
        rows = session.execute(
            select(RetrievalRow.item_id).join(ItemRow, ItemRow.id == RetrievalRow.item_id)
            .where(ItemRow.cube_id == cube_id, ItemRow.state.in_(states),
                   RetrievalRow.at >= since)
            .group_by(RetrievalRow.item_id).having(count >= min_retrievals)
            .order_by(count.desc(), RetrievalRow.item_id))
        return list(rows.scalars())


def cube_retrievals(database: Database, cube_id: str, since: datetime) -> int:
    """How many retrievals of a cube's items happened since ``since``."""
    with database.session() as session:
        return session.scalar(
            select(func.count(RetrievalRow.seq)).join(ItemRow, ItemRow.id == RetrievalRow.item_id)
            .where(ItemRow.cube_id == cube_id, RetrievalRow.at >= since)) or 0


def prune(database: Database, before: datetime) -> int:
    """Forget retrievals older than ``before``; returns how many were dropped."""
    with database.session() as session:
        return session.execute(delete(RetrievalRow).where(RetrievalRow.at < before)).rowcount
