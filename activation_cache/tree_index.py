"""TreeIndex: the parent and token digest of every stored prefix-tree node.

Node keys are one-way hashes, so finding the nodes that hold a text (to forget it) and their
descendants needs a record of the tree's shape. It is appended to a small file, one node per
line, and rewritten without the dropped nodes when the tree is opened.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np


def token_digest(token_ids: Sequence[int]) -> str:
    """Short digest of a run of token ids (which nodes hold this text)."""
    return hashlib.sha256(np.asarray(list(token_ids), dtype="<i8").tobytes()).hexdigest()[:32]


class TreeIndex:
    """Children and token digests of nodes, persisted as an append-only file of lines."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._parent: dict[str, str] = {}
        self._digest: dict[str, str] = {}
        self._children: dict[str, set[str]] = {}
        self._tokens: dict[str, bytes] = {}  # a node's own token ids, to find quoted texts
        self._lock = threading.RLock()
        self._load()

    def add(self, key: str, parent: str, token_ids: Sequence[int]) -> None:
        """Record a stored node (once)."""
        digest = token_digest(token_ids)
        with self._lock:
            if key in self._parent:
                return
            tokens = [int(t) for t in token_ids]
            self._remember(key, parent, digest, tokens)
            with self.path.open("a") as file:
                file.write(json.dumps([key, parent, digest, tokens]) + "\n")

    def holding(self, token_ids: Sequence[int]) -> list[str]:
        """Nodes whose own tokens are exactly these."""
        digest = token_digest(token_ids)
        with self._lock:
            return [key for key, held in self._digest.items() if held == digest]

    def quoting(self, needle: Sequence[int]) -> list[str]:
        """Nodes whose own tokens contain this run of token ids anywhere."""
        wanted = _packed(needle)
        if not wanted:
            return []
        with self._lock:
            return [key for key, held in self._tokens.items() if _contains(held, wanted)]

    def subtree(self, keys: Iterable[str]) -> list[str]:
        """These nodes and every node below them."""
        found, todo = [], list(dict.fromkeys(keys))
        seen = set(todo)
        with self._lock:
            while todo:
                key = todo.pop()
                found.append(key)
                for child in self._children.get(key, ()):
                    if child not in seen:
                        seen.add(child)
                        todo.append(child)
        return found

    def drop(self, keys: Iterable[str]) -> None:
        """Forget these nodes (their lines go at the next compaction)."""
        with self._lock:
            for key in keys:
                parent = self._parent.pop(key, None)
                self._digest.pop(key, None)
                self._tokens.pop(key, None)
                if parent is not None:
                    self._children.get(parent, set()).discard(key)

    def compact(self, alive: Callable[[str], bool]) -> None:
        """Keep only nodes for which ``alive`` holds, and rewrite the file with them."""
        with self._lock:
            self.drop([key for key in list(self._parent) if not alive(key)])
            temporary = self.path.with_name(f".{self.path.name}.tmp")
            lines = [json.dumps([key, parent, self._digest[key], self._unpacked(key)]) + "\n"
                     for key, parent in self._parent.items()]
            temporary.write_text("".join(lines))
            os.replace(temporary, self.path)

    def __len__(self) -> int:
        return len(self._parent)

    def _remember(self, key: str, parent: str, digest: str, tokens: list | None) -> None:
        self._parent[key] = parent
        self._digest[key] = digest
        if tokens is not None:
            self._tokens[key] = _packed(tokens)
        self._children.setdefault(parent, set()).add(key)

    def _unpacked(self, key: str) -> list[int] | None:
        held = self._tokens.get(key)
        return None if held is None else np.frombuffer(held, dtype="<i8").tolist()

    def _load(self) -> None:
        if not self.path.exists():
            return
        for line in self.path.read_text().splitlines():
            try:
                key, parent, digest, *rest = json.loads(line)
            except (ValueError, TypeError):
                continue  # a line cut short by a crash: that node is only not forgettable
            tokens = rest[0] if rest and _token_list(rest[0]) else None  # older lines: none
            if isinstance(key, str) and isinstance(parent, str) and isinstance(digest, str):
                self._remember(key, parent, digest, tokens)


def _token_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(t, int) for t in value)


def _packed(token_ids: Sequence[int]) -> bytes:
    return np.asarray(list(token_ids), dtype="<i8").tobytes()


def _contains(held: bytes, wanted: bytes) -> bool:
    """Whether ``wanted`` is a run of whole tokens inside ``held`` (8-byte aligned)."""
    start = held.find(wanted)
    while start != -1:
        if start % 8 == 0:
            return True
        start = held.find(wanted, start + 1)
    return False
