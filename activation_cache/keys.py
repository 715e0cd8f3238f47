"""Cache keys: one per whole chunk, or hash-chained per block for prefix-only reuse."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

DEFAULT_BLOCK_SIZE = 32


def _token_bytes(token_ids: Sequence[int]) -> bytes:
    return np.asarray(list(token_ids), dtype="<i8").tobytes()


def chunk_key(fingerprint: str, token_ids: Sequence[int]) -> str:
    """Key of a chunk cached at position 0: sha256 of the model fingerprint and its tokens."""
    digest = hashlib.sha256(b"chunk\0" + fingerprint.encode() + b"\0")
    digest.update(_token_bytes(token_ids))
    return digest.hexdigest()


def block_keys(
    fingerprint: str, token_ids: Sequence[int], block_size: int = DEFAULT_BLOCK_SIZE
) -> list[str]:
    """Keys of the full blocks of a prompt; each chains the previous key, so equal keys
    mean an equal prefix (the vLLM scheme). A trailing partial block gets no key."""
    if block_size < 1:
        raise ValueError("block_size must be at least 1")
    keys: list[str] = []
    previous = hashlib.sha256(b"block\0" + fingerprint.encode()).hexdigest()
    for start in range(0, len(token_ids) - block_size + 1, block_size):
        digest = hashlib.sha256(previous.encode())
        digest.update(_token_bytes(token_ids[start : start + block_size]))
        previous = digest.hexdigest()
        keys.append(previous)
    return keys


ROOT_KEY = "root"


def node_key(fingerprint: str, adapter: str | None, parent_key: str,
             token_ids: Sequence[int]) -> str:
    """Key of a prefix-tree node: sha256 of the model, the adapter (or none), the parent
    path's key and the node's tokens, so equal keys mean an equal path from the root."""
    digest = hashlib.sha256(b"node\0" + fingerprint.encode() + b"\0")
    digest.update((adapter or "").encode() + b"\0" + parent_key.encode() + b"\0")
    digest.update(_token_bytes(token_ids))
    return digest.hexdigest()
