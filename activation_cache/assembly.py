"""PromptAssembler: a prompt's KV cache built from cached pieces instead of a full prefill.

Modes: ``"chunks"`` places cached chunks at any offset (re-rotating their keys) and
recomputes a fraction of each chunk's tokens; ``"prefix"`` reuses only an exact prefix of
hash-chained blocks (the vLLM baseline); ``"none"`` computes everything. Every mode computes
the trailing uncached piece too, in its last forward pass, and hands back the logits for the
first new token with a cache over the whole prompt, ready for ``generate_from``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache

from activation_cache.backend import Backend, StepResult
from activation_cache.blending import layer1_deviation, recompute_positions, trailing_attention
from activation_cache.chunk_cache import ChunkCache
from activation_cache.chunk_kv import ChunkKV
from activation_cache.keys import DEFAULT_BLOCK_SIZE, block_keys
from activation_cache.rope import RopeRotator, head_dim_of, unsupported_reason
from storage.errors import InvalidInput

MODES = ("chunks", "prefix", "none")
SELECTIONS = ("attention", "first", "deviation")


@dataclass(slots=True)
class Piece:
    """Token ids of one part of a prompt; cacheable pieces are looked up as chunks."""

    token_ids: list[int]
    cacheable: bool = False


@dataclass(slots=True)
class AssemblyConfig:
    """How to build a prompt's cache from pieces."""

    mode: str = "chunks"
    recompute_fraction: float = 0.15
    selection: str = "attention"
    block_size: int = DEFAULT_BLOCK_SIZE
    store_misses: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, not {self.selection!r}")
        if not 0.0 <= self.recompute_fraction <= 1.0:
            raise ValueError("recompute_fraction must be between 0 and 1")
        if self.block_size < 1:
            raise ValueError("block_size must be at least 1")


@dataclass(slots=True)
class AssembledPrompt:
    """Prompt ids, a cache over all of them and the logits for the first new token."""

    token_ids: list[int]
    cache: DynamicCache
    logits: torch.Tensor
    reused_tokens: int
    computed_tokens: int
    hits: int = 0
    misses: int = 0
    notes: list[str] = field(default_factory=list)
    pending: list = field(default_factory=list)  # prefix-tree nodes to store after decoding


@dataclass(slots=True)
class _Segment:
    start: int
    token_ids: list[int]
    kv: ChunkKV | None  # None: computed in context
    cacheable: bool = False
    whole: bool = True  # the piece fits the covered span entirely
    moved: bool = False  # a chunk placed at an offset > 0, candidate for recompute


class PromptAssembler:
    """Builds prompt caches from a ChunkCache; one instance per engine and cache."""

    def __init__(self, backend: Backend, cache: ChunkCache, config: AssemblyConfig | None = None):
        self.backend = backend
        self.cache = cache
        self.config = config or AssemblyConfig()
        self.rotator = RopeRotator.for_model(backend.model)
        self.rope_note = unsupported_reason(backend.model)

    @torch.inference_mode()
    def assemble(self, pieces: list[Piece]) -> AssembledPrompt:
        """Cache for the pieces' concatenated ids, all but the trailing uncached tokens."""
        token_ids = [int(t) for piece in pieces for t in piece.token_ids]
        if not token_ids:
            raise InvalidInput("a prompt needs at least one token")
        covered = _covered_length(pieces, len(token_ids))
        if self.config.mode == "prefix":
            return self._assemble_prefix(token_ids, covered)
        if self.config.mode == "none" or covered == 0:
            return self._assemble_none(token_ids)
        return self._assemble_chunks(pieces, token_ids, covered)

    def _assemble_none(self, token_ids: list[int]) -> AssembledPrompt:
        step = self.backend.forward(token_ids)
        return AssembledPrompt(
            token_ids, step.cache, step.logits, reused_tokens=0, computed_tokens=len(token_ids)
        )

    def _assemble_prefix(self, token_ids: list[int], covered: int) -> AssembledPrompt:
        size = self.config.block_size
        keys = block_keys(self.cache.fingerprint, token_ids[:covered], size)
        found: list[ChunkKV] = []
        for index, key in enumerate(keys):
            entry = self.cache.get(token_ids[index * size : (index + 1) * size], key=key)
            if entry is None:
                break
            found.append(entry.kv)
        reused = len(found) * size
        step = self.backend.forward(token_ids[reused:], _concat_cache(found) if found else None)
        for index in range(len(found), len(keys)):
            block = ChunkKV.from_cache(step.cache, index * size, (index + 1) * size)
            self.cache.put(token_ids[index * size : (index + 1) * size], block, key=keys[index])
        misses = len(keys) - len(found)
        return AssembledPrompt(
            token_ids, step.cache, step.logits, reused_tokens=reused,
            computed_tokens=len(token_ids) - reused, hits=len(found), misses=misses,
        )

    def _assemble_chunks(self, pieces, token_ids, covered) -> AssembledPrompt:
        segments, hits, misses, notes = self._segments(pieces, covered)
        computed = {p for s in segments if s.kv is None for p in _span(s)}
        layers = _layers_with_placeholders(segments, self._kv_shape())
        computed |= self._recompute_choice(segments, layers, token_ids, covered, computed)
        step = self._fill(layers, token_ids, covered, computed)
        if self.config.store_misses:
            notes.extend(self._store_misses(segments, step.cache))
        reused = covered - len(computed)
        return AssembledPrompt(
            token_ids, step.cache, step.logits, reused_tokens=reused,
            computed_tokens=len(token_ids) - reused, hits=hits, misses=misses, notes=notes,
        )

    def _store_misses(self, segments: list[_Segment], cache: DynamicCache) -> list[str]:
        """Cache missed chunks: one at position 0 straight from the prompt's cache, the
        others by a prefill of their own (in context they saw other tokens first)."""
        notes = []
        for segment in segments:
            if segment.kv is not None or not segment.cacheable or not segment.whole:
                continue
            if segment.start == 0:
                kv = ChunkKV.from_cache(cache, 0, len(segment.token_ids))
                self.cache.put(segment.token_ids, kv)
            else:
                self.cache.warm(segment.token_ids)
                notes.append(f"chunk at {segment.start} prefilled alone to be cached")
        return notes

    def _segments(self, pieces: list[Piece], covered: int):
        segments, hits, misses, notes, start = [], 0, 0, [], 0
        for piece in pieces:
            ids = [int(t) for t in piece.token_ids][: max(covered - start, 0)]
            if not ids:
                break
            kv = None
            if piece.cacheable:
                entry = self.cache.get(piece.token_ids)
                hits, misses = hits + (entry is not None), misses + (entry is None)
                kv = self._placed(entry.kv, start, len(ids), notes) if entry else None
            segments.append(
                _Segment(
                    start, ids, kv, piece.cacheable, whole=len(ids) == len(piece.token_ids),
                    moved=piece.cacheable and start > 0,
                )
            )
            start += len(ids)
        return segments, hits, misses, notes

    def _placed(self, kv: ChunkKV, offset: int, length: int, notes: list[str]) -> ChunkKV | None:
        """The chunk's KV moved to ``offset`` and cut to ``length`` tokens (None: recompute)."""
        if offset and self.rotator is None:
            notes.append(f"chunk at {offset} recomputed: {self.rope_note}")
            return None
        cut = ChunkKV([(k[:, :, :length], v[:, :, :length]) for k, v in kv.layers])
        return self.rotator.move(cut, offset) if self.rotator else cut.to(cut.device)

    def _recompute_choice(self, segments, layers, token_ids, covered, blank) -> set[int]:
        """Positions of moved chunks to recompute: a ``recompute_fraction`` of each chunk
        ("first", "deviation"), or of all of them together, those the trailing tokens
        attend to most ("attention")."""
        fraction = self.config.recompute_fraction
        moved = [s for s in segments if s.kv is not None and s.moved]
        if fraction == 0 or not moved:
            return set()
        if self.config.selection == "attention":
            score = trailing_attention(
                self.backend, layers, token_ids[:covered], token_ids[covered:], sorted(blank)
            )
            candidates = torch.tensor([p for s in moved for p in _span(s)])
            count = math.ceil(fraction * len(candidates))
            order = torch.argsort(score[candidates], descending=True)[:count]
            return {int(p) for p in candidates[order]}
        deviation = None
        if self.config.selection == "deviation":
            deviation = layer1_deviation(self.backend, layers, token_ids[:covered])
        chosen: set[int] = set()
        for segment in moved:
            count = math.ceil(fraction * len(segment.token_ids))
            span = _span(segment)
            if deviation is None:
                chosen.update(span[:count])
            else:
                order = torch.argsort(deviation[span.start : span.stop], descending=True)
                chosen.update(span.start + int(i) for i in order[:count])
        return chosen

    def _fill(self, layers, token_ids: list[int], covered: int, computed: set[int]) -> StepResult:
        """One forward pass over the ``computed`` positions and the uncached tail: a plain one
        when they are contiguous, otherwise a masked one."""
        first = min(computed, default=covered)
        if len(computed) == covered - first:
            head = [(k[:, :, :first], v[:, :, :first]) for k, v in layers]
            cache = DynamicCache(ddp_cache_data=head) if first else None
            return self.backend.forward(token_ids[first:], cache)
        return recompute_positions(
            self.backend, layers, token_ids[:covered], sorted(computed), token_ids[covered:]
        )

    def _kv_shape(self) -> tuple[int, int, int]:
        config = self.backend.model.config
        return config.num_hidden_layers, config.num_key_value_heads, head_dim_of(config)


def _covered_length(pieces: list[Piece], total: int) -> int:
    """Tokens before the trailing uncached pieces (at least one token is left out)."""
    tail = 0
    for piece in reversed(pieces):
        if piece.cacheable:
            break
        tail += len(piece.token_ids)
    return total - max(tail, 1)


def _layers_with_placeholders(segments: list[_Segment], shape) -> list:
    num_layers, heads, head_dim = shape
    reference = next(s.kv for s in segments if s.kv is not None) if any(
        s.kv is not None for s in segments
    ) else None
    layers = []
    for index in range(num_layers):
        keys, values = [], []
        for segment in segments:
            if segment.kv is not None:
                keys.append(segment.kv.layers[index][0])
                values.append(segment.kv.layers[index][1])
            else:
                like = reference.layers[index][0] if reference else None
                blank = _blank(like, heads, len(segment.token_ids), head_dim)
                keys.append(blank)
                values.append(blank)
        layers.append((torch.cat(keys, dim=2), torch.cat(values, dim=2)))
    return layers


def _blank(like: torch.Tensor | None, heads: int, tokens: int, head_dim: int) -> torch.Tensor:
    if like is None:
        return torch.zeros(1, heads, tokens, head_dim)
    return like.new_zeros(1, heads, tokens, head_dim)


def _concat_cache(chunks: list[ChunkKV]) -> DynamicCache:
    layers = []
    for index in range(len(chunks[0].layers)):
        keys = torch.cat([chunk.layers[index][0] for chunk in chunks], dim=2)
        values = torch.cat([chunk.layers[index][1] for chunk in chunks], dim=2)
        layers.append((keys, values))
    return DynamicCache(ddp_cache_data=layers)


def _span(segment: _Segment) -> range:
    return range(segment.start, segment.start + len(segment.token_ids))
