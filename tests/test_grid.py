"""The fit by grid cells (kmseg.cluster._grid): exact over every pixel, whatever the
rounds of opening cells, from pixels or from their colour histogram alike."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from exactness import assert_exact_kmeans
from kmseg.cluster._grid import ColorCells, PixelCells, grid_kmeans


def _photo_like(seed=0, shape=(120, 160)):
    """Smooth colour gradients with noise: many cells, many of them crossed."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([200 * xx + 30, 180 * yy + 20, 120 * (1 - xx * yy) + 40], axis=2)
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _fit(source, k, **kw):
    kw = {"n_init": 2, "max_iter": 300, "tol": 0.0, "rng": np.random.default_rng(3), **kw}
    return grid_kmeans(source, k, **kw)


@pytest.mark.parametrize("k", [1, 2, 5, 16])
@pytest.mark.parametrize("margin", [0.0, 2.0])
def test_grid_fit_is_exact_over_every_pixel(k, margin):
    pixels = _photo_like(k).reshape(-1, 3)
    fit = _fit(PixelCells(pixels), k, margin=margin)
    labels = fit.labels(np.arange(k), np.uint8)
    assert_exact_kmeans(pixels, fit.centers, fit.inertia, labels, tol=0)
    assert fit.counts.sum() == len(pixels)
    assert_array_equal(np.bincount(labels, minlength=k), fit.counts)


def test_crossed_cells_are_opened_in_later_rounds():
    """With no margin the first exact run moves centres across closed cells; they are
    opened in later rounds and the labels of every round's cells stay right."""
    pixels = _photo_like(7).reshape(-1, 3)
    fit = _fit(PixelCells(pixels), 8, margin=0.0, n_init=1)
    assert fit.n_rounds > 1 and 0 < fit.n_open < fit.n_cells
    assert_exact_kmeans(pixels, fit.centers, fit.inertia, fit.labels(np.arange(8), np.uint8), tol=0)


@pytest.mark.parametrize("k", [3, 12])
def test_pixels_and_histogram_sources_agree_bit_for_bit(k):
    pixels = _photo_like(11).reshape(-1, 3)
    colors, inverse, counts = np.unique(pixels, axis=0, return_inverse=True, return_counts=True)
    a = _fit(PixelCells(pixels), k, margin=0.5)
    b = _fit(ColorCells(colors, counts), k, margin=0.5)
    assert a.centers.tobytes() == b.centers.tobytes() and a.inertia == b.inertia and a.n_iter == b.n_iter
    relabel = np.arange(k)[::-1].copy()
    assert_array_equal(a.labels(relabel, np.uint8), b.labels(relabel, np.int32)[inverse.reshape(-1)])


def test_huge_cells_keep_the_inertia_exact():
    """Twelve million pixels of one colour in one cell: no integer overflow, and the
    inertia of a flat colour is exactly zero."""
    cells = ColorCells(np.array([[255, 255, 255], [0, 0, 0]], np.uint8), np.array([12_000_000, 1]))
    assert _fit(cells, 2).inertia == 0.0
    one = _fit(cells, 1)
    assert one.inertia == pytest.approx(12_000_000 / 12_000_001 * 3 * 255 ** 2, rel=1e-12)


def test_fewer_occupied_cells_than_clusters_gives_none():
    flat = np.repeat(np.array([[0, 0, 0], [0, 0, 9], [90, 0, 0], [255, 255, 255]], np.uint8), 50, axis=0)
    assert _fit(PixelCells(flat), 5) is None  # four colours, four cells: the caller fits the colours
