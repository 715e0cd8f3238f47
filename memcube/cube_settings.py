"""Per-cube settings: the tuning a cube may override, checked wherever settings come in."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class CubeSettings(BaseModel):
    """Per-cube tuning; anything left out keeps the kernel's default."""

    model_config = ConfigDict(extra="forbid")

    dedupe_threshold: Fraction | None = None
    similar_threshold: Fraction | None = None
    evolve_threshold: Fraction | None = None
    max_similar: Annotated[int, Field(ge=0, le=50)] | None = None
    max_keyword_fanout: Annotated[int, Field(ge=1, le=1000)] | None = None
    detect_updates: bool | None = Field(default=None, description=(
        "Opt in: a new note that corrects an older one (same subject and attribute, another "
        "value) supersedes it, with the reason in the older note's history."))

    def as_dict(self) -> dict:
        """Only the settings that were given."""
        return self.model_dump(exclude_none=True)
