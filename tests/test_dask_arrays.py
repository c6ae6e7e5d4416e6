"""Dask arrays of values, segmented lazily: the in-memory result where the values are
few (byte for byte), a Lloyd fixed point for floats, labels as a Dask array."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import kmseg

da = pytest.importorskip("dask.array", reason='Dask is not installed (pip install "dask[distributed]")')


def _volume(shape=(40, 50, 60), seed=0):
    """Three materials of uint16 values with noise, in slabs along the first axis."""
    rng = np.random.default_rng(seed)
    base = np.array([9000, 21000, 40000])[(np.arange(shape[0]) * 3) // shape[0]]
    return (base[:, None, None] + rng.normal(0, 1500, shape)).astype(np.uint16)


def _bands(shape=(60, 70), n_bands=6, seed=1):
    """A uint8 raster of four flat quadrants (each a distinct spectrum), with two noisy bands."""
    rng = np.random.default_rng(seed)
    h, w = shape
    quadrant = (np.arange(h)[:, None] >= h // 2) * 2 + (np.arange(w)[None, :] >= w // 2)
    spectra = rng.integers(0, 256, size=(4, n_bands)).astype(np.uint8)
    out = spectra[quadrant]
    out[..., :2] = np.clip(out[..., :2] + rng.integers(-3, 4, size=(h, w, 2)), 0, 255)
    return out.astype(np.uint8), quadrant


def _floats(shape=(300, 300), n_bands=5, seed=2):
    """Float rows around three well-separated means (more rows than the sample)."""
    rng = np.random.default_rng(seed)
    means = 12.0 * np.eye(3, n_bands) + rng.normal(0, 1, size=(3, n_bands))
    which = rng.integers(0, 3, size=shape)
    return means[which] + rng.normal(0, 1, size=shape + (n_bands,)), which


def _same(lazy, eager):
    """Every field of the lazy segmentation equals the in-memory one, labels byte for byte."""
    assert isinstance(lazy.labels, da.Array)
    labels = lazy.labels.compute()
    assert labels.dtype == eager.labels.dtype and labels.shape == eager.labels.shape
    assert labels.tobytes() == eager.labels.tobytes()
    assert lazy.centers.tobytes() == eager.centers.tobytes()
    assert_array_equal(lazy.counts, eager.counts)
    assert lazy.counts.dtype == eager.counts.dtype
    assert lazy.inertia == eager.inertia
    assert lazy.n_iter == eager.n_iter
    assert_array_equal(lazy.palette, eager.palette)
    assert lazy.color_space is None and lazy.channel_axis == eager.channel_axis
    if eager.mask is None:
        assert lazy.mask is None
    else:
        assert_array_equal(np.asarray(lazy.mask), eager.mask)


class Guarded:
    """An array Dask reads by slices, refusing to be read whole."""

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim
        self.largest = 0

    def __getitem__(self, key):
        out = self.array[key]
        if out.size == self.array.size:
            raise AssertionError("the whole array was read")
        self.largest = max(self.largest, out.size)
        return out

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole array was read")


def test_uint16_volume_equals_in_memory():
    a = _volume()
    x = da.from_array(a, chunks=(10, 25, 30))
    assert x.npartitions == 16
    seg = kmseg.segment(x, 3, channel_axis=None)
    eager = kmseg.segment(a, 3, channel_axis=None)
    _same(seg, eager)
    assert seg.labels.chunks == x.chunks
    # the three slabs, largest first, with the centres near their levels
    assert sorted(seg.centers[:, 0].round(-3).tolist()) == [9000, 21000, 40000]


def test_volume_never_read_whole():
    a = _volume((30, 40, 50), seed=3)
    guard = Guarded(a)
    x = da.from_array(guard, chunks=(10, 20, 25), asarray=True)
    seg = kmseg.segment(x, 4, channel_axis=None)
    assert isinstance(seg.labels, da.Array)
    assert guard.largest == 10 * 20 * 25  # histogram: one block at a time
    _same(seg, kmseg.segment(a, 4, channel_axis=None))
    assert guard.largest == 10 * 20 * 25  # labels: block by block too
    with pytest.raises(AssertionError, match="whole array"):
        np.asarray(guard)


def test_uint8_bands_equal_in_memory():
    a, quadrant = _bands()
    x = da.from_array(a, chunks=(16, 70, 6))
    seg = kmseg.segment(x, 4)
    _same(seg, kmseg.segment(a, 4))
    labels = seg.labels.compute()
    for q in range(4):  # each quadrant one label
        assert len(np.unique(labels[quadrant == q])) == 1


def test_channels_split_across_blocks_and_first():
    a, _ = _bands((30, 40), n_bands=5, seed=4)
    first = np.ascontiguousarray(np.moveaxis(a, -1, 0))
    x = da.from_array(first, chunks=(2, 15, 40))  # the channel axis split: rechunked whole
    seg = kmseg.segment(x, 3, channel_axis=0)
    _same(seg, kmseg.segment(first, 3, channel_axis=0))
    assert seg.labels.shape == (30, 40) and seg.labels.chunks == ((15, 15), (40,))


def test_signed_integers_pack_as_in_memory():
    rng = np.random.default_rng(5)
    a = rng.integers(-3, 3, size=(3, 25, 30)).astype(np.int16) * 100  # 48 bits a row: packed codes
    a[2] = -a[0]
    x = da.from_array(a, chunks=(3, 7, 11))
    seg = kmseg.segment(x, 3, channel_axis=0)
    _same(seg, kmseg.segment(a, 3, channel_axis=0))
    assert seg.centers.min() < 0


def test_mask_numpy_or_dask():
    a = _volume((20, 30, 40), seed=6)
    keep = np.random.default_rng(7).random(a.shape) < 0.7
    eager = kmseg.segment(a, 3, channel_axis=None, mask=keep)
    for mask in (keep, da.from_array(keep, chunks=(5, 30, 10))):
        seg = kmseg.segment(da.from_array(a, chunks=(10, 15, 20)), 3, channel_axis=None, mask=mask)
        _same(seg, eager)
        assert (seg.labels.compute()[~keep] == 3).all()
    with pytest.raises(kmseg.KmsegError, match=r"mask has shape \(30, 40\); the array has the spatial shape "
                                               r"\(20, 30, 40\)"):
        kmseg.segment(da.from_array(a), 3, channel_axis=None, mask=keep[0])


def test_fewer_levels_than_clusters_warns_as_in_memory():
    a = np.repeat(np.array([3, 70, 200], np.uint8), 400).reshape(10, 12, 10)
    with pytest.warns(kmseg.KmsegWarning, match="n_clusters=5 is more than the 3 distinct values"):
        seg = kmseg.segment(da.from_array(a, chunks=5), 5, channel_axis=None)
    with pytest.warns(kmseg.KmsegWarning, match="n_clusters=5 is more than the 3 distinct values"):
        eager = kmseg.segment(a, 5, channel_axis=None)
    _same(seg, eager)


def test_auto_k_on_levels_equals_in_memory():
    a = _volume((30, 20, 20), seed=8)
    seg = kmseg.segment(da.from_array(a, chunks=(10, 10, 20)), "auto", channel_axis=None)
    eager = kmseg.segment(a, "auto", channel_axis=None)
    _same(seg, eager)
    assert seg.elbow.knee.k == eager.elbow.knee.k


def test_small_float_array_equals_in_memory():
    f, _ = _floats((60, 70), n_bands=5)
    f[3, 4, 1] = np.nan
    x = da.from_array(f, chunks=(25, 30, 2))
    _same(kmseg.segment(x, 3, nan="mask"), kmseg.segment(f, 3, nan="mask"))
    with pytest.raises(kmseg.KmsegError, match="1 elements are NaN or infinite; pass nan='mask'"):
        kmseg.segment(x, 3)


def test_wide_integers_small_equal_in_memory():
    rng = np.random.default_rng(9)
    a = (rng.integers(0, 3, size=(20, 25, 1)) * 20000 + rng.integers(0, 50, size=(20, 25, 8))).astype(np.uint16)
    _same(kmseg.segment(da.from_array(a, chunks=(8, 10, 4)), 3), kmseg.segment(a, 3))


def _fixed_point(f, seg, labels, rtol):
    rows = f.reshape(-1, f.shape[-1])
    flat = labels.reshape(-1)
    d = ((rows[:, None, :] - seg.centers[None]) ** 2).sum(-1)
    assert_array_equal(d.argmin(axis=1), flat)  # every element's nearest centre is its own
    for j in range(seg.n_clusters):  # and the centres are the means of their elements
        assert_allclose(rows[flat == j].mean(axis=0), seg.centers[j], rtol=rtol, atol=rtol)
    assert_array_equal(np.bincount(flat, minlength=seg.n_clusters), seg.counts)
    assert_allclose(seg.inertia, d.min(axis=1).sum(), rtol=1e-10)
    assert np.all(np.diff(seg.counts) <= 0)


def test_float_raster_reaches_a_lloyd_fixed_point():
    f, which = _floats()
    x = da.from_array(f, chunks=(100, 150, 5))
    seg = kmseg.segment(x, 3, tol=0)
    labels = seg.labels.compute()
    _fixed_point(f, seg, labels, rtol=1e-9)
    assert seg.n_iter >= 1
    # the three generating means found: each label one of them
    assert all(len(np.unique(which[labels == j])) == 1 for j in range(3))
    # the default tol stops within it of a fixed point
    loose = kmseg.segment(x, 3)
    _fixed_point(f, loose, loose.labels.compute(), rtol=1e-2)


def test_float_lloyd_moves_from_a_poor_start():
    """Overlapping clusters: the sample's centres are not those of all elements, and
    the passes over the blocks move them to a fixed point of the whole array."""
    rng = np.random.default_rng(10)
    f = rng.normal(size=(320, 320, 2)) + np.linspace(0, 3, 320)[:, None, None]
    bands_first = da.from_array(np.ascontiguousarray(np.moveaxis(f, -1, 0)), chunks=(1, 80, 160))
    seg = kmseg.segment(bands_first, 4, channel_axis=0, tol=0, max_iter=100)
    assert seg.n_iter > 1
    _fixed_point(f, seg, seg.labels.compute(), rtol=1e-9)


def test_float_auto_k_refused():
    f, _ = _floats()
    with pytest.raises(kmseg.KmsegError, match="give an integer n_clusters"):
        kmseg.segment(da.from_array(f, chunks=(150, 150, 5)), "auto")


def test_quantize_paints_lazily():
    a, _ = _bands()
    q = kmseg.quantize(da.from_array(a, chunks=(20, 35, 6)), 4)
    eager = kmseg.quantize(a, 4)
    assert isinstance(q.image, da.Array) and q.image.dtype == a.dtype
    assert_array_equal(q.image.compute(), eager.image)
    assert_array_equal(q.indices.compute(), eager.indices)
    assert_array_equal(q.palette, eager.palette)
    with pytest.raises(kmseg.KmsegError, match="dither apply to images"):
        kmseg.quantize(da.from_array(a), 4, dither="floyd-steinberg")


def test_image_shaped_dask_array_takes_the_image_path():
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[:, 15:] = (200, 30, 10)
    seg = kmseg.segment(da.from_array(rgb, chunks=10), 2)
    eager = kmseg.segment(rgb, 2)
    assert isinstance(seg.labels, np.ndarray) and seg.color_space == "rgb"
    assert_array_equal(seg.labels, eager.labels)


def test_refusals():
    a = _volume((10, 10, 10))
    with pytest.raises(kmseg.KmsegError, match="color_space applies to images"):
        kmseg.segment(da.from_array(a), 2, channel_axis=None, color_space="lab")
    with pytest.raises(kmseg.KmsegError, match="an array of numbers"):
        kmseg.segment(da.from_array(np.zeros((4, 5, 6), bool)), 2, channel_axis=None)
    unknown = da.from_array(a, chunks=5)[da.from_array(a, chunks=5)[:, 0, 0] > 0]
    with pytest.raises(kmseg.KmsegError, match="unknown chunk sizes"):
        kmseg.segment(unknown, 2, channel_axis=None)


def test_in_memory_path_does_not_load_dask():
    code = ("import sys, numpy as np, kmseg\n"
            "a = (np.arange(4 * 5 * 6) % 7).astype(np.uint16).reshape(4, 5, 6)\n"
            "seg = kmseg.segment(a, 2, channel_axis=None)\n"
            "print(type(seg.labels).__name__, 'dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ndarray", "False"]


def test_local_cluster_gives_the_same_bytes():
    distributed = pytest.importorskip("distributed")
    a = _volume((20, 30, 40), seed=11)
    f, _ = _floats((300, 240), n_bands=5)
    x, y = da.from_array(a, chunks=(10, 15, 20)), da.from_array(f, chunks=(100, 120, 5))
    local = kmseg.segment(x, 3, channel_axis=None), kmseg.segment(y, 3, tol=0)
    local_labels = [s.labels.compute(scheduler="sync") for s in local]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=":0") as cluster, distributed.Client(cluster):
        remote = kmseg.segment(x, 3, channel_axis=None), kmseg.segment(y, 3, tol=0)
        remote_labels = [s.labels.compute() for s in remote]
    for lo, re, ll, rl in zip(local, remote, local_labels, remote_labels):
        assert ll.tobytes() == rl.tobytes()
        assert lo.centers.tobytes() == re.centers.tobytes() and lo.inertia == re.inertia
        assert_array_equal(lo.counts, re.counts)
    _same(remote[0], kmseg.segment(a, 3, channel_axis=None))
