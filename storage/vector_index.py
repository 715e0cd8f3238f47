"""FAISS inner-product index over unit vectors, keyed by int64 ids, derived and rebuildable.

Small indexes are exact (IndexIDMap2 over IndexFlatIP, with real removal). Past
`hnsw_threshold` vectors the index is rebuilt as HNSW, which cannot remove: there every
vector lives in a slot, a slot→id table maps FAISS results back to ids, and removed or
replaced slots are tombstoned (filtered at search) until they pass `rebuild_fraction`
of the slots, when the graph is rebuilt from the live vectors.
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from itertools import pairwise
from pathlib import Path

import faiss
import numpy as np

from storage.atomic import write_replacing
from storage.errors import CorruptBlob, InvalidInput

MAGIC = b"MEMOSVI1"
FORMAT_VERSION = 1
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 96


class VectorIndex:
    """Inner-product search over int64-keyed float32 unit vectors; flat, then HNSW."""

    def __init__(
        self,
        dim: int,
        hnsw_threshold: int = 20000,
        *,
        ef_search: int = HNSW_EF_SEARCH,
        rebuild_fraction: float = 0.2,
    ):
        if dim <= 0 or hnsw_threshold <= 0 or not 0 < rebuild_fraction <= 1:
            raise ValueError("dim and hnsw_threshold must be positive, 0 < rebuild_fraction <= 1")
        self.dim = dim
        self.hnsw_threshold = hnsw_threshold
        self.ef_search = ef_search
        self.rebuild_fraction = rebuild_fraction
        self._lock = threading.RLock()
        self._slot_of: dict[int, int] = {}  # id -> slot (HNSW) or id -> id (flat)
        self._slot_ids = np.empty(0, dtype=np.int64)  # HNSW only: slot -> id, -1 if dead
        self._dead_slots = 0
        self._index = self._new_flat()

    @property
    def is_hnsw(self) -> bool:
        """Whether the index is currently an approximate HNSW graph."""
        return not isinstance(self._index, faiss.IndexIDMap2)

    @classmethod
    def build(
        cls, dim: int, ids: np.ndarray, vectors: np.ndarray, **kwargs
    ) -> VectorIndex:
        """A new index holding `vectors` under `ids`, in the mode their count calls for."""
        index = cls(dim, **kwargs)
        index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, id_: object) -> bool:
        return isinstance(id_, int | np.integer) and int(id_) in self._slot_of

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert vectors; an id already present is replaced."""
        ids, vectors = self._check(ids, vectors)
        if len(ids) == 0:
            return
        with self._lock:
            self._discard([i for i in ids.tolist() if i in self._slot_of])
            if not self.is_hnsw and len(self) + len(ids) > self.hnsw_threshold:
                live_ids, live_vectors = self._live()
                ids = np.concatenate([live_ids, ids])
                vectors = np.concatenate([live_vectors, vectors])
                self._reset(hnsw=True)
            self._insert(ids, vectors)

    def remove(self, ids) -> None:
        """Forget these ids; unknown ids are ignored."""
        with self._lock:
            self._discard([int(i) for i in np.asarray(ids, dtype=np.int64).ravel()])
            if self.is_hnsw and self._dead_slots > self.rebuild_fraction * len(self._slot_ids):
                self._rebuild()

    def vector(self, id_: int) -> np.ndarray:
        """The stored vector of `id_` (KeyError if absent)."""
        with self._lock:
            slot = self._slot_of[int(id_)]
            return self._index.reconstruct(slot)

    def vectors(self, ids) -> np.ndarray:
        """Stored vectors of `ids`, one row each (KeyError if one is absent)."""
        with self._lock:
            if not self.is_hnsw:  # the flat index is keyed by id itself
                wanted = np.asarray(ids, dtype=np.int64).ravel()
                missing = [i for i in wanted.tolist() if i not in self._slot_of]
                if missing:
                    raise KeyError(missing[0])
            else:
                ids = ids.tolist() if isinstance(ids, np.ndarray) else list(ids)
                wanted = np.fromiter(map(self._slot_of.__getitem__, ids), dtype=np.int64,
                                     count=len(ids))
            if len(wanted) == 0:
                return np.empty((0, self.dim), dtype=np.float32)
            return self._index.reconstruct_batch(wanted)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k nearest ids by inner product, best first."""
        return self.search_many(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)[0]

    def search_many(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """One best-first (id, score) list per query row."""
        queries = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim))
        with self._lock:
            if k <= 0 or len(self) == 0:
                return [[] for _ in range(len(queries))]
            if not self.is_hnsw:
                scores, labels = self._index.search(queries, min(k, len(self)))
                return [_pairs(*row) for row in zip(labels, scores, strict=True)]
            return self._search_hnsw(queries, k)

    def save(self, path: str | Path) -> None:
        """Write the index atomically (temp file, fsync, rename)."""
        with self._lock:
            payload = faiss.serialize_index(self._index).tobytes()
            slot_ids = self._slot_ids.tobytes() if self.is_hnsw else b""
            header = {
                "version": FORMAT_VERSION,
                "dim": self.dim,
                "hnsw_threshold": self.hnsw_threshold,
                "ef_search": self.ef_search,
                "rebuild_fraction": self.rebuild_fraction,
                "hnsw": self.is_hnsw,
                "sizes": [len(payload), len(slot_ids)],
                "sha256": hashlib.sha256(payload + slot_ids).hexdigest(),
            }
        head = json.dumps(header).encode()
        body = MAGIC + struct.pack("<I", len(head)) + head + payload + slot_ids
        write_replacing(Path(path), body)

    @classmethod
    def load(cls, path: str | Path) -> VectorIndex:
        """Read an index written by `save`; CorruptBlob if the file is damaged."""
        data = Path(path).read_bytes()
        header, blobs = _parse(data)
        try:
            index = cls(
                header["dim"],
                header["hnsw_threshold"],
                ef_search=header["ef_search"],
                rebuild_fraction=header["rebuild_fraction"],
            )
            index._index = faiss.deserialize_index(np.frombuffer(blobs[0], dtype=np.uint8))
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CorruptBlob(f"vector index {path}: {exc}") from exc
        index._restore_ids(header["hnsw"], blobs[1])
        return index

    # internals

    def _new_flat(self) -> faiss.Index:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _new_hnsw(self) -> faiss.Index:
        index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = self.ef_search
        return index

    def _check(self, ids, vectors) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=np.int64).ravel()
        vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        if vectors.ndim != 2 or vectors.shape != (len(ids), self.dim):
            raise InvalidInput(f"expected vectors of shape ({len(ids)}, {self.dim})")
        if len(set(ids.tolist())) != len(ids):
            raise InvalidInput("duplicate ids in one add")
        return ids, vectors

    def _insert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if not self.is_hnsw:
            self._index.add_with_ids(vectors, ids)
            self._slot_of.update((i, i) for i in ids.tolist())
            return
        first = len(self._slot_ids)
        self._index.add(vectors)
        self._slot_ids = np.concatenate([self._slot_ids, ids])
        self._slot_of.update(zip(ids.tolist(), range(first, first + len(ids)), strict=True))

    def _discard(self, ids: list[int]) -> None:
        present = [i for i in ids if i in self._slot_of]
        if not present:
            return
        slots = [self._slot_of.pop(i) for i in present]
        if self.is_hnsw:
            self._slot_ids[slots] = -1
            self._dead_slots += len(slots)
        else:
            self._index.remove_ids(np.asarray(present, dtype=np.int64))

    def _live(self) -> tuple[np.ndarray, np.ndarray]:
        if self._index.ntotal == 0:
            return np.empty(0, dtype=np.int64), np.empty((0, self.dim), dtype=np.float32)
        if self.is_hnsw:
            vectors = self._index.reconstruct_n(0, self._index.ntotal)
            live = np.flatnonzero(self._slot_ids >= 0)
            return self._slot_ids[live], vectors[live]
        inner = faiss.downcast_index(self._index.index)
        return faiss.vector_to_array(self._index.id_map), inner.reconstruct_n(0, inner.ntotal)

    def _reset(self, hnsw: bool) -> None:
        self._index = self._new_hnsw() if hnsw else self._new_flat()
        self._slot_of = {}
        self._slot_ids = np.empty(0, dtype=np.int64)
        self._dead_slots = 0

    def _rebuild(self) -> None:
        ids, vectors = self._live()
        self._reset(hnsw=len(ids) > self.hnsw_threshold)
        self._insert(ids, vectors)

    def _search_hnsw(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        want = min(k, len(self))
        return [self._search_hnsw_one(query.reshape(1, -1), want) for query in queries]

    def _search_hnsw_one(self, query: np.ndarray, want: int) -> list[tuple[int, float]]:
        # Tombstoned slots still come back from FAISS: widen the net until enough live ones do.
        fetch = want + min(self._dead_slots, max(16, want))
        while True:
            fetch = min(fetch, len(self._slot_ids))
            scores, slots = self._index.search(query, fetch)
            ids = np.where(slots[0] >= 0, self._slot_ids[np.maximum(slots[0], 0)], -1)
            hits = _pairs(ids, scores[0])
            if len(hits) >= want or fetch == len(self._slot_ids):
                return hits[:want]
            fetch *= 2

    def _restore_ids(self, hnsw: bool, slot_blob: bytes) -> None:
        if hnsw:
            self._index.hnsw.efSearch = self.ef_search
            self._slot_ids = np.frombuffer(slot_blob, dtype=np.int64).copy()
            live = np.flatnonzero(self._slot_ids >= 0)
            self._slot_of = dict(zip(self._slot_ids[live].tolist(), live.tolist(), strict=True))
            self._dead_slots = len(self._slot_ids) - len(live)
            if len(self._slot_ids) != self._index.ntotal:
                raise CorruptBlob("vector index: slot table does not match the stored vectors")
        else:
            ids = faiss.vector_to_array(self._index.id_map).tolist()
            self._slot_of = {i: i for i in ids}


def _pairs(ids: np.ndarray, scores: np.ndarray) -> list[tuple[int, float]]:
    return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True) if i >= 0]


def _parse(data: bytes) -> tuple[dict, list[bytes]]:
    if len(data) < len(MAGIC) + 4 or not data.startswith(MAGIC):
        raise CorruptBlob("vector index: not a memos vector index file")
    (head_len,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    try:
        header = json.loads(data[start : start + head_len])
        sizes = [int(s) for s in header["sizes"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptBlob(f"vector index: bad header ({exc})") from exc
    if header.get("version") != FORMAT_VERSION:
        raise CorruptBlob(f"vector index: unknown format version {header.get('version')}")
    body = data[start + head_len :]
    if len(body) != sum(sizes) or hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise CorruptBlob("vector index: checksum mismatch or truncated file")
    cuts = np.cumsum([0, *sizes]).tolist()
    return header, [body[a:b] for a, b in pairwise(cuts)]
