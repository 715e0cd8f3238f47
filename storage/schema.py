"""The SQL schema: the source of truth for users, cubes, items, history, links, blobs and jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.clock import as_utc

SeqId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER keys


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return as_utc(value)

    def process_result_value(self, value, dialect):
        return as_utc(value)


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CubeRow(Base):
    __tablename__ = "cubes"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CubeShareRow(Base):
    __tablename__ = "cube_shares"

    cube_id: Mapped[str] = mapped_column(
        ForeignKey("cubes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    access: Mapped[str] = mapped_column(String(8))  # "read" or "write"


class ItemRow(Base):
    __tablename__ = "memory_items"
    __table_args__ = (
        Index("ix_items_cube_state", "cube_id", "state"),
        # Only notes with a time to live: what every read's expiry check looks for.
        Index("ix_items_cube_state_ttl", "cube_id", "state",
              sqlite_where=sql_text("ttl_seconds IS NOT NULL"),
              postgresql_where=sql_text("ttl_seconds IS NOT NULL")),
    )

    seq: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    cube_id: Mapped[str] = mapped_column(ForeignKey("cubes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="plaintext")
    text: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    context: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    source_type: Mapped[str] = mapped_column(String(32), default="api")
    source_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    event_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default="created")
    merged_into: Mapped[str | None] = mapped_column(String(32), nullable=True)
    superseded_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # superseded then
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_accessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    access_count: Mapped[int] = mapped_column(Integer, default=0)
    retrieval_count: Mapped[int] = mapped_column(Integer, default=0)
    ttl_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)


class ItemHistoryRow(Base):
    __tablename__ = "item_history"

    seq: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(32), index=True)
    cube_id: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> [old, new]
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)  # the item after the change
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(128), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkRow(Base):
    __tablename__ = "links"

    source_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cube_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "similar", "keyword", "entity"
    weight: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BlobRow(Base):
    __tablename__ = "blobs"

    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdapterRow(Base):
    __tablename__ = "adapters"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cube_id: Mapped[str] = mapped_column(ForeignKey("cubes.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512))
    items: Mapped[dict] = mapped_column(JSON, default=dict)  # item id -> version distilled
    steps: Mapped[int] = mapped_column(Integer, default=0)
    final_loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    damaged: Mapped[str | None] = mapped_column(Text, nullable=True)  # why its files failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Sharded distillation: adapters of one group learned disjoint shards of the cube's notes.
    shard_group: Mapped[str | None] = mapped_column(String(32), nullable=True)
    shard: Mapped[int | None] = mapped_column(Integer, nullable=True)
    shards: Mapped[int | None] = mapped_column(Integer, nullable=True)
    evidence: Mapped[int | None] = mapped_column(Integer, nullable=True)  # check answers right


class KvEntryRow(Base):
    __tablename__ = "kv_entries"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    cube_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    item_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    tokens: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_due", "state", "run_after"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    cube_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(96), nullable=True)  # worker process
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RetrievalRow(Base):
    """One retrieval of an item by search: lets the scheduler count uses within a window."""

    __tablename__ = "item_retrievals"
    __table_args__ = (Index("ix_retrievals_item_at", "item_id", "at"),)

    seq: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ChatSessionRow(Base):
    """A conversation, named by its owner's session id (another owner's id is another session)."""

    __tablename__ = "chat_sessions"
    __table_args__ = (UniqueConstraint("owner_id", "session_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    session_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionSourceRow(Base):
    """A cube whose memories a conversation was given: whose forgets may scrub its turns."""

    __tablename__ = "session_sources"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("chat_sessions.id", ondelete="CASCADE"), primary_key=True)
    cube_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class SessionTurnRow(Base):
    """One kept turn of a conversation."""

    __tablename__ = "session_turns"

    seq: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeRow(Base):
    """One change to a cube's searchable notes: other processes replay it into their indexes."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_cube_seq", "cube_id", "seq"),
                      Index("ix_change_log_at", "at"))

    seq: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    cube_id: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
