"""What "exact k-means over every pixel" means, checked on the pixels themselves."""

import numpy as np
import pytest


def assert_exact_kmeans(pixels, centers, inertia, labels=None, tol=1e-4):
    """``centers`` are a converged Lloyd solution over every row of ``pixels``:

    * ``inertia`` is the sum over all pixels of the squared distance to the nearest centre;
    * ``labels`` (if given) name a nearest centre of every pixel;
    * each centre is the mean of the pixels nearest it: one more Lloyd step moves
      the centres (total squared move) by at most ``tol`` times the mean variance
      of the features; with ``tol=0`` (a fit run until no label changes), not at all.
    """
    X = np.asarray(pixels, dtype=np.float64).reshape(-1, np.shape(centers)[1])
    d = ((X[:, None, :] - np.asarray(centers)[None, :, :]) ** 2).sum(axis=2)
    nearest = d.min(axis=1)
    assert inertia == pytest.approx(nearest.sum(), rel=1e-9)
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        assert np.allclose(d[np.arange(len(X)), labels], nearest, rtol=1e-12, atol=1e-9)
    owner = d.argmin(axis=1)
    moved = 0.0
    for j, c in enumerate(np.asarray(centers)):
        mine = X[owner == j]
        if len(mine):
            moved += ((mine.mean(axis=0) - c) ** 2).sum()
    assert moved <= tol * X.var(axis=0).mean() * (1 + 1e-9) + 1e-18 * len(X)
