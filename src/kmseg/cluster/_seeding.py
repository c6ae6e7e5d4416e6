"""Greedy weighted k-means++ seeding.

Every random draw is an inverse-CDF lookup of one uniform number in the
cumulative weights, so a sample of integer weight ``m`` is drawn exactly as
``m`` repeated copies of it would be: seeding a colour histogram gives the same
centres as seeding all of its pixels from the same random state.
"""

import numpy as np

from ._kernels import kmeans_plusplus as kmeans_plusplus_kernel


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
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    # one uniform number for the first centre, then n_local_trials per further
    # centre: the same numbers, in the same order, as drawing them one centre at a time
    first = float(rng.uniform(size=1)[0])
    trials = rng.uniform(size=(n_clusters - 1, n_local_trials))
    centers = np.empty((n_clusters, X.shape[1]), dtype=np.float64)
    indices = np.empty(n_clusters, dtype=np.int64)
    kmeans_plusplus_kernel(X, weights, first, trials, centers, indices)
    return centers, indices
