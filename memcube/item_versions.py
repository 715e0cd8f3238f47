"""How a change to an item becomes a new version: editable fields, the changes recorded, and
an earlier version read back from its history snapshot."""

from __future__ import annotations

from datetime import datetime

from memcube.item import MemoryItem
from memcube.lifecycle import State
from storage.clock import as_utc
from storage.errors import InvalidInput
from storage.schema import ItemRow

EDITABLE_FIELDS = {"text": "text", "keywords": "keywords", "tags": "tags", "context": "context",
                   "metadata": "meta", "event_time": "event_time", "ttl_seconds": "ttl_seconds",
                   "embedding": "embedding"}


def check_editable(fields: dict) -> None:
    """InvalidInput unless every field is one an edit may change."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"cannot edit {sorted(unknown)}")


def apply_fields(row: ItemRow, fields: dict) -> dict:
    """Set the fields on the row; the changes as {field: [old, new]} (embeddings unlisted)."""
    changes = {}
    for name, value in fields.items():
        column = EDITABLE_FIELDS[name]
        old = getattr(row, column)
        if old == value or (name == "event_time" and as_utc(old) == as_utc(value)):
            continue
        setattr(row, column, value)
        if name != "embedding":
            changes[name] = [jsonable(old), jsonable(value)]
    return changes


def jsonable(value):
    """A value as history records it (datetimes as ISO text)."""
    return value.isoformat() if isinstance(value, datetime) else value


def restore_version(item: MemoryItem, past: dict) -> MemoryItem:
    """The item as a history snapshot recorded it."""
    item.text, item.keywords, item.tags = past["text"], past["keywords"], past["tags"]
    item.context, item.metadata = past["context"], past["metadata"]
    item.state, item.version, item.merged_into = State(past["state"]), past["version"], \
        past["merged_into"]
    item.event_time = as_utc(datetime.fromisoformat(past["event_time"])) \
        if past["event_time"] else None
    return item


