"""The OpenAI chat-completions wire format, with memos' memory options as extra fields.

OpenAI clients send the memory options through ``extra_body``, which lands at the top level of
the request body: ``cube_ids``, ``memory_kinds``, ``k``, ``session_id``, ``write_back``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.chat import MemoryKind
from api.schemas.common import Identifier, Strict
from api.schemas.memories import HitPublic
from memcube.entry_checks import MAX_TEXT_CHARS
from memos.chat_options import ChatOptions

MEMOS_MODEL = "memos"
StopText = Annotated[str, Field(min_length=1, max_length=32)]


class TextPart(Strict):
    """One part of a message's content; only text is understood."""

    type: Literal["text"]
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]


MessageText = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
MessageParts = Annotated[list[TextPart], Field(max_length=64)]


class ChatCompletionMessage(BaseModel):
    """One turn of the conversation (``developer`` counts as ``system``)."""

    model_config = ConfigDict(extra="ignore")  # e.g. ``name``, ``refusal``

    role: Literal["system", "developer", "user", "assistant"]
    content: MessageText | MessageParts | None = None

    def as_turn(self) -> dict:
        """The kernel's ``{"role", "content"}`` form."""
        role = "system" if self.role == "developer" else self.role
        if isinstance(self.content, list):
            return {"role": role, "content": "".join(part.text for part in self.content)}
        return {"role": role, "content": self.content or ""}


class StreamOptions(Strict):
    """Options of a streamed completion."""

    include_usage: bool = False


class ChatCompletionCreate(Strict):
    """An OpenAI chat-completions request, plus memos' memory options."""

    model: Annotated[str, Field(min_length=1, max_length=128)]
    messages: Annotated[list[ChatCompletionMessage], Field(min_length=1, max_length=64)]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: Annotated[int, Field(ge=1, le=1024)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1, le=1024)] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0, allow_inf_nan=False)] = 0.0
    top_p: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    stop: StopText | Annotated[list[StopText], Field(max_length=4)] | None = None
    n: Annotated[int, Field(ge=1, le=1, description="Only one choice is produced.")] = 1
    user: Annotated[str, Field(max_length=256)] | None = None
    presence_penalty: Annotated[float, Field(ge=-2.0, le=2.0)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2.0, le=2.0)] | None = None

    cube_ids: Annotated[list[Identifier], Field(max_length=32, description=(
        "Cubes to retrieve memories from; all the caller may read when left out."))] | None = None
    memory_kinds: Annotated[list[MemoryKind], Field(max_length=3)] | None = None
    k: Annotated[int, Field(ge=0, le=50, description="Memories to retrieve.")] = 5
    memory_token_budget: Annotated[int, Field(ge=0, le=6000)] = 1024
    session_id: Annotated[str, Field(max_length=128)] | None = None
    write_back: bool = Field(default=False, description="Store the user's turn as a memory.")
    write_back_reply: bool = Field(default=False, description="Store the reply as well.")

    def turns(self) -> list[dict]:
        """The conversation in the kernel's form."""
        return [message.as_turn() for message in self.messages]

    def chat_options(self) -> ChatOptions:
        """The options of ``MemOS.chat``."""
        stop = [self.stop] if isinstance(self.stop, str) else self.stop or []
        kinds = {} if self.memory_kinds is None else {"memory_kinds": tuple(self.memory_kinds)}
        return ChatOptions(
            k=self.k, memory_token_budget=self.memory_token_budget,
            max_new_tokens=self.max_completion_tokens or self.max_tokens or 128,
            temperature=self.temperature, top_p=self.top_p, seed=self.seed, stop=tuple(stop),
            session_id=self.session_id, write_back=self.write_back,
            write_back_reply=self.write_back_reply, **kinds)


class Usage(BaseModel):
    """Tokens of the prompt (``cached_tokens``: reused from the KV cache) and the reply."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: dict[str, int]


class AssistantMessage(BaseModel):
    """The reply."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """The one answer."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class MemosExtension(BaseModel):
    """What memos adds to a completion: the memories given to the model and the timings."""

    memories: list[HitPublic]
    stats: dict[str, Any]
    adapters: list[str]


class ChatCompletion(BaseModel):
    """A chat completion (``object: chat.completion``)."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: str
    memos: MemosExtension


class ModelPublic(BaseModel):
    """A model that chat completions accept."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "memos"


class ModelList(BaseModel):
    """The models that chat completions accept."""

    object: Literal["list"] = "list"
    data: list[ModelPublic]


class OpenAIErrorBody(BaseModel):
    """What went wrong, as OpenAI reports it."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """Every error of the OpenAI-compatible routes has this shape."""

    error: OpenAIErrorBody
