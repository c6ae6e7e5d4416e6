"""The elbow sweep: k-means for a range of k, with WCSS and other scores.

For an image, the colour histogram and features are computed once and every k
is fitted on them (8-bit RGB colours in 'rgb' up to 16 clusters by their grid
cells, counted once for all k, as :func:`kmseg.segment` fits them; others on the
distinct colours weighted by their counts), so the whole sweep costs about as
many fits of a few hundred thousand colours, not of every pixel, and each WCSS
is exact over all pixels.
"""

import sys
import time
import warnings

import numpy as np

from .. import _validation as v
from ..cluster._fit import Fit, fit
from ..cluster._grid import fit_cells, grid_source
from ..cluster._kernels import assigned_sq_dist
from ._knee import MIN_DROP, Knee, KneeWarning, drops, find_knee

#: Default number of samples (pixels) for the silhouette score, whose cost grows as
#: the square of it (scikit-learn's silhouette_score: 0.05 s for 2,000 points, 1.4 s
#: for 10,000, here); the standard error of the mean silhouette is then about 0.005.
SILHOUETTE_SAMPLES = 2_000


class Elbow:
    """The result of :func:`elbow`: scores against k, and the chosen k.

    Attributes
    ----------
    k : (m,) int ndarray
        The values of k fitted.
    wcss : (m,) float ndarray
        Within-cluster sum of squares (inertia), exact over all samples / pixels.
    calinski_harabasz : (m,) float ndarray
        Weighted Calinski-Harabasz index (higher is better; NaN for k=1).
    davies_bouldin : (m,) float ndarray
        Weighted Davies-Bouldin index (lower is better; NaN for k=1).
    silhouette : (m,) float ndarray
        Mean silhouette of a random sample (higher is better; NaN for k=1, and
        for every k when ``silhouette_samples=0``).
    silhouette_samples : int
        Size of that sample, drawn once (pixels drawn uniformly, with replacement),
        the same for every k; 0 when the silhouette was not computed.
    knee : Knee
        The chosen k, its strength and the reason (see :func:`find_knee`).
    centers : list of (k, d) ndarrays
        Centres for each k (in the working colour space, for images).
    n_iter : (m,) int ndarray
    color_space : str or None
        The working colour space for images; None for plain samples.
    seconds : float
        Wall time of the sweep.
    """

    def __init__(self, k, wcss, ch, db, sil, sil_n, centers, n_iter, color_space, seconds):
        self.k = np.asarray(k, dtype=int)
        self.wcss = np.asarray(wcss, dtype=float)
        self.calinski_harabasz = np.asarray(ch, dtype=float)
        self.davies_bouldin = np.asarray(db, dtype=float)
        self.silhouette = np.asarray(sil, dtype=float)
        self.silhouette_samples = int(sil_n)
        self.centers = centers
        self.n_iter = np.asarray(n_iter, dtype=int)
        self.color_space = color_space
        self.seconds = seconds
        self.knee = _choose(self.k, self.wcss)

    @property
    def best_k(self):
        """The chosen k (the knee of the WCSS curve)."""
        return self.knee.k

    #: The drop below which a step counts as flat (see :func:`find_knee`).
    min_drop = MIN_DROP

    def drops(self):
        """The share of the WCSS left that each next k removes, as the knee rule
        measures it (see :func:`~kmseg.choose._knee.drops`): ``(m - 1,)``."""
        return drops(self.k, self.wcss)

    def __repr__(self):
        return f"Elbow(k={self.k.min()}..{self.k.max()}, chosen k={self.best_k})"

    def table(self):
        """The scores as a plain-text table, the chosen k marked."""
        head = f"{'k':>4} {'WCSS':>14} {'Calinski-H.':>12} {'Davies-B.':>10} {'silhouette':>10}"
        rows = [head]
        for i, k in enumerate(self.k):
            mark = "  <- chosen" if k == self.best_k else ""
            rows.append(
                f"{k:>4} {self.wcss[i]:>14.6g} {self.calinski_harabasz[i]:>12.5g} "
                f"{self.davies_bouldin[i]:>10.4f} {self.silhouette[i]:>10.4f}{mark}"
            )
        sampled = (f"silhouette on {self.silhouette_samples:,} sampled points"
                   if self.silhouette_samples else "silhouette not computed")
        rows.append(f"{sampled}; {self.knee.reason}")
        return "\n".join(rows)

    def plot(self, **kwargs):
        """The elbow curve with the chosen k marked; see :func:`kmseg.plot_elbow`."""
        from ..plot._figures import plot_elbow

        return plot_elbow(self, **kwargs)


def _choose(k, wcss):
    """The knee of the WCSS curve; where WCSS reaches 0 and no clear knee comes
    before, the smallest k with WCSS 0 (as many clusters as distinct points)."""
    knee = find_knee(k, wcss, warn=False)
    zero = np.flatnonzero(wcss <= 1e-12 * wcss.max())
    if len(zero) and not knee.clear and wcss.max() > 0:
        k0 = int(k[zero[0]])
        knee = Knee(k0, 1.0, True, f"WCSS reaches 0 at k={k0}: {k0} clusters fit every point exactly")
    return knee


def warn_unclear(curve, stacklevel):
    """Emit a KneeWarning when the sweep's knee is not clear."""
    if not curve.knee.clear:
        warnings.warn(curve.knee.reason, KneeWarning, stacklevel=stacklevel + 1)


def k_values(k_range, n_distinct, name, auto=False, stacklevel=4):
    """The k of ``k_range`` to fit: sorted, checked, at most ``n_distinct`` (a warning
    says which were dropped, unless ``auto``)."""
    try:
        ks = sorted({int(k) for k in k_range})
    except (TypeError, ValueError):
        raise v.KmsegError(f"k_range={k_range!r} must be an iterable of integers") from None
    if not ks:
        raise v.KmsegError("k_range is empty")
    for k in ks:
        v.check_int("k in k_range", k)
    keep = [k for k in ks if k <= n_distinct]
    if len(keep) < len(ks) and not auto:
        warnings.warn(
            f"k_range goes up to {ks[-1]} but {name} has only {n_distinct} distinct points; "
            f"sweeping k={keep[0]}..{keep[-1]}",
            v.KmsegWarning,
            stacklevel=stacklevel,
        )
    return keep or [ks[0]]


def _scores(X, w, centers, labels, dists):
    """Weighted Calinski-Harabasz and Davies-Bouldin indices of one clustering."""
    k = len(centers)
    if k < 2:
        return np.nan, np.nan
    total = w.sum()
    mean = w @ X / total
    sizes = np.bincount(labels, weights=w, minlength=k)
    between = float(sizes @ ((centers - mean) ** 2).sum(axis=1))
    within = float(dists @ w)
    ch = np.inf if within == 0 else (between / (k - 1)) / (within / max(total - k, 1e-300))
    spread = np.bincount(labels, weights=w * np.sqrt(dists), minlength=k)
    spread = np.divide(spread, sizes, out=np.zeros(k), where=sizes > 0)
    gaps = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (spread[:, None] + spread[None, :]) / gaps
    ratio[~np.isfinite(ratio)] = 0.0
    db = float(ratio.max(axis=1).mean())
    return ch, db


#: Up to this many sampled points, their distances are computed once for every k
#: (a matrix of this many squared float64s: 72 MB).
SILHOUETTE_PRECOMPUTE = 3000


def _silhouette(Xs, labels, distances=None):
    from sklearn.metrics import silhouette_score

    n_labels = len(np.unique(labels))
    if n_labels < 2 or n_labels >= len(labels):
        return np.nan
    if distances is not None:
        return _silhouette_of_distances(distances, labels)
    return float(silhouette_score(Xs, labels))


def _silhouette_of_distances(distances, labels):
    """scikit-learn's mean silhouette from the points' distance matrix: for each
    point, ``a`` its mean distance to the rest of its cluster, ``b`` the least
    mean distance to another cluster, ``(b - a) / max(a, b)`` (0 alone in its
    cluster). One matrix product per k."""
    ids, labels = np.unique(labels, return_inverse=True)
    counts = np.bincount(labels)
    sizes = counts.astype(np.float64)
    # each point's summed distance to each cluster: one product with the clusters'
    # indicator matrix (BLAS; the score's last bits may depend on its threads)
    onehot = np.zeros((len(labels), len(ids)))
    onehot[np.arange(len(labels)), labels] = 1.0
    sums = distances @ onehot
    rows = np.arange(len(labels))
    own = sizes[labels]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[rows, labels] / (own - 1)
        means = sums / sizes
        means[rows, labels] = np.inf
        b = means.min(axis=1)
        sil = np.nan_to_num((b - a) / np.maximum(a, b))
    sil[own == 1] = 0.0
    return float(sil.mean())


def _progress(enabled, text):
    if enabled:
        print(text, file=sys.stderr, flush=True)


def _fit_k(X, w, k, params, cells):
    """k-means of the rows, by their grid cells where ``cells`` (the same colours as a
    :class:`~kmseg.cluster._grid.ColorCells`) is given and the grid serves this k."""
    if cells is not None:
        grid = fit_cells(cells, k, params)
        if grid is not None:
            return Fit(grid.centers, grid.labels(np.arange(k), np.int32), grid.inertia, grid.n_iter)
    return fit(X, w, k, params)


def sweep(X, w, ks, params, silhouette_samples, color_space, progress, cells=None):
    """Fit every k of ``ks`` on weighted rows with the settings ``params`` (a
    :class:`~kmseg._params.FitParams`) and score it; returns an :class:`Elbow`.

    ``cells``: the rows as 8-bit RGB colours (a :class:`~kmseg.cluster._grid.ColorCells`),
    fitted by grid cells as :func:`kmseg.segment` fits them."""
    start = time.perf_counter()
    rng = np.random.default_rng(
        params.random_state if isinstance(params.random_state, (int, np.integer)) else None
    )
    integral = np.all(w == np.round(w))
    if silhouette_samples == 0:
        sample = np.empty(0, dtype=np.int64)
    elif integral and w.sum() <= silhouette_samples:
        sample = np.repeat(np.arange(len(w)), w.astype(np.int64))  # every sample, exactly
    else:
        sample = rng.choice(len(w), size=silhouette_samples, p=w / w.sum())
    Xs = X[sample]
    distances = None
    if 0 < len(sample) <= SILHOUETTE_PRECOMPUTE and len(ks) > 1:
        from sklearn.metrics import pairwise_distances

        distances = pairwise_distances(Xs)
    out = {"wcss": [], "ch": [], "db": [], "sil": [], "centers": [], "n_iter": []}
    for i, k in enumerate(ks):
        km = _fit_k(X, w, k, params, cells)
        centers = np.ascontiguousarray(km.cluster_centers_, dtype=np.float64)
        labels = km.labels_  # already those of the final centres: one distance each suffices
        dists = np.empty(len(X))
        assigned_sq_dist(X, centers, labels, dists)
        ch, db = _scores(X, w, centers, labels, dists)
        out["wcss"].append(km.inertia_)
        out["ch"].append(ch)
        out["db"].append(db)
        out["sil"].append(_silhouette(Xs, labels[sample], distances) if len(sample) else np.nan)
        out["centers"].append(centers)
        out["n_iter"].append(km.n_iter_)
        _progress(progress, f"elbow: k={k} ({i + 1}/{len(ks)}) WCSS={km.inertia_:.6g} "
                            f"[{time.perf_counter() - start:.1f} s]")
    return Elbow(ks, out["wcss"], out["ch"], out["db"], out["sil"], len(sample), out["centers"],
                 out["n_iter"], color_space, time.perf_counter() - start)


def sweep_colors(colors, k_range, params, *, silhouette_samples=SILHOUETTE_SAMPLES, progress=False,
                 auto=False):
    """The sweep of an image's distinct colours (a :class:`~kmseg.color._features.ColorFeatures`)."""
    ks = k_values(k_range, colors.n_distinct, colors.name, auto=auto)
    colors.features  # counted (a Prepared image's histogram), for the scores
    cells = grid_source(colors)
    return sweep(colors.features, colors.weights, ks, params, silhouette_samples, colors.space, progress, cells)
