"""Greedy weighted k-means++ seeding.

Every random draw is an inverse-CDF lookup of one uniform number in the
cumulative weights, so a sample of integer weight ``m`` is drawn exactly as
``m`` repeated copies of it would be: seeding a colour histogram gives the same
centres as seeding all of its pixels from the same random state.
"""

import numpy as np

from ._kernels import sq_distances


def _draw(cumulative, uniforms):
    """Indices whose cumulative-weight interval holds ``uniforms * total``."""
    total = cumulative[-1]
    idx = np.searchsorted(cumulative, uniforms * total, side="right")
    return np.minimum(idx, len(cumulative) - 1)


def kmeans_plusplus(X, weights, n_clusters, rng, n_local_trials=None):
    """Choose ``n_clusters`` initial centres by greedy weighted k-means++.

    Parameters
    ----------
    X : (n, d) float64 C-contiguous ndarray
    weights : (n,) float64 ndarray, non-negative with a positive sum.
    n_clusters : int
    rng : numpy.random.Generator
    n_local_trials : int, optional
        Candidates drawn per centre, the best kept; ``2 + int(log(k))`` by default.

    Returns
    -------
    centers : (n_clusters, d) float64 ndarray
    indices : (n_clusters,) int64 ndarray, the rows of ``X`` chosen.
    """
    n, d = X.shape
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, d), dtype=np.float64)
    indices = np.empty(n_clusters, dtype=np.int64)

    first = _draw(np.cumsum(weights), rng.uniform(size=1))[0]
    centers[0] = X[first]
    indices[0] = first
    closest = np.empty((1, n))
    sq_distances(X[first : first + 1], X, closest)
    closest = closest[0]
    potential = np.einsum("i,i->", closest, weights)  # not BLAS: same bits for any thread count

    cand_dist = np.empty((n_local_trials, n))
    for c in range(1, n_clusters):
        uniforms = rng.uniform(size=n_local_trials)
        if potential > 0:
            candidates = _draw(np.cumsum(weights * closest), uniforms)
        else:  # every sample sits on a centre: fewer distinct points than k
            candidates = _draw(np.cumsum(weights), uniforms)
        sq_distances(np.ascontiguousarray(X[candidates]), X, cand_dist)
        np.minimum(cand_dist, closest, out=cand_dist)
        cand_potential = np.einsum("ij,j->i", cand_dist, weights)
        best = int(np.argmin(cand_potential))
        potential = cand_potential[best]
        closest = cand_dist[best].copy()
        centers[c] = X[candidates[best]]
        indices[c] = candidates[best]
    return centers, indices
