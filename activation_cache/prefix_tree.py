"""PrefixTree: exact KV reuse over a radix tree of prompt pieces (as SGLang's RadixAttention
and RAGCache's knowledge tree do).

A node is one prompt piece (system head, one conversation turn, one memory chunk) whose KV
was computed after the exact path above it. Its key hashes the model fingerprint, the adapter
(or none), the parent's key and the piece's tokens, so a path is found by walking keys from
the root and no tree object has to survive a restart. A prompt reuses its longest cached path:
the path's KV is concatenated into fresh tensors (one ``cat`` per layer, never the stored
copy) and the rest of the prompt is computed on top in one forward pass. That is a cold
prefill of the same token ids, up to float rounding.

Nodes live in a ChunkCache's tiers (device -> host -> disk) under its policy. Evicting a node
cuts every path through it: lookups stop there and compute the rest, so the answer never
changes. Its descendants stay stored but unreachable until the same node is computed again
(its key does not change, so the whole subtree is reachable again) or the policy evicts them
in turn (unused, they are the first victims of LRU). Pinned paths are listed in a small JSON
file next to the KV files and pinned again when the tree is opened. Forgetting a text removes
every node holding it and the whole subtree below them (their KV attended to it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import DynamicCache

from activation_cache.assembly import AssembledPrompt, Piece
from activation_cache.backend import Backend
from activation_cache.chunk_cache import ChunkCache
from activation_cache.chunk_kv import ChunkKV
from activation_cache.keys import ROOT_KEY, node_key
from activation_cache.tree_index import TreeIndex
from storage.errors import InvalidInput, NotFound


@dataclass(slots=True)
class PendingNode:
    """A piece computed by the last pass, to be stored once the prompt's cache is final."""

    key: str
    parent: str
    token_ids: list[int]
    start: int
    end: int


@dataclass(slots=True)
class TreeMatch:
    """Keys of every piece of a prompt and the KV of its longest cached path."""

    keys: list[str]
    found: list[ChunkKV]

    @property
    def depth(self) -> int:
        """How many leading pieces are cached."""
        return len(self.found)


class PrefixTree:
    """Exact prefix reuse of prompt pieces, stored in a ChunkCache; one per engine and cache."""

    def __init__(self, backend: Backend, cache: ChunkCache, folder: Path) -> None:
        self.backend = backend
        self.cache = cache
        self.pins_file = Path(folder) / "tree-pins.json"
        self.index = TreeIndex(Path(folder) / "tree-index.jsonl")
        self.index.compact(lambda key: key in self.cache)
        self._pinned: set[str] = set()
        self._restore_pins()

    def path_keys(self, pieces: Sequence[Sequence[int]], adapter: str | None = None) -> list[str]:
        """The node key of every piece, each chained to the keys of the pieces before it."""
        keys, parent = [], ROOT_KEY
        for ids in pieces:
            parent = node_key(self.cache.fingerprint, adapter, parent, ids)
            keys.append(parent)
        return keys

    def match(self, pieces: Sequence[Sequence[int]], adapter: str | None = None,
              whole: bool = False) -> TreeMatch:
        """The longest cached path over all pieces but the last (which a prompt always
        computes), or over all of them when ``whole``."""
        keys = self.path_keys(pieces, adapter)
        found: list[ChunkKV] = []
        considered = len(pieces) if whole else len(pieces) - 1
        for ids, key in zip(pieces[:considered], keys[:considered], strict=True):
            entry = self.cache.get(ids, key=key)
            if entry is None:
                break
            found.append(entry.kv)
        return TreeMatch(keys, found)

    @torch.inference_mode()
    def assemble(self, pieces: Sequence[Piece], adapter: str | None = None,
                 defer_prefill: bool = False) -> AssembledPrompt:
        """Cache and first logits for the pieces' ids: cached path + one pass over the rest.

        With ``defer_prefill`` the rest is left to the caller (a batcher that prefills it in
        chunks): the cache holds the cached path only, logits are None, and the caller grows
        that same cache object over the whole prompt before ``commit``."""
        parts = _parts(pieces)
        matched = self.match(parts, adapter)
        misses = len(parts) - 1 - matched.depth
        if defer_prefill:
            return self._deferred(parts, matched, misses)
        return self._extend(parts, matched, misses)

    @torch.inference_mode()
    def warm(self, pieces: Sequence[Piece], adapter: str | None = None) -> list[str]:
        """Compute and store every node of this path not cached yet; the path's keys."""
        parts = _parts(pieces)
        matched = self.match(parts, adapter, whole=True)
        if matched.depth < len(parts):
            self.commit(self._extend(parts, matched, misses=len(parts) - matched.depth))
        return matched.keys

    def commit(self, assembled: AssembledPrompt) -> int:
        """Store the pieces the assembly computed, sliced from its cache (which may have grown
        by decoding since: the prompt's positions do not change); returns how many."""
        stored = 0
        for node in assembled.pending:
            layers = [
                (layer.keys[:, :, node.start : node.end], layer.values[:, :, node.start : node.end])
                for layer in assembled.cache.layers
            ]
            self.cache.put(node.token_ids, ChunkKV(layers), key=node.key)  # put copies
            self.index.add(node.key, node.parent, node.token_ids)
            stored += 1
        assembled.pending = []
        return stored

    def _extend(self, parts: list[list[int]], matched: TreeMatch, misses: int) -> AssembledPrompt:
        """One forward pass over the pieces after the matched path, on a copy of its KV."""
        assembled = self._deferred(parts, matched, misses)
        step = self.backend.forward(assembled.token_ids[assembled.reused_tokens:],
                                    assembled.cache)
        assembled.logits = step.logits
        return assembled

    def _deferred(self, parts: list[list[int]], matched: TreeMatch,
                  misses: int) -> AssembledPrompt:
        """The matched path's KV (a copy, or an empty cache) and the nodes still to store."""
        token_ids = [t for ids in parts for t in ids]
        reused = sum(len(ids) for ids in parts[: matched.depth])
        found = matched.found
        cache = _joined_copy(found, self.backend.device) if found else DynamicCache()
        pending, start = [], reused
        parents = [ROOT_KEY, *matched.keys[:-1]]
        for index in range(matched.depth, len(parts)):
            ids = parts[index]
            pending.append(PendingNode(matched.keys[index], parents[index], ids, start,
                                       start + len(ids)))
            start += len(ids)
        return AssembledPrompt(
            token_ids, cache, None, reused_tokens=reused,
            computed_tokens=len(token_ids) - reused, hits=matched.depth, misses=misses,
            pending=pending,
        )

    def pin_path(self, pieces: Sequence[Sequence[int]], adapter: str | None = None) -> list[str]:
        """Keep the cached nodes of this path out of eviction, across restarts; their keys."""
        keys = [key for key in self.path_keys(pieces, adapter) if key in self.cache]
        for key in keys:
            self.cache.pin(key)
        self._pinned.update(keys)
        self._save_pins()
        return keys

    def unpin(self, keys: Sequence[str]) -> None:
        """Let the policy evict these nodes again."""
        for key in keys:
            if key in self.cache:
                self.cache.unpin(key)
            self._pinned.discard(key)
        self._save_pins()

    def pin_exactly(self, keys: Sequence[str]) -> set[str]:
        """Make these cached nodes the pinned set (others are unpinned); the keys pinned."""
        wanted = {key for key in keys if key in self.cache}
        for key in self._pinned - wanted:
            if key in self.cache:
                self.cache.unpin(key)
        for key in wanted - self._pinned:
            self.cache.pin(key)
        self._pinned = set(wanted)
        self._save_pins()
        return wanted

    def forget(self, texts: Sequence[Sequence[int]],
               quoted: Sequence[Sequence[int]] = ()) -> list[str]:
        """Remove every node whose own tokens are one of ``texts`` or contain one of the runs
        in ``quoted`` (a turn that quotes a note), and everything below it; the keys of the
        stored nodes that went."""
        holders = [key for ids in texts for key in self.index.holding(ids)]
        holders += [key for run in quoted for key in self.index.quoting(run)]
        return self.remove(self.index.subtree(holders))

    def remove(self, keys: Sequence[str]) -> list[str]:
        """Drop these nodes from every tier (paths through them are cut); those that were held."""
        removed = []
        self.index.drop(keys)
        for key in keys:
            self._pinned.discard(key)
            try:
                self.cache.evict(key)
                removed.append(key)
            except NotFound:
                continue
        self._save_pins()
        return removed

    @property
    def pinned(self) -> set[str]:
        """Keys of the pinned nodes."""
        return set(self._pinned)

    def _restore_pins(self) -> None:
        if not self.pins_file.exists():
            return
        try:
            keys = json.loads(self.pins_file.read_text())["pinned"]
        except (ValueError, KeyError, TypeError):
            return  # an unreadable pins file only loses the pins, never the nodes
        for key in keys:
            if isinstance(key, str) and key in self.cache:
                self.cache.pin(key)
                self._pinned.add(key)

    def _save_pins(self) -> None:
        temporary = self.pins_file.with_name(f".{self.pins_file.name}.tmp")
        temporary.write_text(json.dumps({"pinned": sorted(self._pinned)}))
        os.replace(temporary, self.pins_file)


def _parts(pieces: Sequence[Piece]) -> list[list[int]]:
    parts = [[int(t) for t in piece.token_ids] for piece in pieces if piece.token_ids]
    if not parts:
        raise InvalidInput("a prompt needs at least one token")
    return parts


def _joined_copy(chunks: list[ChunkKV], device: torch.device) -> DynamicCache:
    """Fresh tensors holding the chunks one after another (``cat`` always allocates)."""
    layers = []
    for index in range(len(chunks[0].layers)):
        keys = torch.cat([chunk.layers[index][0].to(device) for chunk in chunks], dim=2)
        values = torch.cat([chunk.layers[index][1].to(device) for chunk in chunks], dim=2)
        layers.append((keys, values))
    return DynamicCache(ddp_cache_data=layers)
