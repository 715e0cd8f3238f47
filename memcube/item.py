"""MemoryItem: one memory as callers see it, built from its SQL row."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from memcube.lifecycle import State

if TYPE_CHECKING:  # annotations only: the value types load without SQLAlchemy
    from storage.schema import ItemRow


@dataclass(slots=True)
class Provenance:
    """Where a memory came from."""

    source_type: str = "api"
    source_id: str | None = None
    actor: str | None = None
    session_id: str | None = None


@dataclass(slots=True)
class MemoryItem:
    """A memory: text, attributes, metadata, provenance, version and lifecycle state."""

    id: str
    cube_id: str
    kind: str
    text: str
    keywords: list[str]
    tags: list[str]
    context: str
    metadata: dict
    provenance: Provenance
    event_time: datetime | None
    version: int
    state: State
    created_at: datetime
    updated_at: datetime
    last_accessed_at: datetime | None = None
    access_count: int = 0
    retrieval_count: int = 0
    ttl_seconds: float | None = None
    merged_into: str | None = None
    superseded_by: str | None = None  # the newer note that corrected this one
    valid_to: datetime | None = None  # when it stopped being true (the newer note's time)
    # insertion order in SQL (the canonical prompt order); local to this database
    seq: int = field(default=0, repr=False, compare=False)
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: ItemRow) -> MemoryItem:
        """Build an item from its SQL row."""
        return cls(
            id=row.id, cube_id=row.cube_id, kind=row.kind, text=row.text,
            keywords=list(row.keywords or []), tags=list(row.tags or []), context=row.context,
            metadata=dict(row.meta or {}),
            provenance=Provenance(row.source_type, row.source_id, row.actor, row.session_id),
            event_time=row.event_time, version=row.version, state=State(row.state),
            created_at=row.created_at, updated_at=row.updated_at,
            last_accessed_at=row.last_accessed_at, access_count=row.access_count,
            retrieval_count=row.retrieval_count, ttl_seconds=row.ttl_seconds,
            merged_into=row.merged_into, superseded_by=row.superseded_by,
            valid_to=row.valid_to, seq=row.seq or 0,
            embedding=decode_embedding(row.embedding),
        )

    def to_dict(self) -> dict:
        """JSON-friendly dict (datetimes as ISO strings, no embedding)."""
        data = asdict(self)
        data.pop("embedding")
        data.pop("seq")
        data["state"] = self.state.value
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


def encode_embedding(vector: np.ndarray | None) -> bytes | None:
    """float32 bytes for the SQL column."""
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def decode_embedding(blob: bytes | None) -> np.ndarray | None:
    """The vector stored in the SQL column."""
    return None if blob is None else np.frombuffer(blob, dtype=np.float32).copy()


def snapshot(row: ItemRow) -> dict:
    """What history keeps of an item after each change (enough for as-of reads)."""
    return {
        "text": row.text, "keywords": list(row.keywords or []), "tags": list(row.tags or []),
        "context": row.context, "metadata": dict(row.meta or {}), "state": row.state,
        "version": row.version, "merged_into": row.merged_into,
        "event_time": row.event_time.isoformat() if row.event_time else None,
    }
