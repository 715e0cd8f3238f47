"""Storing a validated archive as a new cube: one transaction, every archive id remapped."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from memcube.archive_reader import ArchiveReader
from memcube.archive_rows import (
    ArchivedAdapter,
    ArchivedCube,
    ArchivedHistory,
    ArchivedItem,
    ArchivedLink,
    decode_row,
)
from memcube.item_store import holdings_in
from storage import change_log
from storage.clock import as_utc
from storage.database import Database
from storage.errors import Conflict, InvalidInput
from storage.schema import AdapterRow, CubeRow, ItemHistoryRow, ItemRow, LinkRow

if TYPE_CHECKING:
    from memcube.archive import ImportTarget

BATCH = 500


class IdMap:
    """Archive ids to fresh server ids: the same archive id always maps to the same fresh id."""

    def __init__(self) -> None:
        self._fresh: dict[str, str] = {}

    def fresh(self, archive_id: str) -> str:
        """The fresh id standing for ``archive_id`` (made on first use)."""
        if archive_id not in self._fresh:
            self._fresh[archive_id] = uuid.uuid4().hex
        return self._fresh[archive_id]

    def known(self, archive_id: str | None) -> str | None:
        """The fresh id of an archive id already seen, else None."""
        return self._fresh.get(archive_id) if archive_id is not None else None

    def __contains__(self, archive_id: str) -> bool:
        return archive_id in self._fresh


def insert_archive(database: Database, archive: ArchiveReader, cube: ArchivedCube,
                   adapters: list[ArchivedAdapter], adapter_ids: dict[str, str],
                   target: ImportTarget) -> str:
    """Insert the cube, its items, history, links and adapter rows; returns the new cube id."""
    cube_id, name, items = uuid.uuid4().hex, target.name or cube.name, IdMap()
    try:
        with database.session() as session:
            _insert_cube(session, cube, cube_id, name, target.owner)
            _insert_items(session, archive, cube_id, items, target.embedding_dim)
            _insert_history(session, archive, cube_id, items)
            _insert_links(session, archive, cube_id, items)
            _insert_adapters(session, adapters, cube_id, items, adapter_ids)
            change_log.append(session, cube_id, [None], change_log.IMPORTED, datetime.now(UTC))
            if target.quota is not None:
                target.quota(holdings_in(session, cube_id))
    except IntegrityError:  # another import or create took the name meanwhile
        raise _name_taken(target.owner, name) from None
    return cube_id


def _insert_cube(session: Session, cube: ArchivedCube, cube_id: str, name: str,
                 owner: str) -> None:
    taken = session.scalar(select(CubeRow.id).where(CubeRow.owner_id == owner,
                                                    CubeRow.name == name))
    if taken is not None:
        raise _name_taken(owner, name)
    session.add(CubeRow(id=cube_id, name=name, owner_id=owner, description=cube.description,
                        settings=cube.settings.as_dict(), created_at=as_utc(cube.created_at),
                        updated_at=as_utc(cube.updated_at)))
    session.flush()


def _insert_items(session: Session, archive: ArchiveReader, cube_id: str, ids: IdMap,
                  dim: int) -> None:
    def rows() -> Iterator[dict]:
        for number, data in archive.rows("items.jsonl"):
            where = f"items.jsonl line {number}"
            item = decode_row(ArchivedItem, data, where)
            if item.id in ids:
                raise InvalidInput(f"{where}: item id {item.id!r} appears twice")
            _check_embedding(item.embedding, dim, where)
            yield _item_values(item, cube_id, ids)

    _insert_batched(session, ItemRow, rows())


def _insert_batched(session: Session, table, rows: Iterable[dict]) -> None:
    """Insert rows a batch at a time, so an archive never sits whole in memory."""
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            session.execute(insert(table), batch)
            batch = []
    if batch:
        session.execute(insert(table), batch)


def _item_values(item: ArchivedItem, cube_id: str, ids: IdMap) -> dict:
    values = item.model_dump(exclude={"seq"})
    values.update(id=ids.fresh(item.id), cube_id=cube_id, state=item.state.value,
                  merged_into=ids.fresh(item.merged_into) if item.merged_into else None,
                  superseded_by=ids.fresh(item.superseded_by) if item.superseded_by else None)
    for key in ("event_time", "created_at", "updated_at", "last_accessed_at", "valid_to"):
        values[key] = as_utc(values[key]) if values[key] else values[key]
    return values


def _check_embedding(embedding: bytes | None, dim: int, where: str) -> None:
    if embedding is None:
        return
    if len(embedding) != 4 * dim:
        raise InvalidInput(f"{where}: the embedding has {len(embedding) // 4} dimensions; "
                           f"this home's embedder makes {dim}")
    if not np.isfinite(np.frombuffer(embedding, dtype=np.float32)).all():
        raise InvalidInput(f"{where}: the embedding holds non-finite numbers")


def _insert_history(session: Session, archive: ArchiveReader, cube_id: str, ids: IdMap) -> None:
    def rows() -> Iterator[dict]:
        for number, data in archive.rows("history.jsonl"):
            entry = decode_row(ArchivedHistory, data, f"history.jsonl line {number}")
            if entry.item_id in ids:  # else: history of a note the archive does not carry
                yield _history_values(entry, cube_id, ids)

    _insert_batched(session, ItemHistoryRow, rows())


def _history_values(entry: ArchivedHistory, cube_id: str, ids: IdMap) -> dict:
    snapshot = entry.snapshot.model_dump(mode="json")
    snapshot["merged_into"] = _remapped(ids, snapshot["merged_into"])
    changes = dict(entry.changes)
    if "merged_into" in changes:
        changes["merged_into"] = [_remapped(ids, value) for value in changes["merged_into"]]
    return {"item_id": ids.fresh(entry.item_id), "cube_id": cube_id, "version": entry.version,
            "event": entry.event, "changes": changes, "snapshot": snapshot,
            "actor": entry.actor, "reason": entry.reason, "at": as_utc(entry.at)}


def _remapped(ids: IdMap, value):
    return ids.fresh(value) if isinstance(value, str) and value else None


def _insert_links(session: Session, archive: ArchiveReader, cube_id: str, ids: IdMap) -> None:
    rows: dict[tuple[str, str], dict] = {}
    for number, data in archive.rows("links.jsonl"):
        link = decode_row(ArchivedLink, data, f"links.jsonl line {number}")
        source, target = ids.known(link.source_id), ids.known(link.target_id)
        if source is None or target is None:
            continue  # a link to a note the archive does not carry
        rows[(source, target)] = {"source_id": source, "target_id": target, "cube_id": cube_id,
                                  "kind": link.kind, "weight": link.weight,
                                  "created_at": as_utc(link.created_at)}
    _insert_batched(session, LinkRow, rows.values())


def _insert_adapters(session: Session, adapters: list[ArchivedAdapter], cube_id: str,
                     ids: IdMap, adapter_ids: dict[str, str]) -> None:
    groups: dict[str, str] = {}  # an archive's shard group -> a fresh one
    for adapter in adapters:
        fresh = adapter_ids[adapter.id]
        learned = {ids.known(item): version for item, version in adapter.items.items()
                   if ids.known(item) is not None}
        session.add(AdapterRow(
            id=fresh, cube_id=cube_id, fingerprint=adapter.fingerprint, path=f"adapters/{fresh}",
            items=learned, steps=adapter.steps, final_loss=adapter.final_loss, size=adapter.size,
            stale=adapter.stale, damaged=adapter.damaged, created_at=as_utc(adapter.created_at),
            shard_group=groups.setdefault(adapter.shard_group, uuid.uuid4().hex)
            if adapter.shard_group is not None else None,
            shard=adapter.shard, shards=adapter.shards, evidence=adapter.evidence))


def _name_taken(owner: str, name: str) -> Conflict:
    return Conflict(f"{owner} already has a cube named {name!r}; import it under another name")
