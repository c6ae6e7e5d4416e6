"""elbow(): k-means for a range of k on an image's distinct colours (or on samples), and the knee."""

import numpy as np

from .. import _validation as v
from .._params import AUTO_K_MAX, DEFAULT_MAX_ITER, DEFAULT_N_INIT, DEFAULT_RANDOM_STATE, DEFAULT_TOL, FitParams
from ..choose._sweep import SILHOUETTE_SAMPLES, k_values, sweep, sweep_colors, warn_unclear
from ._arrays import is_image, read_values
from ._prepare import Prepared, as_prepared


def elbow(
    data,
    k_range=range(1, AUTO_K_MAX + 1),
    *,
    kind="auto",
    color_space=None,
    sample_weight=None,
    n_init=DEFAULT_N_INIT,
    max_iter=DEFAULT_MAX_ITER,
    tol=DEFAULT_TOL,
    random_state=DEFAULT_RANDOM_STATE,
    silhouette_samples=SILHOUETTE_SAMPLES,
    n_threads=None,
    progress=False,
    channel_axis=-1,
):
    """Fit k-means for every k of ``k_range``; WCSS, other scores, and the knee.

    Parameters
    ----------
    data : str, os.PathLike, PIL.Image.Image, ndarray or Prepared
        An image (file, PIL image, ``(H, W, 3|4)`` array, or an image read once
        by :func:`prepare`) or samples, a
        ``(n_samples, n_features)`` array. A 2-D array is taken as samples;
        pass ``kind='image'`` for a grey image given as an array.
    k_range : iterable of int, default=range(1, 11)
        The values of k. Values above the number of distinct points are dropped
        with a warning. The chosen k is the first whose next k removes less
        than 30% of the WCSS left (see :func:`find_knee`); it depends on the
        curve up to two values past it, so a larger range does not change it.
    kind : {'auto', 'image', 'samples'}, default='auto'
    color_space : {'rgb', 'lab', 'hsv', 'gray'} or None, default=None
        For images, as in :func:`segment`.
    sample_weight : (n_samples,) array-like, optional
        For samples: weights (an image's weights are its colour counts).
    n_init : int, default=4
        Restarts per k.
    max_iter, tol
        As for :func:`segment`.
    random_state : int, Generator, RandomState or None, default=0
        Seed of every fit and of the silhouette sample.
    silhouette_samples : int, default=2000
        Points drawn (by weight, with replacement) for the silhouette, which costs
        O(n^2); all points are used when there are no more than this; 0 skips
        the silhouette.
    n_threads : int or None, default=None
    progress : bool, default=False
        Print a line per k to standard error.
    channel_axis : int or None, default=-1
        For images, as in :func:`segment`: a volume or a multi-band raster is
        swept on its values, as they are.

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
    kind = v.check_choice("kind", kind, ("auto", "image", "samples"))
    is_array = isinstance(data, np.ndarray) or isinstance(data, (list, tuple))
    if kind == "auto":
        kind = "samples" if is_array and np.asarray(data).ndim == 2 else "image"
    if isinstance(data, Prepared):
        kind = "image"
    params = FitParams.check(n_init, max_iter, tol, random_state, n_threads)
    silhouette_samples = v.check_int("silhouette_samples", silhouette_samples, minimum=0)
    with v.thread_limit(params.n_threads):
        if kind == "image" and not is_image(data, channel_axis):
            if color_space is not None:
                raise v.KmsegError("color_space applies to images of 1 to 4 channels with channel_axis=-1; "
                                   "the values of an array of another kind are clustered as they are")
            values = read_values(data, channel_axis, None, "raise")
            ks = k_values(k_range, values.n_distinct, values.name)
            curve = sweep(values.features, values.weights, ks, params, silhouette_samples, None, progress, None)
        elif kind == "image":
            prep = as_prepared(data, color_space, None, "raise")
            curve = sweep_colors(prep, k_range, params, silhouette_samples=silhouette_samples,
                                 progress=progress)
        else:
            curve = _sweep_samples(data, k_range, sample_weight, params, silhouette_samples, progress)
    warn_unclear(curve, stacklevel=2)
    return curve


def _sweep_samples(data, k_range, sample_weight, params, silhouette_samples, progress):
    """The sweep of a ``(n_samples, n_features)`` array, checked as scikit-learn checks it."""
    from sklearn.utils import check_array
    from sklearn.utils.validation import _check_sample_weight

    X = check_array(data, dtype=np.float64, order="C")
    w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    n_distinct = len(np.unique(X[w > 0], axis=0))
    ks = k_values(k_range, n_distinct, "the data")
    return sweep(X, w, ks, params, silhouette_samples, None, progress)
