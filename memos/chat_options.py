"""How to retrieve, assemble and decode one chat turn: one typed object from each door to the
decoder (no torch, no SQLAlchemy: the SDK builds it too)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from memcube.validation import check_optional_text, check_texts
from storage.errors import InvalidInput

MEMORY_KINDS = ("plaintext", "activation", "parametric")
ACTIVATION_MODES = ("exact", "blend", "off")
SERVER_ONLY = ("max_seconds",)  # a server's own limit: not a field of the HTTP request


@dataclass(slots=True)
class ChatOptions:
    """How to retrieve, assemble and decode one chat turn."""

    k: int = 5
    memory_kinds: tuple[str, ...] = MEMORY_KINDS
    memory_token_budget: int = 1024
    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    session_id: str | None = None
    write_back: bool = False
    write_back_reply: bool = False
    max_seconds: float | None = None
    activation_mode: str | None = None  # None: the cube's setting, else the server's

    def __post_init__(self) -> None:
        self.memory_kinds = tuple(self.memory_kinds)
        check_activation_mode(self.activation_mode)
        if not 0 <= self.k <= 50:
            raise InvalidInput("k must be between 0 and 50")
        unknown = set(self.memory_kinds) - set(MEMORY_KINDS)
        if unknown:
            raise InvalidInput(f"unknown memory kinds {sorted(unknown)}; one of {MEMORY_KINDS}")
        if not 0 <= self.memory_token_budget <= 6000:
            raise InvalidInput("memory_token_budget must be between 0 and 6000")
        self.session_id = check_optional_text(self.session_id, "session_id", 128)
        self.stop = tuple(check_texts(self.stop, "stop", 32, 4))

    def request_fields(self) -> dict[str, Any]:
        """The fields an HTTP chat request carries (a time limit is the server's to set)."""
        if self.max_seconds is not None:
            raise InvalidInput("max_seconds is set by the server (chat_max_seconds)")
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in SERVER_ONLY}


def chat_options(options: ChatOptions | None, overrides: dict[str, Any],
                 max_seconds: float | None = None) -> ChatOptions:
    """``options`` (default ones if None) with keyword ``overrides`` laid over; ``max_seconds``
    is the time limit unless either names one."""
    merged = replace(options, **overrides) if options else ChatOptions(**overrides)
    if merged.max_seconds is None and "max_seconds" not in overrides:
        merged.max_seconds = max_seconds
    return merged


def check_activation_mode(mode: str | None) -> None:
    """InvalidInput unless ``mode`` is None or one of ACTIVATION_MODES."""
    if mode is not None and mode not in ACTIVATION_MODES:
        raise InvalidInput(f"activation_mode must be one of {ACTIVATION_MODES}, not {mode!r}")
