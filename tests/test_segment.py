"""segment() and quantize(): known answers on synthetic images, exactness, inputs, and
pixels left out (transparent, NaN, masked)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image
from sklearn.datasets import load_sample_image

import kmseg
from kmseg import ImageReadError, KMeans, KmsegError, KmsegWarning
from kmseg.cli import main

from exactness import assert_exact_kmeans
from images import QUADRANT_COLOURS, photo_12mp, quadrants


@pytest.mark.parametrize("space", ["rgb", "lab", "hsv"])
def test_four_quadrants_one_label_each(space):
    img = quadrants()
    seg = kmseg.segment(img, 4, color_space=space)
    h, w = 20, 30
    quads = [seg.labels[:h, :w], seg.labels[:h, w:], seg.labels[h:, :w], seg.labels[h:, w:]]
    firsts = [q[0, 0] for q in quads]
    assert sorted(firsts) == [0, 1, 2, 3]
    for q, lab in zip(quads, firsts):
        assert np.all(q == lab)
    # palette colours sit near the true quadrant colours (means taken in the working space)
    for q, lab in zip(range(4), firsts):
        assert np.abs(seg.palette[lab].astype(int) - QUADRANT_COLOURS[q]).max() <= (6 if space == "rgb" else 10)
    assert seg.counts.tolist() == [600, 600, 600, 600]


@pytest.mark.parametrize("by_cells", [False, True])
def test_segment_is_exact_kmeans_over_every_pixel(by_cells, monkeypatch):
    """Every pixel counts: the inertia is that of all pixels, each pixel is labelled
    with its nearest centre, and the centres are the means of their pixels (a
    converged Lloyd solution of the objective over all pixels), whether the fit runs
    on the distinct colours or (a large image) on grid cells."""
    from kmseg.cluster import _grid

    monkeypatch.setattr(_grid, "GRID_MIN_PIXELS", 0 if by_cells else 10**12)
    img = quadrants(noise=25, seed=1)
    for k, n_init in ((2, 1), (5, 1), (9, 4), (64, 4)):
        seg = kmseg.segment(img, k, random_state=7, n_init=n_init, tol=0)  # run until no label changes
        assert_exact_kmeans(img.reshape(-1, 3), seg.centers, seg.inertia, seg.labels, tol=0)
        if n_init > 1:  # with restarts, no worse than scikit-learn's KMeans on the same pixels
            every = KMeans(k, random_state=7, n_init=n_init).fit(img.reshape(-1, 3).astype(np.float64))
            assert seg.inertia <= every.inertia_ * (1 + 0.02)


def test_pixels_and_their_histogram_give_the_same_fit():
    """An image fitted from its pixels (grid cells, no histogram) and from its colour
    histogram (:func:`kmseg.prepare`) is the same fit, bit for bit."""
    img = np.asarray(load_sample_image("flower.jpg"))  # 273,280 pixels: fitted by grid cells
    for k in (2, 8, 16, 32):
        a = kmseg.segment(img, k)
        b = kmseg.segment(kmseg.prepare(img), k)
        assert_array_equal(a.labels, b.labels)
        assert a.centers.tobytes() == b.centers.tobytes() and a.inertia == b.inertia


def test_histogram_path_equals_all_pixels_from_given_centres():
    img = quadrants(noise=30, seed=2)
    pixels = img.reshape(-1, 3).astype(np.float64)
    colors, counts = np.unique(pixels, axis=0, return_counts=True)
    init = pixels[[0, 1000, 2000, 2399, 1500, 700]]
    a = KMeans(6, init=init).fit(colors, sample_weight=counts)
    b = KMeans(6, init=init).fit(pixels)
    assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-10)
    assert_array_equal(a.predict(pixels), b.labels_)


def test_same_seed_same_bytes_and_label_order():
    img = np.asarray(load_sample_image("flower.jpg"))[::3, ::3]
    a = kmseg.segment(img, 6, random_state=3)
    b = kmseg.segment(img, 6, random_state=3)
    assert a.labels.tobytes() == b.labels.tobytes()
    assert_array_equal(a.palette, b.palette)
    assert np.all(np.diff(a.counts) <= 0)  # largest cluster first
    assert a.counts.sum() == img.shape[0] * img.shape[1]
    assert a.labels.dtype == np.uint8


def test_result_fields_and_recolor():
    img = quadrants()
    seg = kmseg.segment(img, 4)
    assert seg.labels.shape == img.shape[:2]
    assert seg.centers.shape == (4, 3) and seg.palette.shape == (4, 3)
    assert seg.palette.dtype == np.uint8
    rec = seg.recolor()
    assert rec.shape == img.shape and rec.dtype == np.uint8
    assert_array_equal(rec, seg.palette[seg.labels])
    expected = ((img.astype(float) - seg.centers[seg.labels]) ** 2).sum()
    assert seg.inertia == pytest.approx(expected, rel=1e-9)
    assert "n_clusters=4" in repr(seg)


def test_apply_to_new_image():
    img = quadrants()
    seg = kmseg.segment(img, 4)
    flipped = img[::-1, ::-1]
    again = seg.apply(flipped)
    assert_array_equal(again.labels, seg.labels[::-1, ::-1])
    assert_array_equal(again.palette, seg.palette)
    assert again.inertia == pytest.approx(seg.inertia)


def test_grey_image_k2_foreground_background():
    img = np.full((30, 30), 40, np.uint8)
    img[10:20, 10:20] = 210
    seg = kmseg.segment(img, 2)
    assert seg.color_space == "gray"
    assert seg.labels[15, 15] == 1 and seg.labels[0, 0] == 0
    assert seg.recolor().shape == (30, 30)
    assert seg.palette.tolist() == [[40, 40, 40], [210, 210, 210]]


@pytest.mark.parametrize(
    "make",
    [
        lambda img: img.astype(np.uint16) * 257,
        lambda img: img.astype(np.float32) / 255,
        lambda img: img / 255.0,
        lambda img: np.dstack([img, np.full(img.shape[:2], 255, np.uint8)]),
        lambda img: Image.fromarray(img),
    ],
    ids=["uint16", "float32", "float64", "rgba", "pil"],
)
def test_input_kinds_give_the_same_segmentation(make):
    img = quadrants()
    ref = kmseg.segment(img, 4)
    seg = kmseg.segment(make(img), 4)
    assert_array_equal(seg.labels, ref.labels)
    assert_allclose(seg.centers, ref.centers, rtol=1e-6)


def test_path_input(tmp_path):
    img = quadrants()
    path = tmp_path / "quads.png"
    Image.fromarray(img).save(path)
    assert_array_equal(kmseg.segment(path, 4).labels, kmseg.segment(img, 4).labels)
    assert_array_equal(kmseg.segment(str(path), 4).labels, kmseg.segment(img, 4).labels)


def test_more_than_256_clusters_use_uint16_labels():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(40, 40, 3), dtype=np.uint8)
    seg = kmseg.segment(img, 300, n_init=1)
    assert seg.labels.dtype == np.uint16
    assert seg.labels.max() == 299


def test_fewer_colours_than_k_warns_and_returns_fewer():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:2] = 255
    with pytest.warns(KmsegWarning, match=r"n_clusters=5 is more than the 2 distinct colours"):
        seg = kmseg.segment(img, 5)
    assert seg.n_clusters == 2


def test_quantize_returns_image_and_palette():
    img = np.asarray(load_sample_image("china.jpg"))[::4, ::4]
    out, palette = kmseg.quantize(img, 16)
    assert out.shape == img.shape and palette.shape == (16, 3)
    assert len(np.unique(out.reshape(-1, 3), axis=0)) == 16
    assert set(map(tuple, np.unique(out.reshape(-1, 3), axis=0))) == set(map(tuple, palette))


@pytest.mark.parametrize(
    "image, kwargs, error, match",
    [
        (np.zeros((0, 5, 3), np.uint8), {}, KmsegError, "is empty"),
        (np.zeros(5, np.uint8), {}, KmsegError, "leaves no spatial axis"),  # (5, 5, 5): 5 bands, test_arrays
        (np.zeros((5, 5, 5), np.complex64), {}, KmsegError, "an array of numbers"),
        (np.zeros((5, 5, 2), np.uint8), {}, KmsegError, "no pixels left to cluster"),
        (np.full((5, 5), np.nan), {}, KmsegError, "NaN or infinite"),
        (np.full((5, 5), 2.0), {}, KmsegError, r"values in \[2, 2\]; expected \[0, 1\]"),
        (np.zeros((5, 5), np.complex64), {}, KmsegError, "has dtype complex64"),
        (np.zeros((5, 5), np.uint8), {"n_clusters": 0}, KmsegError, "n_clusters=0 must be >= 1"),
        (np.zeros((5, 5), np.uint8), {"color_space": "xyz"}, KmsegError, "color_space='xyz'"),
        ("/no/such/file.png", {}, ImageReadError, "'/no/such/file.png': no such file"),
    ],
)
def test_bad_inputs(image, kwargs, error, match):
    with pytest.raises(error, match=match):
        kmseg.segment(image, **{"n_clusters": 2, **kwargs})


def test_not_an_image_file(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello")
    with pytest.raises(ImageReadError, match="notes.png'?: not an image"):
        kmseg.segment(path, 2)


def test_truncated_file(tmp_path):
    path = tmp_path / "cut.png"
    Image.fromarray(quadrants()).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="cut.png'?: (truncated|corrupt)"):
        kmseg.segment(path, 2)


def test_spatial_weight_splits_same_colour_objects_apart():
    img = np.full((40, 60, 3), 30, np.uint8)
    img[5:20, 5:20] = (220, 30, 30)
    img[20:35, 40:55] = (220, 30, 30)  # the same red, far away
    plain = kmseg.segment(img, 2)
    spatial = kmseg.segment(img, 3, spatial_weight=2.0)
    assert plain.labels[10, 10] == plain.labels[25, 45]  # colour alone: one class
    assert spatial.labels[10, 10] != spatial.labels[25, 45]  # with position: apart
    assert spatial.centers.shape == (3, 5)
    assert spatial.recolor().shape == img.shape
    assert spatial.counts.sum() == 40 * 60


def test_auto_with_spatial_weight_is_refused():
    with pytest.raises(KmsegError, match="n_clusters='auto' chooses k on colours alone"):
        kmseg.segment(quadrants(), "auto", spatial_weight=1.0)
    with pytest.raises(KmsegError, match="spatial_weight=-1.0 must be a finite number >= 0"):
        kmseg.segment(quadrants(), 2, spatial_weight=-1)


def test_apply_refuses_a_spatial_segmentation():
    seg = kmseg.segment(quadrants(), 4, spatial_weight=1.0)
    with pytest.raises(KmsegError, match="made with spatial_weight cannot label another image"):
        seg.apply(quadrants())


def test_max_pixels_refuses_from_the_header(tmp_path):
    path = tmp_path / "wide.png"
    Image.fromarray(np.zeros((100, 300, 3), np.uint8)).save(path)
    with kmseg.config_context(max_pixels=20_000):
        with pytest.raises(ImageReadError, match=r"wide.png'?: too large \(300x100 = 30,000 pixels"):
            kmseg.segment(path, 2)
    with kmseg.config_context(max_pixels=10_000):  # beyond Pillow's own check (twice the limit)
        with pytest.raises(ImageReadError, match="wide.png'?: too large"):
            kmseg.segment(path, 2)
    assert kmseg.segment(path, 1).labels.shape == (100, 300)  # the default allows it
    assert kmseg.get_config()["max_pixels"] == 2**28


def test_pillow_limit_left_as_it_was(tmp_path):
    from PIL import Image as PILImage

    before = PILImage.MAX_IMAGE_PIXELS
    path = tmp_path / "x.png"
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(path)
    kmseg.segment(path, 1)
    assert PILImage.MAX_IMAGE_PIXELS == before


@pytest.mark.parametrize("call", ["segment", "quantize", "fit_palette", "prepare"])
def test_n_threads_bounds_the_colour_count_too(call, monkeypatch):
    """Every stage runs on the threads asked for: a large image's pixels are read
    (counted in the colour table, or gathered by grid cells) on one thread with
    n_threads=1, not on every core."""
    from kmseg import _parallel
    from kmseg.histogram import _histogram

    from kmseg.cluster import _grid

    monkeypatch.setattr(_grid, "GRID_MIN_PIXELS", 0)  # the small image by grid cells too
    seen = []
    count, cells = _histogram.count_rgb8, _grid.cell_stats

    def spy(pixels, table, marks, n_parts):
        seen.append((n_parts, _parallel.get_num_threads()))
        return count(pixels, table, marks, n_parts)

    def spy_cells(pixels, bits):  # the passes over the pixels of a fit by grid cells
        seen.append((1, _parallel.get_num_threads()))
        return cells(pixels, bits)

    def spy_pass(name):
        kernel = getattr(_grid, name)

        def run(*args):
            threads.append(_parallel.get_num_threads())
            return kernel(*args)
        return run

    threads = []
    monkeypatch.setattr(_histogram, "count_rgb8", spy)
    monkeypatch.setattr(_grid, "cell_stats", spy_cells)
    for name in ("count_in_cells", "label_cells"):
        monkeypatch.setattr(_grid, name, spy_pass(name))
    monkeypatch.setattr(_histogram, "TABLE_MIN_PIXELS", 0)
    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    if call == "fit_palette":
        kmseg.fit_palette([img], 4, n_threads=1)
    elif call == "prepare":
        kmseg.prepare(img, n_threads=1)
    else:
        kw = {"max_error": 30.0} if call == "quantize" else {}
        getattr(kmseg, call)(img, 4, n_threads=1, **kw)
    assert seen == [(1, 1)]
    assert set(threads) <= {1} and (call != "segment" or threads)


def test_one_prepared_image_segmented_from_two_threads_at_once(monkeypatch):
    """A Prepared image is read-only to the fits: two threads clustering it at once (for
    different k) get what each would alone (the labels are looked up in tables of
    their own, not in the shared histogram's memory)."""
    from concurrent.futures import ThreadPoolExecutor

    from kmseg.histogram import _histogram

    monkeypatch.setattr(_histogram, "TABLE_MIN_PIXELS", 0)  # the 2**24-entry table path
    rng = np.random.default_rng(3)
    img = quadrants(200, 300, noise=30, seed=4)
    prep = kmseg.prepare(img)
    alone = {k: kmseg.segment(prep, k, n_init=1).labels for k in (2, 5)}
    with ThreadPoolExecutor(2) as pool:
        for _ in range(10):
            ks = rng.permutation([2, 5, 2, 5])
            for k, seg in zip(ks, pool.map(lambda k: kmseg.segment(prep, k, n_init=1), ks)):
                assert_array_equal(seg.labels, alone[k])


def test_transparent_pixels_get_their_own_label(tmp_path):
    img = np.dstack([quadrants(), np.full((40, 60), 255, np.uint8)])
    img[:10, :10, 3] = 0
    img[:10, :10, :3] = (255, 0, 255)  # a colour that must not pull any centre
    seg = kmseg.segment(img, 4)
    assert np.all(seg.labels[:10, :10] == 4) and seg.labels[10:].max() == 3
    assert seg.counts.sum() == 40 * 60 - 100
    np.testing.assert_array_equal(seg.mask, img[:, :, 3] > 0)
    ref = kmseg.segment(img[:, :, :3], 4, mask=img[:, :, 3] > 0)  # the same through mask=
    np.testing.assert_array_equal(ref.labels, seg.labels)
    np.testing.assert_allclose(ref.centers, seg.centers)
    out = seg.recolor()
    assert out.shape == (40, 60, 4) and np.all(out[:10, :10] == 0) and np.all(out[10:, :, 3] == 255)
    again = seg.apply(img)
    np.testing.assert_array_equal(again.labels, seg.labels)
    path = tmp_path / "rgba.png"
    Image.fromarray(img).save(path)
    assert main(["segment", str(path), "-k", "4", "-o", str(tmp_path / "o")]) == 0
    with Image.open(tmp_path / "o" / "rgba_labels.png") as im:
        assert im.info["transparency"] == 4
        np.testing.assert_array_equal(np.asarray(im), seg.labels)
    with Image.open(tmp_path / "o" / "rgba_recolor.png") as im:
        assert im.mode == "RGBA" and np.asarray(im)[0, 0, 3] == 0
    assert main(["batch", str(path), "-k", "4", "-o", str(tmp_path / "b"), "--jobs", "1",
                 "--quiet"]) == 0
    with Image.open(tmp_path / "b" / "rgba_labels.png") as im:
        assert im.info["transparency"] == 4


def test_spatial_weight_with_transparent_pixels():
    img = np.dstack([quadrants(), np.full((40, 60), 255, np.uint8)])
    img[:, :6, 3] = 0
    seg = kmseg.segment(img, 4, spatial_weight=0.5)
    assert np.all(seg.labels[:, :6] == 4) and seg.labels[:, 6:].max() == 3
    assert seg.counts.sum() == 40 * 54
    assert seg.recolor().shape == (40, 60, 4)


def test_nan_refused_or_masked():
    img = np.random.default_rng(0).random((10, 12))
    img[2, 3] = np.nan
    img[4, 5] = np.inf
    with pytest.raises(KmsegError, match=r"holds NaN or infinite values \(2 of 120\); pass nan='mask'"):
        kmseg.segment(img, 2)
    seg = kmseg.segment(img, 2, nan="mask")
    assert seg.labels[2, 3] == seg.labels[4, 5] == 2 and seg.counts.sum() == 118
    clean = img.copy()
    clean[2, 3] = clean[4, 5] = 0.5
    keep = np.isfinite(img)
    np.testing.assert_allclose(seg.centers, kmseg.segment(clean, 2, mask=keep).centers)
    with pytest.raises(KmsegError, match="no pixels left to cluster"):
        kmseg.segment(np.full((3, 3), np.nan), 2, nan="mask")
    with pytest.raises(KmsegError, match=r"mask has shape \(2, 2\); expected \(10, 12\)"):
        kmseg.segment(clean, 2, mask=np.ones((2, 2), bool))
    with pytest.raises(KmsegError, match="nan='drop' must be one of"):
        kmseg.segment(clean, 2, nan="drop")


def test_one_thread_asked_one_core_used_on_a_12_megapixel_photo():
    """segment(n_threads=1) runs every stage (reading, colour counting, the fit, the
    labelling) on the calling thread alone: process CPU time about its wall time.
    (On a loaded machine CPU time falls below wall time; it cannot rise above it
    with one thread busy.)"""
    import time

    img = photo_12mp()
    kmseg.segment(img[:600, :800], 8, n_threads=1)  # first call: page in the kernels
    cpu, wall = time.process_time(), time.perf_counter()
    seg = kmseg.segment(img, 8, n_threads=1)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert seg.labels.shape == (3000, 4000) and seg.n_clusters == 8
    assert cpu / wall < 1.15, (cpu, wall)
