"""Numba kernels for weighted Lloyd k-means.

Kernels take C-contiguous float64 arrays (and preallocated outputs where their
size is known), and hold no validation, defaults or randomness: the Python
layer in :mod:`kmseg.cluster._lloyd` owns restarts and random draws. A whole
Lloyd run (:func:`lloyd_run`) and the k-means++ seeding are one kernel call
each, so they run without the interpreter (and with the GIL released).

Parallel loops run over fixed-size chunks of samples, each chunk writing its own
partial sums, which are added in chunk order: results do not depend on the
number of threads.
"""

import numpy as np
from numba import njit, prange

#: Samples per chunk of the parallel loops (fixed, so sums never depend on threads).
CHUNK = 2048


def concurrent_launches():
    """Whether numba's threading layer takes parallel kernels launched from several
    threads at once: 'omp' and 'tbb' do, 'workqueue' aborts the process.

    The layer is chosen at the first launch: one tiny kernel runs first if none has.
    """
    import numba

    try:
        numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        assigned_sq_dist(np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1, np.int32), np.empty(1))
    return numba.threading_layer() in ("omp", "tbb")


@njit(cache=True, nogil=True)
def n_chunks(n_samples):
    """Number of chunks the kernels split ``n_samples`` into (at least one)."""
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


@njit(inline="always")
def _clear_chunk(c, sums, wsums):
    """Zero chunk ``c``'s rows of per-chunk sums ``(n_chunks, k, d)`` and ``(n_chunks, k)``."""
    for j in range(sums.shape[1]):
        wsums[c, j] = 0.0
        for f in range(sums.shape[2]):
            sums[c, j, f] = 0.0


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
        _clear_chunk(c, sums, wsums)
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
        _clear_chunk(c, sums, wsums)
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
    for c in prange(n_chunks(n)):
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
def grid_pool(X, weights, lo, scale, bins):
    """Weighted means and total weights of the samples in each cell of a regular grid.

    Sample ``i`` falls in the cell of coordinates
    ``min(int((X[i, f] - lo[f]) * scale[f]), bins - 1)`` (clipped at 0), cells
    numbered in C order; samples of zero weight are left out. Only the
    occupied cells get storage (the grid itself is an index table), and each
    cell's sums are added in sample order.

    Parameters
    ----------
    X : (n, d) float64
    weights : (n,) float64
    lo, scale : (d,) float64
    bins : int

    Returns
    -------
    means : (m, d) float64
        Weighted mean of the samples of every non-empty cell, in cell order.
    totals : (m,) float64
        Their total weight.
    """
    n, d = X.shape
    slot = np.full(bins**d, -1, dtype=np.int64)
    cell = np.empty(n, dtype=np.int64)
    for i in range(n):
        if weights[i] == 0.0:
            cell[i] = -1
            continue
        index = 0
        for f in range(d):
            c = int((X[i, f] - lo[f]) * scale[f])
            if c < 0:
                c = 0
            elif c >= bins:
                c = bins - 1
            index = index * bins + c
        cell[i] = index
        slot[index] = 0
    m = 0
    for index in range(slot.shape[0]):
        if slot[index] == 0:
            slot[index] = m
            m += 1
    sums = np.zeros((m, d))
    totals = np.zeros(m)
    for i in range(n):
        if cell[i] < 0:
            continue
        s = slot[cell[i]]
        wi = weights[i]
        totals[s] += wi
        for f in range(d):
            sums[s, f] += wi * X[i, f]
    for s in range(m):
        for f in range(d):
            sums[s, f] /= totals[s]
    return sums, totals


@njit(cache=True, nogil=True)
def half_separation(centers, out):
    """``out[j]``: half the distance from centre ``j`` to its nearest other centre
    (``inf`` for a single centre)."""
    k = centers.shape[0]
    for a in range(k):
        best = np.inf
        for b in range(k):
            if b != a:
                g = np.sqrt(_sqdist(centers, a, centers, b))
                if g < best:
                    best = g
        out[a] = 0.5 * best


@njit(cache=True, nogil=True)
def hamerly_chunk(
    c, X, weights, centers, half_sep, drift, max_drift, labels, upper, lower, dsums, dwsums
):
    """One Lloyd assignment with Hamerly's bounds for chunk ``c`` of the samples.

    Gives the labels of :func:`lloyd_step` (up to exact ties) while computing
    distances to all centres only for samples whose bounds cannot rule out a
    change of cluster. Bounds are stored relative to the centres' accumulated
    movement, so a sample whose bounds hold is read and never written.

    Parameters
    ----------
    c : int
        The chunk: samples ``c * CHUNK`` to ``min(n, (c + 1) * CHUNK)``.
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
    dsums : (n_chunks, k, d) float64, output (row ``c``): change of the weighted
        sums of the clusters caused by the chunk's samples changing cluster.
    dwsums : (n_chunks, k) float64, output (row ``c``): the same for the sums of weights.

    Returns
    -------
    n_changed : int
        Samples of the chunk whose label changed.
    """
    n, d = X.shape
    k = centers.shape[0]
    changed = 0
    _clear_chunk(c, dsums, dwsums)
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
                changed += 1
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
    return changed


@njit(cache=True, nogil=True)
def refill_empty(X, weights, centers, labels, sums, wsums):
    """Recompute the cluster sums from the labels and move the samples farthest
    from their centres into the empty clusters.

    The clusters empty before any move each take one sample, farthest first
    (first in index order on ties), as long as such a sample is away from its
    centre; samples of zero weight are never moved.

    Parameters
    ----------
    X : (n, d) float64
    weights : (n,) float64
    centers : (k, d) float64
        The centres the labels were assigned to.
    labels : (n,) int32, in/out.
    sums : (k, d) float64, output: weighted sums of the clusters.
    wsums : (k,) float64, output: their sums of weights.

    Returns
    -------
    n_moved : int
    """
    n, d = X.shape
    k = centers.shape[0]
    score = np.empty(n)
    for j in range(k):
        wsums[j] = 0.0
        for f in range(d):
            sums[j, f] = 0.0
    for i in range(n):
        a = labels[i]
        wi = weights[i]
        wsums[a] += wi
        for f in range(d):
            sums[a, f] += wi * X[i, f]
        score[i] = _sqdist(X, i, centers, a) if wi > 0.0 else -1.0
    empty = np.empty(k, dtype=np.int64)
    n_empty = 0
    for j in range(k):
        if wsums[j] <= 0.0:
            empty[n_empty] = j
            n_empty += 1
    far = np.argsort(-score, kind="mergesort")
    moved = 0
    for r in range(min(n_empty, n)):
        i = far[r]
        if score[i] <= 0.0:
            break
        j = empty[r]
        a = labels[i]
        wi = weights[i]
        wsums[a] -= wi
        wsums[j] = wi
        for f in range(d):
            sums[a, f] -= wi * X[i, f]
            sums[j, f] = wi * X[i, f]
        labels[i] = j
        moved += 1
    return moved


@njit(parallel=True, cache=True, nogil=True)
def lloyd_run(X, weights, centers, labels, max_iter, tol_abs):
    """Weighted Lloyd iterations from ``centers`` until convergence, with
    Hamerly's bounds (:func:`hamerly_chunk`) and incremental cluster sums.

    Every sample starts in cluster 0; each iteration assigns (in parallel over
    chunks, deltas added in chunk order, so the result does not depend on the
    number of threads), refills empty clusters (:func:`refill_empty`, which
    also resets the bounds) and moves each centre to its cluster's weighted
    mean. Stops when no label changes after the first iteration (strict
    convergence), when the total squared centre shift is at most ``tol_abs``,
    or after ``max_iter`` iterations; then, unless strictly converged, the
    labels are brought up to date with the final centres.

    Parameters
    ----------
    X : (n, d) float64
    weights : (n,) float64
    centers : (k, d) float64, in/out: initial centres, then final ones.
    labels : (n,) int32, output.
    max_iter : int
    tol_abs : float

    Returns
    -------
    inertia : float
        Weighted sum of squared distances to the final centres.
    n_iter : int
    """
    n, d = X.shape
    k = centers.shape[0]
    nc = n_chunks(n)
    upper = np.full(n, np.inf)
    lower = np.zeros(n)
    drift = np.zeros(k)
    half = np.empty(k)
    new = np.empty((k, d))
    sums = np.zeros((k, d))
    wsums = np.zeros(k)
    dsums = np.empty((nc, k, d))
    dwsums = np.empty((nc, k))
    changed = np.zeros(nc, dtype=np.int64)
    for i in range(n):
        labels[i] = 0
        wsums[0] += weights[i]
        for f in range(d):
            sums[0, f] += weights[i] * X[i, f]
    max_drift = 0.0
    strict = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        half_separation(centers, half)
        for c in prange(nc):
            changed[c] = hamerly_chunk(c, X, weights, centers, half, drift, max_drift, labels,
                                       upper, lower, dsums, dwsums)
        n_changed = 0
        for c in range(nc):
            n_changed += changed[c]
            for j in range(k):
                wsums[j] += dwsums[c, j]
                for f in range(d):
                    sums[j, f] += dsums[c, j, f]
        has_empty = False
        for j in range(k):
            if wsums[j] <= 0.0:
                has_empty = True
        if has_empty:
            n_changed += refill_empty(X, weights, centers, labels, sums, wsums)
            for i in range(n):
                upper[i] = np.inf  # relocated samples: bounds no longer valid
        total = 0.0
        largest = 0.0
        for j in range(k):
            sq = 0.0
            for f in range(d):
                v = sums[j, f] / wsums[j] if wsums[j] > 0.0 else centers[j, f]
                t = v - centers[j, f]
                sq += t * t
                new[j, f] = v
            s = np.sqrt(sq)
            drift[j] += s
            largest = max(largest, s)
            total += s * s
        max_drift += largest
        for j in range(k):
            for f in range(d):
                centers[j, f] = new[j, f]
        if n_iter > 1 and n_changed == 0:
            strict = True
            break
        if total <= tol_abs:
            break
    if not strict:
        half_separation(centers, half)
        for c in prange(nc):
            hamerly_chunk(c, X, weights, centers, half, drift, max_drift, labels, upper, lower,
                          dsums, dwsums)
    inertia = 0.0
    for i in range(n):
        inertia += weights[i] * _sqdist(X, i, centers, labels[i])
    return inertia, n_iter


@njit(cache=True, nogil=True)
def _draw(cumulative, u):
    """Index whose cumulative-weight interval holds ``u * total``."""
    n = cumulative.shape[0]
    return min(np.searchsorted(cumulative, u * cumulative[n - 1], side="right"), n - 1)


@njit(parallel=True, cache=True, nogil=True)
def kmeans_plusplus(X, weights, first_u, trial_u, centers, indices):
    """Greedy weighted k-means++ from uniform numbers drawn beforehand.

    Every draw is an inverse-CDF lookup of one uniform number in cumulative
    weights (weights times squared distance to the nearest chosen centre, or
    the weights alone when every sample sits on a centre), so a sample of
    integer weight ``m`` is drawn exactly as ``m`` repeated copies of it would
    be. Of each centre's candidates the one giving the lowest potential is kept
    (first on ties). Potentials are added per chunk, in chunk order.

    Parameters
    ----------
    X : (n, d) float64
    weights : (n,) float64, non-negative with a positive sum.
    first_u : float
        Uniform number in [0, 1) drawing the first centre.
    trial_u : (k - 1, n_trials) float64
        Uniform numbers drawing the candidates of each further centre.
    centers : (k, d) float64, output.
    indices : (k,) int64, output: the rows of ``X`` chosen.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_trials = trial_u.shape[1]
    nc = n_chunks(n)
    cumulative = np.empty(n)
    closest = np.empty(n)
    cand_dist = np.empty((n_trials, n))
    partial = np.zeros((nc, n_trials))
    candidates = np.empty(n_trials, dtype=np.int64)
    acc = 0.0
    for i in range(n):
        acc += weights[i]
        cumulative[i] = acc
    first = _draw(cumulative, first_u)
    indices[0] = first
    for f in range(d):
        centers[0, f] = X[first, f]
    for c in prange(nc):
        s = 0.0
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            closest[i] = _sqdist(X, i, X, first)
            s += closest[i] * weights[i]
        partial[c, 0] = s
    potential = 0.0
    for c in range(nc):
        potential += partial[c, 0]
    for m in range(1, k):
        acc = 0.0
        for i in range(n):
            acc += weights[i] * closest[i] if potential > 0.0 else weights[i]
            cumulative[i] = acc
        for t in range(n_trials):
            candidates[t] = _draw(cumulative, trial_u[m - 1, t])
        for c in prange(nc):
            for t in range(n_trials):
                s = 0.0
                for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
                    dd = min(_sqdist(X, i, X, candidates[t]), closest[i])
                    cand_dist[t, i] = dd
                    s += dd * weights[i]
                partial[c, t] = s
        best = 0
        best_potential = np.inf
        for t in range(n_trials):
            p = 0.0
            for c in range(nc):
                p += partial[c, t]
            if p < best_potential:
                best_potential = p
                best = t
        potential = best_potential
        for i in range(n):
            closest[i] = cand_dist[best, i]
        indices[m] = candidates[best]
        for f in range(d):
            centers[m, f] = X[candidates[best], f]


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
