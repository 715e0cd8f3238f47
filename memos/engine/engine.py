"""The embedded inference backend: one causal LM, its tokenizer, prefill and decoding."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache

from memos.engine.device import choose_device, choose_dtype, dtype_name
from memos.engine.generation import (
    DecodeControl,
    DecodeCounters,
    Generation,
    GenerationConfig,
    GenerationStats,
    TextAssembler,
    TokenSampler,
)
from memos.engine.model_files import converted_default_model, model_fingerprint, require_model_dir
from storage.errors import InvalidInput

os.environ.setdefault("HF_HUB_OFFLINE", "1")

Messages = Sequence[dict]


@dataclass(slots=True)
class EngineConfig:
    """Which model to load, where, and in what precision."""

    model: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    models_dir: Path = Path("memos-home/models")
    progress: bool = True


@dataclass(slots=True)
class StepOutput:
    """Logits of the last position and the (grown) cache after a forward pass."""

    logits: torch.Tensor
    cache: DynamicCache


class Engine:
    """A loaded chat model: tokenization, prefill, greedy/sampled generation and streaming."""

    def __init__(self, model, tokenizer, *, name: str, fingerprint: str, model_dir: Path) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.fingerprint = fingerprint
        self.model_dir = model_dir
        # One forward pass at a time: the model and any attached adapter are shared state.
        self.lock = threading.RLock()
        self.counters = DecodeCounters()

    @classmethod
    def load(cls, config: EngineConfig) -> Engine:
        """Load the configured model (converting the shipped default once)."""
        os.environ["HF_HUB_OFFLINE"] = "1"
        if config.model:
            folder = require_model_dir(config.model)
        else:
            folder = converted_default_model(Path(config.models_dir), config.progress)
        device = choose_device(config.device)
        dtype = choose_dtype(config.dtype, device)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        fingerprint = model_fingerprint(folder, dtype_name(dtype))
        return cls(model, tokenizer, name=folder.name, fingerprint=fingerprint, model_dir=folder)

    @property
    def device(self) -> torch.device:
        """Where the model's weights live."""
        return self.model.device

    @property
    def dtype(self) -> torch.dtype:
        """The model's compute dtype."""
        return self.model.dtype

    @property
    def eos_token_ids(self) -> set[int]:
        """Token ids that end a reply."""
        ids = {self.tokenizer.eos_token_id}
        extra = self.model.generation_config.eos_token_id
        ids.update(extra if isinstance(extra, list) else [extra])
        return {i for i in ids if i is not None}

    def describe(self) -> dict:
        """Name, device, dtype and fingerprint, for health checks."""
        return {
            "model": self.name,
            "device": str(self.device),
            "dtype": dtype_name(self.dtype),
            "fingerprint": self.fingerprint,
        }

    def encode(self, text: str) -> list[int]:
        """Token ids of a text, without special tokens."""
        return self.tokenizer.encode(text, add_special_tokens=False)

    def decode(self, token_ids: Sequence[int]) -> str:
        """Text of token ids, special tokens dropped."""
        return self.tokenizer.decode(list(token_ids), skip_special_tokens=True)

    def count_tokens(self, text: str) -> int:
        """Number of tokens in a text."""
        return len(self.encode(text))

    def chat_token_ids(self, messages: Messages, add_generation_prompt: bool = True) -> list[int]:
        """Token ids of a conversation rendered with the model's chat template."""
        check_messages(messages)
        rendered = self.tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=add_generation_prompt
        )
        return self.encode(rendered)

    @torch.inference_mode()
    def forward(
        self,
        token_ids: Sequence[int],
        cache: DynamicCache | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> StepOutput:
        """Run tokens on top of ``cache`` (which grows in place) and return last logits."""
        if not token_ids:
            raise InvalidInput("forward needs at least one new token")
        cache = cache if cache is not None else DynamicCache(config=self.model.config)
        ids = torch.tensor([list(token_ids)], device=self.device)
        with self.lock:
            out = self.model(
                input_ids=ids, cache=cache, position_ids=position_ids, use_cache=True,
                logits_to_keep=1,
            )
        return StepOutput(logits=out.logits[0, -1].float(), cache=cache)

    def prefill(self, token_ids: Sequence[int], cache: DynamicCache | None = None) -> DynamicCache:
        """The KV cache of ``token_ids`` (appended to ``cache`` when given)."""
        return self.forward(token_ids, cache).cache

    def generate(self, messages: Messages, config: GenerationConfig | None = None) -> Generation:
        """Reply to a conversation."""
        return self.generate_from(self.chat_token_ids(messages), config=config)

    def stream(self, messages: Messages, config: GenerationConfig | None = None) -> Iterator[str]:
        """Reply to a conversation, yielding text as it is produced."""
        return self.stream_from(self.chat_token_ids(messages), config=config)

    def generate_from(
        self,
        prompt_ids: Sequence[int],
        cache: DynamicCache | None = None,
        config: GenerationConfig | None = None,
        stats: GenerationStats | None = None,
        timing: DecodeTiming | None = None,
        logits: torch.Tensor | None = None,
        control: DecodeControl | None = None,
    ) -> Generation:
        """Generate after ``prompt_ids``, whose first ``cache`` tokens are already computed
        (all of them when ``logits``, the next-token logits of the prompt, are given)."""
        run = _DecodeRun(self, prompt_ids, cache, config or GenerationConfig(), stats, timing,
                         logits, control)
        for _ in run:
            pass
        return run.result()

    def stream_from(
        self,
        prompt_ids: Sequence[int],
        cache: DynamicCache | None = None,
        config: GenerationConfig | None = None,
        stats: GenerationStats | None = None,
        timing: DecodeTiming | None = None,
        logits: torch.Tensor | None = None,
        control: DecodeControl | None = None,
    ) -> Iterator[str]:
        """Like ``generate_from`` but yields text deltas as they become final."""
        run = _DecodeRun(self, prompt_ids, cache, config or GenerationConfig(), stats, timing,
                         logits, control)
        yield from run


@dataclass(slots=True)
class DecodeTiming:
    """How a caller that did work before decoding wants it counted.

    ``started_at`` (a ``time.perf_counter()`` value) is when time to first token starts;
    ``reused_tokens`` says how many of the cache's tokens were reused rather than computed.
    """

    started_at: float | None = None
    reused_tokens: int | None = None


class _DecodeRun:
    """One decode loop; iterating it yields text deltas, ``result()`` gives the Generation."""

    def __init__(self, engine: Engine, prompt_ids, cache, config, stats, timing, logits,
                 control: DecodeControl | None = None) -> None:
        self._timing = timing or DecodeTiming()
        self._control = control or DecodeControl()
        self._logits = logits
        self._engine = engine
        self._prompt_ids = list(prompt_ids)
        self._cache = cache
        self._config = config
        self.stats = stats or GenerationStats()
        self._text = TextAssembler(engine.tokenizer, config.stop)
        self._finish_reason = "length"

    def __iter__(self) -> Iterator[str]:
        self._engine.counters.started()
        try:
            yield from self._decode()
        finally:
            self._engine.counters.finished(self._finish_reason)

    def _decode(self) -> Iterator[str]:
        engine, stats, control = self._engine, self.stats, self._control
        cached = self._cache.get_seq_length() if self._cache is not None else 0
        self._check_cache(cached)
        stats.prompt_tokens = len(self._prompt_ids)
        reused = self._timing.reused_tokens
        stats.reused_tokens = cached if reused is None else reused
        stats.computed_tokens = stats.prompt_tokens - stats.reused_tokens
        sampler = TokenSampler(self._config, engine.device)
        start = self._timing.started_at or time.perf_counter()
        step = self._first_step(cached)
        stats.ttft_s = time.perf_counter() - start
        engine.counters.first_token(stats.ttft_s)
        for _ in range(self._config.max_new_tokens):
            token = sampler(step.logits)
            engine.counters.token()
            if token in engine.eos_token_ids:
                self._finish_reason = "stop"
                break
            delta = self._text.push(token)
            if delta:
                yield delta
            if self._text.stopped:
                self._finish_reason = "stop"
                break
            if (reason := control.stop_reason(start)) is not None:
                self._finish_reason = reason
                break
            with control.guard():
                step = engine.forward([token], step.cache)
        tail = self._text.finish()
        if tail:
            yield tail
        stats.completion_tokens = len(self._text.token_ids)
        stats.total_s = time.perf_counter() - start

    def _check_cache(self, cached: int) -> None:
        prompt = len(self._prompt_ids)
        if self._logits is None and cached >= prompt:
            raise InvalidInput("the prompt must have at least one token beyond the cache")
        if self._logits is not None and cached != prompt:
            raise InvalidInput("given the prompt's logits, the cache must cover the whole prompt")

    def _first_step(self, cached: int) -> StepOutput:
        if self._logits is not None:
            return StepOutput(logits=self._logits, cache=self._cache)
        with self._control.guard():
            return self._engine.forward(self._prompt_ids[cached:], self._cache)

    def result(self) -> Generation:
        return Generation(
            text=self._text.text,
            token_ids=list(self._text.token_ids),
            stats=self.stats,
            finish_reason=self._finish_reason,
        )


def check_messages(messages: Messages) -> None:
    """Raise InvalidInput unless every message has a known role and string content."""
    if not messages:
        raise InvalidInput("messages must not be empty")
    for message in messages:
        if message.get("role") not in {"system", "user", "assistant"}:
            raise InvalidInput(f"unknown message role {message.get('role')!r}")
        if not isinstance(message.get("content"), str):
            raise InvalidInput("every message needs a string 'content'")
