"""Numba kernels for weighted Lloyd k-means.

Kernels take C-contiguous float64 arrays and preallocated outputs, do one step,
and hold no validation, defaults or randomness: the Python layer in
:mod:`kmseg.cluster._kmeans` owns iterations, convergence and restarts.

Parallel loops run over fixed-size chunks of samples, each chunk writing its own
partial sums, which the caller adds in chunk order: results do not depend on the
number of threads.
"""

import numpy as np
from numba import njit, prange

#: Samples per chunk of the parallel loops (fixed, so sums never depend on threads).
CHUNK = 2048


def n_chunks(n_samples):
    """Number of chunks the kernels split ``n_samples`` into."""
    return max(1, (n_samples + CHUNK - 1) // CHUNK)


@njit(inline="always")
def _sqdist(X, i, C, j):
    """Squared distance between sample ``X[i]`` and centre ``C[j]``."""
    d = X.shape[1]
    if d == 3:
        t0 = X[i, 0] - C[j, 0]
        t1 = X[i, 1] - C[j, 1]
        t2 = X[i, 2] - C[j, 2]
        return t0 * t0 + t1 * t1 + t2 * t2
    dd = 0.0
    for f in range(d):
        t = X[i, f] - C[j, f]
        dd += t * t
    return dd


@njit(parallel=True, cache=True, nogil=True)
def lloyd_step(X, weights, centers, labels, dists, sums, wsums):
    """Assign each sample to its nearest centre and accumulate weighted sums.

    Parameters
    ----------
    X : (n, d) float64
    weights : (n,) float64
    centers : (k, d) float64
    labels : (n,) int32, output: index of the nearest centre (first on ties).
    dists : (n,) float64, output: squared distance to that centre.
    sums : (n_chunks, k, d) float64, output: per-chunk weighted sums of samples.
    wsums : (n_chunks, k) float64, output: per-chunk sums of weights.
    """
    n, d = X.shape
    k = centers.shape[0]
    nc = sums.shape[0]
    for c in prange(nc):
        for j in range(k):
            wsums[c, j] = 0.0
            for f in range(d):
                sums[c, j, f] = 0.0
        start = c * CHUNK
        stop = min(n, start + CHUNK)
        for i in range(start, stop):
            best = np.inf
            best_j = 0
            for j in range(k):
                dd = 0.0
                for f in range(d):
                    t = X[i, f] - centers[j, f]
                    dd += t * t
                if dd < best:
                    best = dd
                    best_j = j
            labels[i] = best_j
            dists[i] = best
            wi = weights[i]
            wsums[c, best_j] += wi
            for f in range(d):
                sums[c, best_j, f] += wi * X[i, f]


@njit(parallel=True, cache=True, nogil=True)
def lloyd_step3(X, weights, centers, labels, dists, sums, wsums):
    """:func:`lloyd_step` unrolled for three features (colour data)."""
    n = X.shape[0]
    k = centers.shape[0]
    nc = sums.shape[0]
    for c in prange(nc):
        for j in range(k):
            wsums[c, j] = 0.0
            sums[c, j, 0] = 0.0
            sums[c, j, 1] = 0.0
            sums[c, j, 2] = 0.0
        start = c * CHUNK
        stop = min(n, start + CHUNK)
        for i in range(start, stop):
            x0 = X[i, 0]
            x1 = X[i, 1]
            x2 = X[i, 2]
            best = np.inf
            best_j = 0
            for j in range(k):
                t0 = x0 - centers[j, 0]
                t1 = x1 - centers[j, 1]
                t2 = x2 - centers[j, 2]
                dd = t0 * t0 + t1 * t1 + t2 * t2
                if dd < best:
                    best = dd
                    best_j = j
            labels[i] = best_j
            dists[i] = best
            wi = weights[i]
            wsums[c, best_j] += wi
            sums[c, best_j, 0] += wi * x0
            sums[c, best_j, 1] += wi * x1
            sums[c, best_j, 2] += wi * x2


@njit(parallel=True, cache=True, nogil=True)
def sq_distances(A, X, out):
    """Squared Euclidean distances, ``out[a, i] = ||A[a] - X[i]||^2``.

    Parameters
    ----------
    A : (m, d) float64
    X : (n, d) float64
    out : (m, n) float64, output.
    """
    m, d = A.shape
    n = X.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        start = c * CHUNK
        stop = min(n, start + CHUNK)
        for a in range(m):
            for i in range(start, stop):
                dd = 0.0
                for f in range(d):
                    t = X[i, f] - A[a, f]
                    dd += t * t
                out[a, i] = dd


@njit(cache=True, nogil=True)
def grid_pool(X, weights, lo, scale, bins, sums, totals):
    """Accumulate samples into the cells of a regular grid.

    Sample ``i`` falls in the cell of coordinates
    ``min(int((X[i, f] - lo[f]) * scale[f]), bins - 1)`` (clipped at 0), cells
    numbered in C order.

    Parameters
    ----------
    X : (n, d) float64
    weights : (n,) float64
    lo, scale : (d,) float64
    bins : int
    sums : (bins**d, d) float64, output, zeroed by the caller: weighted sums.
    totals : (bins**d,) float64, output, zeroed by the caller: sums of weights.
    """
    n, d = X.shape
    for i in range(n):
        wi = weights[i]
        if wi == 0.0:
            continue
        index = 0
        for f in range(d):
            c = int((X[i, f] - lo[f]) * scale[f])
            if c < 0:
                c = 0
            elif c >= bins:
                c = bins - 1
            index = index * bins + c
        totals[index] += wi
        for f in range(d):
            sums[index, f] += wi * X[i, f]


@njit(parallel=True, cache=True, nogil=True)
def hamerly_step(
    X, weights, centers, half_sep, drift, max_drift, labels, upper, lower, dsums, dwsums
):
    """One Lloyd assignment with Hamerly's bounds; moves go into weighted deltas.

    Gives the labels of :func:`lloyd_step` (up to exact ties) while computing
    distances to all centres only for samples whose bounds cannot rule out a
    change of cluster. Bounds are stored relative to the centres' accumulated
    movement, so a sample whose bounds hold is read and never written.

    Parameters
    ----------
    X : (n, d) float64
    weights : (n,) float64
    centers : (k, d) float64
    half_sep : (k,) float64
        Half the distance from each centre to its nearest other centre.
    drift : (k,) float64
        Total distance each centre has moved so far (non-decreasing over calls).
    max_drift : float
        Sum over past moves of the largest centre move (non-decreasing).
    labels : (n,) int32, in/out: cluster of each sample.
    upper : (n,) float64, in/out: ``upper[i] + drift[labels[i]]`` bounds the
        distance to the sample's centre from above (``inf`` forces a search).
    lower : (n,) float64, in/out: ``lower[i] - max_drift`` bounds the distance
        to every other centre from below.
    dsums : (n_chunks, k, d) float64, output: per-chunk change of the weighted
        sums of the clusters caused by samples changing cluster.
    dwsums : (n_chunks, k) float64, output: the same for the sums of weights.

    Returns
    -------
    n_changed : int
        Samples whose label changed.
    """
    n, d = X.shape
    k = centers.shape[0]
    nc = dsums.shape[0]
    changed = np.zeros(nc, dtype=np.int64)
    for c in prange(nc):
        for j in range(k):
            dwsums[c, j] = 0.0
            for f in range(d):
                dsums[c, j, f] = 0.0
        start = c * CHUNK
        stop = min(n, start + CHUNK)
        for i in range(start, stop):
            a = labels[i]
            u = upper[i] + drift[a]
            bound = max(half_sep[a], lower[i] - max_drift)
            if u <= bound:
                continue
            u = np.sqrt(_sqdist(X, i, centers, a))
            if u > bound:
                d1 = np.inf
                d2 = np.inf
                j1 = 0
                for j in range(k):
                    dd = _sqdist(X, i, centers, j)
                    if dd < d1:
                        d2 = d1
                        d1 = dd
                        j1 = j
                    elif dd < d2:
                        d2 = dd
                if j1 != a:
                    changed[c] += 1
                    wi = weights[i]
                    dwsums[c, a] -= wi
                    dwsums[c, j1] += wi
                    for f in range(d):
                        dsums[c, a, f] -= wi * X[i, f]
                        dsums[c, j1, f] += wi * X[i, f]
                    a = j1
                    labels[i] = a
                u = np.sqrt(d1)
                lower[i] = np.sqrt(d2) + max_drift
            upper[i] = u - drift[a]
    return changed.sum()


@njit(parallel=True, cache=True, nogil=True)
def assigned_sq_dist(X, centers, labels, out):
    """``out[i] = ||X[i] - centers[labels[i]]||^2``."""
    n, d = X.shape
    for i in prange(n):
        out[i] = _sqdist(X, i, centers, labels[i])


@njit(cache=True, nogil=True)
def weighted_summary(X, weights, lo, hi, mean, var):
    """Bounding box, weighted mean and weighted variance of the samples of
    positive weight, per feature (outputs ``lo, hi, mean, var``: (d,) float64)."""
    n, d = X.shape
    total = 0.0
    for f in range(d):
        lo[f] = np.inf
        hi[f] = -np.inf
        mean[f] = 0.0
        var[f] = 0.0
    for i in range(n):
        wi = weights[i]
        if wi > 0.0:
            total += wi
            for f in range(d):
                x = X[i, f]
                mean[f] += wi * x
                if x < lo[f]:
                    lo[f] = x
                if x > hi[f]:
                    hi[f] = x
    for f in range(d):
        mean[f] /= total
    for i in range(n):
        wi = weights[i]
        if wi > 0.0:
            for f in range(d):
                t = X[i, f] - mean[f]
                var[f] += wi * t * t
    for f in range(d):
        var[f] /= total
