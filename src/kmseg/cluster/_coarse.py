"""Coarse-to-fine k-means for low-dimensional data such as colours.

Samples are pooled into the cells of a regular grid (each cell becomes one sample
at its weighted mean, weighing the cell's total weight). Each restart is seeded and
iterated on the few pooled samples, then refined by Lloyd iterations on each finer
level and finally on the original samples, and the restart of lowest inertia on
the original samples is kept. The result is a converged Lloyd solution of the
original, exact objective; the grids only choose where each restart starts.

Every restart is carried to the original samples (up to :data:`REFINE_ALL_MAX_SAMPLES`
of them) because the order of restarts on the coarse level is a poor guide to their
order on the exact objective: choosing the best on the coarse level (as this module
did before) left the 16-colour inertia of BSDS500 *train* photos 0.26% higher on
average (40 photos, 4 restarts, grid fit of :mod:`kmseg.cluster._grid`), for 15% less
time in the fit. Beyond that many samples each refinement costs a pass over them, and
the best restart of the finest pooled level is refined alone.

Data of more features have no grid: their coarse level is a uniform sample of a tenth
of the samples (:func:`sampled_to_fine`), on which ``8 * n_init`` restarts run; the
best ``min(n_init, 3)`` of them are iterated on all samples to a tolerance a hundred
times finer, and the lowest is kept. Restarts stopped at ``tol`` on all samples (what
this module did before, and scikit-learn does) stop well short of their local minima:
on 6-band rasters made of 8 BSDS500 *train* photos, k = 8, 16, 32, the inertia of 4
such restarts was 0.08% above scikit-learn's best of 10 on average and more than 0.1%
above on 7 of 24; this scheme is 0.2% below on average and never 0.1% above (48 photo
and k pairs of 16 train photos, and 10 more at k = 4 and 64), in the same time.
Fewer restarts on the sample (4 per ``n_init``), or a sample of a twentieth, were
faster and missed by up to 0.4% on one or two pairs of 48.
"""

import numpy as np

from ._kernels import grid_pool as grid_pool_kernel
from ._lloyd import best_of, lloyd, lowest, seeded_runs, summary

#: Cells per axis of the successive grids (coarse first).
LEVELS = (16, 64)
#: A grid level is used only with at least this many samples per cluster ...
MIN_SAMPLES_PER_CLUSTER = 20
#: ... and at most this fraction of the next level's samples.
MAX_FRACTION = 0.5
#: Grids are built for data with at most this many features.
MAX_FEATURES = 3
#: Every restart is refined on the samples themselves up to this many of them; beyond,
#: only the best on the finest pooled level is (on the 1.26 million distinct colours of
#: a 12 MP mosaic, refining all 4 restarts made k=64 5.5x slower for 1.9% lower inertia).
REFINE_ALL_MAX_SAMPLES = 200_000
#: Beyond :data:`MAX_FEATURES`: the fraction of the samples the restarts run on ...
SAMPLE_FRACTION = 0.1
#: ... at least this many per cluster (and at most half the samples, else no sample) ...
MIN_SAMPLE_PER_CLUSTER = 50
#: ... restarts per ``n_init`` there, and at most this many of them refined on all samples ...
SAMPLE_RESTARTS_PER_INIT = 8
SAMPLE_REFINED = 3
#: ... to the tolerance times this.
SAMPLE_FINE_TOL = 0.01


def grid_pool(X, weights, bins, box=None):
    """Pool samples into a ``bins``-per-axis grid over a box.

    Parameters
    ----------
    X : (n, d) float64 ndarray
    weights : (n,) float64 ndarray
    bins : int
    box : (lo, hi) pair of (d,) arrays, optional
        The grid's box; by default the bounding box of the samples of positive weight.

    Returns
    -------
    means : (m, d) float64 ndarray
        Weighted mean of the samples of every non-empty cell, in cell order.
    totals : (m,) float64 ndarray
        Their total weight.
    """
    lo, hi = bounding_box(X, weights) if box is None else box
    span = hi - lo
    span[span == 0] = 1.0
    return grid_pool_kernel(X, weights, lo, bins / span, bins)


def bounding_box(X, weights):
    """Lower and upper corners of the samples of positive weight."""
    return summary(X, weights)[:2]


def coarse_levels(X, weights, n_clusters, box=None):
    """The pooled problems worth solving before ``X`` itself, coarse first.

    ``box`` is the bounding box of the samples of positive weight, if known."""
    levels = []
    if X.shape[1] > MAX_FEATURES:
        return levels
    n_next = X.shape[0]
    box = bounding_box(X, weights) if box is None else box
    source = (X, weights)
    for bins in reversed(LEVELS):
        # pooling the finer level's cell means gives the cells of the coarser grid
        Xc, wc = grid_pool(*source, bins, box)
        if len(Xc) < MIN_SAMPLES_PER_CLUSTER * n_clusters:
            break
        if len(Xc) > MAX_FRACTION * n_next:
            continue
        levels.insert(0, (Xc, wc))
        n_next = len(Xc)
        source = (Xc, wc)
    return levels


def coarse_to_fine(X, weights, n_clusters, init, n_init, max_iter, tol_abs, rng, box=None):
    """Restarts on the coarsest pooled level, each refined by Lloyd on every finer one
    (and on ``X`` when it has at most :data:`REFINE_ALL_MAX_SAMPLES` samples); the
    restart of lowest inertia there is refined on ``X`` (the first on ties).

    Returns what :func:`kmseg.cluster._lloyd.lloyd` returns, for ``X``.
    """
    if X.shape[1] > MAX_FEATURES and isinstance(init, str):
        return sampled_to_fine(X, weights, n_clusters, init, n_init, max_iter, tol_abs, rng)
    levels = coarse_levels(X, weights, n_clusters, box) if isinstance(init, str) else []
    if not levels:
        return best_of(X, weights, n_clusters, init, n_init, max_iter, tol_abs, rng)
    finest = [(X, weights)] if len(X) <= REFINE_ALL_MAX_SAMPLES else []

    def refined(run):
        for Xl, wl in levels[1:] + finest:
            run = lloyd(Xl, wl, run[0], max_iter, tol_abs)
        return run

    Xc, wc = levels[0]
    best = lowest(refined(run) for run in seeded_runs(Xc, wc, n_clusters, init, n_init, max_iter, tol_abs, rng))
    return best if finest else lloyd(X, weights, best[0], max_iter, tol_abs)


def sampled_to_fine(X, weights, n_clusters, init, n_init, max_iter, tol_abs, rng):
    """Restarts on a uniform sample of the rows of ``X``, the best refined on ``X``
    (the module's docstring says how many, and why); plain restarts on ``X`` when the
    sample would hold more than half of it.

    Returns what :func:`kmseg.cluster._lloyd.lloyd` returns, for ``X``.
    """
    n = X.shape[0]
    m = max(int(n * SAMPLE_FRACTION), MIN_SAMPLE_PER_CLUSTER * n_clusters)
    if 2 * m > n or np.count_nonzero(weights) < n:  # too few rows to sample, or rows of no weight
        return best_of(X, weights, n_clusters, init, n_init, max_iter, tol_abs, rng)
    rows = np.sort(rng.choice(n, size=m, replace=False))
    runs = seeded_runs(np.ascontiguousarray(X[rows]), np.ascontiguousarray(weights[rows]), n_clusters, init,
                       SAMPLE_RESTARTS_PER_INIT * n_init, max_iter, tol_abs, rng)
    starts = sorted(runs, key=lambda run: run[2])[:min(n_init, SAMPLE_REFINED)]  # stable: the first on ties
    return lowest(lloyd(X, weights, run[0], max_iter, tol_abs * SAMPLE_FINE_TOL) for run in starts)
