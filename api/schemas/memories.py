"""Memories, their history, and searches over them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from api.schemas.common import (
    Identifier,
    K,
    Public,
    Query,
    Strict,
    Tag,
    Tags,
)
from memcube.entry_checks import MAX_TEXT_CHARS
from memcube.lifecycle import State
from memcube.validation import MAX_JSON_BYTES, MAX_JSON_DEPTH, check_json_object
from storage.errors import InvalidInput


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError("datetime out of range once converted to UTC") from None


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, pattern=r"\S")]
Context = Annotated[str, Field(max_length=4_000)]
Keywords = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]],
                     Field(max_length=64)]
def _bounded_json(value: dict) -> dict:
    try:
        return check_json_object(value, "metadata")
    except InvalidInput as error:
        raise ValueError(str(error)) from None


Metadata = Annotated[dict[str, Any], Field(max_length=64, description=(
    f"A JSON object: at most 64 keys, {MAX_JSON_DEPTH} levels deep and {MAX_JSON_BYTES} bytes "
    "serialized.")), AfterValidator(_bounded_json)]
TtlSeconds = Annotated[float, Field(gt=0, le=1e10, allow_inf_nan=False)]


class MemoryCreate(Strict):
    """A new memory (a note); attributes not given are derived from the text."""

    text: Text
    metadata: Metadata = Field(default_factory=dict)
    keywords: Keywords | None = None
    tags: Tags | None = None
    context: Context | None = None
    event_time: UtcDatetime | None = None
    ttl_seconds: TtlSeconds | None = None
    source_type: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    source_id: Annotated[str, Field(max_length=128)] | None = None
    session_id: Annotated[str, Field(max_length=128)] | None = None
    force: bool = Field(default=False, description="Store even if a near-duplicate exists.")
    supersedes: Identifier | None = Field(default=None, description=(
        "The id of an older memory this one replaces from its event time on."))


class MemoryBatchCreate(Strict):
    """Several new memories, embedded in one batch."""

    items: Annotated[list[MemoryCreate], Field(min_length=1, max_length=256)]


class MemoryUpdate(Strict):
    """Fields of a memory to change; omitted fields stay as they are."""

    text: Text | None = None
    metadata: Metadata | None = None
    keywords: Keywords | None = None
    tags: Tags | None = None
    context: Context | None = None
    event_time: UtcDatetime | None = None
    ttl_seconds: TtlSeconds | None = None
    supersedes: Identifier | None = Field(default=None, description=(
        "The id of an older memory this one replaces from its event time on."))


class ProvenancePublic(Public):
    """Where a memory came from."""

    source_type: str
    source_id: str | None
    actor: str | None
    session_id: str | None


class MemoryPublic(Public):
    """A memory."""

    id: str
    cube_id: str
    kind: str
    text: str
    keywords: list[str]
    tags: list[str]
    context: str
    metadata: dict[str, Any]
    provenance: ProvenancePublic
    event_time: datetime | None
    version: int
    state: State
    created_at: datetime
    updated_at: datetime
    last_accessed_at: datetime | None
    access_count: int
    retrieval_count: int
    ttl_seconds: float | None
    merged_into: str | None
    superseded_by: str | None = None
    valid_to: datetime | None = None


class MemoriesPublic(Public):
    """A page of memories and how many match in all."""

    data: list[MemoryPublic]
    count: int


class HistoryEntryPublic(Public):
    """One recorded change of a memory."""

    item_id: str
    version: int
    event: str
    changes: dict[str, Any]
    actor: str | None
    reason: str | None
    at: datetime


class HistoryPublic(Public):
    """Every recorded change of a memory, oldest first."""

    data: list[HistoryEntryPublic]
    count: int


class SearchFilters(Strict):
    """Which memories a search may return."""

    states: Annotated[list[State], Field(max_length=6)] | None = None
    tags: Tags = Field(default_factory=list)
    metadata: Metadata = Field(default_factory=dict)
    event_after: UtcDatetime | None = None
    event_before: UtcDatetime | None = None
    written_after: UtcDatetime | None = None
    written_before: UtcDatetime | None = None
    expand_graph: bool = True
    current_only: bool = Field(default=False, description="Leave out superseded memories.")
    as_of: UtcDatetime | None = Field(default=None, description=(
        "Only the memories that were valid at this moment."))

    def as_kwargs(self) -> dict:
        """Keyword arguments of ``MemCube.search``."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class CubeSearch(SearchFilters):
    """A search in one cube."""

    query: Query
    k: K = 10

    def as_kwargs(self) -> dict:
        kwargs = super().as_kwargs()
        del kwargs["query"], kwargs["k"]
        return kwargs


class Search(CubeSearch):
    """A search over several cubes (all readable cubes when ``cube_ids`` is left out)."""

    cube_ids: Annotated[list[Identifier], Field(min_length=1, max_length=64)] | None = None

    def as_kwargs(self) -> dict:
        kwargs = super().as_kwargs()
        del kwargs["cube_ids"]
        return kwargs


class HitPublic(Public):
    """One retrieved memory, its fused score and why it was found."""

    item: MemoryPublic
    score: float
    why: dict[str, Any]


class HitsPublic(Public):
    """Search hits, best first."""

    data: list[HitPublic]
    count: int


StateFilter = Annotated[list[State] | None, Field(description="Only memories in these states.")]
TagFilter = Annotated[list[Tag], Field(max_length=32, description="Only memories with all tags.")]
