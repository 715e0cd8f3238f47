"""Activation memory of the kernel: exact prefix reuse (default), opt-in chunk blending, and
which notes are hot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import delete, select

from activation_cache import (
    AssembledPrompt,
    AssemblyConfig,
    CacheConfig,
    ChunkCache,
    PrefixTree,
    PromptAssembler,
)
from memos.prompt import PromptBuilder, PromptPlan
from memos.settings import Settings
from storage.clock import Clock
from storage.database import Database
from storage.schema import KvEntryRow

_MIB = 1 << 20
ACTIVATION_MODES = ("exact", "blend", "off")


class ActivationMemory:
    """KV of prompt pieces: a prefix tree reused exactly (``exact``), or memory chunks reused
    at any position with selective recompute (``blend``, approximate); both share one store."""

    def __init__(self, engine, prompts: PromptBuilder, folder: Path, settings: Settings,
                 database: Database, clock: Clock) -> None:
        self._engine = engine
        self._database = database
        self._clock = clock
        self.cache = ChunkCache(engine, Path(folder), CacheConfig(
            device_bytes=settings.kv_device_mib * _MIB, host_bytes=settings.kv_host_mib * _MIB,
            disk_bytes=settings.kv_disk_mib * _MIB, policy=settings.kv_policy,
            quantization=settings.kv_quantization))
        self.assembler = PromptAssembler(engine, self.cache, AssemblyConfig(
            mode="chunks", recompute_fraction=settings.kv_recompute_fraction,
            selection=settings.kv_selection))
        self.tree = PrefixTree(engine, self.cache, Path(folder))
        self.prompts = prompts

    def assemble(self, plan: PromptPlan, mode: str = "exact",
                 adapter: str | None = None) -> AssembledPrompt:
        """The prompt's cache and first logits: the longest cached path of the prefix tree plus
        one pass over the rest (``exact``), or blended chunks (``blend``)."""
        if mode == "exact":
            return self.tree.assemble(plan.pieces, adapter)
        if mode == "blend":
            return self.assembler.assemble(plan.pieces)
        raise ValueError(f"no assembly in activation mode {mode!r}")

    def commit(self, assembled: AssembledPrompt) -> int:
        """Store the prefix-tree nodes an exact assembly computed (after decoding)."""
        return self.tree.commit(assembled) if assembled.pending else 0

    def warm_texts(self, texts: Sequence[str], cube_id: str | None = None,
                   item_ids: Sequence[str | None] | None = None) -> list[str]:
        """Precompute the chunk KV of memory texts; returns their cache keys."""
        keys = []
        owners = item_ids or [None] * len(texts)
        for text, item_id in zip(texts, owners, strict=True):
            ids = self.prompts.chunk_ids(text)
            entry = self.cache.warm(ids)
            keys.append(entry.key)
            self._record(entry.key, cube_id, item_id, len(ids))
        return keys

    def warm_path(self, texts: Sequence[str], cube_id: str | None = None,
                  item_ids: Sequence[str | None] | None = None, pin: bool = False) -> list[str]:
        """Precompute the prefix-tree path a first turn given these memories starts with
        (memories in the order given); returns the keys of its memory chunk nodes."""
        pieces = self.prompts.first_turn_prefix(texts)
        keys = self.tree.warm(pieces)
        if pin:
            self.tree.pin_path([piece.token_ids for piece in pieces])
        chunk_keys = keys[len(keys) - len(texts):] if texts else []
        owners = item_ids or [None] * len(texts)
        for key, piece, item_id in zip(chunk_keys, pieces[len(pieces) - len(texts):], owners,
                                       strict=True):
            self._record(key, cube_id, item_id, len(piece.token_ids))
        return chunk_keys

    def forget_texts(self, texts: Sequence[str]) -> int:
        """Remove every cached node holding one of these memory texts (and the tree below
        it) and their blend chunks; how many entries went."""
        chunks = [self.prompts.chunk_ids(text) for text in texts]
        removed = self.tree.forget(chunks)
        for ids in chunks:
            key = self.cache.key_for(ids)
            if key in self.cache:
                self.cache.evict(key)
                removed.append(key)
        if removed:
            with self._database.session() as session:
                session.execute(delete(KvEntryRow).where(KvEntryRow.key.in_(removed)))
        return len(removed)

    def entries(self, cube_id: str | None = None) -> list[dict]:
        """Cached chunks (optionally only those of one cube's notes), most recent first."""
        owners = self._owners()
        rows = []
        for entry in self.cache.entries():
            cube, item = owners.get(entry.key, (None, None))
            if cube_id is None or cube == cube_id:
                rows.append({**asdict(entry), "cube_id": cube, "item_id": item})
        return rows

    def stats(self) -> dict:
        """Hits, misses, bytes and evictions per tier."""
        return self.cache.stats()

    def evict(self, key: str) -> None:
        """Drop one cached chunk from every tier."""
        self.cache.evict(key)
        with self._database.session() as session:
            session.execute(delete(KvEntryRow).where(KvEntryRow.key == key))

    def pin(self, key: str, pinned: bool = True) -> None:
        """Keep (or stop keeping) a chunk out of eviction."""
        if pinned:
            self.cache.pin(key)
        else:
            self.cache.unpin(key)

    def _record(self, key: str, cube_id: str | None, item_id: str | None, tokens: int) -> None:
        with self._database.session() as session:
            session.merge(KvEntryRow(key=key, cube_id=cube_id, item_id=item_id,
                                     fingerprint=self._engine.fingerprint, tokens=tokens,
                                     created_at=self._clock.now()))

    def _owners(self) -> dict[str, tuple[str | None, str | None]]:
        with self._database.session() as session:
            rows = session.execute(select(KvEntryRow.key, KvEntryRow.cube_id, KvEntryRow.item_id))
            return {key: (cube, item) for key, cube, item in rows}
