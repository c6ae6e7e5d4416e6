"""Arrays beyond RGB images (issue: volumes, stacks, multi-band rasters): ``channel_axis``,
their values clustered as they are, and the files they come in."""

import json
import warnings

import numpy as np
import pytest

import kmseg
from kmseg.cli import main
from kmseg.pipeline._arrays import ArrayValues

from naive import naive_optimal_1d


def _volume(shape=(12, 14, 16), levels=(1000, 20000, 40000), seed=0):
    """A uint16 volume of a few tissue-like classes with noise, and its classes."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, len(levels), shape)
    values = np.asarray(levels)[classes] + rng.normal(0, 600, shape)
    return np.clip(values, 0, 65535).astype(np.uint16), classes


def _raster(shape=(40, 50), bands=6, seed=1):
    """A float (H, W, bands) raster: three land covers mixed into the bands, with noise."""
    rng = np.random.default_rng(seed)
    cover = rng.integers(0, 3, shape)
    signature = rng.uniform(0, 1, (3, bands))
    return (signature[cover] + rng.normal(0, 0.05, shape + (bands,))).astype(np.float32)


def _exact_inertia(rows, labels, centers):
    return float(((rows - centers[labels]) ** 2).sum())


def test_volume_is_the_optimum_of_one_channel():
    vol, _ = _volume()
    vol //= 64  # fewer levels (about 100), for the naive programme's O(k n^2)
    seg = kmseg.segment(vol, 3, channel_axis=None)
    assert seg.labels.shape == vol.shape and seg.color_space is None
    levels, counts = np.unique(vol, return_counts=True)
    best = naive_optimal_1d(levels.astype(float), counts.astype(float), 3)
    assert seg.inertia == pytest.approx(best, rel=1e-9)
    rows = vol.reshape(-1, 1).astype(float)
    assert _exact_inertia(rows, seg.labels.reshape(-1), seg.centers) == pytest.approx(seg.inertia, rel=1e-9)
    assert np.all(np.diff(seg.counts) <= 0) and seg.counts.sum() == vol.size  # largest first
    # every element is labelled with its nearest centre
    nearest = np.abs(rows - seg.centers[:, 0][None, :]).argmin(axis=1)
    np.testing.assert_array_equal(nearest, seg.labels.reshape(-1))


def test_channel_axis_anywhere_gives_the_same_classes():
    raster = _raster()
    last = kmseg.segment(raster, 3)
    first = kmseg.segment(np.moveaxis(raster, -1, 0), 3, channel_axis=0)
    np.testing.assert_array_equal(first.labels, last.labels)
    assert last.labels.shape == raster.shape[:2] and last.centers.shape == (3, 6)
    np.testing.assert_allclose(first.centers, last.centers)


@pytest.mark.parametrize("photo", ["astronaut", "coffee"])
def test_multiband_raster_matches_scikit_learn_best_of_ten(photo):
    """A 6-band raster made of a photo's colours mixed into six bands, with noise."""
    from sklearn.cluster import KMeans
    from skimage import data

    rng = np.random.default_rng(0)
    img = getattr(data, photo)()[::3, ::3].astype(np.float64) / 255
    mix = rng.uniform(0, 1, (3, 6))
    raster = (img @ mix + rng.normal(0, 0.01, img.shape[:2] + (6,))).astype(np.float32)
    rows = raster.reshape(-1, 6).astype(np.float64)
    for k in (4, 8):
        seg = kmseg.segment(raster, k)
        sk = KMeans(k, n_init=10, random_state=0).fit(rows)
        assert seg.inertia <= sk.inertia_ * 1.001
        assert _exact_inertia(rows, seg.labels.reshape(-1), seg.centers) == pytest.approx(seg.inertia, rel=1e-9)


def test_integer_rows_are_counted_exactly():
    rng = np.random.default_rng(2)
    raster = rng.integers(0, 4, (30, 40, 6)).astype(np.uint8) * 60
    values = ArrayValues(raster, -1)
    rows = raster.reshape(-1, 6)
    assert values.weights.sum() == len(rows) and len(values.features) == len(np.unique(rows, axis=0))
    rebuilt = np.repeat(values.features, values.weights.astype(int), axis=0)
    np.testing.assert_array_equal(np.unique(rebuilt, axis=0), np.unique(rows, axis=0).astype(float))
    seg = kmseg.segment(raster, 4)
    assert _exact_inertia(rows.astype(float), seg.labels.reshape(-1), seg.centers) == pytest.approx(seg.inertia)


def test_left_out_elements_get_label_k():
    vol, _ = _volume((6, 7, 8))
    keep = np.ones(vol.shape, bool)
    keep[0] = False
    seg = kmseg.segment(vol, 3, channel_axis=None, mask=keep)
    assert np.all(seg.labels[0] == 3) and np.all(seg.labels[1:] < 3)
    assert seg.counts.sum() == keep.sum()
    painted = kmseg.quantize(vol, 3, channel_axis=None, mask=keep).image  # painted from the labels: left out 0
    assert np.all(painted[0] == 0) and set(np.unique(painted[1:])) == set(np.rint(seg.centers.ravel()).astype(int))
    floats = vol.astype(np.float32)
    floats[1, 2, 3] = np.nan
    with pytest.raises(kmseg.KmsegError, match="nan='mask'"):
        kmseg.segment(floats, 3, channel_axis=None)
    assert kmseg.segment(floats, 3, channel_axis=None, nan="mask").labels[1, 2, 3] == 3


def test_quantize_volume_keeps_its_dtype_and_shape():
    vol, _ = _volume()
    q = kmseg.quantize(vol, 3, channel_axis=None)
    assert q.image.shape == vol.shape and q.image.dtype == np.uint16
    np.testing.assert_array_equal(q.image, np.rint(q.segmentation.centers[q.indices, 0]).astype(np.uint16))
    stack = np.moveaxis(_raster(), -1, 0)
    q = kmseg.quantize(stack, 3, channel_axis=0)
    assert q.image.shape == stack.shape and len(np.unique(q.image.reshape(6, -1), axis=1).T) == 3


def test_elbow_and_auto_on_a_volume():
    vol, _ = _volume()
    curve = kmseg.elbow(vol, range(1, 6), channel_axis=None)
    assert curve.best_k == 3
    seg = kmseg.segment(vol, 3, channel_axis=None)
    assert curve.wcss[2] == pytest.approx(seg.inertia, rel=1e-9)
    assert kmseg.segment(vol, "auto", channel_axis=None).n_clusters == 3


def test_apply_labels_another_array():
    vol, _ = _volume()
    seg = kmseg.segment(vol, 3, channel_axis=None)
    np.testing.assert_array_equal(seg.apply(vol).labels, seg.labels)
    other = seg.apply(vol[::-1])
    np.testing.assert_array_equal(other.labels, seg.labels[::-1])


def test_images_keep_their_meaning():
    from skimage import data

    img = data.astronaut()[::4, ::4]
    a, b = kmseg.segment(img, 5), kmseg.segment(img, 5, channel_axis=2)
    assert a.color_space == b.color_space == "rgb"
    np.testing.assert_array_equal(a.labels, b.labels)
    grey = data.camera()[::4, ::4]
    assert kmseg.segment(grey, 3, channel_axis=None).color_space == "gray"


@pytest.mark.parametrize("kwargs,match", [
    (dict(color_space="lab"), "color_space applies to images"),
    (dict(spatial_weight=1.0), "spatial_weight applies to images"),
    (dict(channel_axis=5), "channel_axis=5 must be in"),
])
def test_array_parameters_refused_by_name(kwargs, match):
    vol, _ = _volume((4, 5, 6))
    kwargs.setdefault("channel_axis", None)
    with pytest.raises(kmseg.KmsegError, match=match):
        kmseg.segment(vol, 2, **kwargs)


def test_fewer_values_than_clusters_warns():
    vol = np.repeat(np.array([0, 500, 900], np.uint16), 20).reshape(3, 4, 5)
    with pytest.warns(kmseg.KmsegWarning, match="3 distinct values"):
        seg = kmseg.segment(vol, 5, channel_axis=None)
    assert seg.n_clusters == 3 and seg.inertia == 0


def test_command_line_writes_labels_of_the_input_kind(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    vol, _ = _volume()
    np.save(tmp_path / "vol.npy", vol)
    tifffile.imwrite(tmp_path / "stack.tif", vol)
    raster = (np.clip(_raster(), 0, 1) * 1000).astype(np.uint16)
    geo = [(33550, 12, 3, (30.0, 30.0, 0.0), True), (33922, 12, 6, (0, 0, 0, 500000.0, 4e6, 0), True)]
    tifffile.imwrite(tmp_path / "geo.tif", raster, photometric="minisblack", planarconfig="contig", extratags=geo)
    out = tmp_path / "out"
    assert main(["segment", str(tmp_path / "vol.npy"), str(tmp_path / "stack.tif"), "-k", "3",
                 "--channel-axis", "none", "-o", str(out)]) == 0
    expected = kmseg.segment(vol, 3, channel_axis=None).labels
    np.testing.assert_array_equal(np.load(out / "vol_labels.npy"), expected)
    np.testing.assert_array_equal(tifffile.imread(out / "stack_labels.tif"), expected)
    assert json.loads((out / "vol_palette.json").read_text())["shape"] == list(vol.shape)
    recolored = np.load(out / "vol_recolor.npy")
    assert recolored.dtype == np.uint16 and len(np.unique(recolored)) == 3
    # a multi-band GeoTIFF (more than 4 samples a pixel) is read as an array by itself
    assert main(["segment", str(tmp_path / "geo.tif"), "-k", "3", "-o", str(out)]) == 0
    with tifffile.TiffFile(out / "geo_labels.tif") as tif:
        labels, tags = tif.asarray(), tif.pages[0].tags
        assert labels.shape == raster.shape[:2]
        assert tags[33550].value == (30.0, 30.0, 0.0) and tags[33922].value[3:5] == (500000.0, 4e6)
    assert main(["quantize", str(tmp_path / "vol.npy"), "-n", "3", "--channel-axis", "none",
                 "-o", str(tmp_path / "q.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "q.npy"), kmseg.quantize(vol, 3, channel_axis=None).image)


def test_nifti_keeps_its_affine(tmp_path):
    nibabel = pytest.importorskip("nibabel")
    vol, _ = _volume()
    affine = np.diag([0.5, 0.5, 2.0, 1.0])
    affine[:3, 3] = (10, -20, 5)
    nibabel.save(nibabel.Nifti1Image(vol, affine), tmp_path / "ct.nii.gz")
    assert main(["segment", str(tmp_path / "ct.nii.gz"), "-k", "3", "--channel-axis", "none",
                 "-o", str(tmp_path / "out"), "--outputs", "labels"]) == 0
    saved = nibabel.load(tmp_path / "out" / "ct_labels.nii.gz")
    np.testing.assert_array_equal(saved.affine, affine)
    np.testing.assert_array_equal(np.asarray(saved.dataobj), kmseg.segment(vol, 3, channel_axis=None).labels)


def test_array_files_refuse_what_is_for_images(tmp_path, capsys):
    vol, _ = _volume((4, 5, 6))
    np.save(tmp_path / "vol.npy", vol)
    assert main(["segment", str(tmp_path / "vol.npy"), "-k", "2", "--channel-axis", "none", "--figure",
                 "-o", str(tmp_path / "o")]) == 1  # the file's kind, not the option alone
    assert "vol.npy': an array file" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["quantize", str(tmp_path / "vol.npy"), "-n", "2", "--channel-axis", "none",
                     "-o", str(tmp_path / "q.png")]) == 2
    assert "written as an array file" in capsys.readouterr().err


def test_channel_axis_refused_for_images_that_are_not_arrays(tmp_path):
    from PIL import Image

    img = np.zeros((6, 8, 3), np.uint8)
    Image.fromarray(img).save(tmp_path / "photo.png")
    with pytest.raises(kmseg.KmsegError, match="photo.png'?: channel_axis=None applies to arrays"):
        kmseg.segment(tmp_path / "photo.png", 2, channel_axis=None)
    with pytest.raises(kmseg.KmsegError, match="channel_axis=0 applies to arrays"):
        kmseg.segment(Image.fromarray(img), 2, channel_axis=0)


def test_repeated_float_rows_leave_no_empty_cluster():
    """More than 65,536 float elements are not counted as distinct values first: clusters
    left empty by the fit are dropped, with the warning fewer distinct values give."""
    a = np.zeros((2, 300, 200), np.float32)
    a[1] = 1
    with pytest.warns(kmseg.KmsegWarning, match="left 2 clusters empty"):
        seg = kmseg.segment(a, 4, channel_axis=None)
    assert seg.counts.tolist() == [60000, 60000] and sorted(seg.centers.ravel().tolist()) == [0.0, 1.0]
    assert seg.labels.max() == 1


def test_array_files_in_folders_and_bad_ones(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    vol, _ = _volume((4, 5, 6))
    np.save(folder / "vol.npy", vol)
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(folder / "photo.png")
    assert main(["batch", str(folder), "-o", str(tmp_path / "out"), "-k", "2", "--quiet"]) == 0
    assert {"vol_labels.npy", "photo_labels.png"} <= set(p.name for p in (tmp_path / "out").iterdir())
    capsys.readouterr()
    (tmp_path / "bad.nii").write_bytes(b"garbage")
    pytest.importorskip("nibabel")
    assert main(["segment", str(tmp_path / "bad.nii"), "-k", "2", "--channel-axis", "none",
                 "-o", str(tmp_path / "o2")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.nii': not a readable .nii array" in err
    assert main(["palette", str(folder / "vol.npy"), "-n", "2", "-o", str(tmp_path / "o3")]) == 1
    assert "vol.npy': an array file" in capsys.readouterr().err
