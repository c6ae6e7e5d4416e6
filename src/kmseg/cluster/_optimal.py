"""Globally optimal k-means of weighted values on a line (the Python layer over
:func:`~kmseg.cluster._optimal_kernels.optimal_splits`)."""

import numpy as np

from ._optimal_kernels import optimal_splits


def optimal_1d(values, weights, n_clusters):
    """The partition of weighted values into at most ``n_clusters`` runs of least
    within-cluster sum of squares: the k-means optimum, not a local one.

    Parameters
    ----------
    values : (n,) float64 ndarray, any order, repeats allowed
    weights : (n,) float64 ndarray, non-negative with a positive sum
    n_clusters : int >= 1

    Returns
    -------
    centers : (k,) float64 ndarray
        Weighted means of the clusters, ascending; ``k`` is ``n_clusters``, or the
        number of distinct values of positive weight when that is smaller.
    labels : (n,) int32 ndarray
        Cluster of each value (values of weight 0: their nearest centre).
    inertia : float
        Weighted sum of squared distances to the centres, summed directly.

    Examples
    --------
    >>> centers, labels, inertia = optimal_1d(np.array([1.0, 2, 10, 11, 12]), np.ones(5), 2)
    >>> centers.tolist(), labels.tolist(), inertia
    ([1.5, 11.0], [0, 0, 1, 1, 1], 2.5)
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    live = weights > 0
    distinct, inverse = np.unique(values[live], return_inverse=True)
    w = np.bincount(inverse.reshape(-1), weights=weights[live], minlength=len(distinct))
    k = min(int(n_clusters), len(distinct))
    n = len(distinct)
    split = np.zeros((k, n + 1), dtype=np.intc)
    cost = np.zeros(k)
    optimal_splits(np.ascontiguousarray(distinct), np.ascontiguousarray(w), split, cost)
    # walk the splits back from the last value: cluster m is distinct[starts[m]:ends[m]]
    starts = np.empty(k, dtype=np.int64)
    end = n
    for m in range(k - 1, -1, -1):
        starts[m] = split[m, end] if m > 0 else 0
        end = starts[m]
    of_distinct = np.repeat(np.arange(k, dtype=np.int32), np.diff(np.append(starts, n)))
    sums = np.bincount(of_distinct, weights=w * distinct, minlength=k)
    totals = np.bincount(of_distinct, weights=w, minlength=k)
    centers = sums / totals
    labels = np.empty(len(values), dtype=np.int32)
    labels[live] = of_distinct[inverse.reshape(-1)]
    if not live.all():  # weightless values: the nearest centre, lowest of equals
        rest = values[~live]
        labels[~live] = np.argmin(np.abs(rest[:, None] - centers[None, :]), axis=1)
    inertia = float(np.sum(w * (distinct - centers[of_distinct]) ** 2))
    return centers, labels, inertia
