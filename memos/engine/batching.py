"""Continuous batching: one forward pass decodes a token for every running reply.

Iteration-level scheduling, as Orca and vLLM do it: a request joins the running batch as
soon as its prompt is ready and leaves it the step it finishes (or its caller leaves). Each
step runs, in one packed forward pass (``memos.engine.packed``), the last sampled token of
every decoding sequence plus prompt chunks of new ones, at most ``prefill_tokens`` prompt
tokens per step, so a long prompt never stalls running streams for long.

A step runs only sequences of one group: the same LoRA adapters, or none, attached for that
step under the engine lock, so no request ever sees another's adapter. Groups take turns.

Each sequence keeps its own ``DynamicCache`` (the one activation memory assembled for it), so
reused prefixes need no copying and the cache ends exactly as a solo decode leaves it.
transformers' own continuous batching (``generate_batch``, paged cache) owns its cache and
takes plain prompts; it cannot start a request from our assembled prefix-tree KV.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache

from memos.engine.generation import DecodeControl, Generation, GenerationConfig, GenerationStats
from memos.engine.packed import PackedBatch, packed_forward, register_packed_attention
from memos.engine.sequence import DecodeSequence


@dataclass(slots=True)
class BatchConfig:
    """How many replies decode together and how much prompt one step may prefill."""

    max_running: int = 8
    prefill_tokens: int = 256

    def __post_init__(self) -> None:
        if self.max_running < 1:
            raise ValueError("max_running must be at least 1")
        if self.prefill_tokens < 1:
            raise ValueError("prefill_tokens must be at least 1")


@dataclass(slots=True)
class StepPlan:
    """The sequences one forward pass runs and the tokens it runs for each."""

    sequences: list[DecodeSequence]
    chunks: list[list[int]]


class ContinuousBatcher:
    """Decodes many replies at once on one engine; same calls as the engine's solo decoding."""

    def __init__(self, engine, config: BatchConfig | None = None) -> None:
        register_packed_attention()
        self._engine = engine
        self.config = config or BatchConfig()
        self._incoming: deque[DecodeSequence] = deque()
        self._running: list[DecodeSequence] = []
        self._wakeup = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False
        self.steps = 0
        self.batched_tokens = 0

    def stream_from(self, prompt_ids: Sequence[int], cache: DynamicCache | None = None,
                    config: GenerationConfig | None = None, stats: GenerationStats | None = None,
                    timing=None, logits: torch.Tensor | None = None,
                    control: DecodeControl | None = None) -> Iterator[str]:
        """Like ``Engine.stream_from``, decoded in the shared batch."""
        yield from self.submit(prompt_ids, cache, config, stats, timing, logits, control).deltas()

    def generate_from(self, prompt_ids: Sequence[int], cache: DynamicCache | None = None,
                      config: GenerationConfig | None = None,
                      stats: GenerationStats | None = None, timing=None,
                      logits: torch.Tensor | None = None,
                      control: DecodeControl | None = None) -> Generation:
        """Like ``Engine.generate_from``, decoded in the shared batch."""
        sequence = self.submit(prompt_ids, cache, config, stats, timing, logits, control)
        for _ in sequence.deltas():
            pass
        return sequence.result()

    def submit(self, prompt_ids: Sequence[int], cache: DynamicCache | None = None,
               config: GenerationConfig | None = None, stats: GenerationStats | None = None,
               timing=None, logits: torch.Tensor | None = None,
               control: DecodeControl | None = None) -> DecodeSequence:
        """Queue a reply for decoding; read it with the returned sequence's ``deltas()``."""
        sequence = DecodeSequence(
            self._engine, prompt_ids, cache, config or GenerationConfig(), stats,
            getattr(timing, "started_at", None), getattr(timing, "reused_tokens", None),
            logits, control, self._engine.counters)
        with self._wakeup:
            if self._closed:
                sequence.fail(RuntimeError("the batcher is closed"))
                return sequence
            self._incoming.append(sequence)
            self._start_worker()
        return sequence

    def running(self) -> int:
        """Replies in the batch now (decoding or prefilling)."""
        return len(self._running)

    def close(self) -> None:
        """Stop taking replies; those in flight finish first."""
        with self._wakeup:
            self._closed = True

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._loop, daemon=True, name="memos-batch")
            self._worker.start()

    def _loop(self) -> None:
        """Step while there is work; the thread ends when the batch empties."""
        while self._admit():
            self.step()
            time.sleep(0)  # let a solo forward pass waiting for the engine lock take it

    def _admit(self) -> bool:
        """Move queued replies into the batch, up to ``max_running``; False when idle."""
        with self._wakeup:
            while self._incoming and len(self._running) < self.config.max_running:
                self._running.append(self._incoming.popleft())
            if not self._running:
                self._worker = None
                return False
            return True

    def step(self) -> None:
        """One iteration: drop cancelled replies, sample known logits, run one forward pass."""
        self._leave_finished(lambda s: s.check_cancelled())
        for sequence in self._running:
            if sequence.ready_logits is not None:
                sequence.accept(sequence.ready_logits)
        self._leave_finished(lambda s: False)
        plan = self._plan()
        if plan.sequences:
            self._run(plan)
        self._leave_finished(lambda s: False)

    def _leave_finished(self, cancelled) -> None:
        self._running = [s for s in self._running if not (s.finished or cancelled(s))]

    def _plan(self) -> StepPlan:
        """This step's group (the one waiting longest): its decodes, then prompt chunks."""
        plan = StepPlan([], [])
        if not self._running:
            return plan
        group = min(self._running, key=lambda s: s.last_step).group
        members = [s for s in self._running if s.group == group]
        budget = self.config.prefill_tokens
        for sequence in sorted(members, key=lambda s: not s.decoding):
            if sequence.decoding:
                chunk = sequence.take(1)
            elif budget > 0:
                chunk = sequence.take(budget)
                budget -= len(chunk)
            else:
                continue
            plan.sequences.append(sequence)
            plan.chunks.append(chunk)
        return plan

    def _run(self, plan: StepPlan) -> None:
        self.steps += 1
        for sequence in plan.sequences:
            sequence.last_step = self.steps
        batch = PackedBatch([s.cache for s in plan.sequences], [len(c) for c in plan.chunks])
        tokens = [token for chunk in plan.chunks for token in chunk]
        try:
            with plan.sequences[0].control.guard(), self._engine.lock:
                logits = packed_forward(self._engine.model, batch, tokens)
        except Exception as error:  # handed to every caller of the step, raised there
            for sequence in plan.sequences:
                sequence.fail(error)
            return
        self.batched_tokens += len(tokens)
        for row, sequence in enumerate(plan.sequences):
            if sequence.wants_logits():
                sequence.accept(logits[row])
