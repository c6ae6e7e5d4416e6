"""k at or above the number of distinct colours: each colour its own cluster, at once
(no k-means run), with the warning that fewer clusters are used than asked."""

import json
import warnings

import numpy as np
import pytest

import kmseg
import kmseg.pipeline._fit as fit_module


def _colours(h=30, w=40, n=37, seed=0):
    """An image of ``n`` distinct colours, each used a different number of times."""
    rng = np.random.default_rng(seed)
    table = rng.choice(256 ** 3, n, replace=False)
    table = np.stack([table >> 16, (table >> 8) & 255, table & 255], axis=1).astype(np.uint8)
    index = np.minimum(rng.geometric(0.08, size=h * w) - 1, n - 1)
    index[:n] = np.arange(n)  # every colour at least once
    return table[rng.permutation(index)].reshape(h, w, 3)


@pytest.fixture
def no_kmeans(monkeypatch):
    """k-means must not run: fit_colors' k-means fails the test if called."""

    def refuse(*args, **kwargs):
        raise AssertionError("k-means ran for k >= the distinct colours")

    monkeypatch.setattr(fit_module, "fit", refuse)


def _distinct(image):
    return np.unique(image.reshape(-1, image.shape[-1]), axis=0, return_counts=True)


@pytest.mark.parametrize("k", [37, 38, 100_000])
def test_each_colour_its_own_cluster(no_kmeans, k):
    img = _colours()
    colours, counts = _distinct(img)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seg = kmseg.segment(img, k)
    notes = [str(w.message) for w in caught if issubclass(w.category, kmseg.KmsegWarning)]
    if k > 37:
        assert notes == [f"n_clusters={k} is more than the 37 distinct colours of the image in rgb; "
                         "using n_clusters=37"]
    else:
        assert notes == []
    assert seg.n_clusters == 37 and seg.inertia == 0.0 and seg.n_iter == 0
    assert sorted(map(tuple, seg.palette.tolist())) == sorted(map(tuple, colours.tolist()))
    np.testing.assert_array_equal(seg.palette[seg.labels], img)  # each pixel in its own colour's cluster
    assert np.all(np.diff(seg.counts) <= 0)  # largest first, as every fit numbers them
    assert sorted(seg.counts.tolist()) == sorted(counts.tolist())
    np.testing.assert_array_equal(seg.recolor(), img)


def test_same_answer_as_kmeans():
    """The shortcut gives what k-means of every pixel gives for k = the distinct colours
    (its global optimum, inertia 0)."""
    img = _colours(n=12)
    fast = kmseg.segment(img, 12)
    km = kmseg.KMeans(12, n_init=1, random_state=0).fit(img.reshape(-1, 3).astype(float))
    assert km.inertia_ == pytest.approx(0.0, abs=1e-9)
    assert len(np.unique(km.labels_)) == 12
    # the same partition: two pixels share a label in one exactly when they do in the other
    pairs = {(int(a), int(b)) for a, b in zip(fast.labels.reshape(-1), km.labels_)}
    assert len(pairs) == 12


def test_grey_colours_sharing_a_luminance(no_kmeans):
    """In 'gray' distinct colours can share one luminance: they share its cluster."""
    img = np.array([[[10, 10, 10], [10, 10, 10], [200, 0, 0]],
                    [[0, 200, 0], [255, 255, 255], [10, 10, 10]]], np.uint8)
    with pytest.warns(kmseg.KmsegWarning, match="distinct colours"):
        seg = kmseg.segment(img, 50, color_space="gray")
    luminance = kmseg.prepare(img, color_space="gray").features[:, 0]
    assert seg.n_clusters == len(np.unique(luminance)) and seg.inertia == 0.0
    for a in range(2):
        for b in range(3):
            same = np.isclose(seg.centers[seg.labels[a, b], 0], seg.centers[seg.labels, 0])
            assert same[a, b]


def test_masked_pixels_keep_their_label(no_kmeans):
    img = _colours(n=9)
    mask = np.ones(img.shape[:2], bool)
    mask[:5] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kmseg.KmsegWarning)
        seg = kmseg.segment(img, 1000, mask=mask)
    kept, _ = _distinct(img[mask])
    assert seg.n_clusters == len(kept) and seg.inertia == 0.0
    assert np.all(seg.labels[~mask] == seg.n_clusters)
    np.testing.assert_array_equal(seg.palette[seg.labels[mask]], img[mask])


def test_quantize_large_n_is_the_image(no_kmeans):
    img = _colours(n=300)
    with pytest.warns(kmseg.KmsegWarning, match="n_colors=100000 is more than the 300 distinct colours"):
        q = kmseg.quantize(img, 100_000)
    assert len(q.palette) == 300
    np.testing.assert_array_equal(q.image, img)


def test_prepared_image_many_k(no_kmeans):
    prep = kmseg.prepare(_colours(n=20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kmseg.KmsegWarning)
        assert [kmseg.segment(prep, k).n_clusters for k in (20, 21, 5000)] == [20, 20, 20]


def test_more_than_65536_labels_in_a_png(no_kmeans, tmp_path):
    """More clusters than a 16-bit PNG holds: the label map is a 24-bit RGB PNG of
    codes R + 256 G + 65536 B, written by the command line as by save_segmentation."""
    from PIL import Image

    from kmseg.cli import main

    rng = np.random.default_rng(3)
    table = rng.choice(256 ** 3, 70_000, replace=False)
    table = np.stack([table >> 16, (table >> 8) & 255, table & 255], axis=1).astype(np.uint8)
    img = table[rng.permutation(np.arange(250 * 300) % 70_000)].reshape(250, 300, 3)
    path = tmp_path / "many.png"
    Image.fromarray(img).save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kmseg.KmsegWarning)
        assert main(["segment", str(path), "-k", "100000", "-o", str(tmp_path / "out"),
                     "--outputs", "labels,palette"]) == 0
    saved = Image.open(tmp_path / "out" / "many_labels.png")
    assert saved.mode == "RGB"
    codes = np.asarray(saved).astype(np.int64)
    labels = codes[..., 0] + 256 * codes[..., 1] + 65536 * codes[..., 2]
    assert labels.max() == 69_999 and len(np.unique(labels)) == 70_000
    with pytest.warns(kmseg.KmsegWarning, match="70000 distinct colours"):
        seg = kmseg.segment(img, 100_000)
    np.testing.assert_array_equal(labels, seg.labels)
    record = json.loads((tmp_path / "out" / "many_palette.json").read_text())
    palette = np.array([c["rgb"] for c in record["colors"]], dtype=np.uint8)
    np.testing.assert_array_equal(palette[labels], img)  # label i is the palette's colour i
