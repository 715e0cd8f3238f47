"""Chat requests and replies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from api.schemas.common import Identifier, Public, Strict
from api.schemas.memories import HitPublic
from memcube.entry_checks import MAX_TEXT_CHARS
from memos.chat_options import ChatOptions

MemoryKind = Literal["plaintext", "activation", "parametric"]


class Message(Strict):
    """One turn of a conversation."""

    role: Literal["system", "user", "assistant"]
    content: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]


class ChatRequest(Strict):
    """A conversation to answer, with memories retrieved from the given cubes."""

    messages: Annotated[list[Message], Field(min_length=1, max_length=64)]
    cube_ids: Annotated[list[Identifier], Field(max_length=32)] | None = None
    k: Annotated[int, Field(ge=0, le=50, description="Memories to retrieve.")] = 5
    memory_kinds: Annotated[list[MemoryKind], Field(max_length=3)] | None = None
    memory_token_budget: Annotated[int, Field(ge=0, le=6000,
                                              description="Prompt tokens for memories.")] = 1024
    max_new_tokens: Annotated[int, Field(ge=1, le=1024)] = 128
    temperature: Annotated[float, Field(ge=0.0, le=2.0, allow_inf_nan=False)] = 0.0
    top_p: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    stop: Annotated[list[Annotated[str, Field(min_length=1, max_length=32)]],
                    Field(max_length=4)] = Field(default_factory=list)
    session_id: Annotated[str, Field(max_length=128)] | None = None
    write_back: bool = Field(default=False, description="Store the user's turn as a memory.")
    write_back_reply: bool = Field(default=False, description="Store the reply as well.")
    activation_mode: Literal["exact", "blend", "off"] | None = Field(
        default=None, description="KV reuse: exact (default), blend (approximate) or off.")

    def turns(self) -> list[dict]:
        """The conversation in the kernel's form."""
        return [message.model_dump() for message in self.messages]

    def chat_options(self) -> ChatOptions:
        """The options of ``MemOS.chat``."""
        fields = self.model_dump(exclude={"messages", "cube_ids", "memory_kinds", "stop"})
        if self.memory_kinds is not None:
            fields["memory_kinds"] = tuple(self.memory_kinds)
        return ChatOptions(stop=tuple(self.stop), **fields)


class ChatReplyPublic(Public):
    """The model's answer, the memories it was given, and where the time went."""

    text: str
    memories: list[HitPublic]
    stats: dict
    finish_reason: str
    adapters: list[str] = Field(default_factory=list, description="Adapters attached.")
