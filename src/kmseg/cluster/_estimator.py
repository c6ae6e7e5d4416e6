"""The scikit-learn compatible weighted k-means estimator."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import _validation as v
from .._params import DEFAULT_MAX_ITER, DEFAULT_TOL
from ._fit import fit_weighted
from ._held import lloyd_held
from ._kernels import sq_distances
from ._lloyd import assign, initial_centers, summary

#: Largest dense copy (bytes) made of sparse input: kmseg's kernels work on dense rows.
MAX_DENSE_BYTES = 2 << 30


def check_data(estimator, X, reset=True):
    """``X`` validated as scikit-learn does (dense or sparse CSR/CSC/COO), as float32 or
    float64; sparse input made dense, within :data:`MAX_DENSE_BYTES`."""
    X = validate_data(estimator, X, dtype=[np.float64, np.float32], order="C",
                      accept_sparse=["csr", "csc", "coo"], reset=reset)
    if hasattr(X, "toarray"):
        size = X.shape[0] * X.shape[1] * X.dtype.itemsize
        if size > MAX_DENSE_BYTES:
            raise v.KmsegError(f"sparse X of shape {X.shape} would take {size / 2**30:.1f} GiB dense; kmseg "
                               f"clusters dense rows (at most {MAX_DENSE_BYTES / 2**30:.0f} GiB)")
        X = np.ascontiguousarray(X.toarray())
    return X


class KMeans(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """Weighted k-means clustering, exact and fast on low-dimensional data.

    Lloyd's algorithm from greedy k-means++ seeding, with exact sample weights:
    a sample of weight ``m`` counts as ``m`` copies of it, so a colour histogram
    clusters to the same result as every pixel it counts. A drop-in for
    :class:`sklearn.cluster.KMeans`: the same parameters, attributes and
    warnings, dense and sparse input.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'k-means++', 'random'}, callable or (n_clusters, n_features) array-like, default='k-means++'
        Seeding: greedy weighted k-means++, ``n_clusters`` samples drawn by weight,
        ``init(X, n_clusters, random_state)`` returning the centres (``random_state``
        a RandomState), or the given centres.
    n_init : 'auto' or int, default='auto'
        Seeded runs; the one of lowest inertia is kept. 'auto' means 1 for
        'k-means++' and 10 for 'random' or a callable. Always 1 for an array
        ``init`` (with a RuntimeWarning if more were asked).
    max_iter : int, default=300
        Maximum Lloyd iterations of one run.
    tol : float, default=1e-4
        Convergence when the total squared centre shift is at most ``tol`` times
        the mean (weighted) variance of the features.
    verbose : int, default=0
        Print the seeding, each iteration's inertia and why the run stopped.
    random_state : int, RandomState instance, Generator or None, default=None
        Seed of the seeding; an int makes results reproducible.
    copy_x : bool, default=True
        Accepted for scikit-learn's signature: kmseg never writes to ``X``.
    algorithm : {'auto', 'lloyd', 'elkan', 'coarse-to-fine'}, default='auto'
        'lloyd' (and 'elkan', the same here: Lloyd's iterations with Hamerly's
        bounds, exact as both) runs every restart on all samples.
        'coarse-to-fine' starts each restart on a coarse version of the data and
        refines it there, then on all samples: for at most 3 features, samples
        pooled into a grid, refined on finer poolings and (up to 200,000 samples)
        on all samples, the restart of lowest inertia refined on all samples; for
        more, ``8 * n_init`` restarts on a uniform sample of a tenth of the
        samples, the best ``min(n_init, 3)`` iterated on all samples to
        ``tol / 100``. Either way the result is a converged solution of the same,
        exact objective.
        'auto' picks coarse-to-fine for at least 20,000 samples.
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
    feature_names_in_ : (n_features_in_,) ndarray of str
        Names of the features, when ``X`` had them (a DataFrame).

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
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="auto",
        n_threads=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.n_threads = n_threads

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags

    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering.

        Parameters
        ----------
        X : (n_samples, n_features) array-like or sparse matrix
            Training data (sparse input is clustered as its dense rows).
        y : Ignored
        sample_weight : (n_samples,) array-like, default=None
            Non-negative weights; None weighs every sample 1.

        Returns
        -------
        self : KMeans
            The fitted estimator.
        """
        X = check_data(self, X)
        n_samples, n_features = X.shape
        k = v.check_int("n_clusters", self.n_clusters)
        if k > n_samples:
            raise v.KmsegError(f"n_clusters={k} must be <= the number of samples: n_samples={n_samples} "
                               f"should be >= n_clusters={k}")
        init = v.check_init(self.init, k, n_features)
        n_init = v.check_n_init(self.n_init, init)
        if not (isinstance(init, str) or callable(init)) and self.n_init not in ("auto", 1):
            warnings.warn("Explicit initial center position passed: performing only one init in "
                          f"{type(self).__name__} instead of n_init={self.n_init}.", RuntimeWarning,
                          stacklevel=2)
        self._n_init = n_init
        max_iter = v.check_int("max_iter", self.max_iter)
        tol = v.check_number("tol", self.tol)
        algorithm = v.check_choice("algorithm", self.algorithm, v.ALGORITHMS)
        if algorithm == "elkan" and k == 1:
            warnings.warn("algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
                          RuntimeWarning, stacklevel=2)
        self._algorithm = "lloyd" if algorithm == "elkan" else algorithm
        self._n_threads = v.resolve_n_threads(self.n_threads)
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)

        X64 = np.ascontiguousarray(X, dtype=np.float64)
        with v.thread_limit(self._n_threads):
            if callable(init) or self.verbose:
                run = self._fit_runs(X64, weights, k, init, n_init, max_iter, tol)
            else:
                run = fit_weighted(X64, weights, k, init=init, n_init=n_init, max_iter=max_iter, tol=tol,
                                   algorithm=self._algorithm, rng=v.make_rng(self.random_state))
        centers, labels, inertia, n_iter = run

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

    def _fit_runs(self, X, weights, k, init, n_init, max_iter, tol):
        """Seeded runs one by one in Python: for a callable ``init``, and to report each
        iteration (``verbose``). The best run, as :func:`fit_weighted` returns it."""
        rng = check_random_state(self.random_state) if callable(init) else v.make_rng(self.random_state)
        tol_abs = float(np.mean(summary(X, weights)[3]) * tol)
        best = None
        for _ in range(n_init):
            if callable(init):
                centers = v.check_centers(init(X, k, random_state=rng), k, X.shape[1],
                                          "the centres init returned")
            else:
                centers = initial_centers(X, weights, k, init, rng)
            if self.verbose:
                print("Initialization complete")
                run = lloyd_held(X, weights, centers, 0, max_iter, tol_abs, report=print)
            else:
                run = fit_weighted(X, weights, k, init=centers, max_iter=max_iter, tol=tol,
                                   algorithm=self._algorithm)
            if best is None or run[2] < best[2]:
                best = run
        return best

    def _init_centroids(self, X, x_squared_norms, init, random_state, sample_weight, init_size=None,
                        n_centroids=None):
        """Initial centres as scikit-learn's private method of that name computes them
        (its tests call it): ``n_centroids`` (default ``n_clusters``) from ``init``,
        seeded on ``init_size`` samples drawn at random when given."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        weights = np.ascontiguousarray(sample_weight, dtype=np.float64)
        k = self.n_clusters if n_centroids is None else n_centroids
        if init_size is not None and init_size < X.shape[0]:
            rs = check_random_state(random_state)
            keep = rs.randint(0, X.shape[0], init_size)
            X, weights = X[keep], weights[keep]
        if callable(init):
            return v.check_centers(init(X, k, random_state=check_random_state(random_state)), k, X.shape[1],
                                   "the centres init returned")
        if not isinstance(init, str):
            return v.check_centers(init, k, X.shape[1])
        return initial_centers(X, weights, k, init, v.make_rng(random_state))

    @property
    def _n_features_out(self):
        """Number of transformed output features (distances to the centres), for
        :meth:`get_feature_names_out`."""
        return self.cluster_centers_.shape[0]

    def _check_test_data(self, X):
        check_is_fitted(self)
        X = check_data(self, X, reset=False)
        return X, np.ascontiguousarray(X, dtype=np.float64)

    def _centers64(self):
        return np.ascontiguousarray(self.cluster_centers_, dtype=np.float64)

    def predict(self, X):
        """Index of the nearest centre of each sample.

        Parameters
        ----------
        X : (n_samples, n_features) array-like or sparse matrix

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
