"""One feature: the globally optimal k-means partition by dynamic programming."""

import numpy as np
import pytest

import kmseg
from kmseg.cluster._lloyd import lloyd
from kmseg.cluster._optimal import optimal_1d

from naive import naive_optimal_1d


@pytest.mark.parametrize("levels, n, k", [(256, 300, 1), (256, 300, 3), (256, 60, 8), (4096, 200, 5),
                                          (65536, 150, 7), (256, 5, 8)])
def test_the_optimum_is_the_naive_programme(levels, n, k):
    rng = np.random.default_rng(levels + n + k)
    values = rng.integers(0, levels, n).astype(np.float64)
    weights = rng.integers(1, 50, n).astype(np.float64)
    centers, labels, inertia = optimal_1d(values, weights, k)
    assert inertia == pytest.approx(naive_optimal_1d(values, weights, k), rel=1e-9, abs=1e-9)
    # the labels and centres give that inertia, and no Lloyd run from them improves on it
    assert np.sum(weights * (values - centers[labels]) ** 2) == pytest.approx(inertia, rel=1e-12, abs=1e-12)
    assert np.all(np.diff(centers) > 0)
    again = lloyd(values[:, None], weights, centers[:, None], 50, 0.0)
    assert again[2] >= inertia * (1 - 1e-12)


def test_never_worse_than_restarted_lloyd():
    from sklearn.cluster import KMeans as SKMeans

    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(m, s, 4000) for m, s in ((10, 3), (60, 20), (200, 5), (120, 30))])
    best = min(SKMeans(6, n_init=10, random_state=seed).fit(values[:, None]).inertia_ for seed in range(3))
    assert optimal_1d(values, np.ones(len(values)), 6)[2] <= best * (1 + 1e-9)


def test_grey_images_get_the_optimum_and_multi_otsus_partition():
    from skimage import data
    from skimage.filters import threshold_multiotsu

    img = data.camera()
    for k in (2, 3, 4):
        seg = kmseg.segment(img, k)
        values = img.reshape(-1).astype(np.float64)
        assert seg.inertia == pytest.approx(naive_optimal_1d(*np.unique(values, return_counts=True), k), rel=1e-9)
        # multi-Otsu maximises the between-class variance of the histogram: the same optimum
        classes = np.digitize(img, threshold_multiotsu(img, classes=k), right=True)
        otsu = sum(((values[classes.reshape(-1) == c] - values[classes.reshape(-1) == c].mean()) ** 2).sum()
                   for c in range(k))
        assert seg.inertia <= otsu * (1 + 1e-9)


def test_the_estimator_uses_it_for_one_feature():
    X = np.array([[1.0], [2.0], [10.0], [11.0], [12.0], [30.0]])
    km = kmseg.KMeans(3, random_state=0).fit(X)
    assert sorted(km.cluster_centers_[:, 0].tolist()) == [1.5, 11.0, 30.0] and km.inertia_ == 2.5
