"""Slow, obviously correct NumPy twins of the kernels, for the tests.

Grouped by the stage of the code they mirror; each one's docstring names its twin."""

import numpy as np


# ---------------------------------------------------------------------------
# Cluster: kmseg.cluster._kernels and kmseg.cluster._seeding
# ---------------------------------------------------------------------------

def sq_distances(A, X):
    """Twin of ``_kernels.sq_distances``: (m, n) squared distances."""
    return ((A[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)


def lloyd_step(X, weights, centers):
    """Twin of ``_kernels.lloyd_step``: labels (first nearest on ties), squared distances, sums.

    Returns labels, squared distances, weighted sums, sums of weights."""
    d2 = sq_distances(centers, X)
    labels = np.argmin(d2, axis=0)
    dists = d2[labels, np.arange(len(X))]
    return labels, dists, *cluster_sums(X, weights, labels, len(centers))


def cluster_sums(X, weights, labels, k):
    """Twin of the sums ``_kernels.lloyd_step`` adds up, cluster by cluster.

    Weighted sums and sums of weights of the samples of each cluster."""
    sums = np.zeros((k, X.shape[1]))
    wsums = np.zeros(k)
    for i in range(len(X)):
        sums[labels[i]] += weights[i] * X[i]
        wsums[labels[i]] += weights[i]
    return sums, wsums


def lloyd(X, weights, centers, n_iter):
    """Twin of ``_kernels.lloyd_run``: ``n_iter`` plain weighted Lloyd iterations.

    No empty clusters expected (see :func:`lloyd_refilled`)."""
    for _ in range(n_iter):
        _, _, sums, wsums = lloyd_step(X, weights, centers)
        centers = sums / wsums[:, None]
    return centers


def lloyd_refilled(X, weights, centers, n_iter):
    """Twin of ``_kernels.lloyd_run`` when clusters empty: Lloyd iterations with refills.

    ``n_iter`` weighted Lloyd iterations in which a cluster left empty takes the
    farthest samples (:func:`refill_empty`) before the centres move."""
    for _ in range(n_iter):
        labels, _, sums, wsums = lloyd_step(X, weights, centers)
        if np.any(wsums <= 0):
            labels, sums, wsums = refill_empty(X, weights, centers, labels)
        full = wsums > 0
        centers = centers.copy()
        centers[full] = sums[full] / wsums[full, None]
    return centers


def refill_empty(X, weights, centers, labels):
    """Twin of ``_kernels.refill_empty``: empty clusters take the farthest samples.

    Sums from the labels, then the clusters empty at the start each take the
    farthest sample of positive weight (farthest first, lowest index on ties).
    Returns labels, sums, sums of weights."""
    k = len(centers)
    sums, wsums = cluster_sums(X, weights, labels, k)
    dist = {i: ((X[i] - centers[labels[i]]) ** 2).sum() for i in range(len(X)) if weights[i] > 0}
    far = sorted(dist, key=lambda i: (-dist[i], i))
    for j, i in zip([j for j in range(k) if wsums[j] <= 0], far):
        if dist[i] <= 0:
            break
        sums[labels[i]] -= weights[i] * X[i]
        wsums[labels[i]] -= weights[i]
        sums[j], wsums[j] = weights[i] * X[i], weights[i]
        labels[i] = j
    return labels, sums, wsums


def grid_pool(X, weights, lo, hi, bins):
    """Twin of ``_kernels.grid_pool``: weighted means and totals of non-empty cells, in C order."""
    span = np.where(hi - lo == 0, 1.0, hi - lo)
    cells = {}
    for x, w in zip(X, weights):
        if w == 0:
            continue
        idx = tuple(int(min(max(int((x[f] - lo[f]) * (bins / span[f])), 0), bins - 1)) for f in range(len(x)))
        s, t = cells.get(idx, (0.0, 0.0))
        cells[idx] = (s + w * x, t + w)
    keys = sorted(cells)
    means = np.array([cells[c][0] / cells[c][1] for c in keys])
    totals = np.array([cells[c][1] for c in keys])
    return means, totals


def weighted_summary(X, weights):
    """Twin of ``_kernels.weighted_summary``: box, weighted mean and variance, positive weights only."""
    act = weights > 0
    Xa, wa = X[act], weights[act]
    mean = (wa[:, None] * Xa).sum(0) / wa.sum()
    var = (wa[:, None] * (Xa - mean) ** 2).sum(0) / wa.sum()
    return Xa.min(0), Xa.max(0), mean, var


def kmeans_plusplus(X, weights, k, rng, n_trials):
    """Twin of ``_seeding.kmeans_plusplus``: greedy weighted k-means++, inverse-CDF draws, plainly."""

    def draw(p, u):
        c = np.cumsum(p)
        for i in range(len(c)):
            if c[i] > u * c[-1]:
                return i
        return len(c) - 1

    first = draw(weights, rng.uniform(size=1)[0])
    centers = [X[first]]
    closest = ((X - X[first]) ** 2).sum(1)
    for _ in range(1, k):
        us = rng.uniform(size=n_trials)
        # every sample already on a centre: candidates drawn by weight alone
        p = weights * closest if (weights * closest).sum() > 0 else weights
        cands = [draw(p, u) for u in us]
        pots = []
        for c in cands:
            pots.append((np.minimum(closest, ((X - X[c]) ** 2).sum(1)) * weights).sum())
        best = cands[int(np.argmin(pots))]
        centers.append(X[best])
        closest = np.minimum(closest, ((X - X[best]) ** 2).sum(1))
    return np.array(centers)


# ---------------------------------------------------------------------------
# Histogram: kmseg.histogram._kernels
# ---------------------------------------------------------------------------

def rgb_histogram(pixels):
    """Twin of ``_kernels.count_rgb8`` and ``compact_rgb8``: distinct colours and their counts.

    Colours ascending by r, g, b."""
    colors, counts = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0, return_counts=True)
    return colors, counts
