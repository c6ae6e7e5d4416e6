"""Choosing k: the knee, the sweep's scores, and n_clusters='auto'."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

import kmseg
from kmseg import KneeWarning, find_knee

from images import quadrants


@pytest.mark.parametrize(
    "y",
    [
        [100, 30, 8, 6, 5, 4.5, 4.2, 4.0],
        [1.0 / k for k in range(1, 11)],
        [500, 300, 120, 100, 90, 85, 82, 80, 79, 78],
    ],
)
def test_linear_knee_matches_kneed_on_clean_curves(y):
    """The core is Kneedle's: on clean convex curves, the kneed package's answer."""
    kneed = pytest.importorskip("kneed")
    x = np.arange(1, len(y) + 1)
    expected = kneed.KneeLocator(x, y, curve="convex", direction="decreasing").knee
    assert find_knee(x, y, log=False).k == expected


@pytest.mark.parametrize(
    "log_y",
    [[5, 3, 1.5, 1.0, 0.8, 0.7, 0.65, 0.62], [9, 8, 7, 4, 3.8, 3.7, 3.65, 3.6, 3.58]],
)
def test_log_knee_is_kneedle_on_the_log_curve(log_y):
    kneed = pytest.importorskip("kneed")
    x = np.arange(1, len(log_y) + 1)
    expected = kneed.KneeLocator(x, log_y, curve="convex", direction="decreasing").knee
    assert find_knee(x, np.exp(log_y)).k == expected


def test_knee_ignores_noise_that_goes_up():
    # a restart stuck in a worse minimum at k=5 must not move the answer
    x = np.arange(1, 9)
    clean = np.array([100, 30, 8, 6, 5, 4.5, 4.2, 4.0])
    noisy = clean.copy()
    noisy[4] = 9.0
    assert find_knee(x, noisy).k == find_knee(x, clean).k == 3


def test_knee_with_flat_tail_of_zeros():
    # an image of exactly 3 colours: WCSS reaches 0 at k=3 and stays there
    assert find_knee(range(1, 11), [90, 40, 0, 0, 0, 0, 0, 0, 0, 0]).k == 3


def test_straight_line_has_no_clear_knee_but_an_answer():
    with pytest.warns(KneeWarning, match="no clear knee"):
        knee = find_knee(range(1, 9), [8, 7, 6, 5, 4, 3, 2, 1])
    assert not knee.clear and 1 <= knee.k <= 8


@pytest.mark.parametrize("y", [[5, 5, 5, 5], [1, 2, 3, 4]])
def test_flat_or_rising_curve_answers_smallest_k(y):
    with pytest.warns(KneeWarning, match="does not decrease"):
        assert find_knee(range(2, 6), y).k == 2


def test_too_few_points():
    with pytest.warns(KneeWarning, match="fewer than 3 points"):
        assert find_knee([1, 2], [10, 1]).k == 1


def test_knee_input_errors():
    with pytest.raises(ValueError, match="strictly increasing"):
        find_knee([1, 1, 2], [3, 2, 1])
    with pytest.raises(ValueError, match="finite"):
        find_knee([1, 2, 3], [3, np.nan, 1])


@pytest.mark.parametrize("true_k", [2, 3, 4, 5, 6])
def test_elbow_finds_known_k_of_blobs(true_k):
    X, _ = make_blobs(n_samples=600, centers=true_k, cluster_std=0.6, center_box=(-20, 20), random_state=0)
    curve = kmseg.elbow(X, range(1, 11))
    assert curve.best_k == true_k
    assert curve.knee.clear


def test_scores_match_scikit_learn_on_repeated_samples():
    rng = np.random.default_rng(0)
    X, _ = make_blobs(n_samples=200, centers=3, random_state=1)
    w = rng.integers(1, 4, size=len(X))
    with pytest.warns(KneeWarning, match="fewer than 3 points"):  # one k: nothing to choose
        weighted = kmseg.elbow(X, [3], sample_weight=w, silhouette_samples=10**6)
    repeated = np.repeat(X, w, axis=0)
    labels = kmseg.KMeans(3, n_init=4, random_state=0).fit(X, sample_weight=w).predict(repeated)
    assert weighted.calinski_harabasz[0] == pytest.approx(calinski_harabasz_score(repeated, labels), rel=1e-9)
    assert weighted.davies_bouldin[0] == pytest.approx(davies_bouldin_score(repeated, labels), rel=1e-9)
    # fewer points than silhouette_samples: every point, exactly
    assert weighted.silhouette_samples == len(repeated)
    assert weighted.silhouette[0] == pytest.approx(silhouette_score(repeated, labels), rel=1e-9)


def test_image_sweep_wcss_equals_segment_inertia():
    img = quadrants(noise=20)
    curve = kmseg.elbow(img, range(1, 7))
    for k, wcss in zip(curve.k, curve.wcss):
        assert wcss == pytest.approx(kmseg.segment(img, int(k)).inertia, rel=1e-12)
    assert np.all(np.isnan(curve.calinski_harabasz[:1]))
    assert curve.silhouette_samples == 2000  # drawn from the 2,400 pixels
    assert curve.best_k == 4
    assert "<- chosen" in curve.table()


def test_segment_auto_chooses_four_quadrants_and_says_why():
    seg = kmseg.segment(quadrants(), "auto")
    assert seg.n_clusters == 4
    assert seg.elbow.best_k == 4
    assert "knee" in seg.elbow.knee.reason
    assert_allclose(seg.inertia, seg.elbow.wcss[3])


def test_auto_on_an_image_with_two_colours():
    img = np.zeros((10, 10, 3), np.uint8)
    img[5:] = 250
    seg = kmseg.segment(img, "auto")
    assert seg.n_clusters == 2


def test_elbow_warns_when_k_range_exceeds_distinct_points():
    X = np.repeat(np.eye(3), 5, axis=0)
    with pytest.warns(kmseg.KmsegWarning, match="only 3 distinct points"):
        curve = kmseg.elbow(X, range(1, 6))
    assert curve.k.tolist() == [1, 2, 3]


@pytest.mark.parametrize("k_range, match", [([], "k_range is empty"), (["a"], "iterable of integers"),
                                             ([0, 1], "k in k_range=0 must be >= 1")])
def test_elbow_bad_k_range(k_range, match):
    with pytest.raises(kmseg.KmsegError, match=match):
        kmseg.elbow(np.random.default_rng(0).normal(size=(20, 2)), k_range)


def test_quantize_max_error_is_the_fewest_colours():
    from sklearn.datasets import load_sample_image

    img = np.asarray(load_sample_image("flower.jpg"))[::8, ::8]
    q = kmseg.quantize(img, max_error=6.0)
    n = len(q.palette)
    assert q.mean_error <= 6.0
    assert kmseg.color_error(img, q.image) == pytest.approx(q.mean_error, rel=1e-9)
    fewer = kmseg.quantize(img, n - 1, color_space="lab")
    assert kmseg.color_error(img, fewer.image) > 6.0


def test_quantize_max_error_unreachable_warns():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    with pytest.warns(kmseg.KmsegWarning, match="is not reached with n_colors=4"):
        q = kmseg.quantize(img, 4, max_error=0.01)
    assert len(q.palette) == 4


def test_silhouette_from_distances_equals_scikit_learn():
    """The sweep's silhouette from the sampled points' distances (computed once for
    every k) is scikit-learn's silhouette_score, singletons and duplicates included."""
    from sklearn.metrics import pairwise_distances

    from kmseg.choose._sweep import _silhouette_of_distances

    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(size=(300, 3)) * 5, np.zeros((4, 3)), [[50.0, 50, 50]]])
    D = pairwise_distances(X)
    for k in (2, 3, 7):
        labels = rng.integers(0, k, size=len(X)) * 3  # labels need not be 0..k-1
        labels[-1] = 99  # a cluster of one point
        assert _silhouette_of_distances(D, labels) == pytest.approx(silhouette_score(X, labels), rel=1e-9)
