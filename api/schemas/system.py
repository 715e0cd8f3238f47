"""Activation cache entries, adapters and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import Identifier, Public, Strict
from memos.scheduler import JobState


class KvEntryPublic(Public):
    """One cached chunk: its size, tier and use."""

    key: str
    tokens: int
    nbytes: int
    tier: str
    pinned: bool
    hits: int
    last_used: float
    on_disk: bool
    cube_id: str | None
    item_id: str | None


class KvEntriesPublic(Public):
    """Cached chunks, most recently used first."""

    data: list[KvEntryPublic]
    count: int


class KvWarm(Strict):
    """Memories whose prompt chunks to precompute."""

    item_ids: Annotated[list[Identifier], Field(min_length=1, max_length=256)]


class KvWarmed(Public):
    """How many chunks were warmed."""

    warmed: int


class KvPin(Strict):
    """Keep a chunk out of eviction, or let it go again."""

    pinned: bool = True


class AdapterCreate(Strict):
    """What to distil: some notes (all searchable ones by default) for a number of steps."""

    item_ids: Annotated[list[Identifier], Field(min_length=1, max_length=1000)] | None = None
    steps: Annotated[int, Field(ge=1, le=2000)] | None = None
    epochs: Annotated[int, Field(ge=1, le=100)] | None = None
    rank: Annotated[int, Field(ge=1, le=64)] | None = None


class AdapterPublic(Public):
    """A cube's distilled LoRA adapter."""

    id: str
    cube_id: str
    fingerprint: str
    items: int
    steps: int
    final_loss: float | None
    size: int
    stale: bool
    damaged: str | None = Field(
        default=None, description="Why its files failed their checksum (never attached then).")
    created_at: datetime
    shard_group: str | None = Field(default=None, description="Its sharded distillation.")
    shard: int | None = Field(default=None, description="Which shard of the notes it learned.")
    shards: int | None = Field(default=None, description="Shards in its group.")
    evidence: int | None = Field(
        default=None, description="Check questions about its notes it answered right.")


class AdaptersPublic(Public):
    """A cube's adapters, newest first."""

    data: list[AdapterPublic]
    count: int


class JobPublic(Public):
    """A scheduler job."""

    id: str
    kind: str
    cube_id: str | None
    payload: dict[str, Any]
    state: JobState
    progress: float
    attempts: int
    max_attempts: int
    error: str | None
    result: dict[str, Any]
    dedupe_key: str | None
    created_at: datetime
    updated_at: datetime
    run_after: datetime


class JobsPublic(Public):
    """A page of jobs (newest first) and how many match in all."""

    data: list[JobPublic]
    count: int


class LimitsPublic(Public):
    """The service's limits by area, and the caller's current use of them."""

    model: dict[str, float]
    jobs: dict[str, int]
    storage: dict[str, int]
    requests: dict[str, int]
    usage: dict[str, int]
