"""Weighted Lloyd iterations and restarts (the Python layer over the kernels).

Each restart is announced on the ``kmseg`` logger at INFO level (the command
line shows it in its progress line when a fit takes long).
"""

import logging

import numpy as np

from ._kernels import lloyd_run, lloyd_step, n_chunks, weighted_summary
from ._seeding import kmeans_plusplus

_log = logging.getLogger(__name__)


def summary(X, weights):
    """Bounding box, weighted mean and weighted variance of the samples of
    positive weight: four (d,) float64 arrays ``lo, hi, mean, var``."""
    out = [np.empty(X.shape[1]) for _ in range(4)]
    weighted_summary(X, weights, *out)
    return tuple(out)


# Sums of products use np.einsum, not BLAS (``@``): BLAS splits them over its
# threads, and the rounding then depends on the thread count, so the same fit
# would differ in the last bits between a process and a worker limited to one
# BLAS thread (Dask workers are).


def assign(X, weights, centers):
    """Nearest-centre labels, squared distances and the weighted inertia."""
    n, d = X.shape
    k = centers.shape[0]
    labels = np.empty(n, dtype=np.int32)
    dists = np.empty(n, dtype=np.float64)
    nc = n_chunks(n)
    lloyd_step(X, weights, centers, labels, dists, np.empty((nc, k, d)), np.empty((nc, k)))
    return labels, dists, float(np.einsum("i,i->", dists, weights))


def lloyd(X, weights, centers, max_iter, tol_abs):
    """Run weighted Lloyd iterations from ``centers`` until convergence.

    Assignments use Hamerly's bounds, which skip the distance computations that
    cannot change a label, and cluster sums follow the samples that change
    cluster, so the result is that of plain Lloyd iterations at a fraction of
    the cost. Stops when no label changes (strict convergence) or when the total
    squared centre shift is at most ``tol_abs``; then the labels are brought up
    to date with the final centres. Empty clusters take the samples farthest
    from their centres, so no centre is ever NaN. The whole run is one kernel
    call (:func:`kmseg.cluster._kernels.lloyd_run`).

    Returns
    -------
    centers : (k, d) float64, labels : (n,) int32, inertia : float, n_iter : int
    """
    centers = np.array(centers, dtype=np.float64, order="C")
    labels = np.empty(X.shape[0], dtype=np.int32)
    inertia, n_iter = lloyd_run(X, weights, centers, labels, max_iter, tol_abs)
    return centers, labels, float(inertia), int(n_iter)


def canonical_order(X):
    """An order of the rows of ``X`` that does not depend on their input order.

    Rows are sorted by a fixed projection with incommensurate coefficients, so
    seeding draws the same samples however the data were shuffled, and a weighted
    sample is drawn exactly as its repeated copies would be.
    """
    proj = np.sqrt(np.arange(2, X.shape[1] + 2, dtype=np.float64)) - 1.0 / 3.0
    return np.argsort(np.einsum("ij,j->i", X, proj), kind="stable")


def initial_centers(X, weights, n_clusters, init, rng, canonical=None):
    """Initial centres from ``init``: 'k-means++', 'random' or an array.

    ``canonical``: ``(X, weights)`` already in :func:`canonical_order`, to reuse
    across restarts.
    """
    if isinstance(init, str) and init == "k-means++":
        if canonical is None:
            order = canonical_order(X)
            canonical = (np.ascontiguousarray(X[order]), weights[order])
        return kmeans_plusplus(*canonical, n_clusters, rng)[0]
    if isinstance(init, str) and init == "random":
        p = weights / weights.sum()
        idx = rng.choice(X.shape[0], size=n_clusters, replace=False, p=p) if (
            np.count_nonzero(p) >= n_clusters
        ) else rng.choice(X.shape[0], size=n_clusters, replace=True, p=p)
        return X[idx].copy()
    return np.array(init, dtype=np.float64, order="C")


def seeded_runs(X, weights, n_clusters, init, n_init, max_iter, tol_abs, rng):
    """``n_init`` seeded Lloyd runs, one at a time (what :func:`lloyd` returns for each)."""
    canonical = None
    if isinstance(init, str) and init == "k-means++":
        order = canonical_order(X)
        canonical = (np.ascontiguousarray(X[order]), weights[order])
    for i in range(n_init):
        if _log.isEnabledFor(logging.INFO):  # not formatted when nobody listens (every restart of a sweep)
            _log.info("k-means restart %d of %d: k=%d, %s samples", i + 1, n_init, n_clusters, f"{len(X):,}")
        centers = initial_centers(X, weights, n_clusters, init, rng, canonical)
        yield lloyd(X, weights, centers, max_iter, tol_abs)


def lowest(runs):
    """The run of lowest inertia (the first on ties) of an iterable of :func:`lloyd` results."""
    best = None
    for run in runs:
        if best is None or run[2] < best[2]:
            best = run
    return best


def best_of(X, weights, n_clusters, init, n_init, max_iter, tol_abs, rng):
    """``n_init`` seeded Lloyd runs; the one of lowest inertia (first on ties)."""
    return lowest(seeded_runs(X, weights, n_clusters, init, n_init, max_iter, tol_abs, rng))
