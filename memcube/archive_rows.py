"""The rows an archive may carry, validated field by field before anything is written."""

from __future__ import annotations

import base64
import binascii
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from memcube.cube_settings import CubeSettings
from memcube.lifecycle import State
from memcube.validation import MAX_JSON_BYTES, MAX_JSON_DEPTH, check_json_object, check_text
from storage.clock import as_utc
from storage.errors import InvalidInput

MAX_TEXT = 20_000
LARGE = 1 << 20  # history snapshots and changes carry whole texts

ArchiveId = Annotated[str, Field(min_length=1, max_length=64)]
Short = Annotated[str, Field(max_length=128)]
Word = Annotated[str, Field(max_length=256)]
Count = Annotated[int, Field(ge=0, le=2**62)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    @field_validator("*", mode="after")
    @classmethod
    def _plain_data(cls, value: Any, info: ValidationInfo) -> Any:
        """Text that can be stored and JSON within the same bounds as every other door."""
        if isinstance(value, str):
            check_text(value, info.field_name)
        elif isinstance(value, BaseModel):
            check_json_object(value.model_dump(mode="json"), info.field_name, max_bytes=LARGE)
        elif isinstance(value, dict | list):
            limit = MAX_JSON_BYTES if info.field_name == "meta" else LARGE
            check_json_object({"value": value}, info.field_name, MAX_JSON_DEPTH + 1, limit)
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"{info.field_name} must be a finite number")
        return value


class ArchivedCube(_Row):
    """The manifest's cube: only its name, description and settings are kept."""

    id: ArchiveId
    name: Annotated[str, Field(min_length=1, max_length=128, pattern=r"\S")]
    owner_id: Short | None = None
    description: Annotated[str, Field(max_length=4_000)] = ""
    settings: CubeSettings = Field(default_factory=CubeSettings)
    created_at: datetime
    updated_at: datetime


class ArchivedItem(_Row):
    """One note."""

    seq: int | None = None
    id: ArchiveId
    cube_id: ArchiveId | None = None
    kind: Literal["plaintext"] = "plaintext"
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    keywords: Annotated[list[Word], Field(max_length=256)] = []
    tags: Annotated[list[Word], Field(max_length=256)] = []
    context: Annotated[str, Field(max_length=MAX_TEXT)] = ""
    meta: dict = {}
    source_type: Annotated[str, Field(max_length=32)] = "import"
    source_id: Short | None = None
    actor: Annotated[str, Field(max_length=64)] | None = None
    session_id: Short | None = None
    event_time: datetime | None = None
    version: Annotated[int, Field(ge=1, le=2**31)] = 1
    state: State = State.CREATED
    merged_into: ArchiveId | None = None
    superseded_by: ArchiveId | None = None
    valid_to: datetime | None = None
    embedding: bytes | None = None
    created_at: datetime
    updated_at: datetime
    last_accessed_at: datetime | None = None
    access_count: Count = 0
    retrieval_count: Count = 0
    ttl_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None


class Snapshot(BaseModel):
    """What history keeps of an item after a change (the shape as-of reads restore)."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(max_length=MAX_TEXT)]
    keywords: list[Word]
    tags: list[Word]
    context: Annotated[str, Field(max_length=MAX_TEXT)]
    metadata: dict
    state: State
    version: Annotated[int, Field(ge=1, le=2**31)]
    merged_into: ArchiveId | None
    event_time: datetime | None


class ArchivedHistory(_Row):
    """One entry of an item's history."""

    seq: int | None = None
    item_id: ArchiveId
    cube_id: ArchiveId | None = None
    version: Annotated[int, Field(ge=0, le=2**31)]
    event: Annotated[str, Field(min_length=1, max_length=32)]
    changes: dict[Annotated[str, Field(max_length=64)], list] = {}
    snapshot: Snapshot
    actor: Annotated[str, Field(max_length=64)] | None = None
    reason: Short | None = None
    at: datetime


class ArchivedLink(_Row):
    """One note-to-note link."""

    source_id: ArchiveId
    target_id: ArchiveId
    cube_id: ArchiveId | None = None
    kind: Annotated[str, Field(min_length=1, max_length=16)]
    weight: Annotated[float, Field(allow_inf_nan=False)]
    created_at: datetime


class ArchivedAdapter(_Row):
    """One distilled adapter; its files come from ``files/<path>/``."""

    id: ArchiveId
    cube_id: ArchiveId | None = None
    fingerprint: Annotated[str, Field(min_length=1, max_length=64)]
    path: Annotated[str, Field(min_length=1, max_length=512)]
    items: dict[ArchiveId, Annotated[int, Field(ge=0, le=2**31)]] = {}
    steps: Count = 0
    final_loss: Annotated[float, Field(allow_inf_nan=False)] | None = None
    size: Count = 0
    stale: bool = False
    damaged: Annotated[str, Field(max_length=2_000)] | None = None
    created_at: datetime
    shard_group: ArchiveId | None = None
    shard: Annotated[int, Field(ge=0, le=64)] | None = None
    shards: Annotated[int, Field(ge=1, le=64)] | None = None
    evidence: Annotated[int, Field(ge=0, le=1000)] | None = None


def decode_row(model: type[_Row], data: dict, where: str) -> _Row:
    """Validate one archive row (with its ``$dt`` / ``$b64`` encodings) or raise InvalidInput."""
    try:
        return model.model_validate({key: _decoded(value) for key, value in data.items()})
    except (ValidationError, ValueError, binascii.Error, InvalidInput) as error:
        raise InvalidInput(f"{where}: {_first_problem(error)}") from None


def _decoded(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$dt"} and isinstance(value["$dt"], str):
        return as_utc(datetime.fromisoformat(value["$dt"]))
    if isinstance(value, dict) and set(value) == {"$b64"} and isinstance(value["$b64"], str):
        return base64.b64decode(value["$b64"], validate=True)
    return value


def _first_problem(error: Exception) -> str:
    if isinstance(error, ValidationError):
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem["loc"]) or "row"
        return f"{field}: {problem['msg']}"
    return str(error) or type(error).__name__
