"""Cython kernel of optimal k-means in one dimension: dynamic programming over sorted values.

k-means of weighted values on a line has a globally optimal partition into runs of
consecutive sorted values (Wang and Song 2011, Ckmeans.1d.dp). With ``D[m][j]`` the
least within-cluster sum of squares of the first ``j`` values in ``m`` clusters,
``D[m][j] = min_i D[m-1][i] + cost(i, j)``, and the best split ``i`` is monotone in
``j`` (the cost obeys the quadrangle inequality), so each row is filled by divide and
conquer in ``O(n log n)``: ``O(k n log n)`` in all (Gronlund et al. 2017 give O(kn)).
"""

import numpy as np

from libc.math cimport INFINITY


cdef inline double _cost(const double* s1, const double* s2, const double* w, Py_ssize_t i,
                         Py_ssize_t j) noexcept nogil:
    """Sum of squares about their mean of values ``i..j-1`` (prefix sums, exclusive)."""
    cdef double ww = w[j] - w[i]
    cdef double a
    if ww <= 0.0:
        return 0.0
    a = s1[j] - s1[i]
    a = (s2[j] - s2[i]) - a * a / ww
    return a if a > 0.0 else 0.0


cdef void _fill(const double* prev, double* cur, int* split, const double* s1, const double* s2,
                const double* w, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t opt_lo,
                Py_ssize_t opt_hi) noexcept nogil:
    """``cur[j]`` for ``j`` in ``[lo, hi]``, the best split of each in ``[opt_lo, opt_hi]``."""
    cdef Py_ssize_t mid, i, best, top
    cdef double value, best_value
    while lo <= hi:
        mid = (lo + hi) >> 1
        best = opt_lo
        best_value = INFINITY
        top = opt_hi if opt_hi < mid - 1 else mid - 1
        for i in range(opt_lo, top + 1):  # the last cluster is values i..mid-1, at least one
            value = prev[i] + _cost(s1, s2, w, i, mid)
            if value < best_value:
                best_value = value
                best = i
        cur[mid] = best_value
        split[mid] = <int>best
        _fill(prev, cur, split, s1, s2, w, lo, mid - 1, opt_lo, best)
        lo = mid + 1
        opt_lo = best


def optimal_splits(const double[::1] values, const double[::1] weights, int[:, ::1] split, double[::1] cost):
    """Fill the dynamic programme of optimal weighted 1-D k-means for k = 1..K.

    Parameters
    ----------
    values : (n,) float64, sorted ascending, distinct
    weights : (n,) float64, positive
    split : (K, n + 1) int32, output: ``split[m, j]`` is where the last of ``m + 1``
        clusters of the first ``j`` values starts
    cost : (K,) float64, output: the least sum of squares of all values in ``m + 1``
        clusters (values are centred on their mean first, for precision)
    """
    cdef Py_ssize_t n = values.shape[0], K = split.shape[0], m, j
    cdef double[::1] s1 = np.zeros(n + 1)
    cdef double[::1] s2 = np.zeros(n + 1)
    cdef double[::1] w = np.zeros(n + 1)
    cdef double[::1] prev = np.empty(n + 1)
    cdef double[::1] cur = np.empty(n + 1)
    cdef double total = 0.0, mean = 0.0, x
    if n == 0 or K == 0:
        return
    for j in range(n):
        total += weights[j]
        mean += weights[j] * values[j]
    mean /= total
    for j in range(n):
        x = values[j] - mean
        w[j + 1] = w[j] + weights[j]
        s1[j + 1] = s1[j] + weights[j] * x
        s2[j + 1] = s2[j] + weights[j] * x * x
    with nogil:
        for j in range(n + 1):
            prev[j] = _cost(&s1[0], &s2[0], &w[0], 0, j)
            split[0, j] = 0
        cost[0] = prev[n]
        for m in range(1, K):
            for j in range(m + 1):  # fewer values than clusters: as many clusters as values
                cur[j] = 0.0
                split[m, j] = <int>(j - 1 if j > 0 else 0)
            _fill(&prev[0], &cur[0], &split[m, 0], &s1[0], &s2[0], &w[0], m + 1, n, m, n - 1)
            cost[m] = cur[n]
            for j in range(n + 1):
                prev[j] = cur[j]
