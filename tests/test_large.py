"""Big images in bands: the TIFF band reader, the strip writer, segment_large against
segment byte for byte, bounded memory, and the command line's strip mode."""

import json
import os
import sys
import tracemalloc

import numpy as np
import pytest
from PIL import Image

import kmseg
from kmseg.cli import main

tifffile = pytest.importorskip("tifffile")

from kmseg.io import _bands  # noqa: E402
from kmseg.io._palette_files import palette_record  # noqa: E402
from kmseg.pipeline._large import segment_large  # noqa: E402

from test_cli import run  # noqa: E402  (the command in a fresh process)


@pytest.fixture(scope="module")
def photo():
    from sklearn.datasets import load_sample_image

    return np.ascontiguousarray(load_sample_image("china.jpg")[:150, :220])


def _noise(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


LAYOUTS = {
    "strips": lambda a: (a[..., :3], dict(rowsperstrip=7)),
    "one-strip": lambda a: (a[..., :3], dict(rowsperstrip=a.shape[0])),
    "tiles-deflate": lambda a: (a[..., :3], dict(tile=(16, 32), compression="zlib")),
    "rgba": lambda a: (a, dict(rowsperstrip=5, extrasamples=["unassalpha"])),
    "planes-strips": lambda a: (a[..., :3].transpose(2, 0, 1), dict(rowsperstrip=7, planarconfig="separate",
                                                                    photometric="rgb")),
    "planes-tiles": lambda a: (a[..., :3].transpose(2, 0, 1), dict(tile=(16, 16), planarconfig="separate",
                                                                   photometric="rgb")),
    "grey-strips": lambda a: (a[..., 0], dict(rowsperstrip=3)),
    "grey-tiles": lambda a: (a[..., 0], dict(tile=(16, 48))),
    "bigtiff": lambda a: (a[..., :3], dict(rowsperstrip=9, bigtiff=True)),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("rows", [None, 1, 17, 200])
def test_bands_rebuild_the_image(tmp_path, layout, rows):
    data, options = LAYOUTS[layout](_noise((50, 70, 4)))
    path = tmp_path / "x.tif"
    tifffile.imwrite(path, data, **options)
    expected = kmseg.read_image(path)  # what a whole read gives
    with _bands.open_bands(path, rows) as reader:
        assert reader.shape == (50, 70)
        starts, bands = zip(*[(row0, band.copy()) for row0, band in reader.bands()])
    assert all(b.flags.c_contiguous for b in bands)
    assert list(starts) == list(np.cumsum([0] + [len(b) for b in bands[:-1]]))
    np.testing.assert_array_equal(np.concatenate(bands), expected)


@pytest.mark.parametrize("options, reason", [
    (dict(data=np.zeros((8, 8), np.uint16)), "16-bit"),
    (dict(data=np.zeros((8, 8), np.uint8), photometric="miniswhite"), "MINISWHITE"),
    (dict(data=np.zeros((8, 8), np.uint8), colormap=np.zeros((3, 256), np.uint16)), "PALETTE"),
    (dict(data=np.zeros((8, 8), np.uint8), extratags=[(274, 3, 1, 6, True)]), "orientation 6"),
])
def test_layouts_read_otherwise_are_refused(tmp_path, options, reason):
    path = tmp_path / "odd.tif"
    tifffile.imwrite(path, **options)
    with pytest.raises(kmseg.ImageReadError, match=f"odd.tif.*8-bit grey or RGB.*{reason}"):
        _bands.open_bands(path)


@pytest.mark.parametrize("compression", [None, "zlib"])
def test_truncated_or_corrupt_tiff_names_the_file(tmp_path, compression):
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, _noise((100, 80, 3)), rowsperstrip=8, compression=compression)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    # refused on opening, before any band is read: strips that run past the end of the file
    with pytest.raises(kmseg.ImageReadError, match=r"cut.tif.*truncated or corrupt TIFF \(strip or tile \d+ .*past"):
        segment_large(path, 3)
    if compression:  # the file whole, but a strip's compressed bytes spoilt
        path.write_bytes(whole[: len(whole) // 2] + b"\xff" * 200 + whole[len(whole) // 2 + 200:])
        with pytest.raises(kmseg.ImageReadError, match="cut.tif.*cannot decode segment"):
            segment_large(path, 3)
    path.write_bytes(b"II*\x00garbage")
    with pytest.raises(kmseg.ImageReadError, match="cut.tif.*corrupt or unreadable TIFF"):
        segment_large(path, 3)


def test_band_over_max_pixels_is_refused_from_the_header(tmp_path):
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, _noise((40, 50, 3)), rowsperstrip=40)
    with kmseg.config_context(max_pixels=1999):
        with pytest.raises(kmseg.ImageReadError, match=r"bands of 40 rows = 2,000 pixels.*max_pixels=1,999"):
            segment_large(path, 2)
    tifffile.imwrite(path, _noise((40, 50, 3)), rowsperstrip=4)
    with kmseg.config_context(max_pixels=1999):  # 200-pixel strips: the whole image is never held
        assert segment_large(path, 2).counts.sum() == 2000
        with _bands.open_bands(str(path)) as bands:  # and a default band stays within max_pixels
            assert bands.band_rows * 50 <= 1999 and bands.band_rows % 4 == 0


def test_strips_recut_any_band_heights():
    image = np.arange(23 * 3).reshape(23, 3)
    heights = [1, 5, 2, 9, 6]
    bands = np.split(image, np.cumsum(heights)[:-1])
    strips = list(_bands._strips(iter(bands), 4))
    assert [len(s) for s in strips] == [4, 4, 4, 4, 4, 3]
    np.testing.assert_array_equal(np.concatenate(strips), image)


@pytest.mark.parametrize("compress", [True, False])
def test_written_tiff_reads_back(tmp_path, compress):
    image = _noise((130, 40, 3))
    path = tmp_path / "w.tif"
    bands = (image[i:i + 30] for i in range(0, 130, 30))
    _bands.write_tiff(path, bands, image.shape, np.uint8, compress=compress)
    np.testing.assert_array_equal(tifffile.imread(path), image)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), image)


def test_write_is_atomic(tmp_path):
    path = tmp_path / "w.tif"
    path.write_bytes(b"old")

    def failing():
        yield np.zeros((64, 10), np.uint8)
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        _bands.write_tiff(path, failing(), (200, 10), np.uint8)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["w.tif"]  # no temporary left


@pytest.mark.parametrize("layout, space", [("strips", None), ("tiles-deflate", None), ("planes-tiles", None),
                                           ("strips", "lab"), ("strips", "gray"), ("strips", "hsv")])
def test_same_as_segment_byte_for_byte(tmp_path, photo, layout, space):
    data, options = LAYOUTS[layout](photo)
    path = tmp_path / "p.tif"
    tifffile.imwrite(path, data, **options)
    ref = kmseg.segment(path, 6, color_space=space)
    big = segment_large(path, 6, tmp_path / "l.tif", recolor=tmp_path / "r.tif", rows=13,
                        color_space=space)
    np.testing.assert_array_equal(big.centers, ref.centers)
    np.testing.assert_array_equal(big.counts, ref.counts)
    assert (big.inertia, big.n_iter, big.color_space) == (ref.inertia, ref.n_iter, ref.color_space)
    np.testing.assert_array_equal(big.palette, ref.palette)
    labels = tifffile.imread(big.labels_path)
    assert labels.dtype == ref.labels.dtype and labels.tobytes() == ref.labels.tobytes()
    recolor = tifffile.imread(big.recolor_path)
    assert recolor.tobytes() == ref.recolor().tobytes()
    assert big.shape == ref.labels.shape


@pytest.mark.parametrize("space", [None, "rgb"])
def test_grey_same_as_segment(tmp_path, photo, space):
    path = tmp_path / "g.tif"
    tifffile.imwrite(path, photo[..., 1], rowsperstrip=10)
    ref = kmseg.segment(path, 5, color_space=space)
    big = segment_large(path, 5, tmp_path / "l.tif", recolor=tmp_path / "r.tif", color_space=space)
    np.testing.assert_array_equal(big.centers, ref.centers)
    np.testing.assert_array_equal(tifffile.imread(big.labels_path), ref.labels)
    np.testing.assert_array_equal(tifffile.imread(big.recolor_path), ref.recolor())


def test_sixteen_bit_labels(tmp_path):
    image = np.repeat(_noise((30, 20, 3)), 2, axis=0)  # 600 colours
    ref = kmseg.segment(image, 300, n_init=1)
    big = segment_large(image, 300, tmp_path / "l.tif", recolor=tmp_path / "r.tif", rows=8, n_init=1)
    labels = tifffile.imread(big.labels_path)
    assert labels.dtype == np.uint16
    np.testing.assert_array_equal(labels, ref.labels)
    np.testing.assert_array_equal(tifffile.imread(big.recolor_path), ref.recolor())


def test_auto_k_from_a_png(tmp_path, photo):
    png = tmp_path / "p.png"
    Image.fromarray(photo[:60, :80]).save(png)  # not a TIFF: read whole, labelled in bands
    ref = kmseg.segment(png, "auto", n_init=1)
    big = segment_large(png, "auto", tmp_path / "a.tif", rows=9, n_init=1)
    assert big.n_clusters == ref.n_clusters and big.elbow is not None
    np.testing.assert_array_equal(tifffile.imread(big.labels_path), ref.labels)


def test_counts_past_the_uint32_flush(tmp_path, photo, monkeypatch):
    from kmseg.histogram import _histogram

    ref = kmseg.segment(photo, 4)
    monkeypatch.setattr(_histogram, "FLUSH_PIXELS", 5000)  # flush to int64 every few bands
    big = segment_large(photo, 4, tmp_path / "l.tif", rows=7)
    np.testing.assert_array_equal(big.counts, ref.counts)
    np.testing.assert_array_equal(big.centers, ref.centers)
    np.testing.assert_array_equal(tifffile.imread(big.labels_path), ref.labels)


@pytest.mark.parametrize("channels", [4, 2])
@pytest.mark.parametrize("planar", [False, True])
def test_transparent_pixels_left_out_as_segment_does(tmp_path, photo, channels, planar):
    image = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    image[:30, :40, 3] = 0  # left out: label k, painted transparent
    image[30:60, :40, 3] = 90  # kept, alpha carried to the recoloured image
    if channels == 2:
        image = np.ascontiguousarray(image[:, :, [1, 3]])
        if planar:
            pytest.skip("a whole read does not decode planar grey+alpha TIFF")
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, image.transpose(2, 0, 1) if planar else image, extrasamples=["unassalpha"],
                     photometric="rgb" if channels == 4 else "minisblack",
                     planarconfig="separate" if planar else None, rowsperstrip=8)
    for space in (None, "rgb", "gray"):
        ref = kmseg.segment(path, 4, color_space=space)
        big = segment_large(path, 4, tmp_path / "l.tif", recolor=tmp_path / "r.tif", rows=11,
                            color_space=space)
        np.testing.assert_array_equal(big.counts, ref.counts)
        assert big.counts.sum() == photo.shape[0] * photo.shape[1] - 30 * 40
        labels = tifffile.imread(big.labels_path)
        assert labels.dtype == ref.labels.dtype and labels.tobytes() == ref.labels.tobytes()
        assert (labels[:30, :40] == 4).all()
        recolor = tifffile.imread(big.recolor_path)
        assert recolor.shape == ref.recolor().shape and recolor.tobytes() == ref.recolor().tobytes()
    assert big.n_left_out == 30 * 40
    assert palette_record(big) == palette_record(ref)
    image[:, :, -1] = 0
    with pytest.raises(kmseg.KmsegError, match="no pixels left to cluster"):
        segment_large(image, 2)


def test_fewer_colours_than_clusters_warns(tmp_path):
    image = np.zeros((20, 20, 3), np.uint8)
    image[:, 10:] = 200
    with pytest.warns(kmseg.KmsegWarning, match="n_clusters=5 is more than the 2 distinct"):
        seg = segment_large(image, 5)
    assert seg.n_clusters == 2 and seg.labels_path is None


def test_errors_before_reading(tmp_path):
    with pytest.raises(kmseg.KmsegError, match="does not exist"):
        segment_large(np.zeros((4, 4, 3), np.uint8), 2, tmp_path / "no" / "l.tif")
    with pytest.raises(kmseg.KmsegError, match="n_clusters"):
        segment_large(tmp_path / "none.tif", "many")
    with pytest.raises(kmseg.ImageReadError, match="none.tif.*no such file"):
        segment_large(tmp_path / "none.tif", 2)
    with pytest.raises(kmseg.KmsegError, match="8-bit images, not uint16"):
        segment_large(np.zeros((4, 4), np.uint16), 2)


def test_missing_tifffile_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tifffile", None)
    with pytest.raises(kmseg.KmsegError,
                       match=r"needs tifffile: pip install tifffile \(or pip install \"\.\[big\]\" in a clone"):
        segment_large(np.zeros((4, 4, 3), np.uint8), 2, tmp_path / "l.tif")


def _peak_over_table(path, **kw):
    """tracemalloc peak of a warm run, less the 2**24-entry uint32 count table and
    its 2**24-bit map of colours seen."""
    segment_large(path, 3, **kw)
    tracemalloc.start()
    try:
        segment_large(path, 3, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - 4 * (1 << 24) - (1 << 24) // 8


def test_memory_is_bounded_by_the_band_not_the_image(tmp_path):
    """Peak memory above the fixed colour table does not grow with the image's height."""
    tiles = _noise((60, 20, 3))
    peaks = {}
    for height in (500, 3000):
        image = np.repeat(np.repeat(tiles[: height // 50], 50, 0), 50, 1)  # (height, 1000, 3)
        path = tmp_path / f"{height}.tif"
        tifffile.imwrite(path, image, rowsperstrip=16)
        kw = dict(output=tmp_path / "l.tif", recolor=tmp_path / "r.tif", rows=32, n_init=1)
        peaks[height] = _peak_over_table(path, **kw)
    image_bytes = 3000 * 1000 * 3
    assert peaks[3000] < image_bytes / 4
    assert peaks[3000] - peaks[500] < image_bytes / 20  # six times the rows, about the same memory


def test_cli_strips(tmp_path, photo, capsys):
    path = tmp_path / "p.tif"
    tifffile.imwrite(path, photo, tile=(32, 32))
    ref = kmseg.segment(path, 4)
    out = tmp_path / "out"
    assert main(["segment", str(path), "-k", "4", "-o", str(out), "--strips"]) == 0
    assert sorted(os.listdir(out)) == ["p_labels.tif", "p_palette.json", "p_recolor.tif"]
    np.testing.assert_array_equal(tifffile.imread(out / "p_labels.tif"), ref.labels)
    record = json.loads((out / "p_palette.json").read_text())
    assert (record["height"], record["width"]) == photo.shape[:2]
    assert [c["count"] for c in record["colors"]] == ref.counts.tolist()
    # in strips --max-pixels bounds a band (32 rows of tiles here), not the image; only labels asked for
    only = tmp_path / "only"
    assert main(["segment", str(path), "-k", "4", "-o", str(only), "--outputs", "labels", "--strips",
                 "--max-pixels", "10000"]) == 0
    assert os.listdir(only) == ["p_labels.tif"]
    assert "p_labels.tif" in capsys.readouterr().out
    # without --strips the same file is refused from its header, as before
    assert main(["segment", str(path), "-k", "4", "-o", str(only), "--max-pixels", "10000"]) == 1
    assert "too large" in capsys.readouterr().err


def test_cli_strip_errors_are_one_line(tmp_path, photo):
    path = tmp_path / "p.tif"
    tifffile.imwrite(path, photo, rowsperstrip=8)
    code, _, err = run("segment", path, "--strips", "--figure", "-o", tmp_path / "o")
    assert code == 2 and "--strips takes no --figure: a figure draws the whole image" in err  # a usage error
    assert "Traceback" not in err
    png = tmp_path / "p.png"
    Image.fromarray(photo).save(png)  # not a TIFF: over --max-pixels it is still refused
    code, _, err = run("segment", png, "--max-pixels", "1000", "-o", tmp_path / "o")
    assert code == 1 and "too large" in err and "Traceback" not in err
