"""The elbow sweep: k-means for a range of k, with WCSS and other scores.

For an image, the colour histogram and features are computed once and every k
is fitted on the distinct colours weighted by their counts, so the whole sweep
costs about as many fits of a few hundred thousand colours, not of every pixel,
and each WCSS is exact over all pixels.
"""

import sys
import time
import warnings

import numpy as np

from .. import _validation as v
from ._knee import Knee, KneeWarning, find_knee

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


def _k_values(k_range, n_distinct, name, auto=False):
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
            stacklevel=4,
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


def _silhouette(Xs, labels):
    from sklearn.metrics import silhouette_score

    n_labels = len(np.unique(labels))
    if n_labels < 2 or n_labels >= len(labels):
        return np.nan
    return float(silhouette_score(Xs, labels))


def _progress(enabled, text):
    if enabled:
        print(text, file=sys.stderr, flush=True)


def sweep(X, w, ks, fit_params, silhouette_samples, color_space, progress):
    """Fit every k of ``ks`` on weighted rows and score it; returns an :class:`Elbow`."""
    from .._segment import fit
    from ..cluster._kernels import assigned_sq_dist

    start = time.perf_counter()
    rng = np.random.default_rng(
        fit_params["random_state"] if isinstance(fit_params["random_state"], (int, np.integer)) else None
    )
    integral = np.all(w == np.round(w))
    if silhouette_samples == 0:
        sample = np.empty(0, dtype=np.int64)
    elif integral and w.sum() <= silhouette_samples:
        sample = np.repeat(np.arange(len(w)), w.astype(np.int64))  # every sample, exactly
    else:
        sample = rng.choice(len(w), size=silhouette_samples, p=w / w.sum())
    Xs = X[sample]
    out = {"wcss": [], "ch": [], "db": [], "sil": [], "centers": [], "n_iter": []}
    with v.thread_limit(v.resolve_n_threads(fit_params.get("n_threads"))):
        for i, k in enumerate(ks):
            km = fit(X, w, k, fit_params)
            centers = np.ascontiguousarray(km.cluster_centers_, dtype=np.float64)
            labels = km.labels_  # already those of the final centres: one distance each suffices
            dists = np.empty(len(X))
            assigned_sq_dist(X, centers, labels, dists)
            ch, db = _scores(X, w, centers, labels, dists)
            out["wcss"].append(km.inertia_)
            out["ch"].append(ch)
            out["db"].append(db)
            out["sil"].append(_silhouette(Xs, labels[sample]) if len(sample) else np.nan)
            out["centers"].append(centers)
            out["n_iter"].append(km.n_iter_)
            _progress(progress, f"elbow: k={k} ({i + 1}/{len(ks)}) WCSS={km.inertia_:.6g} "
                                f"[{time.perf_counter() - start:.1f} s]")
    return Elbow(ks, out["wcss"], out["ch"], out["db"], out["sil"], len(sample), out["centers"],
                 out["n_iter"], color_space, time.perf_counter() - start)


def sweep_prepared(prep, k_range, fit_params, *, silhouette_samples=SILHOUETTE_SAMPLES,
                   progress=False, auto=False):
    """The sweep of a prepared image (see :func:`kmseg._segment.prepare`)."""
    ks = _k_values(k_range, prep.n_distinct, prep.name, auto=auto)
    return sweep(prep.features, prep.weights, ks, fit_params, silhouette_samples, prep.space, progress)


def elbow(
    data,
    k_range=range(1, 11),
    *,
    kind="auto",
    color_space=None,
    sample_weight=None,
    n_init=4,
    random_state=0,
    silhouette_samples=SILHOUETTE_SAMPLES,
    n_threads=None,
    progress=False,
):
    """Fit k-means for every k of ``k_range``; WCSS, other scores, and the knee.

    Parameters
    ----------
    data : str, os.PathLike, PIL.Image.Image or ndarray
        An image (file, PIL image, ``(H, W, 3|4)`` array) or samples, a
        ``(n_samples, n_features)`` array. A 2-D array is taken as samples;
        pass ``kind='image'`` for a grey image given as an array.
    k_range : iterable of int, default=range(1, 11)
        The values of k. Values above the number of distinct points are dropped
        with a warning.
    kind : {'auto', 'image', 'samples'}, default='auto'
    color_space : {'rgb', 'lab', 'hsv', 'gray'} or None, default=None
        For images, as in :func:`segment`.
    sample_weight : (n_samples,) array-like, optional
        For samples: weights (an image's weights are its colour counts).
    n_init : int, default=4
        Restarts per k.
    random_state : int, Generator, RandomState or None, default=0
        Seed of every fit and of the silhouette sample.
    silhouette_samples : int, default=2000
        Points drawn (by weight, with replacement) for the silhouette, which costs
        O(n^2); all points are used when there are no more than this; 0 skips
        the silhouette.
    n_threads : int or None, default=None
    progress : bool, default=False
        Print a line per k to standard error.

    Returns
    -------
    Elbow
        ``k``, ``wcss``, ``calinski_harabasz``, ``davies_bouldin``, ``silhouette``,
        ``knee`` (the chosen k and why), ``table()``, ``plot()``.

    Warns
    -----
    KneeWarning
        The curve has no clear knee; ``knee`` holds the best guess and why.
    KmsegWarning
        ``k_range`` goes beyond the number of distinct points.

    See Also
    --------
    find_knee : how k is chosen.
    segment : ``n_clusters='auto'`` runs this sweep.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(c, 0.3, (50, 2)) for c in ([0, 0], [5, 0], [0, 5])])
    >>> curve = kmseg.elbow(X, range(1, 8))
    >>> curve.best_k
    3
    """
    from .._segment import prepare

    kind = v.check_choice("kind", kind, ("auto", "image", "samples"))
    is_array = isinstance(data, np.ndarray) or isinstance(data, (list, tuple))
    if kind == "auto":
        kind = "samples" if is_array and np.asarray(data).ndim == 2 else "image"
    fit_params = dict(n_init=v.check_int("n_init", n_init), max_iter=300, tol=1e-4,
                      random_state=random_state, n_threads=v.resolve_n_threads(n_threads))
    silhouette_samples = v.check_int("silhouette_samples", silhouette_samples, minimum=0)
    if kind == "image":
        prep = prepare(data, color_space, n_threads=fit_params["n_threads"])
        curve = sweep_prepared(prep, k_range, fit_params, silhouette_samples=silhouette_samples,
                               progress=progress)
        warn_unclear(curve, stacklevel=2)
        return curve
    from sklearn.utils import check_array
    from sklearn.utils.validation import _check_sample_weight

    X = check_array(data, dtype=np.float64, order="C")
    w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    n_distinct = len(np.unique(X[w > 0], axis=0))
    ks = _k_values(k_range, n_distinct, "the data")
    curve = sweep(X, w, ks, fit_params, silhouette_samples, None, progress)
    warn_unclear(curve, stacklevel=2)
    return curve
