"""The checks a note's fields pass before anything is written: known fields, sizes, types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from memcube.supersession import check_supersedes
from memcube.validation import check_json_object, check_optional_text, check_text, check_texts
from storage.errors import InvalidInput

MAX_TEXT_CHARS = 20_000
MAX_CONTEXT_CHARS = 4_000
MAX_ATTRIBUTE_CHARS = 64  # one keyword or tag
MAX_KEYWORDS, MAX_TAGS = 64, 32
PROVENANCE_LIMITS = {"source_type": 32, "source_id": 128, "actor": 64, "session_id": 128}
ADD_FIELDS = {"text", "metadata", "keywords", "tags", "context", "event_time", "ttl_seconds",
              "source_type", "source_id", "actor", "session_id", "force", "supersedes"}


def _check_text(text) -> str:
    return check_text(text, "a memory's text", MAX_TEXT_CHARS, blank_ok=False)


def check_entry(entry: Mapping) -> dict:
    """One note to add, checked: known fields only, each value within its limits."""
    if not isinstance(entry, Mapping):
        raise InvalidInput("each memory must be an object with a 'text'")
    unknown = set(entry) - ADD_FIELDS
    if unknown:
        raise InvalidInput(f"unknown memory fields {sorted(unknown)}")
    entry = check_fields(dict(entry), required_text=True)
    for name, limit in PROVENANCE_LIMITS.items():
        entry[name] = check_optional_text(entry.get(name), name, limit)
    entry["supersedes"] = check_supersedes(entry.get("supersedes"))
    return entry


def check_fields(fields: dict, required_text: bool = False) -> dict:
    """Every value a note may store, checked before anything is written."""
    if required_text or "text" in fields:
        fields["text"] = _check_text(fields.get("text"))
    if fields.get("metadata") is not None:
        fields["metadata"] = check_json_object(fields["metadata"], "metadata")
    for name, limit in (("keywords", MAX_KEYWORDS), ("tags", MAX_TAGS)):
        if fields.get(name) is not None:
            fields[name] = check_texts(fields[name], name, MAX_ATTRIBUTE_CHARS, limit)
    fields["context"] = check_optional_text(fields.get("context"), "context", MAX_CONTEXT_CHARS)
    if fields["context"] is None:
        del fields["context"]
    if fields.get("event_time") is not None and not isinstance(fields["event_time"], datetime):
        raise InvalidInput("event_time must be a datetime")
    if fields.get("ttl_seconds") is not None and not _positive(fields["ttl_seconds"]):
        raise InvalidInput("ttl_seconds must be a positive, finite number of seconds")
    return fields


def _positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and 0 < value <= 1e10
