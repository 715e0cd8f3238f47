"""Plain value types that callers of the kernel and the SDK see (no SQL, no torch).

``memos.client`` imports only this module of memcube, so an HTTP client never loads
SQLAlchemy or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from memcube.item import MemoryItem, Provenance
from memcube.lifecycle import State
from memcube.search import SearchHit

__all__ = ["CubeInfo", "HistoryEntry", "MemoryItem", "Provenance", "SearchHit", "State"]


@dataclass(slots=True)
class CubeInfo:
    """A cube's descriptive fields."""

    id: str
    name: str
    owner: str
    description: str
    settings: dict
    created_at: datetime
    updated_at: datetime
    shares: dict[str, str]

    def to_dict(self) -> dict:
        """JSON-friendly dict."""
        return {"id": self.id, "name": self.name, "owner": self.owner,
                "description": self.description, "settings": self.settings,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(), "shares": dict(self.shares)}


@dataclass(slots=True)
class HistoryEntry:
    """One recorded change of an item."""

    item_id: str
    version: int
    event: str
    changes: dict
    actor: str | None
    reason: str | None
    at: datetime

    def to_dict(self) -> dict:
        """JSON-friendly dict."""
        return {"item_id": self.item_id, "version": self.version, "event": self.event,
                "changes": self.changes, "actor": self.actor, "reason": self.reason,
                "at": self.at.isoformat()}
