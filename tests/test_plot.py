"""Figures: each returns a matplotlib Figure that saves as PNG and SVG, no window needed."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from sklearn.datasets import load_digits

import kmseg

from images import quadrants


@pytest.fixture(scope="module")
def seg():
    return kmseg.segment(quadrants(), 4)


def _saves(fig, tmp_path, name):
    assert isinstance(fig, Figure)
    png, svg = tmp_path / f"{name}.png", tmp_path / f"{name}.svg"
    fig.savefig(png)
    fig.savefig(svg)
    with Image.open(png) as im:
        assert im.size[0] > 100 and im.size[1] > 50
    assert svg.read_text().lstrip().startswith("<?xml")


def test_segmentation_figure(seg, tmp_path):
    fig = kmseg.plot_segmentation(quadrants(), seg)
    assert [ax.get_title() for ax in fig.axes] == ["original", "k=4 (rgb)", "boundaries"]
    _saves(fig, tmp_path, "seg")
    assert len(kmseg.plot_segmentation(quadrants(), seg, boundaries=False).axes) == 2


def test_elbow_figure_marks_chosen_k(tmp_path):
    curve = kmseg.elbow(quadrants(), range(1, 7))
    fig = curve.plot()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "chosen k=4" in labels
    _saves(fig, tmp_path, "elbow")


def test_palette_figure_shows_hex_and_share(seg, tmp_path):
    fig = kmseg.plot_palette(seg)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 4
    assert all(t.startswith("#") and t.endswith("%") for t in texts)
    assert "25.0%" in texts[0]
    _saves(fig, tmp_path, "palette")
    assert len(kmseg.plot_palette(seg.palette).axes[0].texts) == 4  # colours alone


def test_color_scatter_before_and_after(tmp_path):
    img = quadrants()
    fig = kmseg.plot_color_scatter(img, kmseg.quantize(img, 4).image, n_samples=500)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "original: red-green, 500 pixels"
    assert titles[3] == "quantized (4 colours): red-blue, 500 pixels"
    _saves(fig, tmp_path, "scatter")


def test_centers_as_images(tmp_path):
    X, _ = load_digits(return_X_y=True)
    km = kmseg.KMeans(10, random_state=0).fit(X)
    fig = kmseg.plot_centers(km.cluster_centers_, (8, 8))
    assert sum(1 for ax in fig.axes if ax.images) == 10
    _saves(fig, tmp_path, "centers")
    with pytest.raises(ValueError, match="does not hold 64 features"):
        kmseg.plot_centers(km.cluster_centers_, (7, 7))


def test_label_map_with_legend(seg, tmp_path):
    fig = kmseg.plot_labels(seg)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(legend) == 4 and legend[0].startswith("0: #")
    _saves(fig, tmp_path, "labels")


def test_grey_image_figures(tmp_path):
    img = np.full((20, 30), 30, np.uint8)
    img[5:15, 10:20] = 220
    seg = kmseg.segment(img, 2)
    _saves(kmseg.plot_segmentation(img, seg), tmp_path, "grey")
    _saves(kmseg.plot_color_scatter(img), tmp_path, "grey_scatter")


def test_label_map_draws_left_out_pixels_transparent():
    """Transparent pixels hold the label n_clusters, one past the colour table:
    they are drawn transparent, the others in their label's colour."""
    img = np.zeros((8, 8, 4), np.uint8)
    img[..., 3] = 255
    img[:, 4:, :3] = 200
    img[:2, :, 3] = 0  # left out
    seg = kmseg.segment(img, 2)
    assert seg.labels.max() == seg.n_clusters
    fig = kmseg.plot_labels(seg)
    shown = fig.axes[0].get_images()[0].get_array()
    assert np.all(shown[:2, :, 3] == 0)
    assert np.all(shown[2:, :, 3] == 1)
    assert not np.array_equal(shown[4, 0], shown[4, 7])
