"""Cython kernels for weighted Lloyd k-means.

Kernels take C-contiguous float64 arrays (and preallocated outputs where their
size is known), and hold no validation, defaults or randomness: the Python
layer in :mod:`kmseg.cluster._lloyd` owns restarts and random draws. A whole
Lloyd run (:func:`lloyd_run`) and the k-means++ seeding are one kernel call
each, so they run without the interpreter (and with the GIL released).

Parallel loops (OpenMP) run over fixed-size chunks of samples, each chunk
writing its own partial sums, which are added in chunk order: results do not
depend on the number of threads.
"""

import numpy as np

from kmseg import _parallel  # its fork handler must exist wherever a kernel can run (see _parallel.pyx)
from cython.parallel cimport prange
from libc.math cimport INFINITY, sqrt
from libc.stdlib cimport free, malloc

from kmseg._parallel cimport CHUNK as _CHUNK
from kmseg._parallel cimport n_chunks as _n_chunks
from kmseg._parallel cimport team_size

#: Samples per chunk of the parallel loops (fixed, so sums never depend on threads).
CHUNK = _CHUNK


def n_chunks(Py_ssize_t n_samples):
    """Number of chunks the kernels split ``n_samples`` into (at least one)."""
    return _n_chunks(n_samples)


cdef inline double _sqdist(const double* x, const double* c, Py_ssize_t d) noexcept nogil:
    """Squared distance between the ``d`` features at ``x`` and at ``c``.

    From 8 features on, the squares are added in four running sums (feature ``f``
    into sum ``f % 4``, the tail into the first), joined as ``(s0 + s1) + (s2 + s3)``:
    a fixed order, so the result is the same on any thread, while the four
    independent sums let the compiler use vector instructions, where one running
    sum is a chain of dependent additions (3.5x faster k-means++ seeding of 16
    features). Fewer features are added in order.
    """
    cdef double t0, t1, t2, t3, dd, s0, s1, s2, s3, t
    cdef Py_ssize_t f
    if d == 3:
        t0 = x[0] - c[0]
        t1 = x[1] - c[1]
        t2 = x[2] - c[2]
        return t0 * t0 + t1 * t1 + t2 * t2
    if d >= 8:
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        f = 0
        while f + 4 <= d:
            t0 = x[f] - c[f]
            t1 = x[f + 1] - c[f + 1]
            t2 = x[f + 2] - c[f + 2]
            t3 = x[f + 3] - c[f + 3]
            s0 = s0 + t0 * t0
            s1 = s1 + t1 * t1
            s2 = s2 + t2 * t2
            s3 = s3 + t3 * t3
            f = f + 4
        while f < d:
            t = x[f] - c[f]
            s0 = s0 + t * t
            f = f + 1
        return (s0 + s1) + (s2 + s3)
    dd = 0.0
    for f in range(d):
        t = x[f] - c[f]
        dd = dd + t * t
    return dd


cdef inline void _clear_chunk(Py_ssize_t c, double* sums, double* wsums, Py_ssize_t k,
                              Py_ssize_t d) noexcept nogil:
    """Zero chunk ``c``'s rows of per-chunk sums ``(n_chunks, k, d)`` and ``(n_chunks, k)``."""
    cdef Py_ssize_t j, f
    for j in range(k):
        wsums[c * k + j] = 0.0
        for f in range(d):
            sums[(c * k + j) * d + f] = 0.0


cdef void _step_chunk(Py_ssize_t c, const double* X, const double* weights, const double* centers,
                      int* labels, double* dists, double* sums, double* wsums, Py_ssize_t n,
                      Py_ssize_t d, Py_ssize_t k) noexcept nogil:
    """:func:`lloyd_step` for the samples of chunk ``c``."""
    cdef Py_ssize_t i, j, f, best_j
    cdef Py_ssize_t start = c * _CHUNK
    cdef Py_ssize_t stop = min(n, start + _CHUNK)
    cdef double best, dd, t, wi, x0, x1, x2, t0, t1, t2
    cdef double* srow
    _clear_chunk(c, sums, wsums, k, d)
    for i in range(start, stop):
        best = INFINITY
        best_j = 0
        if d == 3:
            x0 = X[i * 3]
            x1 = X[i * 3 + 1]
            x2 = X[i * 3 + 2]
            for j in range(k):
                t0 = x0 - centers[j * 3]
                t1 = x1 - centers[j * 3 + 1]
                t2 = x2 - centers[j * 3 + 2]
                dd = t0 * t0 + t1 * t1 + t2 * t2
                if dd < best:
                    best = dd
                    best_j = j
        else:
            for j in range(k):
                dd = 0.0
                for f in range(d):
                    t = X[i * d + f] - centers[j * d + f]
                    dd = dd + t * t
                if dd < best:
                    best = dd
                    best_j = j
        labels[i] = <int>best_j
        dists[i] = best
        wi = weights[i]
        wsums[c * k + best_j] += wi
        srow = sums + (c * k + best_j) * d
        for f in range(d):
            srow[f] += wi * X[i * d + f]


def lloyd_step(const double[:, ::1] X, const double[::1] weights, const double[:, ::1] centers,
               int[::1] labels, double[::1] dists, double[:, :, ::1] sums, double[:, ::1] wsums):
    """Assign each sample to its nearest centre and accumulate weighted sums
    (the inner loop unrolled for three features, colour data).

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
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = centers.shape[0], nc = sums.shape[0]
    cdef Py_ssize_t c
    if n == 0 or k == 0:
        return
    cdef int team = team_size(<double>n * k * d)
    with nogil:
        for c in prange(nc, schedule="static", num_threads=team):
            _step_chunk(c, &X[0, 0], &weights[0], &centers[0, 0], &labels[0], &dists[0],
                        &sums[0, 0, 0], &wsums[0, 0], n, d, k)


cdef void _sq_chunk(Py_ssize_t c, const double* A, const double* X, double* out, Py_ssize_t m,
                    Py_ssize_t n, Py_ssize_t d) noexcept nogil:
    cdef Py_ssize_t a, i
    cdef Py_ssize_t start = c * _CHUNK
    cdef Py_ssize_t stop = min(n, start + _CHUNK)
    for a in range(m):
        for i in range(start, stop):
            out[a * n + i] = _sqdist(X + i * d, A + a * d, d)


def sq_distances(const double[:, ::1] A, const double[:, ::1] X, double[:, ::1] out):
    """Squared Euclidean distances, ``out[a, i] = ||A[a] - X[i]||^2``.

    Parameters
    ----------
    A : (m, d) float64
    X : (n, d) float64
    out : (m, n) float64, output.
    """
    cdef Py_ssize_t m = A.shape[0], d = A.shape[1], n = X.shape[0]
    cdef Py_ssize_t c
    if m == 0 or n == 0:
        return
    cdef int team = team_size(<double>m * n * d)
    with nogil:
        for c in prange(_n_chunks(n), schedule="static", num_threads=team):
            _sq_chunk(c, &A[0, 0], &X[0, 0], &out[0, 0], m, n, d)


def grid_pool(const double[:, ::1] X, const double[::1] weights, const double[::1] lo,
              const double[::1] scale, Py_ssize_t bins):
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
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1]
    cdef Py_ssize_t n_cells = 1
    cdef Py_ssize_t i, f, c, index, m = 0, s
    if bins < 1:
        raise ValueError(f"bins={bins}: a grid needs at least one cell per axis")
    for f in range(d):
        n_cells *= bins
    cdef double wi
    slot_arr = np.full(n_cells, -1, dtype=np.int64)
    cell_arr = np.empty(n, dtype=np.int64)
    cdef long long[::1] slot = slot_arr
    cdef long long[::1] cell = cell_arr
    with nogil:
        for i in range(n):
            if weights[i] == 0.0:
                cell[i] = -1
                continue
            index = 0
            for f in range(d):
                c = <Py_ssize_t>((X[i, f] - lo[f]) * scale[f])
                if c < 0:
                    c = 0
                elif c >= bins:
                    c = bins - 1
                index = index * bins + c
            cell[i] = index
            slot[index] = 0
        for index in range(n_cells):
            if slot[index] == 0:
                slot[index] = m
                m += 1
    sums_arr = np.zeros((m, d))
    totals_arr = np.zeros(m)
    cdef double[:, ::1] sums = sums_arr
    cdef double[::1] totals = totals_arr
    with nogil:
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
    return sums_arr, totals_arr


cdef void _half_separation(const double* centers, double* out, Py_ssize_t k,
                           Py_ssize_t d) noexcept nogil:
    cdef Py_ssize_t a, b
    cdef double best, g
    for a in range(k):
        best = INFINITY
        for b in range(k):
            if b != a:
                g = sqrt(_sqdist(centers + a * d, centers + b * d, d))
                if g < best:
                    best = g
        out[a] = 0.5 * best


#: Lloyd runs with at least this many clusters search each sample's nearest centre
#: among the nearest neighbours of its current one first (see _hamerly_chunk).
NEAR_MIN_K = 16
#: Neighbours listed per centre.
NEAR_LIST = 32


cdef void _neighbours(const double* centers, Py_ssize_t k, Py_ssize_t d, Py_ssize_t m, int* near,
                      double* gap) noexcept nogil:
    """For each centre ``a``, its ``m`` nearest other centres by distance, nearest
    first: ``near[a * m + q]`` and their distances ``gap[a * m + q]`` (``m < k``)."""
    cdef Py_ssize_t a, b, q, r
    cdef double g
    for a in range(k):
        r = 0  # entries filled in a's sorted list
        for b in range(k):
            if b == a:
                continue
            g = sqrt(_sqdist(centers + a * d, centers + b * d, d))
            if r == m and g >= gap[a * m + m - 1]:
                continue
            q = r if r < m else m - 1
            while q > 0 and gap[a * m + q - 1] > g:
                gap[a * m + q] = gap[a * m + q - 1]
                near[a * m + q] = near[a * m + q - 1]
                q -= 1
            gap[a * m + q] = g
            near[a * m + q] = <int>b
            if r < m:
                r += 1


cdef void _separation(const double* centers, Py_ssize_t k, Py_ssize_t d, Py_ssize_t m, double* half, int* near,
                      double* gap) noexcept nogil:
    """Half the distance from each centre to its nearest other one, and with ``m > 0``
    its ``m`` nearest neighbours (one set of centre distances for both)."""
    cdef Py_ssize_t a
    if m == 0:
        _half_separation(centers, half, k, d)
        return
    _neighbours(centers, k, d, m, near, gap)
    for a in range(k):
        half[a] = 0.5 * gap[a * m]


def neighbours(const double[:, ::1] centers, int[:, ::1] near, double[:, ::1] gap):
    """For each centre, its ``m = near.shape[1]`` nearest other centres, nearest
    first, and their distances (``gap``); ``m`` less than the number of centres."""
    if centers.shape[0] == 0 or near.shape[1] == 0:
        return
    with nogil:
        _neighbours(&centers[0, 0], centers.shape[0], centers.shape[1], near.shape[1], &near[0, 0], &gap[0, 0])


def half_separation(const double[:, ::1] centers, double[::1] out):
    """``out[j]``: half the distance from centre ``j`` to its nearest other centre
    (``inf`` for a single centre)."""
    if centers.shape[0] == 0:
        return
    with nogil:
        _half_separation(&centers[0, 0], &out[0], centers.shape[0], centers.shape[1])


cdef Py_ssize_t _hamerly_chunk(Py_ssize_t c, const double* X, const double* weights,
                               const double* centers, const double* half_sep, const double* drift,
                               double max_drift, int* labels, double* upper, double* lower,
                               double* dsums, double* dwsums, Py_ssize_t n, Py_ssize_t d,
                               Py_ssize_t k, const int* near, const double* gap, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t changed = 0
    cdef Py_ssize_t start = c * _CHUNK
    cdef Py_ssize_t stop = min(n, start + _CHUNK)
    cdef Py_ssize_t i, j, f, a, j1, q
    cdef double u, bound, lb, d1, d2, dd, da, wi, xf, beyond
    cdef bint full
    cdef const double* x
    _clear_chunk(c, dsums, dwsums, k, d)
    for i in range(start, stop):
        a = labels[i]
        u = upper[i] + drift[a]
        lb = lower[i] - max_drift
        bound = lb if lb > half_sep[a] else half_sep[a]
        if u <= bound:
            continue
        x = X + i * d
        da = _sqdist(x, centers + a * d, d)
        u = sqrt(da)
        if u > bound:
            full = m == 0
            beyond = INFINITY
            if not full:
                # a centre j nearer x than a has |c_j - c_a| < 2u: search a's nearest
                # neighbours in order, up to the first at least 2u away; centres past it
                # are at least (its distance - u) from x
                d1 = da
                d2 = INFINITY
                j1 = a
                q = 0
                while q < m:
                    if gap[a * m + q] >= 2.0 * u:
                        beyond = gap[a * m + q] - u
                        break
                    j = near[a * m + q]
                    dd = _sqdist(x, centers + j * d, d)
                    if dd < d1 or (dd == d1 and j < j1):
                        d2 = d1
                        d1 = dd
                        j1 = j
                    elif dd < d2:
                        d2 = dd
                    q += 1
                full = q == m and m < k - 1  # the list ran out first: search every centre
            if full:
                beyond = INFINITY
                d1 = INFINITY
                d2 = INFINITY
                j1 = 0
                for j in range(k):
                    dd = _sqdist(x, centers + j * d, d)
                    if dd < d1:
                        d2 = d1
                        d1 = dd
                        j1 = j
                    elif dd < d2:
                        d2 = dd
            if j1 != a:
                changed += 1
                wi = weights[i]
                dwsums[c * k + a] -= wi
                dwsums[c * k + j1] += wi
                for f in range(d):
                    xf = x[f]
                    dsums[(c * k + a) * d + f] -= wi * xf
                    dsums[(c * k + j1) * d + f] += wi * xf
                a = j1
                labels[i] = <int>a
            u = sqrt(d1)
            lb = sqrt(d2)
            lower[i] = (lb if lb < beyond else beyond) + max_drift
        upper[i] = u - drift[a]
    return changed


def hamerly_chunk(Py_ssize_t c, const double[:, ::1] X, const double[::1] weights,
                  const double[:, ::1] centers, const double[::1] half_sep, const double[::1] drift,
                  double max_drift, int[::1] labels, double[::1] upper, double[::1] lower,
                  double[:, :, ::1] dsums, double[:, ::1] dwsums):
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
    cdef Py_ssize_t out
    with nogil:
        out = _hamerly_chunk(c, &X[0, 0], &weights[0], &centers[0, 0], &half_sep[0], &drift[0],
                             max_drift, &labels[0], &upper[0], &lower[0], &dsums[0, 0, 0],
                             &dwsums[0, 0], X.shape[0], X.shape[1], centers.shape[0], NULL, NULL, 0)
    return out


cdef Py_ssize_t _refill_empty(const double* X, const double* weights, const double* centers,
                              int* labels, double* sums, double* wsums, Py_ssize_t n,
                              Py_ssize_t d, Py_ssize_t k, double* score, unsigned char* taken,
                              Py_ssize_t* empty) noexcept nogil:
    """:func:`refill_empty` with scratch ``score`` (n), ``taken`` (n) and ``empty`` (k)."""
    cdef Py_ssize_t i, j, f, a, r, far, n_empty = 0, moved = 0
    cdef double wi, best
    for j in range(k):
        wsums[j] = 0.0
        for f in range(d):
            sums[j * d + f] = 0.0
    for i in range(n):
        a = labels[i]
        wi = weights[i]
        wsums[a] += wi
        for f in range(d):
            sums[a * d + f] += wi * X[i * d + f]
        score[i] = _sqdist(X + i * d, centers + a * d, d) if wi > 0.0 else -1.0
        taken[i] = 0
    for j in range(k):
        if wsums[j] <= 0.0:
            empty[n_empty] = j
            n_empty += 1
    # The r-th sample in order of decreasing score, first index on ties (a stable
    # sort's order), picked one at a time: few clusters are ever empty at once.
    for r in range(min(n_empty, n)):
        far = -1
        best = 0.0
        for i in range(n):
            if not taken[i] and (far < 0 or score[i] > best):
                far = i
                best = score[i]
        if best <= 0.0:
            break
        taken[far] = 1
        j = empty[r]
        a = labels[far]
        wi = weights[far]
        wsums[a] -= wi
        wsums[j] = wi
        for f in range(d):
            sums[a * d + f] -= wi * X[far * d + f]
            sums[j * d + f] = wi * X[far * d + f]
        labels[far] = <int>j
        moved += 1
    return moved


def refill_empty(const double[:, ::1] X, const double[::1] weights, const double[:, ::1] centers,
                 int[::1] labels, double[:, ::1] sums, double[::1] wsums):
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
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = centers.shape[0], moved
    cdef double[::1] score = np.empty(n)
    cdef unsigned char[::1] taken = np.empty(n, dtype=np.uint8)
    cdef Py_ssize_t[::1] empty = np.empty(k, dtype=np.intp)
    if n == 0 or k == 0:
        return 0
    with nogil:
        moved = _refill_empty(&X[0, 0], &weights[0], &centers[0, 0], &labels[0], &sums[0, 0],
                              &wsums[0], n, d, k, &score[0], &taken[0], &empty[0])
    return moved


def lloyd_run(const double[:, ::1] X, const double[::1] weights, double[:, ::1] centers,
              int[::1] labels, Py_ssize_t max_iter, double tol_abs):
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
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = centers.shape[0]
    cdef Py_ssize_t nc = _n_chunks(n)
    cdef double[::1] upper = np.full(n, np.inf)
    cdef double[::1] lower = np.zeros(n)
    cdef double[::1] drift = np.zeros(k)
    cdef double[::1] half = np.empty(k)
    cdef double[::1] new = np.empty(k * d)
    cdef double[::1] sums = np.zeros(k * d)
    cdef double[::1] wsums = np.zeros(k)
    cdef double[::1] dsums = np.empty(nc * k * d)
    cdef double[::1] dwsums = np.empty(nc * k)
    cdef Py_ssize_t[::1] changed = np.zeros(nc, dtype=np.intp)
    cdef double[::1] score = np.empty(n)
    cdef unsigned char[::1] taken = np.empty(n, dtype=np.uint8)
    cdef Py_ssize_t[::1] empty = np.empty(k, dtype=np.intp)
    cdef Py_ssize_t m = min(k - 1, NEAR_LIST) if k >= NEAR_MIN_K else 0
    cdef int[::1] near = np.zeros(max(k * m, 1), dtype=np.intc)
    cdef double[::1] gap = np.zeros(max(k * m, 1))
    cdef Py_ssize_t i, j, f, c, n_iter = 0, n_changed
    cdef double max_drift = 0.0, total, largest, sq, v, t, s, inertia = 0.0
    cdef bint strict = False, has_empty
    cdef int team
    cdef const double* Xp
    cdef const double* wp
    cdef double* Cp
    cdef int* Lp
    if n == 0 or k == 0:
        return 0.0, 0
    Xp = &X[0, 0]
    wp = &weights[0]
    Cp = &centers[0, 0]
    Lp = &labels[0]
    team = team_size(<double>n * k * d)
    with nogil:
        for i in range(n):
            labels[i] = 0
            wsums[0] += wp[i]
            for f in range(d):
                sums[f] += wp[i] * Xp[i * d + f]
        while n_iter < max_iter:
            n_iter += 1
            _separation(Cp, k, d, m, &half[0], &near[0], &gap[0])
            for c in prange(nc, schedule="dynamic", num_threads=team):
                changed[c] = _hamerly_chunk(c, Xp, wp, Cp, &half[0], &drift[0], max_drift, Lp,
                                            &upper[0], &lower[0], &dsums[0], &dwsums[0], n, d, k,
                                            &near[0], &gap[0], m)
            n_changed = 0
            for c in range(nc):
                n_changed = n_changed + changed[c]
                for j in range(k):
                    wsums[j] += dwsums[c * k + j]
                    for f in range(d):
                        sums[j * d + f] += dsums[(c * k + j) * d + f]
            has_empty = False
            for j in range(k):
                if wsums[j] <= 0.0:
                    has_empty = True
            if has_empty:
                n_changed = n_changed + _refill_empty(Xp, wp, Cp, Lp, &sums[0], &wsums[0], n, d, k,
                                                      &score[0], &taken[0], &empty[0])
                for i in range(n):
                    upper[i] = INFINITY  # relocated samples: bounds no longer valid
            total = 0.0
            largest = 0.0
            for j in range(k):
                sq = 0.0
                for f in range(d):
                    v = sums[j * d + f] / wsums[j] if wsums[j] > 0.0 else Cp[j * d + f]
                    t = v - Cp[j * d + f]
                    sq = sq + t * t
                    new[j * d + f] = v
                s = sqrt(sq)
                drift[j] += s
                if s > largest:
                    largest = s
                total = total + s * s
            max_drift = max_drift + largest
            for j in range(k):
                for f in range(d):
                    Cp[j * d + f] = new[j * d + f]
            if n_iter > 1 and n_changed == 0:
                strict = True
                break
            if total <= tol_abs:
                break
        if not strict:
            _separation(Cp, k, d, m, &half[0], &near[0], &gap[0])
            for c in prange(nc, schedule="dynamic", num_threads=team):
                _hamerly_chunk(c, Xp, wp, Cp, &half[0], &drift[0], max_drift, Lp, &upper[0],
                               &lower[0], &dsums[0], &dwsums[0], n, d, k, &near[0], &gap[0], m)
        for i in range(n):
            inertia = inertia + wp[i] * _sqdist(Xp + i * d, Cp + Lp[i] * d, d)
    return inertia, n_iter


cdef inline Py_ssize_t _draw(const double* cumulative, Py_ssize_t n, double u) noexcept nogil:
    """Index whose cumulative-weight interval holds ``u * total``: the first
    index whose cumulative weight exceeds it (``searchsorted(side='right')``),
    at most ``n - 1``."""
    cdef double value = u * cumulative[n - 1]
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if cumulative[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < n - 1 else n - 1


cdef void _first_potential_chunk(Py_ssize_t c, const double* X, const double* weights,
                                 Py_ssize_t first, double* closest, double* partial,
                                 Py_ssize_t n, Py_ssize_t d, Py_ssize_t n_trials) noexcept nogil:
    cdef Py_ssize_t i
    cdef double s = 0.0
    for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
        closest[i] = _sqdist(X + i * d, X + first * d, d)
        s = s + closest[i] * weights[i]
    partial[c * n_trials] = s


#: A candidate at least twice as far from a sample's centre as the sample is (4x in
#: squares, with a margin for rounding) cannot be nearer the sample than that centre.
cdef double PRUNE = 4.0 * (1.0 + 1e-9)


cdef void _trial_potential_chunk(Py_ssize_t c, const double* X, const double* weights,
                                 const Py_ssize_t* candidates, const double* closest, const int* owner,
                                 const double* apart, Py_ssize_t k, double* cand_dist, double* partial,
                                 Py_ssize_t n, Py_ssize_t d, Py_ssize_t n_trials) noexcept nogil:
    """Each candidate's squared distance to the samples of chunk ``c``, or the sample's
    distance to its nearest centre where the triangle inequality says the candidate
    cannot be nearer: ``apart[t * k + j]`` (candidate ``t`` to centre ``j``, squared) at
    least 4 times the sample's squared distance to its centre ``j = owner[i]``."""
    cdef Py_ssize_t i, t
    cdef double s, dd, cl
    for t in range(n_trials):
        s = 0.0
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            cl = closest[i]
            if apart[t * k + owner[i]] >= PRUNE * cl:
                dd = cl
            else:
                dd = _sqdist(X + i * d, X + candidates[t] * d, d)
                if cl < dd:
                    dd = cl
            cand_dist[t * n + i] = dd
            s = s + dd * weights[i]
        partial[c * n_trials + t] = s


def kmeans_plusplus(const double[:, ::1] X, const double[::1] weights, double first_u,
                    const double[:, ::1] trial_u, double[:, ::1] centers, long long[::1] indices):
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
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = centers.shape[0]
    cdef Py_ssize_t n_trials = trial_u.shape[1]
    cdef Py_ssize_t nc = _n_chunks(n)
    cdef Py_ssize_t width = n_trials if n_trials > 1 else 1
    cdef double[::1] cumulative = np.empty(n)
    cdef double[::1] closest = np.empty(n)
    cdef double[::1] cand_dist = np.empty(max(n_trials, 1) * n)
    cdef double[::1] partial = np.zeros(nc * width)
    cdef Py_ssize_t[::1] candidates = np.empty(width, dtype=np.intp)
    cdef int[::1] owner = np.zeros(n, dtype=np.intc)
    cdef double[::1] apart = np.empty(width * max(k, 1))
    cdef Py_ssize_t i, f, c, m, t, first, best
    cdef double acc = 0.0, potential, best_potential, p
    cdef const double* Xp
    cdef const double* wp
    cdef int team = team_size(<double>n * width * d)
    if n == 0 or k == 0:
        return
    if k > 1 and n_trials < 1:
        raise ValueError("trial_u has no column: each further centre needs at least one candidate")
    Xp = &X[0, 0]
    wp = &weights[0]
    with nogil:
        for i in range(n):
            acc = acc + wp[i]
            cumulative[i] = acc
        first = _draw(&cumulative[0], n, first_u)
        indices[0] = first
        for f in range(d):
            centers[0, f] = Xp[first * d + f]
        for c in prange(nc, schedule="static", num_threads=team):
            _first_potential_chunk(c, Xp, wp, first, &closest[0], &partial[0], n, d, width)
        potential = 0.0
        for c in range(nc):
            potential = potential + partial[c * width]
        for m in range(1, k):
            acc = 0.0
            for i in range(n):
                acc = acc + (wp[i] * closest[i] if potential > 0.0 else wp[i])
                cumulative[i] = acc
            for t in range(n_trials):
                candidates[t] = _draw(&cumulative[0], n, trial_u[m - 1, t])
                for f in range(m):
                    apart[t * k + f] = _sqdist(Xp + candidates[t] * d, &centers[f, 0], d)
            for c in prange(nc, schedule="static", num_threads=team):
                _trial_potential_chunk(c, Xp, wp, &candidates[0], &closest[0], &owner[0], &apart[0], k,
                                       &cand_dist[0], &partial[0], n, d, width)
            best = 0
            best_potential = INFINITY
            for t in range(n_trials):
                p = 0.0
                for c in range(nc):
                    p = p + partial[c * width + t]
                if p < best_potential:
                    best_potential = p
                    best = t
            potential = best_potential
            for i in range(n):
                if cand_dist[best * n + i] < closest[i]:
                    owner[i] = <int>m
                closest[i] = cand_dist[best * n + i]
            indices[m] = candidates[best]
            for f in range(d):
                centers[m, f] = Xp[candidates[best] * d + f]


def assigned_sq_dist(const double[:, ::1] X, const double[:, ::1] centers, const int[::1] labels,
                     double[::1] out):
    """``out[i] = ||X[i] - centers[labels[i]]||^2``."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], i
    if n == 0:
        return
    cdef const double* Xp = &X[0, 0]
    cdef const double* Cp = &centers[0, 0]
    cdef int team = team_size(<double>n * d)
    with nogil:
        for i in prange(n, schedule="static", num_threads=team):
            out[i] = _sqdist(Xp + i * d, Cp + labels[i] * d, d)


def weighted_summary(const double[:, ::1] X, const double[::1] weights, double[::1] lo,
                     double[::1] hi, double[::1] mean, double[::1] var):
    """Bounding box, weighted mean and weighted variance of the samples of
    positive weight, per feature (outputs ``lo, hi, mean, var``: (d,) float64)."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], i, f
    cdef double total = 0.0, wi, x, t
    with nogil:
        for f in range(d):
            lo[f] = INFINITY
            hi[f] = -INFINITY
            mean[f] = 0.0
            var[f] = 0.0
        for i in range(n):
            wi = weights[i]
            if wi > 0.0:
                total = total + wi
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


cdef int _owner(const double* lo, double span, const double* C, Py_ssize_t k, const int* near,
                const double* gap, double margin) noexcept nogil:
    """:func:`cell_owner` of one box (3 features)."""
    cdef double x0 = lo[0] + 0.5 * span, x1 = lo[1] + 0.5 * span, x2 = lo[2] + 0.5 * span
    cdef double best = INFINITY, dd, t0, t1, t2, r2, f, a, reach, cj2, g
    cdef Py_ssize_t j = 0, i, q, dim
    cdef Py_ssize_t m = k - 1
    for i in range(k):
        t0 = x0 - C[3 * i]
        t1 = x1 - C[3 * i + 1]
        t2 = x2 - C[3 * i + 2]
        dd = t0 * t0 + t1 * t1 + t2 * t2
        if dd < best:
            best = dd
            j = i
    # the farthest corner of the box from centre j
    r2 = 0.0
    for dim in range(3):
        t0 = lo[dim] - C[3 * j + dim]
        t1 = t0 + span
        t0 = t0 * t0
        t1 = t1 * t1
        r2 += t0 if t0 > t1 else t1
    reach = 2.0 * sqrt(r2) + 2.0 * margin
    cj2 = C[3 * j] * C[3 * j] + C[3 * j + 1] * C[3 * j + 1] + C[3 * j + 2] * C[3 * j + 2]
    for q in range(m):
        i = near[j * m + q]
        g = gap[j * m + q]
        if g >= reach:
            break  # this centre and all farther ones are beyond every point of the box
        # min over the box of ||x - c_i||^2 - ||x - c_j||^2 = 2 x.(c_j - c_i) + |c_i|^2 - |c_j|^2
        f = C[3 * i] * C[3 * i] + C[3 * i + 1] * C[3 * i + 1] + C[3 * i + 2] * C[3 * i + 2] - cj2
        for dim in range(3):
            a = 2.0 * (C[3 * j + dim] - C[3 * i + dim])
            f += a * lo[dim] if a > 0.0 else a * (lo[dim] + span)
        if f <= 2.0 * margin * g + 1e-9:
            return -1
    return <int>j


def cell_owner(const double[:, ::1] lo, double span, const double[:, ::1] centers, const int[:, ::1] near,
               const double[:, ::1] gap, double margin, int[::1] out):
    """The centre nearest every point of each box, where one centre is.

    Box ``b`` is ``[lo[b], lo[b] + span]`` on each of three features. ``out[b]``
    is the centre ``j`` nearest the box's middle when every point of the box is
    nearer ``j`` than any other centre by more than ``margin`` (the distance to
    each bisecting plane); -1 when the box touches, or comes within ``margin``
    of, another centre's side. The difference of two squared distances is linear
    in the point, so its minimum over a box is at a corner; centres farther from
    ``j`` than twice the box's reach (plus ``2 * margin``) are skipped unread.

    Parameters
    ----------
    lo : (m, 3) float64
    span : float
    centers : (k, 3) float64
    near, gap : (k, k - 1) int32 and float64
        Every centre's other centres by distance, nearest first, and their
        distances: :func:`neighbours` with ``k - 1`` neighbours.
    margin : float, at least 0.
    out : (m,) int32, output.
    """
    cdef Py_ssize_t m = lo.shape[0], k = centers.shape[0], b
    if m == 0:
        return
    cdef const double* lp = &lo[0, 0]
    cdef const double* C = &centers[0, 0]
    cdef const int* nr = &near[0, 0] if k > 1 else NULL
    cdef const double* gp = &gap[0, 0] if k > 1 else NULL
    cdef int team = team_size(<double>m * k)
    with nogil:
        for b in prange(m, schedule="static", num_threads=team):
            out[b] = _owner(lp + 3 * b, span, C, k, nr, gp, margin)


def minibatch_step(const double[:, ::1] X, const Py_ssize_t[::1] batch, const double[::1] weights,
                   double[:, ::1] centers, double[::1] counts, double[:, ::1] sums, double[::1] wsums):
    """One mini-batch step: the rows ``batch`` of ``X``, each to its nearest centre, then
    each centre moved to the running weighted mean of all it has seen.

    ``sums[j]`` and ``wsums[j]`` (zeroed here) get the weighted sum and the weight of
    the batch's samples nearest centre ``j`` (the lowest index of equals), in batch
    order; then a centre with batch weight ``W > 0`` gets ``counts[j] += W`` and
    ``centers[j] += (sums[j] - W * centers[j]) / counts[j]``. Serial: a batch is
    small, and the sums then never depend on threads.

    Parameters
    ----------
    X : (n, d) float64
    batch : (b,) intp, rows of ``X`` (repeats allowed)
    weights : (n,) float64
    centers : (k, d) float64, updated in place
    counts : (k,) float64, the weight each centre has seen, updated in place
    sums : (k, d) float64, output
    wsums : (k,) float64, output

    Returns
    -------
    (float, float, float)
        The batch's weighted inertia before the update, its weight, and the total
        squared shift of the centres.
    """
    cdef Py_ssize_t b = batch.shape[0], k = centers.shape[0], d = X.shape[1]
    cdef Py_ssize_t i, j, f, row, best
    cdef double dist, best_d, w, step, inertia = 0.0, total = 0.0, shift = 0.0
    for j in range(k):
        wsums[j] = 0.0
        for f in range(d):
            sums[j, f] = 0.0
    if b == 0 or k == 0:
        return 0.0, 0.0, 0.0
    with nogil:
        for i in range(b):
            row = batch[i]
            best = 0
            best_d = _sqdist(&X[row, 0], &centers[0, 0], d)
            for j in range(1, k):
                dist = _sqdist(&X[row, 0], &centers[j, 0], d)
                if dist < best_d:
                    best_d = dist
                    best = j
            w = weights[row]
            wsums[best] += w
            for f in range(d):
                sums[best, f] += w * X[row, f]
            inertia += w * best_d
        for j in range(k):
            w = wsums[j]
            total += w
            if w > 0:
                counts[j] += w
                for f in range(d):
                    step = (sums[j, f] - w * centers[j, f]) / counts[j]
                    centers[j, f] += step
                    shift += step * step
    return inertia, total, shift
