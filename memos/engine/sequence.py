"""One request inside the continuous batcher: its prompt and cache, sampling, stream, stats."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence

import torch
from transformers import DynamicCache

from memos.engine.generation import (
    DecodeControl,
    DecodeCounters,
    Generation,
    GenerationConfig,
    GenerationStats,
    TextAssembler,
    TokenSampler,
)
from storage.errors import InvalidInput

_DONE = object()


class DecodeSequence:
    """A reply being decoded by the batcher; the caller reads its deltas from ``deltas()``.

    The batcher's thread feeds it: ``take`` hands out the tokens to run next (a prompt chunk,
    or the last sampled token), ``accept`` takes the next-token logits back. Everything a solo
    decode loop does per token (sampling with its own seeded generator, stop strings, the
    cancel flag and time limit, stats) happens here, in the same order, so a reply reads the
    same batched or not.
    """

    def __init__(self, engine, prompt_ids: Sequence[int], cache: DynamicCache | None,
                 config: GenerationConfig, stats: GenerationStats | None = None,
                 started_at: float | None = None, reused_tokens: int | None = None,
                 logits: torch.Tensor | None = None, control: DecodeControl | None = None,
                 counters: DecodeCounters | None = None) -> None:
        self.prompt_ids = list(prompt_ids)
        self.cache = cache if cache is not None else DynamicCache(config=engine.model.config)
        cached = self.cache.get_seq_length()
        _check_cache(len(self.prompt_ids), cached, logits)
        self.config = config
        self.control = control or DecodeControl()
        self.group = _group(self.control, id(self))
        self.stats = stats or GenerationStats()
        self.started_at = started_at or time.perf_counter()
        self._eos = engine.eos_token_ids
        self._counters = counters or DecodeCounters()
        self._sampler = TokenSampler(config, engine.device)
        self._text = TextAssembler(engine.tokenizer, config.stop)
        self._pending = self.prompt_ids[cached:]
        self._ready_logits = logits
        self._sampled_any = False
        self._outbox: queue.Queue = queue.Queue()
        self._abandoned = threading.Event()
        self.finish_reason: str | None = None
        self.last_step = -1  # the batcher step that last ran this sequence
        self._set_prompt_stats(cached, reused_tokens)
        self._counters.started()

    def _set_prompt_stats(self, cached: int, reused: int | None) -> None:
        stats = self.stats
        stats.prompt_tokens = len(self.prompt_ids)
        stats.reused_tokens = cached if reused is None else reused
        stats.computed_tokens = stats.prompt_tokens - stats.reused_tokens

    @property
    def finished(self) -> bool:
        """Whether the sequence has left the batch."""
        return self.finish_reason is not None

    @property
    def decoding(self) -> bool:
        """Whether its prompt is done: each step runs its one last sampled token."""
        return self._sampled_any

    @property
    def ready_logits(self) -> torch.Tensor | None:
        """Next-token logits already known (given with a fully cached prompt)."""
        return self._ready_logits

    def pending_tokens(self) -> int:
        """How many tokens the next forward pass would run for this sequence."""
        return len(self._pending)

    def take(self, limit: int) -> list[int]:
        """Up to ``limit`` of the tokens still to run, removed from the pending ones."""
        chunk, self._pending = self._pending[:limit], self._pending[limit:]
        return chunk

    def wants_logits(self) -> bool:
        """Whether the last ``take`` emptied the pending tokens (its logits are the next's)."""
        return not self._pending

    def check_cancelled(self) -> bool:
        """Finish as cancelled if its caller left; True when it did."""
        cancel = self.control.cancel
        if self._abandoned.is_set() or (cancel is not None and cancel.is_set()):
            self.control.stopped = "cancelled"
            self._finish("cancelled")
            return True
        return False

    def accept(self, logits: torch.Tensor) -> None:
        """Sample the next token from ``logits`` and stream it (or finish)."""
        self._ready_logits = None
        if not self._sampled_any:
            self.stats.ttft_s = time.perf_counter() - self.started_at
            self._counters.first_token(self.stats.ttft_s)
        self._sampled_any = True
        token = self._sampler(logits)
        self._counters.token()
        if token in self._eos:
            return self._finish("stop")
        delta = self._text.push(token)
        if delta:
            self._outbox.put(delta)
        if self._text.stopped:
            return self._finish("stop")
        if (reason := self.control.stop_reason(self.started_at)) is not None:
            return self._finish(reason)
        if len(self._text.token_ids) >= self.config.max_new_tokens:
            return self._finish("length")
        self._pending = [token]

    def fail(self, error: BaseException) -> None:
        """End the sequence with ``error``, raised in the caller's thread."""
        self.finish_reason = "error"
        self._counters.finished("error")
        self._outbox.put(error)
        self._outbox.put(_DONE)

    def _finish(self, reason: str) -> None:
        tail = self._text.finish()
        if tail:
            self._outbox.put(tail)
        self.stats.completion_tokens = len(self._text.token_ids)
        self.stats.total_s = time.perf_counter() - self.started_at
        self.finish_reason = reason
        self._counters.finished(reason)
        self._outbox.put(_DONE)

    def deltas(self) -> Iterator[str]:
        """Text deltas as the batcher produces them; closing early cancels the sequence."""
        try:
            while (part := self._outbox.get()) is not _DONE:
                if isinstance(part, BaseException):
                    raise part
                yield part
        finally:
            self._abandoned.set()

    def result(self) -> Generation:
        """The finished generation (after ``deltas`` is exhausted)."""
        return Generation(text=self._text.text, token_ids=list(self._text.token_ids),
                          stats=self.stats, finish_reason=self.finish_reason or "length")


def _group(control: DecodeControl, own_id: int) -> str:
    """Sequences of one group share a forward pass: the same adapters, or none. A step guard
    without a group name is unknown state, so such a sequence runs in a group of its own."""
    if control.step_guard is None:
        return control.group or ""
    return control.group or f"solo:{own_id}"


def _check_cache(prompt: int, cached: int, logits) -> None:
    if logits is None and cached >= prompt:
        raise InvalidInput("the prompt must have at least one token beyond the cache")
    if logits is not None and cached != prompt:
        raise InvalidInput("given the prompt's logits, the cache must cover the whole prompt")
