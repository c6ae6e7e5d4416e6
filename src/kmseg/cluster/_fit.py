"""The weighted k-means fit behind :class:`~kmseg.KMeans` and the image functions.

It takes validated float64 data and does not import scikit-learn, so that
segmenting an image (in a worker process, or one command-line call) does not pay
scikit-learn's import time.
"""

from typing import NamedTuple

import numpy as np

from .. import _validation as v
from .._params import DEFAULT_MAX_ITER, DEFAULT_TOL
from ._coarse import coarse_to_fine
from ._lloyd import best_of, summary

#: With ``algorithm="auto"``, data of at least this many samples are clustered
#: coarse-to-fine (grid poolings for at most 3 features, a sample of the rows beyond).
AUTO_COARSE_MIN_SAMPLES = 20_000


class Fit(NamedTuple):
    """A k-means result, with the attribute names of a fitted estimator."""

    cluster_centers_: np.ndarray
    labels_: np.ndarray
    inertia_: float
    n_iter_: int


def fit_weighted(X, weights, n_clusters, *, init="k-means++", n_init=1, max_iter=DEFAULT_MAX_ITER, tol=DEFAULT_TOL,
                 algorithm="auto", rng=None):
    """k-means of weighted samples, already validated, on the kernel threads the
    caller set (:func:`kmseg._validation.thread_limit`).

    Parameters
    ----------
    X : (n, d) float64 C-contiguous ndarray
    weights : (n,) float64 ndarray, non-negative with a positive sum.
    n_clusters : int, at most the number of samples.
    init : 'k-means++', 'random' or (n_clusters, d) ndarray
    n_init, max_iter : int
    tol : float
        Relative to the mean variance of the features.
    algorithm : {'auto', 'lloyd', 'coarse-to-fine'}
    rng : None, int, numpy.random.RandomState or numpy.random.Generator

    Returns
    -------
    Fit
        For one feature and a string ``init``, the globally optimal partition
        (:func:`~kmseg.cluster._optimal.optimal_1d`; ``n_iter_`` 0), whatever
        ``algorithm`` and ``n_init`` say.
    """
    n_samples, n_features = X.shape
    rng = v.make_rng(rng)
    if n_features == 1 and isinstance(init, str):  # a line: the optimum itself, by dynamic programming
        from ._optimal import optimal_1d  # its kernel module loads only for 1-feature data

        centers, labels, inertia = optimal_1d(X[:, 0], weights, n_clusters)
        if len(centers) < n_clusters:  # fewer distinct values: the extra centres repeat the last
            centers = np.concatenate([centers, np.repeat(centers[-1:], n_clusters - len(centers))])
        return Fit(centers[:, None], labels, inertia, 0)
    if algorithm == "auto":
        algorithm = "coarse-to-fine" if n_samples >= AUTO_COARSE_MIN_SAMPLES else "lloyd"
    lo, hi, _, var = summary(X, weights)
    tol_abs = float(np.mean(var) * tol)
    args = (X, weights, n_clusters, init, n_init, max_iter, tol_abs, rng)
    if algorithm == "coarse-to-fine":
        return Fit(*coarse_to_fine(*args, box=(lo, hi)))
    return Fit(*best_of(*args))


def fit(X, weights, n_clusters, params):
    """k-means of weighted samples with the settings of a :class:`~kmseg._params.FitParams`
    (k-means++ seeding, ``algorithm='auto'``): what :class:`~kmseg.KMeans` fits on
    the same data and settings, without its input checks and scikit-learn import.

    ``X`` is converted to float64 C order; ``n_clusters`` must be at most the
    number of samples.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    return fit_weighted(X, weights, n_clusters, n_init=params.n_init, max_iter=params.max_iter,
                        tol=params.tol, rng=params.random_state)
