"""Activation memory of the kernel: exact prefix reuse (default), opt-in chunk blending, and
which notes are hot."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import asdict
from pathlib import Path

from activation_cache import (
    AssembledPrompt,
    AssemblyConfig,
    CacheConfig,
    ChunkCache,
    HotPath,
    Piece,
    PrefixTree,
    PromptAssembler,
    nodes_to_pin,
)
from memos.activation.kv_records import KvRecords
from memos.activation.kv_sharing import redis_tier
from memos.activation.memory_sets import MemorySet, MemorySetLog, PinnedSets
from memos.prompt import PromptBuilder, PromptPlan
from memos.settings import Settings
from storage.cache_failures import CacheFailures
from storage.errors import NotFound

_MIB = 1 << 20
logger = logging.getLogger(__name__)
ACTIVATION_MODES = ("exact", "blend", "off")
MIN_QUOTED_TOKENS = 6  # shortest run of a forgotten text looked for inside other prompts


def kv_space(tenant: str | None, adapter: str | None = None) -> str | None:
    """The prefix-tree namespace of a prompt: its tenant's (so no tenant reuses, or can time,
    another's KV) and its adapters'. The embedded caller (None) keeps the plain one."""
    if tenant is None:
        return adapter
    return f"tenant:{tenant}|{adapter or ''}"


class ActivationMemory:
    """KV of prompt pieces: a prefix tree reused exactly (``exact``), or memory chunks reused
    at any position with selective recompute (``blend``, approximate); both share one store."""

    def __init__(self, engine, prompts: PromptBuilder, folder: Path, settings: Settings,
                 records: KvRecords) -> None:
        self._engine = engine
        self._records = records  # whose chunk each key is
        self.cache = ChunkCache(engine, Path(folder), CacheConfig(
            device_bytes=settings.kv_device_mib * _MIB, host_bytes=settings.kv_host_mib * _MIB,
            disk_bytes=settings.kv_disk_mib * _MIB, policy=settings.kv_policy,
            quantization=settings.kv_quantization), remote=redis_tier(settings, engine))
        self.assembler = PromptAssembler(engine, self.cache, AssemblyConfig(
            mode="chunks", recompute_fraction=settings.kv_recompute_fraction,
            selection=settings.kv_selection))
        self.tree = PrefixTree(engine, self.cache, Path(folder))
        self.prompts = prompts
        self.failures = CacheFailures(logger)
        self.memory_sets = MemorySetLog()
        self.pinned_sets = PinnedSets(Path(folder) / "pinned-sets.json")
        self.pin_budget_bytes = settings.kv_host_mib * _MIB // 2

    def assemble(self, plan: PromptPlan, mode: str = "exact", adapter: str | None = None,
                 defer_prefill: bool = False, tenant: str | None = None) -> AssembledPrompt:
        """The prompt's cache and first logits: the longest cached path of the prefix tree plus
        one pass over the rest (``exact``), or blended chunks (``blend``). When the cache fails,
        the whole prompt is computed without it (counted, logged once). ``defer_prefill``
        (exact only) leaves the rest, and the logits, to the caller's batched prefill. Exact
        reuse stays within ``tenant``'s namespace (``kv_space``)."""
        if mode not in ("exact", "blend"):
            raise ValueError(f"no assembly in activation mode {mode!r}")
        try:
            if mode == "exact":
                return self.tree.assemble(plan.pieces, kv_space(tenant, adapter),
                                          defer_prefill)
            return self.assembler.assemble(plan.pieces)
        except Exception as error:  # a cache is never a reason to fail a request
            self.failures.record("assemble", error)
        step = self._engine.forward(plan.token_ids)
        return AssembledPrompt(plan.token_ids, step.cache, step.logits, reused_tokens=0,
                               computed_tokens=len(plan.token_ids),
                               notes=["activation cache failed; prompt computed without it"])

    def commit(self, assembled: AssembledPrompt) -> int:
        """Store the prefix-tree nodes an exact assembly computed (after decoding); a node that
        cannot be stored is skipped (counted, logged once)."""
        if not assembled.pending:
            return 0
        try:
            return self.tree.commit(assembled)
        except Exception as error:  # a cache is never a reason to fail a request
            self.failures.record("commit", error)
            return 0

    def warm_texts(self, texts: Sequence[str], cube_id: str | None = None,
                   item_ids: Sequence[str | None] | None = None) -> list[str]:
        """Precompute the chunk KV of memory texts; returns their cache keys."""
        keys = []
        owners = item_ids or [None] * len(texts)
        for text, item_id in zip(texts, owners, strict=True):
            ids = self.prompts.chunk_ids(text)
            try:
                entry = self.cache.warm(ids)
            except Exception as error:  # a chunk that cannot be cached is left uncached
                self.failures.record("warm", error)
                continue
            keys.append(entry.key)
            self._record(entry.key, cube_id, item_id, len(ids))
        return keys

    def warm_path(self, texts: Sequence[str], cube_id: str | None = None,
                  item_ids: Sequence[str | None] | None = None, pin: bool = False,
                  tenant: str | None = None) -> list[str]:
        """Precompute the prefix-tree path a first turn of ``tenant`` given these memories
        starts with (memories in the order given); returns the keys of its memory chunk nodes."""
        pieces = self.prompts.first_turn_prefix(texts)
        keys = self.tree.warm(pieces, kv_space(tenant))
        if pin:
            self.tree.pin_path([piece.token_ids for piece in pieces], kv_space(tenant))
        chunk_keys = keys[len(keys) - len(texts):] if texts else []
        owners = item_ids or [None] * len(texts)
        for key, piece, item_id in zip(chunk_keys, pieces[len(pieces) - len(texts):], owners,
                                       strict=True):
            self._record(key, cube_id, item_id, len(piece.token_ids))
        return chunk_keys

    def pin_paths(self, cube_id: str, memory_sets: Sequence[MemorySet],
                  texts: Sequence[Sequence[str]], min_uses: int = 1,
                  tenant: str | None = None) -> dict:
        """Warm and pin the first-turn path nodes of a cube's hot memory sets (``texts[i]``
        are set i's notes in prompt order) that save the most prefill per byte: the head and
        the prefixes many sets share first (see ``activation_cache.hot_paths``), while all
        pins fit half the host budget; a node is pinned once the sets through it were placed
        ``min_uses`` times; the cube's other pinned nodes are released. The paths are
        ``tenant``'s (``kv_space``): those the cube's chats walk."""
        space = kv_space(tenant)
        others = self.pinned_sets.keys(exclude=cube_id)
        paths = [self.prompts.first_turn_prefix(set_texts) for set_texts in texts]
        uses = self.memory_sets.uses(cube_id, memory_sets)
        hot = [self._hot_path(pieces, max(uses.get(tuple(memory_set), 0), 1), space)
               for pieces, memory_set in zip(paths, memory_sets, strict=True)]
        budget = self.pin_budget_bytes - self._bytes_of(others)
        chosen = set(nodes_to_pin(hot, budget // self._bytes_per_token(paths, space), min_uses))
        wanted: list[str] = []
        whole = 0
        for pieces, path in zip(paths, hot, strict=True):
            depth = next((i for i, key in enumerate(path.keys) if key not in chosen),
                         len(path.keys))
            try:
                keys = self.tree.warm(pieces[:depth], space) if depth else []
            except Exception as error:  # a path that cannot be cached is left unpinned
                self.failures.record("warm", error)
                continue
            wanted += [key for key in keys if key not in wanted]
            whole += depth == len(path.keys)
            self.tree.pin_exactly(others + wanted)  # warming the next set cannot evict it
        self.pinned_sets.replace(cube_id, [tuple(s) for s in memory_sets], wanted)
        return {"pinned_paths": whole, "pinned_nodes": len(wanted),
                "pinned_bytes": self._bytes_of(wanted)}

    def _hot_path(self, pieces: Sequence[Piece], uses: int, space: str | None) -> HotPath:
        parts = [[int(t) for t in piece.token_ids] for piece in pieces if piece.token_ids]
        return HotPath(self.tree.path_keys(parts, space), [len(ids) for ids in parts], uses)

    def _bytes_per_token(self, paths: Sequence[Sequence[Piece]], space: str | None) -> int:
        """KV bytes of one token as this cache stores it (dtype, quantization)."""
        entries = [entry for entry in self.cache.entries() if entry.tokens]
        if not entries and paths and paths[0]:
            self.tree.warm(paths[0][:1], space)  # the head, which every path starts with
            entries = [entry for entry in self.cache.entries() if entry.tokens]
        if not entries:
            return 1 << 30  # nothing can be measured, so nothing is pinned
        return max(1, sum(e.nbytes for e in entries) // sum(e.tokens for e in entries))

    def _bytes_of(self, keys) -> int:
        wanted = set(keys)
        return sum(entry.nbytes for entry in self.cache.entries() if entry.key in wanted)

    def forget_texts(self, texts: Sequence[str]) -> int:
        """Remove every cached node holding or quoting one of these memory texts (and the
        tree below it) and their blend chunks; how many entries went."""
        chunks = [self.prompts.chunk_ids(text) for text in texts]
        removed = self.tree.forget(chunks, [run for text in texts
                                            for run in quoted_runs(self._engine, text)])
        for ids in chunks:
            key = self.cache.key_for(ids)
            if key in self.cache:
                self.cache.evict(key)
                removed.append(key)
        if removed:
            self._records.delete(removed)
        return len(removed)

    def entries(self, cube_id: str | None = None) -> list[dict]:
        """Cached chunks (optionally only those of one cube's notes), most recent first."""
        owners = self._records.owners()
        rows = []
        for entry in self.cache.entries():
            cube, item = owners.get(entry.key, (None, None))
            if cube_id is None or cube == cube_id:
                rows.append({**asdict(entry), "cube_id": cube, "item_id": item})
        return rows

    def stats(self) -> dict:
        """Hits, misses, bytes, evictions and failures per tier and of the cache as a whole."""
        stats = self.cache.stats()
        failures = {**stats["failures"]}
        for operation, count in self.failures.counts().items():
            failures[operation] = failures.get(operation, 0) + count
        return {**stats, "failures": failures}

    def stats_for(self, cube_ids: Collection[str]) -> dict:
        """Entries, bytes and hits of the chunks cached for these cubes' notes only."""
        wanted = set(cube_ids)
        rows = [row for row in self.entries() if row["cube_id"] in wanted]
        tiers = {name: {"entries": 0, "bytes": 0} for name in self.cache.stats()["tiers"]}
        for row in rows:
            tiers[row["tier"]]["entries"] += 1
            tiers[row["tier"]]["bytes"] += row["nbytes"]
        return {"scope": "cubes", "cube_ids": sorted(cube_ids), "entries": len(rows),
                "hits": sum(row["hits"] for row in rows), "tiers": tiers}

    def evict(self, key: str) -> None:
        """Drop one cached chunk from every tier."""
        self.cache.evict(key)
        self._records.delete([key])

    def forget(self, keys: Sequence[str]) -> None:
        """Drop these chunks from every tier (a key no longer cached is skipped)."""
        for key in keys:
            try:
                self.cache.evict(key)
            except NotFound:
                continue

    def pin(self, key: str, pinned: bool = True) -> None:
        """Keep (or stop keeping) a chunk out of eviction."""
        if pinned:
            self.cache.pin(key)
        else:
            self.cache.unpin(key)

    def _record(self, key: str, cube_id: str | None, item_id: str | None, tokens: int) -> None:
        self._records.record(key, cube_id, item_id, self._engine.fingerprint, tokens)


def quoted_runs(engine, text: str) -> list[list[int]]:
    """Token runs that any prompt quoting ``text`` contains, whatever comes before or after it:
    the text's tokens without the first and last (which merge with neighbours), tokenized at
    the start of a line and after a space. None for a text shorter than MIN_QUOTED_TOKENS: a
    run that short is in countless prompts (forgetting "the" must not empty every tenant's
    cache); such a note's own chunk nodes still go."""
    runs = []
    for variant in (text, " " + text):
        ids = list(engine.encode(variant))
        core = ids[1:-1] if len(ids) > 3 else ids
        if len(core) >= MIN_QUOTED_TOKENS and core not in runs:
            runs.append(core)
    return runs
