"""Similarity of notes reached over a bridge to what the query asks beyond the bridge's seed.

The seed already answers part of the query ("the person who adopted a beagle"); removing
the seed's direction from the query vector leaves the rest ("what city ... live in"), which
is what the note at the other end of the bridge should match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def residual_similarity(query_vector: np.ndarray, matrix: np.ndarray, origins: Sequence[str],
                        seed_vector: Callable[[str], np.ndarray | None],
                        mix: float) -> np.ndarray:
    """Each row of `matrix` against the query with its origin's direction partly removed.

    `origins[i]` is the seed row i was reached from; `seed_vector` gives a seed's own
    vector, or None for a seed without one (an entity), whose notes' centroid stands in.
    `mix` is how much of the residual replaces the query (0: plain similarity).
    """
    query = np.asarray(query_vector, dtype=np.float32)
    targets = {}
    for seed in dict.fromkeys(origins):
        direction = seed_vector(seed)
        if direction is None:
            direction = matrix[[i for i, o in enumerate(origins) if o == seed]].mean(axis=0)
        targets[seed] = (1 - mix) * query + mix * _reject(query, direction)
    return dot_rows(matrix, np.stack([targets[o] for o in origins]))


def dot_rows(matrix: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Row-wise dot products with one vector or with a same-shaped matrix.

    einsum, not `@`: a multi-threaded BLAS matrix-vector product spends milliseconds waking
    its threads when cores are shared, for microseconds of work.
    """
    if other.ndim == 1:
        return np.einsum("ij,j->i", matrix, other)
    return np.einsum("ij,ij->i", matrix, other)


def _reject(vector: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """`vector` without its component along `direction`, renormalised."""
    unit = direction / max(float(np.linalg.norm(direction)), 1e-6)
    rest = vector - float(vector @ unit) * unit
    return rest / max(float(np.linalg.norm(rest)), 1e-6)
