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
        self._lock = threading.RLock()
        self._load()

    def add(self, key: str, parent: str, token_ids: Sequence[int]) -> None:
        """Record a stored node (once)."""
        digest = token_digest(token_ids)
        with self._lock:
            if key in self._parent:
                return
            self._remember(key, parent, digest)
            with self.path.open("a") as file:
                file.write(json.dumps([key, parent, digest]) + "\n")

    def holding(self, token_ids: Sequence[int]) -> list[str]:
        """Nodes whose own tokens are exactly these."""
        digest = token_digest(token_ids)
        with self._lock:
            return [key for key, held in self._digest.items() if held == digest]

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
                if parent is not None:
                    self._children.get(parent, set()).discard(key)

    def compact(self, alive: Callable[[str], bool]) -> None:
        """Keep only nodes for which ``alive`` holds, and rewrite the file with them."""
        with self._lock:
            self.drop([key for key in list(self._parent) if not alive(key)])
            temporary = self.path.with_name(f".{self.path.name}.tmp")
            lines = [json.dumps([key, parent, self._digest[key]]) + "\n"
                     for key, parent in self._parent.items()]
            temporary.write_text("".join(lines))
            os.replace(temporary, self.path)

    def __len__(self) -> int:
        return len(self._parent)

    def _remember(self, key: str, parent: str, digest: str) -> None:
        self._parent[key] = parent
        self._digest[key] = digest
        self._children.setdefault(parent, set()).add(key)

    def _load(self) -> None:
        if not self.path.exists():
            return
        for line in self.path.read_text().splitlines():
            try:
                key, parent, digest = json.loads(line)
            except (ValueError, TypeError):
                continue  # a line cut short by a crash: that node is only not forgettable
            if isinstance(key, str) and isinstance(parent, str) and isinstance(digest, str):
                self._remember(key, parent, digest)
