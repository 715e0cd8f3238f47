"""BM25 keyword search over notes, with bm25s.

bm25s builds a static index. Notes added after a build are kept in a small fresh segment and
scored directly, with the built index's statistics, until they reach a tenth of it; then the
next search rebuilds everything. Removals are applied through a mask and never force a rebuild.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence

import bm25s
import numpy as np

from memcube.keywords import content_tokens

FRESH_SHARE = 0.1  # rebuild once the fresh segment holds this share of the built index
FRESH_LIMIT = 1000  # ... or this many notes, whichever is fewer


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
        self._avg_length = 1.0
        self._fresh: dict[str, int] = {}  # added since the build: their length in terms
        self._fresh_postings: dict[str, dict[str, int]] = {}  # term -> {fresh id: count}
        self._last_query: tuple[str, np.ndarray | None, dict[str, float]] | None = None
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
                self._forget(id_)
                self._terms[id_] = analyse(text)
                self._remember_fresh(id_)
            self._last_query = None
            if self._bm25 is None or \
                    len(self._fresh) > min(FRESH_LIMIT, FRESH_SHARE * len(self._row_ids)):
                self._dirty = True

    def remove(self, ids: Iterable[str]) -> None:
        """Forget these ids; unknown ids are ignored."""
        with self._lock:
            for id_ in ids:
                self._forget(id_)
                self._terms.pop(id_, None)
            self._last_query = None

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k best-matching ids by BM25 score, best first; only positive scores."""
        with self._lock:
            if self._dirty:
                self._rebuild()
            if k <= 0:
                return []
            built, fresh = self._all_scores(query)
            found = [] if built is None else self._top(built, k)
            return sorted(found + list(fresh.items()), key=lambda pair: -pair[1])[:k]

    def scores(self, query: str, ids: Iterable[str]) -> dict[str, float]:
        """BM25 score of the query against each of `ids` (0 for unknown ids or no match)."""
        with self._lock:
            if self._dirty:
                self._rebuild()
            built, fresh = self._all_scores(query)
            return {i: self._score_of(i, built, fresh) for i in ids}

    def _score_of(self, id_: str, built: np.ndarray | None, fresh: dict[str, float]) -> float:
        if id_ in fresh:
            return fresh[id_]
        row = self._row_of.get(id_)
        return float(built[row]) if built is not None and row is not None else 0.0

    def _remember_fresh(self, id_: str) -> None:
        counts = Counter(self._terms[id_])
        self._fresh[id_] = counts.total()
        for term, count in counts.items():
            self._fresh_postings.setdefault(term, {})[id_] = count

    def _forget(self, id_: str) -> None:
        """Take a note out of the fresh segment and mask its built row, if it has them."""
        if self._fresh.pop(id_, None) is not None:
            for term in set(self._terms[id_]):
                self._fresh_postings[term].pop(id_, None)
        row = self._row_of.get(id_)
        if row is not None and not self._dirty:
            self._live[row] = False

    def _all_scores(self, query: str) -> tuple[np.ndarray | None, dict[str, float]]:
        """Scores of every built row and of the fresh notes that match, for the last query."""
        if self._last_query is not None and self._last_query[0] == query:
            return self._last_query[1], self._last_query[2]
        terms = analyse(query)
        built = None
        if self._bm25 is not None:
            known = [t for t in terms if t in self._bm25.vocab_dict]
            built = self._bm25.get_scores(known) * self._live if known else None
        fresh = self._fresh_scores(terms) if self._fresh else {}
        self._last_query = (query, built, fresh)
        return built, fresh

    def _fresh_scores(self, terms: list[str]) -> dict[str, float]:
        """BM25 of the fresh notes as bm25s scores them (Lucene), with the built average length."""
        total = len(self._row_ids) + len(self._fresh)
        scores: dict[str, float] = {}
        for term in set(terms):
            postings = self._fresh_postings.get(term)
            if not postings:
                continue
            df = len(postings) + self._built_document_frequency(term)
            weight = math.log(1 + (total - df + 0.5) / (df + 0.5))
            for id_, count in postings.items():
                length_norm = self.k1 * (1 - self.b + self.b * self._fresh[id_] / self._avg_length)
                scores[id_] = scores.get(id_, 0.0) + weight * count / (count + length_norm)
        return scores

    def _built_document_frequency(self, term: str) -> int:
        if self._bm25 is None or term not in self._bm25.vocab_dict:
            return 0
        column = self._bm25.vocab_dict[term]
        indptr = self._bm25.scores["indptr"]
        return int(indptr[column + 1] - indptr[column])

    def _rebuild(self) -> None:
        self._row_ids = list(self._terms)
        self._row_of = {id_: row for row, id_ in enumerate(self._row_ids)}
        self._last_query = None
        self._live = np.ones(len(self._row_ids), dtype=bool)
        self._fresh.clear()
        self._fresh_postings.clear()
        self._dirty = False
        if not self._row_ids:
            self._bm25 = None
            return
        documents = [self._terms[i] for i in self._row_ids]
        self._avg_length = max(1.0, sum(map(len, documents)) / len(documents))
        self._bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        self._bm25.index(documents, show_progress=False)

    def _top(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k best positive scores, best first; equal scores in row order, so the notes
        kept at the cut are always the same. Only the matching rows are ranked."""
        rows = np.flatnonzero(scores > 0)
        k = min(k, len(rows))
        if k == 0:
            return []
        values = scores[rows]
        if k < len(values):
            cut = np.partition(values, len(values) - k)[len(values) - k]  # k-th best
            above = np.flatnonzero(values > cut)
            at_cut = np.flatnonzero(values == cut)[: k - len(above)]
            kept = np.concatenate([above, at_cut])
            rows, values = rows[kept], values[kept]
        order = np.lexsort((rows, -values))
        return [(self._row_ids[i], float(scores[i])) for i in rows[order].tolist()]
