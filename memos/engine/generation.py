"""Decoding: generation settings, token sampling, stop handling and timing stats."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import torch

from storage.errors import InvalidInput


@dataclass(slots=True)
class GenerationConfig:
    """How to decode: greedy when temperature is 0, else sampled with top-p."""

    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.max_new_tokens <= 4096:
            raise InvalidInput("max_new_tokens must be between 1 and 4096")
        if not 0.0 <= self.temperature <= 5.0:
            raise InvalidInput("temperature must be between 0 and 5")
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidInput("top_p must be in (0, 1]")
        self.stop = tuple(s for s in self.stop if s)


@dataclass(slots=True)
class GenerationStats:
    """Where the time and the prompt tokens went in one generation."""

    prompt_tokens: int = 0
    reused_tokens: int = 0
    computed_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float = 0.0
    total_s: float = 0.0
    cache_hits: int = 0
    cache_misses: int = 0
    activation_mode: str = "off"
    exact_reused_tokens: int = 0
    approx_reused_tokens: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        """Decode speed after the first token."""
        decode_s = self.total_s - self.ttft_s
        return (self.completion_tokens - 1) / decode_s if decode_s > 0 else 0.0

    def as_dict(self) -> dict:
        """Plain dict for JSON responses."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "reused_tokens": self.reused_tokens,
            "computed_tokens": self.computed_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_s": self.ttft_s,
            "total_s": self.total_s,
            "tokens_per_s": self.tokens_per_s,
            "cache_hits": self.cache_hits,
            "cache_misses": self.cache_misses,
            "activation_mode": self.activation_mode,
            "exact_reused_tokens": self.exact_reused_tokens,
            "approx_reused_tokens": self.approx_reused_tokens,
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class DecodeControl:
    """What may end a decode loop early, and what wraps each of its forward passes.

    ``cancel`` is set by whoever stops wanting the reply (a client that left); ``max_seconds``
    bounds a reply in time as ``max_new_tokens`` bounds it in tokens; ``step_guard`` is entered
    around every forward pass (an adapter attached for that step only, under the engine lock);
    ``group`` names what the guard attaches, so the batcher runs together only replies whose
    guards are the same (an empty name with a guard means: never share a pass).
    """

    cancel: threading.Event | None = None
    max_seconds: float | None = None
    step_guard: Callable[[], AbstractContextManager] | None = None
    stopped: str | None = None
    group: str = ""

    def __post_init__(self) -> None:
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise InvalidInput("max_seconds must be positive")

    def stop_reason(self, started_at: float) -> str | None:
        """'cancelled' or 'time' when decoding must end now, else None."""
        if self.cancel is not None and self.cancel.is_set():
            self.stopped = "cancelled"
        elif self.max_seconds is not None and time.perf_counter() - started_at > self.max_seconds:
            self.stopped = "time"
        return self.stopped

    def guard(self) -> AbstractContextManager:
        """The context one forward pass runs in."""
        return self.step_guard() if self.step_guard is not None else nullcontext()


class DecodeCounters:
    """The engine's own running totals: decode loops started, running, and tokens generated."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tokens_generated = 0
        self.generations_started = 0
        self.generations_running = 0
        self.generations_cancelled = 0
        self.first_tokens = 0  # generations that produced a first token
        self.ttft_total_s = 0.0  # the sum of their times to first token

    def started(self) -> None:
        """A decode loop began."""
        with self._lock:
            self.generations_started += 1
            self.generations_running += 1

    def first_token(self, seconds: float) -> None:
        """A generation's first token came ``seconds`` after it was asked for."""
        with self._lock:
            self.first_tokens += 1
            self.ttft_total_s += seconds

    def token(self) -> None:
        """One token was sampled."""
        with self._lock:
            self.tokens_generated += 1

    def finished(self, reason: str) -> None:
        """A decode loop ended, for ``reason``."""
        with self._lock:
            self.generations_running -= 1
            self.generations_cancelled += reason == "cancelled"

    def as_dict(self) -> dict:
        """A snapshot for stats and metrics."""
        with self._lock:
            return {"tokens_generated": self.tokens_generated,
                    "generations_started": self.generations_started,
                    "generations_running": self.generations_running,
                    "generations_cancelled": self.generations_cancelled,
                    "first_tokens": self.first_tokens, "ttft_total_s": self.ttft_total_s}


@dataclass(slots=True)
class Generation:
    """A finished generation: the text, its token ids and its stats."""

    text: str
    token_ids: list[int]
    stats: GenerationStats
    finish_reason: str = "length"


class TokenSampler:
    """Picks the next token from logits: argmax, or temperature + nucleus sampling."""

    def __init__(self, config: GenerationConfig, device: torch.device) -> None:
        self._config = config
        self._generator = None
        if config.temperature > 0:
            self._generator = torch.Generator(device=device)
            self._generator.manual_seed(config.seed if config.seed is not None else 0)

    def __call__(self, logits: torch.Tensor) -> int:
        if self._generator is None:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits.float() / self._config.temperature, dim=-1)
        if self._config.top_p < 1.0:
            probs = _nucleus(probs, self._config.top_p)
        return int(torch.multinomial(probs, 1, generator=self._generator))


def _nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    sorted_probs, order = torch.sort(probs, descending=True)
    outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > top_p
    sorted_probs[outside] = 0.0
    kept = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return kept / kept.sum()


class TextAssembler:
    """Turns a growing list of token ids into text deltas, honouring stop strings.

    Text that could still turn out to be the start of a stop string is held back until
    the next token or ``finish``, so streamed deltas always add up to the final text.
    """

    def __init__(self, tokenizer, stop: tuple[str, ...]) -> None:
        self._tokenizer = tokenizer
        self._stop = stop
        self._holdback = max((len(s) for s in stop), default=1) - 1
        self.token_ids: list[int] = []
        self.text = ""
        self._emitted = 0
        self.stopped = False

    def push(self, token_id: int) -> str:
        """Add one token and return the text that is now final (may be empty)."""
        self.token_ids.append(token_id)
        full = self._tokenizer.decode(self.token_ids, skip_special_tokens=True)
        if full.endswith("\ufffd"):  # an unfinished multi-byte character
            return ""
        cut = self._stop_position(full)
        if cut is not None:
            self.text, self.stopped = full[:cut], True
            return self.finish()
        self.text = full
        return self._emit(len(full) - self._holdback)

    def finish(self) -> str:
        """Return whatever text was held back."""
        return self._emit(len(self.text))

    def _emit(self, upto: int) -> str:
        upto = max(upto, self._emitted)
        delta = self.text[self._emitted : upto]
        self._emitted = upto
        return delta

    def _stop_position(self, text: str) -> int | None:
        hits = [text.find(s) for s in self._stop if s in text]
        return min(hits) if hits else None
