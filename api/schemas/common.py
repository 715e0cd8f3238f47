"""Shared schema pieces: the strict base model, bounded types and the error body."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from memcube.search import MAX_K

MAX_QUERY_CHARS = 2_000
MAX_PAGE = 1_000

Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"\S")]
Identifier = Annotated[str, Field(min_length=1, max_length=64)]
Tag = Annotated[str, Field(min_length=1, max_length=64)]
Tags = Annotated[list[Tag], Field(max_length=32)]
Query = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS, pattern=r"\S")]
K = Annotated[int, Field(ge=1, le=MAX_K, description="How many hits to return.")]


class Strict(BaseModel):
    """Request bodies: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class Public(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(from_attributes=True)


class ErrorBody(BaseModel):
    """What went wrong, with a stable machine-readable code."""

    code: str
    message: str
    details: list[dict] | None = None


class ErrorResponse(BaseModel):
    """Every error response has this shape."""

    error: ErrorBody
