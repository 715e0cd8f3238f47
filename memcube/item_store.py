"""SQL reads and writes of memory items, each change recorded as a history row."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import (
    LargeBinary,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from memcube.item import MemoryItem, snapshot
from memcube.item_versions import (
    apply_fields,
    check_editable,
    jsonable,
    restore_version,
)
from memcube.lifecycle import EDITABLE, EXPIRABLE, SEARCHABLE, State, check_transition
from memcube.types import HistoryEntry
from storage import change_log
from storage.cache_failures import CacheFailures
from storage.clock import Clock, as_utc
from storage.database import Database
from storage.errors import Conflict, IllegalTransition, InvalidInput, NotFound, StorageFull
from storage.schema import CubeRow, ItemHistoryRow, ItemRow, LinkRow, RetrievalRow
from storage.text_match import contains_any


@dataclass(frozen=True, slots=True)
class Holdings:
    """What a cube and its owner hold, counted inside the transaction that adds notes."""

    cube_id: str
    kept: int  # the cube's notes that are not deleted
    owner_text_bytes: int  # bytes of text in the not-deleted notes of every cube of its owner


def new_id() -> str:
    """A fresh random id (32 hex characters)."""
    return uuid.uuid4().hex


class ItemStore:
    """Items of all cubes in SQL; every write also appends to item_history."""

    def __init__(self, database: Database, clock: Clock, history_kept: int | None = None) -> None:
        if history_kept is not None and history_kept < 1:
            raise InvalidInput("history_kept must be at least 1")
        self._database = database
        self._clock = clock
        self.access_count_failures = CacheFailures(logging.getLogger(__name__))
        self._history_kept = history_kept  # newest history rows kept per item (None: all)

    def insert(self, rows: Sequence[ItemRow], actor: str | None = None,
               limit: Callable[[Holdings], None] | None = None) -> list[MemoryItem]:
        """Store new items (one transaction) and their 'created' history rows. ``limit`` sees
        each cube's holdings with the new items counted, after the cube's write lock is taken
        (so two concurrent adds cannot both pass it), and raises to store nothing."""
        now = self._clock.now()
        with self._database.session() as session:
            for row in rows:
                row.id = row.id or new_id()
                row.created_at = row.updated_at = now
                row.version, row.state = 1, row.state or State.CREATED.value
                session.add(row)
                _record_version(session, row, "created", {}, actor or row.actor, None, now)
            session.flush()
            for cube_id in dict.fromkeys(row.cube_id for row in rows):
                change_log.append(session, cube_id, [r.id for r in rows if r.cube_id == cube_id],
                                  change_log.ADDED, now)
                if limit is not None:
                    limit(holdings_in(session, cube_id))
            return [MemoryItem.from_row(row) for row in rows]

    def get(self, item_id: str, cube_id: str | None = None) -> MemoryItem:
        """One item, or NotFound (also when it belongs to another cube)."""
        with self._database.session() as session:
            return MemoryItem.from_row(_row(session, item_id, cube_id))

    def get_many(self, item_ids: Iterable[str]) -> dict[str, MemoryItem]:
        """Items by id (missing ids are left out)."""
        ids = list(item_ids)
        if not ids:
            return {}
        with self._database.session() as session:
            rows = session.scalars(select(ItemRow).where(ItemRow.id.in_(ids)))
            return {row.id: MemoryItem.from_row(row) for row in rows}

    def update(self, item_id: str, cube_id: str, fields: dict, actor: str | None = None,
               reason: str | None = None, event: str = "updated") -> MemoryItem:
        """Change editable fields; bumps the version and records old and new values."""
        check_editable(fields)
        with self._database.session() as session:
            row = _row(session, item_id, cube_id)
            if self._change(session, row, fields, actor, reason, event):
                change_log.append(session, cube_id, [item_id], change_log.UPDATED, row.updated_at)
            return MemoryItem.from_row(row)

    def update_many(self, cube_id: str, changes: dict[str, tuple[dict, str | None]],
                    actor: str | None = None, event: str = "updated") -> list[str]:
        """Apply ``{item_id: (fields, reason)}`` in one transaction, as ``update`` would;
        the ids of the items that changed."""
        for fields, _ in changes.values():
            check_editable(fields)
        if not changes:
            return []
        with self._database.session() as session:
            rows = {row.id: row for row in session.scalars(
                select(ItemRow).where(ItemRow.id.in_(list(changes))))}
            changed: list[str] = []
            for item_id, (fields, reason) in changes.items():
                row = rows.get(item_id)
                if row is None or row.cube_id != cube_id:
                    raise NotFound(f"no memory {item_id!r}")
                if self._change(session, row, fields, actor, reason, event):
                    changed.append(item_id)
            change_log.append(session, cube_id, changed, change_log.UPDATED, self._clock.now())
            return changed

    def _change(self, session: Session, row: ItemRow, fields: dict, actor: str | None,
                reason: str | None, event: str) -> bool:
        """Apply the fields; whether anything changed."""
        _check_editable_state(State(row.state))
        changes = apply_fields(row, fields)
        if changes:
            _take_next_version(session, row, _check_editable_state)
            row.updated_at = self._clock.now()
            self._log(session, row, event, changes, actor, reason, row.updated_at)
        return bool(changes)

    def transition(self, item_id: str, cube_id: str, target: State, actor: str | None = None,
                   reason: str | None = None, merged_into: str | None = None) -> MemoryItem:
        """Move an item to another lifecycle state, as the transition table allows."""
        with self._database.session() as session:
            row = _row(session, item_id, cube_id)
            check_transition(State(row.state), target)
            _take_next_version(session, row, lambda state: check_transition(state, target))
            changes = {"state": [row.state, target.value]}
            row.state, row.updated_at = target.value, self._clock.now()
            if merged_into:
                changes["merged_into"] = [row.merged_into, merged_into]
                row.merged_into = merged_into
            self._log(session, row, target.value, changes, actor, reason, row.updated_at)
            kind = change_log.DELETED if target == State.DELETED else change_log.STATE
            change_log.append(session, cube_id, [item_id], kind, row.updated_at)
            return MemoryItem.from_row(row)

    def mark_superseded(self, item_id: str, cube_id: str, by: str, valid_to: datetime,
                        actor: str | None = None, reason: str | None = None) -> MemoryItem:
        """Record that ``by`` supersedes the item from ``valid_to`` on (a new version)."""
        with self._database.session() as session:
            row = _row(session, item_id, cube_id)
            changes = {"superseded_by": [row.superseded_by, by],
                       "valid_to": [jsonable(row.valid_to), jsonable(valid_to)]}
            row.superseded_by, row.valid_to = by, valid_to
            row.version += 1
            row.updated_at = self._clock.now()
            self._log(session, row, "superseded", changes, actor, reason, row.updated_at)
            return MemoryItem.from_row(row)

    def record_event(self, item_id: str, cube_id: str, event: str, actor: str | None = None,
                     reason: str | None = None) -> None:
        """Note something that happened to an item without changing it (e.g. distilled)."""
        with self._database.session() as session:
            row = _row(session, item_id, cube_id)
            self._log(session, row, event, {}, actor, reason, self._clock.now())

    def _log(self, session: Session, row: ItemRow, *entry) -> None:
        """Record a change, then drop the item's history rows beyond the newest kept."""
        _record_version(session, row, *entry)
        if self._history_kept is None:
            return
        oldest_kept = session.scalar(
            select(ItemHistoryRow.seq).where(ItemHistoryRow.item_id == row.id)
            .order_by(ItemHistoryRow.seq.desc()).offset(self._history_kept - 1).limit(1))
        if oldest_kept is not None:
            session.execute(delete(ItemHistoryRow).where(ItemHistoryRow.item_id == row.id,
                                                         ItemHistoryRow.seq < oldest_kept))

    def purge(self, item_id: str, cube_id: str) -> None:
        """Remove an item, its history and its links for good."""
        with self._database.session() as session:
            _row(session, item_id, cube_id)
            session.execute(delete(ItemHistoryRow).where(ItemHistoryRow.item_id == item_id))
            session.execute(delete(LinkRow).where(
                (LinkRow.source_id == item_id) | (LinkRow.target_id == item_id)))
            session.execute(delete(ItemRow).where(ItemRow.id == item_id))
            change_log.append(session, cube_id, [item_id], change_log.PURGED, self._clock.now())

    def touch(self, item_ids: Sequence[str], retrieved: bool = False) -> None:
        """Count an access (or a retrieval) of items now; on a full disk the count is skipped
        (it only steers policies), so reads go on."""
        if not item_ids:
            return
        try:
            self._count_access(item_ids, retrieved)
        except StorageFull as error:
            self.access_count_failures.record("access count", error)

    def _count_access(self, item_ids: Sequence[str], retrieved: bool) -> None:
        values = {"last_accessed_at": self._clock.now(), "access_count": ItemRow.access_count + 1}
        if retrieved:
            values["retrieval_count"] = ItemRow.retrieval_count + 1
        with self._database.session() as session:
            session.execute(update(ItemRow).where(ItemRow.id.in_(list(item_ids))).values(**values))
            if retrieved:  # the scheduler counts retrievals per window (promote_activation)
                session.execute(insert(RetrievalRow), [
                    {"item_id": i, "at": values["last_accessed_at"]} for i in item_ids])

    def history(self, item_id: str, cube_id: str) -> list[HistoryEntry]:
        """Every kept change of an item, oldest first."""
        return self.history_page(item_id, cube_id, limit=None)[0]

    def history_page(self, item_id: str, cube_id: str, limit: int | None = 100,
                     offset: int = 0) -> tuple[list[HistoryEntry], int]:
        """A page of an item's kept changes, oldest first, and how many are kept in all."""
        query = select(ItemHistoryRow).where(ItemHistoryRow.item_id == item_id)
        with self._database.session() as session:
            _row(session, item_id, cube_id)
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(query.order_by(ItemHistoryRow.seq).offset(offset).limit(limit))
            return [HistoryEntry(r.item_id, r.version, r.event, r.changes, r.actor, r.reason, r.at)
                    for r in rows], total

    def as_of(self, item_id: str, cube_id: str, when: datetime) -> MemoryItem:
        """The item as it was at ``when`` (NotFound if it did not exist yet)."""
        when = as_utc(when)
        with self._database.session() as session:
            row = _row(session, item_id, cube_id)
            past = session.scalars(
                select(ItemHistoryRow)
                .where(ItemHistoryRow.item_id == item_id, ItemHistoryRow.at <= when)
                .order_by(ItemHistoryRow.seq.desc()).limit(1)
            ).first()
            if past is None:
                raise NotFound(f"memory {item_id} did not exist at {when.isoformat()}")
            item = MemoryItem.from_row(row)
        return restore_version(item, past.snapshot)

    def list(self, cube_id: str, states: Iterable[State] | None = None, tags: Sequence[str] = (),
             limit: int = 50, offset: int = 0,
             admits: Callable[[MemoryItem], bool] | None = None) -> tuple[list[MemoryItem], int]:
        """A page of a cube's items (newest first, those ``admits`` accepts) and the total."""
        query = select(ItemRow).where(ItemRow.cube_id == cube_id)
        if states is not None:
            query = query.where(ItemRow.state.in_([s.value for s in states]))
        with self._database.session() as session:
            rows = [r for r in session.scalars(query.order_by(ItemRow.seq.desc()))
                    if set(tags) <= set(r.tags or [])]
            if admits is not None:
                items = [item for item in map(MemoryItem.from_row, rows) if admits(item)]
                return items[offset : offset + limit], len(items)
            return [MemoryItem.from_row(r) for r in rows[offset : offset + limit]], len(rows)

    def expired_ids(self, cube_id: str, now: datetime | None = None) -> list[str]:
        """Live items of the cube whose time to live has run out (oldest first)."""
        now = now or self._clock.now()
        with self._database.session() as session:
            rows = session.execute(select(ItemRow.id, ItemRow.created_at, ItemRow.ttl_seconds)
                                   .where(ItemRow.cube_id == cube_id,
                                          ItemRow.state.in_([s.value for s in EXPIRABLE]),
                                          ItemRow.ttl_seconds.is_not(None))
                                   .order_by(ItemRow.seq)).all()
        return [item_id for item_id, created_at, ttl in rows
                if as_utc(created_at) + timedelta(seconds=ttl) < as_utc(now)]

    def idle_ids(self, cube_id: str, states: Iterable[State], cutoff: datetime) -> list[str]:
        """Items in ``states`` last accessed (or, never accessed, created) before ``cutoff``."""
        idle = or_(ItemRow.last_accessed_at < cutoff,
                   and_(ItemRow.last_accessed_at.is_(None), ItemRow.created_at < cutoff))
        with self._database.session() as session:
            return list(session.scalars(select(ItemRow.id).where(
                ItemRow.cube_id == cube_id, ItemRow.state.in_([s.value for s in states]), idle)
                .order_by(ItemRow.seq)))

    def embedded_survivors_first(self, cube_id: str, states: Iterable[State],
                                 limit: int) -> list[tuple[str, str, bytes]]:
        """(id, state, embedding) of items in ``states`` that have an embedding, those that
        should survive a merge first: frozen, then most retrieved, then oldest."""
        frozen_first = case((ItemRow.state == State.FROZEN.value, 0), else_=1)
        with self._database.session() as session:
            return [tuple(row) for row in session.execute(
                select(ItemRow.id, ItemRow.state, ItemRow.embedding).where(
                    ItemRow.cube_id == cube_id, ItemRow.state.in_([s.value for s in states]),
                    ItemRow.embedding.is_not(None))
                .order_by(frozen_first, ItemRow.retrieval_count.desc(), ItemRow.seq)
                .limit(limit))]

    def live_versions(self, item_ids: Iterable[str], states: Iterable[State]) -> dict[str, int]:
        """The version of each of these items that is in ``states`` (the others are left out)."""
        wanted = list(item_ids)
        if not wanted:
            return {}
        with self._database.session() as session:
            return dict(session.execute(select(ItemRow.id, ItemRow.version).where(
                ItemRow.id.in_(wanted), ItemRow.state.in_([s.value for s in states]))).all())

    def last_event_at(self, cube_id: str, events: Iterable[str]) -> datetime | None:
        """When the cube's history last recorded one of ``events`` (None: never)."""
        with self._database.session() as session:
            return as_utc(session.scalar(select(func.max(ItemHistoryRow.at)).where(
                ItemHistoryRow.cube_id == cube_id, ItemHistoryRow.event.in_(list(events)))))

    def count_kept(self, cube_id: str) -> int:
        """How many of the cube's items are not deleted."""
        with self._database.session() as session:
            return _kept(session, cube_id)

    def text_bytes_of_owner(self, owner: str) -> int:
        """Bytes of text in the not-deleted items of every cube ``owner`` owns."""
        with self._database.session() as session:
            return _text_bytes_of_owner(session, owner)

    def counts_by_state(self, cube_id: str) -> dict[str, int]:
        """How many items the cube has in each state."""
        with self._database.session() as session:
            rows = session.execute(select(ItemRow.state, func.count()).where(
                ItemRow.cube_id == cube_id).group_by(ItemRow.state))
            return {state: count for state, count in rows}

    def of_cube(self, cube_id: str, item_ids: Sequence[str]) -> list[MemoryItem]:
        """These items, in any state, where they belong to the cube."""
        with self._database.session() as session:
            return [MemoryItem.from_row(row) for row in session.scalars(select(ItemRow).where(
                ItemRow.id.in_(item_ids), ItemRow.cube_id == cube_id))]

    def past_texts(self, cube_id: str, item_ids: Sequence[str]) -> list[str]:
        """The text of every kept history snapshot of these items of the cube ("" if none)."""
        with self._database.session() as session:
            return [row.snapshot.get("text") or "" for row in session.scalars(
                select(ItemHistoryRow).where(ItemHistoryRow.item_id.in_(item_ids),
                                             ItemHistoryRow.cube_id == cube_id))]

    def searchable_quoting(self, cube_id: str, texts: Sequence[str],
                           excluding: Sequence[str] = ()) -> list[MemoryItem]:
        """The cube's searchable items, other than ``excluding``, whose text contains one
        of the (non-empty) texts."""
        if not texts:
            return []
        with self._database.session() as session:
            return [MemoryItem.from_row(row) for row in session.scalars(select(ItemRow).where(
                ItemRow.cube_id == cube_id, ItemRow.id.not_in(excluding),
                ItemRow.state.in_([s.value for s in SEARCHABLE]),
                contains_any(ItemRow.text, texts)))]

    def indexable(self, cube_id: str) -> list[tuple[int, MemoryItem]]:
        """(seq, item) of every item that belongs in the cube's derived indexes."""
        with self._database.session() as session:
            rows = session.scalars(select(ItemRow).where(
                ItemRow.cube_id == cube_id, ItemRow.state != State.DELETED.value,
                ItemRow.embedding.is_not(None)).order_by(ItemRow.seq))
            return [(row.seq, MemoryItem.from_row(row)) for row in rows]

    def index_view(self, cube_id: str, since: datetime) -> tuple[set[str], set[str]]:
        """Ids of the cube's items that belong in its indexes, and of those changed since."""
        with self._database.session() as session:
            rows = session.execute(select(ItemRow.id, ItemRow.updated_at >= since).where(
                ItemRow.cube_id == cube_id, ItemRow.state != State.DELETED.value,
                ItemRow.embedding.is_not(None))).all()
        return {item_id for item_id, _ in rows}, {item_id for item_id, new in rows if new}

    def seq_of(self, item_ids: Sequence[str]) -> dict[str, int]:
        """Integer index ids of items."""
        with self._database.session() as session:
            rows = session.execute(select(ItemRow.id, ItemRow.seq).where(ItemRow.id.in_(item_ids)))
            return dict(rows.all())


def _row(session: Session, item_id: str, cube_id: str | None) -> ItemRow:
    row = session.scalars(select(ItemRow).where(ItemRow.id == item_id)).first()
    if row is None or (cube_id is not None and row.cube_id != cube_id):
        raise NotFound(f"no memory {item_id!r}")
    return row


def _take_next_version(session: Session, row: ItemRow, check: Callable[[State], None]) -> None:
    """Bump the row's version in SQL, only if no other write committed one since it was read
    (this write then holds the row until it commits)."""
    with session.no_autoflush:  # checked before this write's own changes reach SQL
        taken = session.execute(
            update(ItemRow).where(ItemRow.id == row.id, ItemRow.version == row.version)
            .values(version=row.version + 1).execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            _lost_race(session, row.id, check)
    row.version += 1


def _lost_race(session: Session, item_id: str, check: Callable[[State], None]) -> NoReturn:
    """NotFound once the item is purged, what ``check`` says of the state the winning write
    left, else Conflict."""
    state = session.scalar(select(ItemRow.state).where(ItemRow.id == item_id))
    if state is None:
        raise NotFound(f"no memory {item_id!r}")
    check(State(state))
    raise Conflict(f"memory {item_id} changed meanwhile, try again")


def _check_editable_state(state: State) -> None:
    if state not in EDITABLE:
        raise IllegalTransition(f"a {state} memory cannot be edited")


def _record_version(session: Session, row: ItemRow, event: str, changes: dict,
                   actor: str | None, reason: str | None, at: datetime) -> None:
    """Add the row's current version, with what changed, to its history."""
    session.add(ItemHistoryRow(item_id=row.id, cube_id=row.cube_id, version=row.version,
                               event=event, changes=changes, snapshot=snapshot(row),
                               actor=actor, reason=reason, at=at))


def _kept(session: Session, cube_id: str) -> int:
    return session.scalar(select(func.count()).where(
        ItemRow.cube_id == cube_id, ItemRow.state != State.DELETED.value))


def _text_bytes_of_owner(session: Session, owner: str) -> int:
    size = func.length(cast(ItemRow.text, LargeBinary))  # bytes, not characters
    return session.scalar(select(func.coalesce(func.sum(size), 0)).join(
        CubeRow, CubeRow.id == ItemRow.cube_id).where(
        CubeRow.owner_id == owner, ItemRow.state != State.DELETED.value))


def holdings_in(session: Session, cube_id: str) -> Holdings:
    """The cube's and its owner's holdings, inside the caller's transaction (after its writes
    to the cube: on PostgreSQL this waits for other adds of the same owner to commit)."""
    owner = session.scalar(select(CubeRow.owner_id).where(CubeRow.id == cube_id))
    if session.get_bind().dialect.name == "postgresql":
        # Adds to two cubes of one owner wait for each other here (SQLite: one writer at a
        # time already), so the owner's bytes below include every committed add.
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:owner))"),
                        {"owner": f"owner:{owner}"})
    return Holdings(cube_id, _kept(session, cube_id), _text_bytes_of_owner(session, owner))
