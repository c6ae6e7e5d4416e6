"""k-means with some centres held where they are: the colours a palette must keep."""

import numpy as np

from .. import _validation as v
from ._kernels import lloyd_step, n_chunks
from ._lloyd import assign, canonical_order, summary


def seed_after(X, weights, held, n_free, rng):
    """``n_free`` more centres by greedy weighted k-means++ that goes on from ``held``.

    Each new centre is the best of ``2 + log(k)`` samples drawn with probability
    proportional to weight times squared distance to the nearest centre so far
    (held ones included), as k-means++ draws every centre after the first.
    """
    k = len(held) + n_free
    trials = 2 + int(np.log(k))
    d2 = assign(X, weights, held)[1]
    cum_order = canonical_order(X)  # draws that do not depend on the samples' order
    Xc, wc, d2 = X[cum_order], weights[cum_order], d2[cum_order]
    out = np.empty((n_free, X.shape[1]))
    for i in range(n_free):
        cdf = np.cumsum(wc * d2)
        if cdf[-1] <= 0:  # every sample is on a centre: repeat the farthest, nothing to gain
            out[i:] = Xc[np.argmax(d2)]
            break
        picks = np.minimum(np.searchsorted(cdf, rng.uniform(size=trials) * cdf[-1], side="right"), len(Xc) - 1)
        best = None
        for p in picks:  # the candidate that lowers the weighted potential most, first of equals
            cand = np.minimum(d2, np.einsum("ij,ij->i", Xc - Xc[p], Xc - Xc[p]))
            score = float(cand @ wc)
            if best is None or score < best[0]:
                best = (score, p, cand)
        out[i] = Xc[best[1]]
        d2 = best[2]
    return out


def lloyd_held(X, weights, centers, n_held, max_iter, tol_abs, report=None):
    """Lloyd iterations that move only the centres after the first ``n_held``.

    Stops when no label changes or the squared shift of the free centres is at
    most ``tol_abs``; a free centre left empty takes the sample farthest from its
    centre. Returns ``centers, labels, inertia, n_iter`` with the labels of the
    final centres. ``report``, if given, is called with a line per iteration and
    one saying why the run stopped (``KMeans(verbose=1)``).
    """
    centers = np.array(centers, dtype=np.float64, order="C")
    n, d = X.shape
    k = len(centers)
    nc = n_chunks(n)
    labels = np.empty(n, np.int32)
    dists = np.empty(n)
    sums, counts = np.empty((nc, k, d)), np.empty((nc, k))
    previous = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        lloyd_step(X, weights, centers, labels, dists, sums, counts)
        total, weight = sums.sum(axis=0), counts.sum(axis=0)
        if report is not None:
            report(f"Iteration {n_iter - 1}, inertia {float(dists @ weights)}.")
        if previous is not None and np.array_equal(labels, previous):
            n_iter -= 1  # this pass only found the labels unchanged
            if report is not None:
                report(f"Converged at iteration {n_iter - 1}: strict convergence.")
            break
        previous = labels.copy()
        new = centers.copy()
        free = np.arange(n_held, k)
        filled = free[weight[free] > 0]
        new[filled] = total[filled] / weight[filled, None]
        for j in free[weight[free] <= 0]:
            far = int(np.argmax(dists * (weights > 0)))
            new[j], dists[far] = X[far], 0.0
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if shift <= tol_abs:
            lloyd_step(X, weights, centers, labels, dists, sums, counts)
            if report is not None:
                report(f"Converged at iteration {n_iter - 1}: center shift {shift} within tolerance {tol_abs}.")
            break
    return centers, labels, float(np.einsum("i,i->", dists, weights)), n_iter


def fit_held(X, weights, held, n_clusters, params):
    """Weighted k-means of ``n_clusters`` centres whose first ``len(held)`` are ``held``,
    the best of ``params.n_init`` seeded runs.

    Parameters
    ----------
    X : (n, d) float64 ndarray
    weights : (n,) float64 ndarray
    held : (m, d) float64 ndarray, 1 <= m <= n_clusters
    n_clusters : int
    params : FitParams

    Returns
    -------
    centers : (n_clusters, d), labels : (n,) int32, inertia : float, n_iter : int
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    held = np.ascontiguousarray(held, dtype=np.float64)
    rng = v.make_rng(params.random_state)
    tol_abs = float(np.mean(summary(X, weights)[3]) * params.tol)
    n_free = n_clusters - len(held)
    best = None
    for _ in range(params.n_init if n_free else 1):
        start = np.concatenate([held, seed_after(X, weights, held, n_free, rng)]) if n_free else held
        run = lloyd_held(X, weights, start, len(held), params.max_iter, tol_abs)
        if best is None or run[2] < best[2]:
            best = run
    return best
