"""The forget check: which notes to look for, and where anything of them remains."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import Identifier, Public, Strict
from api.schemas.memories import Text


class ForgetCheckRequest(Strict):
    """Notes to look for: ids (soft-deleted ones keep their text) and/or texts (purged ones)."""

    item_ids: Annotated[list[Identifier], Field(max_length=100)] = Field(default_factory=list)
    texts: Annotated[list[Text], Field(max_length=100)] = Field(default_factory=list)
    probe_model: bool = Field(True, description="Ask default and parametric-only chat too "
                              "(false: search only, much faster).")


class ProbeAnswerPublic(Public):
    """One channel's answer to a probe: ``found`` lists the values it stated."""

    channel: str  # "search", "chat" or "parametric"
    reproduced: bool
    found: list[str]
    item_id: str | None = None  # search: the hit that holds the fact
    reply: str | None = None  # chat: the model's (short, greedy) reply
    adapters: list[str] | None = None  # chat: adapters attached to the reply


class ProbePublic(Public):
    """A question, paraphrase or completion prompt and what each channel answered."""

    kind: str
    prompt: str
    values: list[str]
    answers: list[ProbeAnswerPublic]


class ProbesPublic(Public):
    """Whether search or the model still states the facts: ``reproduced`` when any answer did."""

    model_asked: bool
    channels: list[str]
    reproduced: bool
    truncated: bool
    results: list[ProbePublic]


class ForgetCheckPublic(Public):
    """Where anything of the notes remains: ``clean`` when nothing could still be served."""

    cube_id: str
    item_ids: list[str]
    texts_checked: int
    clean: bool
    remains: list[dict[str, Any]]
    retained: list[dict[str, Any]]
    exports: list[dict[str, Any]] = Field(default_factory=list)  # archives scanned
    probes: ProbesPublic
