"""Choosing k: the knee, the sweep's scores, and n_clusters='auto'."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

import kmseg
from kmseg import KneeWarning, find_knee

from images import quadrants


def _curve(shares, top=100.0):
    """A curve with the given drops: step k removes shares[k-1] of what is left."""
    return top * np.concatenate([[1.0], np.cumprod(1.0 - np.asarray(shares))])


@pytest.mark.parametrize(
    "shares, expected",
    [
        ([0.6, 0.5, 0.25, 0.2, 0.1, 0.1, 0.1], 3),  # the first step under 30%
        ([0.6, 0.5, 0.35, 0.29, 0.2, 0.1, 0.1], 4),  # 35% is not flat
        ([0.6, 0.5, 0.25, 0.05, 0.05, 0.05, 0.05], 4),  # the step after is under a third: passed over
        ([0.6, 0.5, 0.25, 0.1, 0.05, 0.05, 0.05], 3),  # a third or more: kept
    ],
)
def test_knee_is_the_first_flat_step(shares, expected):
    y = _curve(shares)
    knee = find_knee(range(1, len(y) + 1), y)
    assert knee.k == expected and knee.clear
    i = expected - 1
    assert knee.strength == pytest.approx(1 - shares[i] / shares[i - 1])
    assert f"knee of the log WCSS curve at k={expected}" in knee.reason


def test_linear_knee_is_the_first_step_under_a_share_of_the_first_value():
    # drops of 60, 25, 10, 4, 1 (of 100): the first under 30 is the step after k=2
    y = [100, 40, 15, 5, 1, 0]
    assert find_knee(range(1, 7), y, log=False).k == 2
    assert find_knee(range(1, 7), y, log=False, min_drop=0.2).k == 3
    with pytest.warns(KneeWarning, match="no clear knee: every step"):  # log scale: 60%, 62%, 67%, 80%, 100%
        assert find_knee(range(1, 7), y).k == 6


def test_knee_does_not_move_when_the_range_grows():
    """The knee depends on the curve up to two steps past it: every longer range agrees."""
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(300):
        shares = np.clip(np.sort(rng.uniform(0.0, 0.9, 15))[::-1] + rng.normal(0, 0.05, 15), 0.01, 0.95)
        y = _curve(shares)
        x = np.arange(1, len(y) + 1)
        full = find_knee(x, y, warn=False)
        if full.k + 2 > len(y) or not full.clear:
            continue
        for m in range(full.k + 2, len(y) + 1):
            assert find_knee(x[:m], y[:m], warn=False).k == full.k
        checked += 1
    assert checked > 200


def test_knee_with_uneven_steps_counts_the_drop_per_unit_of_k():
    # k = 1, 2, 4, 8: the step from 4 to 8 removes half, but about 16% per unit of k
    assert find_knee([1, 2, 4, 8], [100, 40, 10, 5]).k == 4


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


def test_steady_decay_has_no_clear_knee_and_answers_the_largest_k():
    # every step removes half of what is left: never flat
    with pytest.warns(KneeWarning, match="no clear knee: every step"):
        knee = find_knee(range(1, 11), 2.0 ** -np.arange(10))
    assert knee.k == 10 and not knee.clear


def test_weak_bend_is_not_clear():
    # 31% then 29%: the first flat step, but barely flatter than the step before
    with pytest.warns(KneeWarning, match="no clear knee"):
        knee = find_knee(range(1, 8), _curve([0.6, 0.31, 0.29, 0.28, 0.28, 0.28]))
    assert knee.k == 3 and knee.strength == pytest.approx(1 - 0.29 / 0.31)


def test_min_drop_must_be_a_share():
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match=f"min_drop={bad!r} must be between 0 and 1"):
            find_knee([1, 2, 3], [3, 2, 1], min_drop=bad)


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


@pytest.mark.parametrize("true_k", [3, 4, 5, 6])
def test_elbow_of_blobs_keeps_its_k_when_k_max_grows(true_k):
    X, _ = make_blobs(n_samples=600, centers=true_k, cluster_std=0.6, center_box=(-20, 20), random_state=0)
    chosen = [kmseg.elbow(X, range(1, k_max + 1), silhouette_samples=0).best_k for k_max in (10, 12, 16)]
    assert chosen == [true_k] * 3


@pytest.mark.parametrize("name, expected", [("coffee", 4), ("astronaut", 3)])
def test_elbow_of_a_photo_keeps_its_k_when_k_max_grows(name, expected):
    """The issue's case: the knee moved with k_max. Kneedle's chord from the first point to
    the last chose 4, 4, 5 (coffee) and 3, 4, 6 (astronaut) on these curves for k_max 10, 12, 16."""
    skdata = pytest.importorskip("skimage.data")
    img = getattr(skdata, name)()
    curves = [kmseg.elbow(img, range(1, k_max + 1), silhouette_samples=0, n_threads=1) for k_max in (10, 12, 16)]
    assert [c.best_k for c in curves] == [expected] * 3
    assert all(c.knee.clear for c in curves)
    assert_allclose(curves[0].wcss, curves[2].wcss[:10], rtol=1e-12)  # the same fits: the rule alone decides


def test_elbow_plot_draws_what_the_rule_measured():
    from kmseg.choose._knee import MIN_DROP, drops

    curve = kmseg.elbow(quadrants(noise=20), range(1, 9))
    fig = curve.plot()
    ax, ax_drop = fig.axes[0], fig.axes[1]
    assert ax.get_yscale() == "log"
    bars = ax_drop.patches
    heights = np.array([b.get_height() for b in bars])
    assert_allclose(heights, 100 * drops(curve.k, curve.wcss))
    first_flat = int(np.flatnonzero(heights < 100 * MIN_DROP)[0])
    assert curve.k[first_flat] == curve.best_k == 4
    assert bars[first_flat].get_facecolor() != bars[0].get_facecolor()  # the chosen step stands out
    assert [line.get_ydata()[0] for line in ax_drop.get_lines()] == [100 * MIN_DROP]  # the flat line
    # the steepest flat step from the chosen point: the next point lies above its end
    step = [line for line in ax.get_lines() if line.get_label().startswith("steepest flat step")][0]
    assert step.get_ydata()[1] < curve.wcss[4]
    assert "chosen k=4" in [t.get_text() for t in ax.get_legend().get_texts()]


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
