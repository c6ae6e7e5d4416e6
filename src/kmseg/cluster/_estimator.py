"""The scikit-learn compatible weighted k-means estimator."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import _validation as v
from .._params import DEFAULT_MAX_ITER, DEFAULT_TOL
from ._fit import fit_weighted
from ._kernels import sq_distances
from ._lloyd import assign


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """Weighted k-means clustering, exact and fast on low-dimensional data.

    Lloyd's algorithm from greedy k-means++ seeding, with exact sample weights:
    a sample of weight ``m`` counts as ``m`` copies of it, so a colour histogram
    clusters to the same result as every pixel it counts.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'k-means++', 'random'} or (n_clusters, n_features) array-like, default='k-means++'
        Seeding: greedy weighted k-means++, ``n_clusters`` samples drawn by weight,
        or the given centres.
    n_init : 'auto' or int, default='auto'
        Seeded runs; the one of lowest inertia is kept. 'auto' means 1 for
        'k-means++' and 10 for 'random'. Always 1 for an array ``init``.
    max_iter : int, default=300
        Maximum Lloyd iterations of one run.
    tol : float, default=1e-4
        Convergence when the total squared centre shift is at most ``tol`` times
        the mean (weighted) variance of the features.
    algorithm : {'auto', 'lloyd', 'coarse-to-fine'}, default='auto'
        'lloyd' runs every restart on all samples. 'coarse-to-fine' (for at most 3
        features) runs restarts on samples pooled into a grid and refines the best
        centres with Lloyd iterations on all samples, which converge to a solution
        of the same, exact objective. 'auto' picks coarse-to-fine for at least
        20,000 samples of at most 3 features.
    random_state : int, RandomState instance, Generator or None, default=None
        Seed of the seeding; an int makes results reproducible.
    n_threads : int or None, default=None
        Threads of the kernels; None uses all cores. Results do not depend on it.

    Attributes
    ----------
    cluster_centers_ : (n_clusters, n_features) ndarray
        Centres, of the dtype of ``X`` (float32 or float64).
    labels_ : (n_samples,) int32 ndarray
        Cluster of each training sample.
    inertia_ : float
        Weighted sum of squared distances of samples to their centres.
    n_iter_ : int
        Lloyd iterations of the kept run (on all samples).
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    kmseg.segment : k-means segmentation of an image, every pixel counted.
    sklearn.cluster.KMeans : the reference implementation.

    Examples
    --------
    >>> import numpy as np
    >>> from kmseg import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    >>> km.predict([[0, 0], [12, 3]]).tolist() == [km.labels_[0], km.labels_[3]]
    True
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=DEFAULT_MAX_ITER,
        tol=DEFAULT_TOL,
        algorithm="auto",
        random_state=None,
        n_threads=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_threads = n_threads

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering.

        Parameters
        ----------
        X : (n_samples, n_features) array-like
            Training data.
        y : Ignored
        sample_weight : (n_samples,) array-like, default=None
            Non-negative weights; None weighs every sample 1.

        Returns
        -------
        self : KMeans
            The fitted estimator.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
        n_samples, n_features = X.shape
        k = v.check_n_clusters(self.n_clusters, n_samples, what=f"samples, n_samples={n_samples}")
        init = v.check_init(self.init, k, n_features)
        n_init = v.check_n_init(self.n_init, init)
        max_iter = v.check_int("max_iter", self.max_iter)
        tol = v.check_number("tol", self.tol)
        algorithm = v.check_choice("algorithm", self.algorithm, v.ALGORITHMS)
        self._n_threads = v.resolve_n_threads(self.n_threads)
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        rng = v.make_rng(self.random_state)

        X64 = np.ascontiguousarray(X, dtype=np.float64)
        with v.thread_limit(self._n_threads):
            centers, labels, inertia, n_iter = fit_weighted(
                X64, weights, k, init=init, n_init=n_init, max_iter=max_iter, tol=tol,
                algorithm=algorithm, rng=rng,
            )

        n_distinct = np.count_nonzero(np.bincount(labels, weights=weights, minlength=k))
        if n_distinct < k:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({k}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = centers.astype(X.dtype)
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        return self

    def _check_test_data(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C", reset=False)
        return X, np.ascontiguousarray(X, dtype=np.float64)

    def _centers64(self):
        return np.ascontiguousarray(self.cluster_centers_, dtype=np.float64)

    def predict(self, X):
        """Index of the nearest centre of each sample.

        Parameters
        ----------
        X : (n_samples, n_features) array-like

        Returns
        -------
        labels : (n_samples,) int32 ndarray
        """
        _, X64 = self._check_test_data(X)
        weights = np.ones(X64.shape[0])
        with v.thread_limit(self._n_threads):
            return assign(X64, weights, self._centers64())[0]

    def transform(self, X):
        """Euclidean distance of each sample to each centre.

        Parameters
        ----------
        X : (n_samples, n_features) array-like

        Returns
        -------
        distances : (n_samples, n_clusters) ndarray, of the dtype of ``X``.
        """
        X, X64 = self._check_test_data(X)
        centers = self._centers64()
        out = np.empty((centers.shape[0], X64.shape[0]))
        with v.thread_limit(self._n_threads):
            sq_distances(centers, X64, out)
        return np.sqrt(out.T).astype(X.dtype)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the weighted inertia of ``X`` on the fitted centres.

        Parameters
        ----------
        X : (n_samples, n_features) array-like
        y : Ignored
        sample_weight : (n_samples,) array-like, default=None

        Returns
        -------
        score : float
        """
        X, X64 = self._check_test_data(X)
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        with v.thread_limit(self._n_threads):
            return -assign(X64, weights, self._centers64())[2]
