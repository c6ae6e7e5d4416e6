"""Arrays beyond RGB images: volumes, stacks and multi-band rasters.

array (spatial axes..., C channels) -> distinct rows and their counts -> weighted
k-means (for one channel the optimum, by dynamic programming) -> ordered labels of
the spatial shape

The values are clustered as they are, in the array's own units: no colour space.
8- and 16-bit data have few distinct values (65,536 levels at most for one
channel), so the fit runs on those, weighted by their counts, and labels go back
through the index of each element's value; float data with many distinct rows
are clustered row by row, every element a sample.
"""

import os

import numpy as np

from .. import _validation as v
from ..cluster._fit import fit_weighted
from ..labels._order import label_dtype
from ._fit import each_its_own, order_clusters

#: Channels an image has when ``channel_axis`` is left at -1: grey+alpha, RGB, RGBA.
IMAGE_CHANNELS = (2, 3, 4)
#: Rows are packed into one integer code, to find the distinct ones by one sort, when
#: their channels take at most this many bits in all.
PACKED_BITS = 64


def value_kind(dtype, n_channels):
    """How the distinct rows of values of ``dtype`` are found: 'levels' (a table of
    every 8- or 16-bit level, one channel), 'codes' (rows packed into one integer,
    :func:`pack_rows`) or 'rows' (every element a sample: floats, wide integers)."""
    dtype = np.dtype(dtype)
    if dtype in (np.uint8, np.uint16) and n_channels == 1:
        return "levels"
    if dtype.kind in "ui" and n_channels * 8 * dtype.itemsize <= PACKED_BITS:
        return "codes"
    return "rows"


def pack_rows(rows):
    """Each (n, c) integer row as one uint64 code, the first channel in the most
    significant bits (codes sort as the rows' unsigned values do)."""
    bits = np.uint64(8 * rows.dtype.itemsize)
    unsigned = rows.astype(rows.dtype.str.replace("i", "u"), copy=False).astype(np.uint64)
    code = np.zeros(len(rows), dtype=np.uint64)
    for j in range(rows.shape[1]):
        code = (code << bits) | unsigned[:, j]
    return code


def unpack_rows(codes, dtype, c):
    """The (m, c) float64 rows of ``dtype`` values packed in ``codes`` (:func:`pack_rows`)."""
    bits = 8 * dtype.itemsize
    low = np.uint64((1 << bits) - 1)
    out = np.empty((len(codes), c), dtype=np.float64)
    for j in range(c):
        part = (codes >> np.uint64(bits * (c - 1 - j))) & low
        out[:, j] = part.astype(dtype.str.replace("i", "u")).view(dtype)
    return out


def value_table(centers, dtype):
    """The centres as values of ``dtype`` (rounded and clipped for integers), with one
    more row of zeros for the label of elements left out: what painting indexes."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        centers = np.clip(np.rint(centers), info.min, info.max)
    return np.concatenate([centers, np.zeros((1, centers.shape[1]))]).astype(dtype)


def check_channel_axis(channel_axis, ndim):
    """``channel_axis`` as a non-negative axis of an ``ndim``-dimensional array, or None."""
    if channel_axis is None:
        return None
    axis = v.check_int("channel_axis", channel_axis, minimum=-ndim, maximum=ndim - 1)
    return axis % ndim


def is_image(image, channel_axis):
    """Whether ``image`` goes through the image path (colour spaces, files, the grid):
    an image file, a PIL image, a prepared image, or an ``(H, W)`` or ``(H, W,
    2|3|4)`` array with its channels (if any) last. Others (volumes, more channels,
    another channel axis, array files) are arrays (:class:`ArrayValues`).

    Raises
    ------
    KmsegError
        ``channel_axis`` other than -1 for an image that is not an array (a PIL
        image, a PNG or JPEG file, a prepared image): its channels are its colours.
    """
    if isinstance(image, (str, os.PathLike)):
        from ..io._arrays import is_array_file

        if is_array_file(image, channel_axis):
            return False
        if channel_axis != -1:
            raise v.KmsegError(f"{os.fspath(image)!r}: channel_axis={channel_axis} applies to arrays and array "
                               "files (.npy, .tif, .tiff, .nii, .nii.gz); an image file's channels are its colours")
        return True
    if not isinstance(image, np.ndarray):
        if channel_axis != -1:
            raise v.KmsegError(f"channel_axis={channel_axis} applies to arrays and array files; a "
                               f"{type(image).__name__}'s channels are its colours")
        return True
    if image.ndim == 2:  # a grey image (channel_axis 0 or 1: rows of samples, an array)
        return channel_axis in (-1, None)
    if image.ndim != 3:
        return False
    return channel_axis in (-1, 2) and image.shape[2] in IMAGE_CHANNELS


class ArrayValues:
    """An array's elements as rows of channel values, reduced to the distinct rows.

    Parameters
    ----------
    array : ndarray
        Any shape; numbers (integers or floats).
    channel_axis : int or None
        The axis of the channels; None: every axis is spatial (one channel).
    mask : ndarray of bool, optional
        The spatial shape: True where elements are clustered.
    nan : {'raise', 'mask'}
        Non-finite values: refused, or left out.
    name : str

    Attributes
    ----------
    shape : tuple
        The spatial shape (the labels' shape).
    features : (m, C) float64 ndarray
        Distinct rows (or every row, when they are not few).
    weights : (m,) float64 ndarray
        Elements of each.
    n_distinct : int
    keep : (n,) bool ndarray or None
        The clustered elements, flat; None when all are.
    dtype : numpy dtype
        The array's.
    """

    def __init__(self, array, channel_axis, mask=None, nan="raise", name="the array"):
        array = np.asarray(array)
        self.name = name
        if array.dtype.kind not in "uif" or array.ndim == 0 or array.size == 0:
            raise v.KmsegError(f"{name}: an array of numbers with at least one element is needed, got "
                               f"shape {array.shape} of {array.dtype}")
        axis = check_channel_axis(channel_axis, array.ndim)
        if axis is None:
            array = array[..., None]
        elif axis != array.ndim - 1:
            array = np.moveaxis(array, axis, -1)
        if array.ndim < 2:
            raise v.KmsegError(f"{name}: channel_axis={channel_axis} leaves no spatial axis")
        self.shape = array.shape[:-1]
        self.dtype = array.dtype
        self.channel_axis = channel_axis
        rows = array.reshape(-1, array.shape[-1])
        self.keep = self._kept(rows, mask, v.check_choice("nan", nan, ("raise", "mask")))
        if self.keep is not None:
            rows = rows[self.keep]
        if len(rows) == 0:
            raise v.KmsegError(f"{name}: no element is left to cluster")
        self._distinct(rows)
        self.lo, self.hi = self.features.min(axis=0), self.features.max(axis=0)  # the distinct rows' range

    def _kept(self, rows, mask, nan):
        keep = None
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != self.shape:
                raise v.KmsegError(f"mask has shape {mask.shape}; {self.name} has the spatial shape {self.shape}")
            keep = mask.reshape(-1).astype(bool)
        if rows.dtype.kind == "f":
            finite = np.isfinite(rows).all(axis=1)
            if not finite.all():
                if nan == "raise":
                    raise v.KmsegError(f"{self.name}: {int((~finite).sum()):,} elements are NaN or infinite; "
                                       "pass nan='mask' to leave them out")
                keep = finite if keep is None else keep & finite
        return keep

    def _distinct(self, rows):
        """The distinct rows with their counts, and each element's index among them."""
        n, c = rows.shape
        kind = value_kind(rows.dtype, c)
        if kind == "levels":
            counts = np.bincount(rows[:, 0], minlength=1 << (8 * rows.dtype.itemsize))
            levels = np.flatnonzero(counts)
            index = np.zeros(len(counts), dtype=np.int64)
            index[levels] = np.arange(len(levels))
            self.features = levels.astype(np.float64)[:, None]
            self.weights = counts[levels].astype(np.float64)
            self._index = lambda: index[rows[:, 0]]
        elif kind == "codes":
            codes, inverse, counts = np.unique(pack_rows(rows), return_inverse=True, return_counts=True)
            self.features = unpack_rows(codes, rows.dtype, c)
            self.weights = counts.astype(np.float64)
            self._index = lambda: inverse.reshape(-1)
        else:  # many distinct rows (floats): every element a sample
            self.features = np.ascontiguousarray(rows, dtype=np.float64)
            self.weights = np.ones(n)
            self._index = lambda: np.arange(n)
        # floats: their distinct rows counted where few enough to count cheaply; beyond,
        # every row is taken as distinct (repeated rows then share clusters in the fit)
        self.n_distinct = (len(self.features) if rows.dtype.kind != "f"
                           else len(np.unique(self.features, axis=0)) if len(self.features) <= 1 << 16
                           else len(self.features))

    def label_map(self, labels, k):
        """The labels of the spatial shape from a label per row of ``features`` (``k``
        where elements were left out)."""
        dtype = label_dtype(k if self.keep is None else k + 1)
        kept = np.asarray(labels).astype(dtype, copy=False)[self._index()]
        if self.keep is None:
            return kept.reshape(self.shape)
        full = np.full(self.keep.shape, k, dtype=dtype)
        full[self.keep] = kept
        return full.reshape(self.shape)

    def display(self, centers):
        """Displayable RGB colours of centres: one channel as grey and three as RGB over
        the data's range (the whole range of an unsigned integer type), other numbers
        of channels as distinct hues."""
        c = centers.shape[1]
        if c in (1, 3):
            if self.dtype.kind == "u":
                lo, hi = np.zeros(c), np.full(c, float(np.iinfo(self.dtype).max))
            elif self.dtype.kind == "f" and self.lo.min() >= 0 and self.hi.max() <= 1:
                lo, hi = np.zeros(c), np.ones(c)
            else:
                lo, hi = self.lo, self.hi
            unit = (centers - lo) / np.where(hi > lo, hi - lo, 1.0)
            rgb = np.rint(np.clip(unit, 0, 1) * 255).astype(np.uint8)
            return np.repeat(rgb, 3, axis=1) if c == 1 else rgb
        return hues(len(centers))


def hues(n):
    """``n`` displayable colours of well-spread hues (golden-ratio steps around the wheel).

    Examples
    --------
    >>> hues(3).tolist()
    [[242, 85, 85], [85, 131, 242], [177, 242, 85]]
    """
    from colorsys import hsv_to_rgb

    golden = (np.sqrt(5) - 1) / 2
    return np.array([[round(255 * x) for x in hsv_to_rgb((i * golden) % 1.0, 0.65, 0.95)] for i in range(n)],
                    dtype=np.uint8).reshape(n, 3)


def fit_values(values, n_clusters, params):
    """k-means of an :class:`ArrayValues`' rows, k given or 'auto' (the knee of the
    sweep of k = 1..10, as for images): ``(labels, centers, counts, inertia, n_iter,
    elbow, note)`` with clusters numbered largest first, ``labels`` one per row of
    ``values.features``, ``elbow`` the sweep (or None) and ``note`` why there are
    fewer clusters than asked (or None)."""
    note, elbow = None, None
    if n_clusters == "auto":
        from .._params import AUTO_K_MAX
        from ..choose._sweep import k_values, sweep

        ks = k_values(range(1, AUTO_K_MAX + 1), values.n_distinct, values.name, auto=True)
        elbow = sweep(values.features, values.weights, ks, params, 0, None, False, None)
        n_clusters = int(elbow.knee.k)
    if n_clusters > values.n_distinct:
        note = (f"n_clusters={n_clusters} is more than the {values.n_distinct} distinct values of "
                f"{values.name}; using n_clusters={values.n_distinct}")
        n_clusters = values.n_distinct
    if n_clusters == len(values.features):  # each row its own cluster
        centers, labels, inertia, n_iter = each_its_own(values.features)
    else:
        km = fit_weighted(values.features, values.weights, n_clusters, n_init=params.n_init,
                          max_iter=params.max_iter, tol=params.tol, rng=params.random_state)
        centers, labels, inertia, n_iter = km.cluster_centers_, km.labels_, km.inertia_, km.n_iter_
    centers, counts, labels = order_clusters(values.features, values.weights, centers, labels)
    if counts[-1] == 0:  # repeated float rows, not counted as such: fewer clusters than asked
        kept = int(np.count_nonzero(counts))  # the empty ones are last (largest first), no label points there
        note = (f"n_clusters={len(centers)} left {len(centers) - kept} clusters empty: {values.name} has fewer "
                f"distinct values; using n_clusters={kept}")
        centers, counts = centers[:kept], counts[:kept]
    return labels, centers, counts, float(inertia), int(n_iter), elbow, note


def read_values(image, channel_axis, mask, nan):
    """The :class:`ArrayValues` of an array, or of a file read as one (see
    :func:`kmseg.io.read_array`)."""
    name = "the array"
    if isinstance(image, (str, os.PathLike)):
        from ..io._arrays import read_array

        name = repr(os.fspath(image))
        image = read_array(image)
    return ArrayValues(image, channel_axis, mask, nan, name)


def painted_values(seg):
    """An array's segmentation painted: each element's values replaced by its cluster's
    centre, in the array's dtype (rounded and clipped for integers) and layout (the
    channels back on their axis); elements left out are 0. Made from the labels and
    centres alone: the array is not read again."""
    out = value_table(seg.centers, seg.value_dtype)[seg.labels]
    if seg.channel_axis is None:
        return out[..., 0]
    return np.moveaxis(out, -1, seg.channel_axis % out.ndim)
