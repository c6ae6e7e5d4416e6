"""The KMeans estimator: scikit-learn's contract and exact weights."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from kmseg import KMeans, KmsegError, MiniBatchKMeans

import naive


def _expected_failures(estimator):
    """What scikit-learn expects of its own MiniBatchKMeans too: random batches make
    weights and repeated samples draw differently."""
    if not isinstance(estimator, MiniBatchKMeans):
        return {}
    why = "mini-batches are drawn at random: sample_weight is not equivalent to repeating samples"
    return {"check_sample_weight_equivalence_on_dense_data": why,
            "check_sample_weight_equivalence_on_sparse_data": why}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks([KMeans(), KMeans(n_clusters=3, algorithm="coarse-to-fine", n_init=2), MiniBatchKMeans()],
                         expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _blobs(n=600, d=3, centers=4, seed=0):
    X, y = make_blobs(n_samples=n, n_features=d, centers=centers, cluster_std=1.0, random_state=seed)
    return X, y


@pytest.mark.parametrize("algorithm", ["lloyd", "coarse-to-fine"])
def test_weighted_equals_repeated_even_shuffled(algorithm):
    X, _ = _blobs(n=500)
    rng = np.random.default_rng(0)
    w = rng.integers(0, 4, size=len(X))
    Xr = np.repeat(X, w, axis=0)
    perm = rng.permutation(len(X))
    a = KMeans(5, random_state=3, algorithm=algorithm).fit(X[perm], sample_weight=w[perm])
    b = KMeans(5, random_state=3, algorithm=algorithm).fit(Xr)
    assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-10)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-10)
    assert_array_equal(a.predict(X), b.predict(X))


def test_no_weights_equals_ones_and_scaling_changes_nothing():
    X, _ = _blobs()
    ref = KMeans(4, random_state=1).fit(X)
    ones = KMeans(4, random_state=1).fit(X, sample_weight=np.ones(len(X)))
    scaled = KMeans(4, random_state=1).fit(X, sample_weight=np.full(len(X), 3.5))
    assert_allclose(ones.cluster_centers_, ref.cluster_centers_)
    assert_allclose(scaled.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    assert_array_equal(scaled.labels_, ref.labels_)
    assert scaled.inertia_ == pytest.approx(3.5 * ref.inertia_, rel=1e-12)


def test_zero_weight_samples_equal_removed_ones():
    X, _ = _blobs()
    w = np.ones(len(X))
    w[::3] = 0
    a = KMeans(4, random_state=2).fit(X, sample_weight=w)
    b = KMeans(4, random_state=2).fit(X[w > 0])
    assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)


def test_finds_the_blobs():
    X, y = make_blobs(n_samples=800, centers=[[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]],
                      cluster_std=1.0, random_state=0)
    km = KMeans(4, random_state=0, n_init=3).fit(X)
    # each true blob maps to exactly one cluster
    table = np.zeros((4, 4), int)
    np.add.at(table, (y, km.labels_), 1)
    assert np.all((table > 0).sum(1) == 1)
    assert_array_equal(km.labels_, km.predict(X))
    assert km.score(X) == pytest.approx(-km.inertia_)


def test_converged_result_is_a_lloyd_fixed_point():
    X, _ = _blobs(n=400, d=2, centers=6, seed=4)
    km = KMeans(6, tol=0, random_state=0).fit(X)
    assert_allclose(naive.lloyd(X, np.ones(len(X)), km.cluster_centers_, 1), km.cluster_centers_)
    d2 = naive.sq_distances(km.cluster_centers_, X).min(0)
    assert km.inertia_ == pytest.approx(d2.sum(), rel=1e-12)


def test_more_restarts_never_worse():
    X, _ = _blobs(n=500, centers=8, seed=5)
    one = KMeans(8, n_init=1, random_state=0).fit(X)
    ten = KMeans(8, n_init=10, random_state=0).fit(X)
    assert ten.inertia_ <= one.inertia_ + 1e-9  # the first run of ten is the run of one


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes(dtype):
    X, _ = _blobs()
    km = KMeans(3, random_state=0).fit(X.astype(dtype))
    assert km.cluster_centers_.dtype == dtype
    assert km.transform(X.astype(dtype)).dtype == dtype
    assert km.labels_.dtype == np.int32


def test_empty_clusters_are_relocated_never_nan():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    init = np.array([[0.0, 0.0], [100.0, 100.0], [200.0, 200.0]])  # two centres start empty
    km = KMeans(3, init=init).fit(X)
    assert np.all(np.isfinite(km.cluster_centers_))
    assert len(np.unique(km.labels_)) == 3


def test_duplicate_points_warn_fewer_distinct_clusters():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    with pytest.warns(ConvergenceWarning, match="Number of distinct clusters"):
        km = KMeans(3, random_state=0).fit(X)
    assert np.all(np.isfinite(km.cluster_centers_))


def test_threads_do_not_change_results():
    from kmseg._parallel import MAX_THREADS

    X, _ = _blobs(n=20_000, centers=6, seed=7)
    a = KMeans(6, random_state=0, n_threads=1).fit(X)
    b = KMeans(6, random_state=0, n_threads=MAX_THREADS).fit(X)
    assert_array_equal(a.labels_, b.labels_)
    assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_coarse_to_fine_reaches_a_converged_solution():
    X, y = _blobs(n=60_000, d=3, centers=5, seed=8)
    c2f = KMeans(5, algorithm="coarse-to-fine", random_state=0, tol=0, n_init=4).fit(X)
    assert_allclose(naive.lloyd(X, np.ones(len(X)), c2f.cluster_centers_, 1), c2f.cluster_centers_)
    truth = sum(((X[y == c] - X[y == c].mean(0)) ** 2).sum() for c in range(5))
    assert c2f.inertia_ <= truth * 1.001


def test_digits_high_dimensional():
    X, y = load_digits(return_X_y=True)
    km = KMeans(10, n_init=10, random_state=0).fit(X)
    # majority-vote accuracy of clusters as digit classes
    correct = sum(np.bincount(y[km.labels_ == c]).max() for c in range(10))
    assert correct / len(y) > 0.77  # scikit-learn's KMeans reaches about 0.79
    assert km.cluster_centers_.shape == (10, 64)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "n_clusters=0 must be >= 1"),
        ({"n_clusters": 2.5}, "n_clusters=2.5 must be an integer"),
        ({"n_clusters": 1000}, "n_clusters=1000 must be <= the number of samples"),
        ({"n_init": 0}, "n_init=0 must be >= 1"),
        ({"max_iter": -1}, "max_iter=-1 must be >= 1"),
        ({"tol": -1.0}, "tol=-1.0 must be a finite number"),
        ({"init": "best"}, "init='best' must be one of"),
        ({"init": np.zeros((2, 3))}, r"initial centers \(2, 3\) does not match the number of clusters 3"),
        ({"algorithm": "hamerly"}, "algorithm=.hamerly. must be one of"),
    ],
)
def test_bad_parameters(params, match):
    X, _ = _blobs(n=100)
    params = {"n_clusters": 3, **params}
    with pytest.raises(KmsegError, match=match):
        KMeans(**params).fit(X)


def test_bad_weights():
    X, _ = _blobs(n=50)
    with pytest.raises(ValueError, match="Negative values in data passed to `?sample_weight"):
        KMeans(2).fit(X, sample_weight=-np.ones(50))
    with pytest.raises(ValueError, match="at least one non-zero"):
        KMeans(2).fit(X, sample_weight=np.zeros(50))


def test_image_fit_equals_estimator():
    """The fit the image functions use (no estimator, no scikit-learn) gives the
    estimator's result bit for bit, on both algorithms."""
    from kmseg._params import FitParams
    from kmseg.cluster._fit import fit

    rng = np.random.default_rng(11)
    for n in (500, 30_000):  # below and above the coarse-to-fine threshold
        X = rng.normal(size=(n, 3)) * (40, 20, 10)
        w = rng.integers(1, 5, size=n).astype(np.float64)
        params = dict(n_init=3, max_iter=100, tol=1e-4, random_state=5, n_threads=None)
        got = fit(X, w, 6, FitParams.check(**params))
        est = KMeans(6, **params).fit(X, sample_weight=w)
        np.testing.assert_array_equal(got.cluster_centers_, est.cluster_centers_)
        np.testing.assert_array_equal(got.labels_, est.labels_)
        assert got.inertia_ == est.inertia_ and got.n_iter_ == est.n_iter_


def test_scikit_learn_parameters_and_inputs(capsys):
    """What a user of scikit-learn's KMeans passes works the same: sparse rows, a
    callable init, verbose, copy_x, algorithm='elkan', and the warnings."""
    import scipy.sparse as sp
    from sklearn.exceptions import ConvergenceWarning

    X, _ = _blobs(n=300)
    dense = KMeans(4, random_state=0, algorithm="lloyd").fit(X)
    sparse = KMeans(4, random_state=0, algorithm="elkan", copy_x=False).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.cluster_centers_, dense.cluster_centers_)
    np.testing.assert_array_equal(sparse.predict(sp.csr_matrix(X[:7])), dense.labels_[:7])

    def init(data, k, random_state):
        return data[random_state.permutation(len(data))[:k]]

    km = KMeans(4, init=init, n_init=2, random_state=0, verbose=1).fit(X)
    out = capsys.readouterr().out
    assert out.count("Initialization complete") == 2 and "Iteration 0, inertia" in out
    assert "Converged at iteration" in out and km.inertia_ <= 1.001 * dense.inertia_
    assert km.get_feature_names_out().tolist() == ["kmeans0", "kmeans1", "kmeans2", "kmeans3"]
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        KMeans(4, init=dense.cluster_centers_, n_init=3).fit(X)
    with pytest.warns(RuntimeWarning, match="doesn't make sense for a single cluster"):
        KMeans(1, algorithm="elkan").fit(X)
    with pytest.warns(ConvergenceWarning, match=r"Number of distinct clusters \(3\)"):
        KMeans(4, random_state=0).fit(np.array([[0.0, 0], [0, 1], [1, 0], [1, 0]]))


def test_minibatch_step_is_its_naive_twin():
    from naive import naive_minibatch_step

    from kmseg.cluster._kernels import minibatch_step

    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 5))
    weights = rng.integers(0, 4, 500).astype(float)
    centers = X[:6].copy()
    counts = rng.integers(0, 30, 6).astype(float)
    batch = rng.integers(0, 500, 64).astype(np.intp)
    want = naive_minibatch_step(X, batch, weights, centers, counts)
    inertia, weight, shift = minibatch_step(X, batch, weights, centers, counts, np.empty((6, 5)), np.empty(6))
    np.testing.assert_allclose(centers, want[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(counts, want[1])
    np.testing.assert_allclose([inertia, weight, shift], want[2:], rtol=1e-12)


def test_minibatch_kmeans_finishes_exact_and_streams():
    from kmseg import MiniBatchKMeans

    X, _ = _blobs(n=3000, d=3, centers=6)
    exact = KMeans(6, random_state=0).fit(X)
    mb = MiniBatchKMeans(6, random_state=0, batch_size=256).fit(X)
    rough = MiniBatchKMeans(6, random_state=0, batch_size=256, refine=False).fit(X)
    assert mb.inertia_ <= rough.inertia_ and mb.inertia_ <= 1.001 * exact.inertia_
    np.testing.assert_array_equal(mb.predict(X), mb.labels_)
    # weights are exact: integer weights equal repeated samples in the finish
    w = np.random.default_rng(0).integers(1, 3, len(X))
    a = MiniBatchKMeans(6, init=exact.cluster_centers_, refine=True, max_iter=5).fit(X, sample_weight=w)
    assert a.cluster_centers_.shape == (6, 3)
    stream = MiniBatchKMeans(6, random_state=0)
    for part in np.array_split(X, 10):
        stream.partial_fit(part)
    assert stream.n_steps_ == 10 and stream.inertia_ < 3 * exact.inertia_ / 10
