"""Search over cubes already opened for the caller: the query embedded once, hits merged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from memcube.search import SearchHit, check_k, check_query

if TYPE_CHECKING:  # torch and sentence-transformers: loaded on first use
    from memcube.cube import MemCube
    from memos.embedder import Embedder


class CubeSearch:
    """Searches cubes whose access was checked when they were opened; hits merged by score."""

    def __init__(self, embedder: Callable[[], Embedder]) -> None:
        self._embedder = embedder  # called only when there is something to embed

    def __call__(self, query: str, cubes: Sequence[MemCube], k: int = 10,
                 **filters) -> list[SearchHit]:
        """The ``k`` best hits of ``query`` over ``cubes``, current ones first."""
        check_k(k)
        check_query(query)
        vector = self._embedder().embed_one(query) if cubes and query and query.strip() \
            else None
        hits = []
        for cube in cubes:  # the query is embedded once, not once per cube
            hits.extend(cube.search(query, k, vector=vector, **filters))
        return sorted(hits, key=lambda hit: (hit.item.superseded_by is not None, -hit.score))[:k]
