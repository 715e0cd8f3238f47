"""BM25 keyword search over notes, with bm25s.

bm25s builds a static index, so adds only mark it dirty and the next search rebuilds it;
removals are applied at search time through a mask and never force a rebuild.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import bm25s
import numpy as np

from memcube.keywords import content_tokens


def stem(token: str) -> str:
    """A deliberately light suffix stripper so 'moved', 'moves' and 'moving' meet."""
    if len(token) > 4 and token.endswith("ies"):
        token = token[:-3] + "y"
    elif len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        token = token[:-1]
    for suffix, shortest in (("ing", 6), ("ed", 5)):
        if len(token) >= shortest and token.endswith(suffix):
            token = token[: -len(suffix)]
            break
    if len(token) > 3 and token.endswith("e"):
        token = token[:-1]
    return token


def analyse(text: str) -> list[str]:
    """The terms BM25 sees: lowercase, stopword-free, lightly stemmed."""
    return [stem(token) for token in content_tokens(text)]


class LexicalIndex:
    """BM25 over string-keyed texts; add/remove any time, rebuilt lazily on search."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75):
        self.k1 = k1
        self.b = b
        self._terms: dict[str, list[str]] = {}
        self._lock = threading.RLock()
        self._bm25: bm25s.BM25 | None = None
        self._row_ids: list[str] = []
        self._row_of: dict[str, int] = {}
        self._last_query: tuple[str, np.ndarray | None] | None = None
        self._live = np.zeros(0, dtype=bool)
        self._dirty = False

    def __len__(self) -> int:
        return len(self._terms)

    def __contains__(self, id_: object) -> bool:
        return id_ in self._terms

    def add(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        """Index texts under ids; an id already present is replaced."""
        if len(ids) != len(texts):
            raise ValueError("ids and texts differ in length")
        with self._lock:
            for id_, text in zip(ids, texts, strict=True):
                self._terms[id_] = analyse(text)
            self._dirty = True

    def remove(self, ids: Iterable[str]) -> None:
        """Forget these ids; unknown ids are ignored."""
        with self._lock:
            for id_ in ids:
                self._terms.pop(id_, None)
            if self._bm25 is not None and not self._dirty:
                self._live = np.array([i in self._terms for i in self._row_ids], dtype=bool)
                self._last_query = None

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k best-matching ids by BM25 score, best first; only positive scores."""
        with self._lock:
            if self._dirty:
                self._rebuild()
            if self._bm25 is None or k <= 0:
                return []
            scores = self._all_scores(query)
            return [] if scores is None else self._top(scores, k)

    def scores(self, query: str, ids: Iterable[str]) -> dict[str, float]:
        """BM25 score of the query against each of `ids` (0 for unknown ids or no match)."""
        with self._lock:
            if self._dirty:
                self._rebuild()
            ids = list(ids)
            scores = self._all_scores(query) if self._bm25 is not None else None
            if scores is None:
                return dict.fromkeys(ids, 0.0)
            row_of = self._row_of
            return {i: float(scores[row_of[i]]) if i in row_of else 0.0 for i in ids}

    def _all_scores(self, query: str) -> np.ndarray | None:
        """Scores of every row, remembered for the last query (hybrid search asks twice)."""
        if self._last_query is not None and self._last_query[0] == query:
            return self._last_query[1]
        terms = [t for t in analyse(query) if t in self._bm25.vocab_dict]
        scores = self._bm25.get_scores(terms) * self._live if terms else None
        self._last_query = (query, scores)
        return scores

    def _rebuild(self) -> None:
        self._row_ids = list(self._terms)
        self._row_of = {id_: row for row, id_ in enumerate(self._row_ids)}
        self._last_query = None
        self._live = np.ones(len(self._row_ids), dtype=bool)
        self._dirty = False
        if not self._row_ids:
            self._bm25 = None
            return
        self._bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        self._bm25.index([self._terms[i] for i in self._row_ids], show_progress=False)

    def _top(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        k = min(k, int(np.count_nonzero(scores > 0)))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._row_ids[i], float(scores[i])) for i in top]
