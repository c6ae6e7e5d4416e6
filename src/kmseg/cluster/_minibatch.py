"""Mini-batch k-means, scikit-learn's ``MiniBatchKMeans`` interface, with batch draws
that cost the batch only and an exact finish."""

import math
import warnings

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight

from .. import _validation as v
from .._params import DEFAULT_TOL
from ._estimator import KMeans, check_data
from ._kernels import minibatch_step
from ._lloyd import assign, summary

#: Seeded samples per ``batch_size`` when ``init_size`` is None (scikit-learn's rule).
INIT_SIZE_BATCHES = 3
#: Restarts for n_init='auto' with 'random' or a callable init (scikit-learn's default).
DEFAULT_N_INIT = 3


class MiniBatchKMeans(KMeans):
    """k-means by mini-batches, for data that arrives in pieces or is too large to sweep.

    Each step draws ``batch_size`` samples uniformly at random (a cost of the
    batch, not of the data set), assigns them to their nearest centre and moves
    each centre towards the weighted mean of its samples with a step of its
    batch weight over all the weight it has seen (Sculley 2010); centres that
    see very little are moved onto samples of the batch. Sample weights are
    exact in the updates. ``fit`` then, by default, finishes with exact Lloyd
    iterations on all samples from the mini-batch centres (kmseg's engine), so
    the inertia can only fall: the k-means answer of all the data, quickly.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means++', 'random'}, callable or (n_clusters, n_features) array-like, default='k-means++'
        As for :class:`KMeans`, seeded on ``init_size`` samples.
    max_iter : int, default=100
        Most passes over the data (``max_iter * n_samples // batch_size`` steps).
    batch_size : int, default=1024
    verbose : int, default=0
    compute_labels : bool, default=True
        Label every sample (``labels_``, ``inertia_``) after ``fit`` and each
        ``partial_fit``.
    random_state : int, RandomState instance, Generator or None, default=None
    tol : float, default=0.0
        Stop when the total squared centre shift of a step is at most ``tol``
        times the mean variance of the features (0: never on this ground).
    max_no_improvement : int or None, default=10
        Stop after this many steps without a lower smoothed batch inertia; None
        never stops on this ground.
    init_size : int or None, default=None
        Samples the seeding runs on: ``3 * batch_size`` when None (at least
        ``3 * n_clusters``, at most all).
    n_init : 'auto' or int, default='auto'
        Seedings tried (on the same ``init_size`` samples), the best kept: 1 for
        'k-means++' and an array, 3 for 'random' and a callable when 'auto'.
    reassignment_ratio : float, default=0.01
        A centre whose seen weight is below this share of the largest one moves
        onto a sample of the batch (every time ``10 * n_clusters`` samples have
        been drawn).
    refine : bool, default=True
        ``fit`` finishes with exact Lloyd iterations on all samples (``max_iter``
        at most, to convergence at ``tol``, or at :class:`KMeans`' default 1e-4
        when ``tol`` is 0). False gives the mini-batch centres as they are, as
        scikit-learn does.
    n_threads : int or None, default=None

    Attributes
    ----------
    cluster_centers_ : (n_clusters, n_features) ndarray
    labels_ : (n_samples,) int32 ndarray
        With ``compute_labels``.
    inertia_ : float
        With ``compute_labels``: the weighted sum of squared distances to the
        centres of all samples of the last ``fit`` or ``partial_fit`` data.
    n_iter_ : int
        Passes over the data started by the mini-batch steps.
    n_steps_ : int
        Mini-batch steps.
    n_features_in_ : int
    feature_names_in_ : (n_features_in_,) ndarray of str

    See Also
    --------
    KMeans : every sample in every iteration, exact.
    sklearn.cluster.MiniBatchKMeans : the reference implementation.

    Examples
    --------
    >>> import numpy as np
    >>> from kmseg import MiniBatchKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 0], [4, 4],
    ...               [4, 5], [0, 1], [2, 2], [3, 2], [5, 5], [1, -1]])
    >>> km = MiniBatchKMeans(n_clusters=2, random_state=0, batch_size=6).fit(X)
    >>> km.cluster_centers_.shape, len(km.labels_)
    ((2, 2), 12)
    >>> stream = MiniBatchKMeans(n_clusters=2, random_state=0)
    >>> for part in (X[:6], X[6:]):
    ...     stream = stream.partial_fit(part)
    >>> stream.n_steps_
    2
    """

    def __init__(self, n_clusters=8, *, init="k-means++", max_iter=100, batch_size=1024, verbose=0,
                 compute_labels=True, random_state=None, tol=0.0, max_no_improvement=10, init_size=None,
                 n_init="auto", reassignment_ratio=0.01, refine=True, n_threads=None):
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.compute_labels = compute_labels
        self.random_state = random_state
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio
        self.refine = refine
        self.n_threads = n_threads

    # -- parameters ------------------------------------------------------------------

    def _check_params(self, X, sample_weight, reset):
        X = check_data(self, X, reset=reset)
        n_samples, n_features = X.shape
        k = v.check_int("n_clusters", self.n_clusters)
        if k > n_samples and reset:
            raise v.KmsegError(f"n_clusters={k} must be <= the number of samples: n_samples={n_samples} "
                               f"should be >= n_clusters={k}")
        self._init = v.check_init(self.init, k, n_features)
        self._n_init = v.check_n_init(self.n_init, self._init, default=DEFAULT_N_INIT)
        if not (isinstance(self._init, str) or callable(self._init)) and self.n_init not in ("auto", 1):
            warnings.warn("Explicit initial center position passed: performing only one init in "
                          f"{type(self).__name__} instead of n_init={self.n_init}.", RuntimeWarning,
                          stacklevel=3)
        self._max_iter = v.check_int("max_iter", self.max_iter)
        self._batch_size = min(v.check_int("batch_size", self.batch_size), n_samples)
        v.check_number("tol", self.tol)
        if self.max_no_improvement is not None:
            v.check_int("max_no_improvement", self.max_no_improvement, minimum=0)
        v.check_number("reassignment_ratio", self.reassignment_ratio)
        init_size = self.init_size
        if init_size is None:
            init_size = INIT_SIZE_BATCHES * self._batch_size
            if init_size < k:
                init_size = 3 * k
        else:
            init_size = v.check_int("init_size", init_size)
            if init_size < k:
                warnings.warn(f"init_size={init_size} should be larger than n_clusters={k}. Setting it to "
                              f"min(3*n_clusters, n_samples)", RuntimeWarning, stacklevel=3)
                init_size = 3 * k
        self._init_size = min(init_size, n_samples)
        self._n_threads = v.resolve_n_threads(self.n_threads)
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        return X, weights, k

    def _random_state(self):
        """A RandomState from ``random_state`` (a Generator seeds one): the batch draws and
        reassignments use RandomState's calls, as scikit-learn's do."""
        seed = self.random_state
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**31 - 1))
        return check_random_state(seed)

    # -- the steps -------------------------------------------------------------------

    def _seed(self, X, weights, k, rng):
        """The best of ``_n_init`` seedings on ``_init_size`` samples drawn at random, by
        their inertia on those samples."""
        keep = rng.randint(0, X.shape[0], self._init_size)
        Xs, ws = X[keep], weights[keep]
        if ws.sum() <= 0:  # the draw hit only samples of weight 0: seed on all of them
            Xs, ws = X, weights
        best = None
        for _ in range(self._n_init):
            centers = self._init_centroids(Xs, None, self._init, rng, ws, n_centroids=k)
            centers = np.ascontiguousarray(centers, dtype=np.float64)
            inertia = assign(Xs, ws, centers)[2]
            if self.verbose:
                print(f"Inertia for init {_ + 1}/{self._n_init}: {inertia}")
            if best is None or inertia < best[0]:
                best = (inertia, centers)
        return best[1]

    def _step(self, X, weights, batch, rng):
        """One mini-batch update of ``self._centers`` and ``self._counts`` from the rows
        ``batch`` of ``X``; returns the batch's weighted inertia before the update, its
        weight and the squared centre shift."""
        k, d = self._centers.shape
        inertia, weight, shift = minibatch_step(X, batch, weights, self._centers, self._counts, np.empty((k, d)),
                                                np.empty(k))
        self._seen += len(batch)
        if self.reassignment_ratio > 0 and self._seen >= 10 * k:
            self._seen = 0
            self._reassign(X, weights, batch, rng)
        return inertia, weight, shift

    def _reassign(self, X, weights, batch, rng):
        """Centres that have seen less than ``reassignment_ratio`` of the most-seen one's
        weight move onto samples of the batch, drawn by weight (the batch's rows are
        gathered only then)."""
        counts = self._counts
        low = np.flatnonzero(counts < self.reassignment_ratio * counts.max())
        if not len(low):
            return
        Xb, wb = X[batch], weights[batch]
        if wb.sum() <= 0:
            return
        if len(low) > 0.5 * len(Xb):  # at most half the batch: keep the best-fed of the low ones
            low = low[np.argsort(counts[low], kind="stable")[::-1][: int(0.5 * len(Xb))]]
        p = wb / wb.sum()
        pick = rng.choice(len(Xb), size=len(low), replace=np.count_nonzero(p) < len(low), p=p)
        self._centers[low] = Xb[pick]
        kept = np.setdiff1d(np.arange(len(counts)), low)
        counts[low] = counts[kept].min() if len(kept) else 0.0
        if self.verbose:
            print(f"[MiniBatchKMeans] Reassigning {len(low)} cluster centers.")

    # -- the public methods ------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Compute the centres by mini-batch steps (then, with ``refine``, exact Lloyd).

        Parameters
        ----------
        X : (n_samples, n_features) array-like or sparse matrix
        y : Ignored
        sample_weight : (n_samples,) array-like, default=None

        Returns
        -------
        self : MiniBatchKMeans
        """
        X, weights, k = self._check_params(X, sample_weight, reset=True)
        X64 = np.ascontiguousarray(X, dtype=np.float64)
        rng = self._rng = self._random_state()  # partial_fit goes on drawing from it
        n, b = X64.shape[0], self._batch_size
        tol_abs = float(np.mean(summary(X64, weights)[3]) * self.tol)
        with v.thread_limit(self._n_threads):
            self._centers = self._seed(X64, weights, k, rng)
            self._counts = np.zeros(k)
            self._seen = 0
            n_steps = (self._max_iter * n) // b
            ewa, best, stale = None, np.inf, 0
            alpha = min(1.0, 2.0 * b / (n + 1))
            step = 0
            for step in range(1, n_steps + 1):
                batch = rng.randint(0, n, b).astype(np.intp)
                inertia, weight, shift = self._step(X64, weights, batch, rng)
                mean = inertia / max(weight, np.finfo(float).tiny)
                ewa = mean if ewa is None else ewa * (1 - alpha) + mean * alpha
                if self.verbose:
                    print(f"Minibatch step {step}/{n_steps}: mean batch inertia: {mean}, ewa inertia: {ewa}")
                if self.tol > 0 and shift <= tol_abs:
                    if self.verbose:
                        print(f"Converged (small centers change) at step {step}/{n_steps}")
                    break
                if ewa < best:
                    best, stale = ewa, 0
                else:
                    stale += 1
                if self.max_no_improvement is not None and stale >= self.max_no_improvement:
                    if self.verbose:
                        print(f"Converged (lack of improvement in inertia) at step {step}/{n_steps}")
                    break
            self.n_steps_ = int(step)
            self.n_iter_ = int(math.ceil(step * b / n))
            centers = self._centers
            if self.refine:
                from ._fit import fit_weighted
                from ._held import lloyd_held

                # KMeans' tolerance where the mini-batch steps have none: strict convergence
                # would spend most of the time on the last 0.5% of inertia
                refine_tol = tol_abs if self.tol > 0 else float(np.mean(summary(X64, weights)[3]) * DEFAULT_TOL)
                if self.verbose:
                    run = lloyd_held(X64, weights, centers, 0, self._max_iter, refine_tol, report=print)
                else:  # KMeans' engine from these centres (coarse-to-fine on many low-dimensional samples)
                    run = fit_weighted(X64, weights, k, init=centers, max_iter=self._max_iter,
                                       tol=self.tol if self.tol > 0 else DEFAULT_TOL)
                centers, self._refine_iter = run[0], run[3]
            self._centers = np.ascontiguousarray(centers)
            self.cluster_centers_ = self._centers.astype(X.dtype)
            if self.compute_labels:
                self.labels_, _, self.inertia_ = assign(X64, weights, self._centers)
        return self

    def partial_fit(self, X, y=None, sample_weight=None):
        """One mini-batch step on ``X`` (seeded from it on the first call).

        Parameters
        ----------
        X : (n_samples, n_features) array-like or sparse matrix
        y : Ignored
        sample_weight : (n_samples,) array-like, default=None

        Returns
        -------
        self : MiniBatchKMeans
        """
        first = not hasattr(self, "cluster_centers_")
        X, weights, k = self._check_params(X, sample_weight, reset=first)
        X64 = np.ascontiguousarray(X, dtype=np.float64)
        if first:
            self._rng = self._random_state()
            if k > X64.shape[0]:
                raise v.KmsegError(f"n_clusters={k} must be <= the number of samples of the first "
                                   f"partial_fit: n_samples={X64.shape[0]} should be >= n_clusters={k}")
        with v.thread_limit(self._n_threads):
            if first:
                self._centers = self._seed(X64, weights, k, self._rng)
                self._counts = np.zeros(k)
                self._seen = 0
                self.n_steps_ = 0
            self._step(X64, weights, np.arange(X64.shape[0], dtype=np.intp), self._rng)
            self.n_steps_ += 1
            self.n_iter_ = self.n_steps_
            self.cluster_centers_ = self._centers.astype(X.dtype)
            if self.compute_labels:
                self.labels_, _, self.inertia_ = assign(X64, weights, self._centers)
        return self
