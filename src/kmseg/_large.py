"""segment_large(): images bigger than memory, in bands of rows.

Pass 1 adds each band's colours to one histogram; k-means runs once on it (the
same fit as :func:`segment` on the whole image); pass 2 labels each band by a
lookup table and writes it out; an optional pass 3 labels the bands again and
writes them painted with the palette.
"""

import os

import numpy as np

from . import _validation as v
from ._segment import (DEFAULT_N_CLUSTERS, DEFAULT_N_INIT, DEFAULT_RANDOM_STATE, distinct_features,
                       fit_colors, order_clusters, paint_labels)
from .color._spaces import to_rgb8
from .labels._order import label_dtype

#: Colour counts are kept in uint32 and flushed to int64 before this many pixels.
_FLUSH_PIXELS = (1 << 32) - 1


class LargeSegmentation:
    """A k-means segmentation of an image processed in bands.

    Like :class:`Segmentation`, without the label array: the labels are in
    the file ``labels_path``.

    Attributes
    ----------
    shape : (int, int)
        Image height and width.
    centers : (k, d) float64 ndarray
    palette : (k, 3) uint8 ndarray
    counts : (k,) int64 ndarray
    inertia : float
    n_iter : int
    color_space : str
    n_left_out : int
        Pixels left out of the clustering (alpha 0); their label is ``n_clusters``.
    labels_path, recolor_path : str or None
        The TIFF files written.
    elbow : Elbow or None
        The sweep that chose k, for ``n_clusters='auto'``.
    """

    def __init__(self, shape, centers, palette, counts, inertia, n_iter, color_space):
        self.shape = tuple(shape)
        self.centers = centers
        self.palette = palette
        self.counts = counts
        self.inertia = inertia
        self.n_iter = n_iter
        self.color_space = color_space
        self.n_left_out = 0
        self.labels_path = None
        self.recolor_path = None
        self.elbow = None

    @property
    def n_clusters(self):
        """Number of clusters ``k``."""
        return len(self.centers)

    def __repr__(self):
        h, w = self.shape
        return (f"LargeSegmentation({h}x{w} pixels, n_clusters={self.n_clusters}, "
                f"color_space={self.color_space!r}, inertia={self.inertia:.6g})")


class _Histogram:
    """Colour counts added band by band: 8-bit RGB in a 2**24 table, grey in 256 bins."""

    def __init__(self, channels, n_threads):
        from .histogram._kernels import N_CODES

        self.rgb = channels == 3
        self.table = np.zeros(N_CODES if self.rgb else 256, dtype=np.uint32 if self.rgb else np.int64)
        self._marks = np.zeros(N_CODES // 64 if self.rgb else 0, dtype=np.uint64)  # colours seen
        self._total = None  # int64 counts, only past 2**32 pixels
        self._since_flush = 0
        self._n_threads = n_threads

    def add(self, pixels):
        """Count pixels: ``(n, 3)`` RGB or ``(n,)`` grey, uint8, C-contiguous."""
        if not self.rgb:
            self.table += np.bincount(pixels, minlength=256)
            return
        from .histogram._kernels import count_rgb8

        if self._since_flush + len(pixels) > _FLUSH_PIXELS:
            self._flush()
        count_rgb8(pixels, self.table, self._marks, self._n_threads)
        self._since_flush += len(pixels)

    def _flush(self):
        if self._total is None:
            self._total = np.zeros(len(self.table), dtype=np.int64)
        self._total += self.table
        self.table[:] = 0
        self._since_flush = 0

    def colors(self):
        """Distinct colours (ascending, uint8, (n, 3) or (n,)), their counts, and RGB codes."""
        from .histogram._kernels import compact_rgb8

        if not self.rgb:
            values = np.flatnonzero(self.table)
            return values.astype(np.uint8), self.table[values], values
        if self._total is not None:
            self._flush()
            codes, counts, colors = compact_rgb8(self._total, self._marks)
            self._total = None
        else:
            codes, counts, colors = compact_rgb8(self.table, self._marks)
        return colors, counts, codes


class _Summary:
    """The weighted features of an image's distinct colours (what sweeps and fits need)."""

    def __init__(self, name, colors, counts, space):
        self.name = name
        self.space = space
        self.features, self.n_distinct = distinct_features(colors, space)
        self.weights = counts.astype(np.float64)


def segment_large(
    image,
    n_clusters=DEFAULT_N_CLUSTERS,
    output=None,
    *,
    recolor=None,
    rows=None,
    compress=True,
    color_space=None,
    n_init=DEFAULT_N_INIT,
    max_iter=300,
    tol=1e-4,
    random_state=DEFAULT_RANDOM_STATE,
    n_threads=None,
):
    """Segment an image too big for memory, reading and labelling it in bands of rows.

    The colour histogram is added up band by band, k-means runs once on it, and
    the labels are written band by band as a TIFF: memory holds a band, the
    distinct colours and one 64 MB table (colour counts, then a label per colour,
    for 8-bit RGB), never the image. The centres, counts, inertia and labels are those of
    :func:`segment` on the whole image, byte for byte.

    As in :func:`segment`, fully transparent pixels (alpha 0) are left out of the
    clustering and get the label ``n_clusters``; the recoloured image keeps the
    alpha channel.

    TIFF files (stripped or tiled, 8-bit grey or RGB(A)) are decoded one strip
    or tile at a time with tifffile (``pip install 'kmseg[big]'``). Other formats
    cannot be decoded in parts: they are read whole, within ``max_pixels``, and
    only the labelling runs in bands. A TIFF is never held whole, so there
    ``max_pixels`` bounds a band (one row of strips or tiles), not the image.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        An 8-bit grey or RGB(A) image; a TIFF path is read in parts.
    n_clusters : int or 'auto', default=8
        As for :func:`segment`.
    output : str, os.PathLike or None, default=None
        TIFF file for the label map (uint8 for up to 256 labels, else uint16),
        written strip by strip and atomically. None writes no labels.
    recolor : str, os.PathLike or None, default=None
        TIFF file for the image painted with its cluster colours (one more
        pass over the image), written strip by strip and atomically.
    rows : int or None, default=None
        Rows per band (rounded up to whole strips or tiles of the input); None
        gives about four million pixels a band.
    compress : bool, default=True
        Deflate the strips written.
    color_space, n_init, max_iter, tol, random_state, n_threads
        As for :func:`segment`.

    Returns
    -------
    LargeSegmentation
        Centres, palette, counts, inertia, and the paths written.

    Raises
    ------
    ImageReadError
        The image cannot be read, or is a TIFF layout not read in parts.
    KmsegError
        A parameter out of range, an image that is not 8-bit, or tifffile missing.

    See Also
    --------
    segment : the same result with the labels in memory.

    Examples
    --------
    >>> import os, tempfile, numpy as np, tifffile, kmseg
    >>> img = np.zeros((6, 4, 3), np.uint8); img[:, 3:] = (255, 0, 0)
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "big.tif")
    >>> tifffile.imwrite(path, img, rowsperstrip=2)
    >>> seg = kmseg.segment_large(path, 2, os.path.join(folder, "labels.tif"), rows=2)
    >>> seg.palette.tolist(), seg.counts.tolist()
    ([[0, 0, 0], [255, 0, 0]], [18, 6])
    >>> tifffile.imread(seg.labels_path)[0].tolist()
    [0, 0, 0, 1]
    """
    from .io._tiles import open_bands, require_tifffile

    n_init = v.check_int("n_init", n_init)
    n_threads = v.resolve_n_threads(n_threads)
    if rows is not None:
        rows = v.check_int("rows", rows)
    if color_space is not None:
        v.check_choice("color_space", color_space, v.COLOR_SPACES)
    if not (isinstance(n_clusters, str) and n_clusters.lower() == "auto"):
        v.check_int("n_clusters", n_clusters)
    for target in (output, recolor):
        if target is not None:
            require_tifffile()
            folder = os.path.dirname(os.path.abspath(target))
            if not os.path.isdir(folder):
                raise v.KmsegError(f"{os.fspath(target)!r}: folder {folder!r} does not exist")
    fit_params = dict(n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state,
                      n_threads=n_threads)
    with open_bands(image, rows) as reader:
        grey = reader.channels == 1
        space = v.check_choice("color_space", ("gray" if grey else "rgb") if color_space is None
                               else color_space, v.COLOR_SPACES)
        hist = _Histogram(reader.channels, n_threads)
        n_left_out = 0
        with v.thread_limit(n_threads):
            for colour, alpha in _split(reader):
                if alpha is None:
                    hist.add(colour.reshape(-1, 3) if hist.rgb else colour.reshape(-1))
                else:
                    keep = alpha != 0
                    hist.add(colour[keep])
                    n_left_out += keep.size - int(np.count_nonzero(keep))
        if n_left_out == reader.shape[0] * reader.shape[1]:
            raise v.KmsegError(f"{reader.name} has no pixels left to cluster (all transparent)")
        colors, counts, codes = hist.colors()
        summary = _Summary(reader.name, colors, counts, space)
        seg, color_labels = _fit(summary, n_clusters, fit_params, reader.shape)
        seg.n_left_out = n_left_out
        if output is not None or recolor is not None:
            from .io._tiles import write_tiff

            k = seg.n_clusters
            table = _label_table(hist, codes, color_labels, label_dtype(k + 1 if n_left_out else k))
            del hist
        if output is not None:
            write_tiff(output, (lab for lab, _ in _labelled(reader, table, k, n_threads)), reader.shape,
                       table.dtype, compress=compress)
            seg.labels_path = os.fspath(output)
        if recolor is not None:  # a second pass over the image: labels are not kept
            grey_out = grey and space == "gray"
            paint = np.concatenate([seg.palette, np.zeros((1, 3), np.uint8)])  # left-out pixels: 0
            paint = np.ascontiguousarray(paint[:, :1] if grey_out else paint)
            painted = (paint_labels(paint, lab, alpha)
                       for lab, alpha in _labelled(reader, table, k, n_threads))
            depth = paint.shape[1] + reader.alpha
            write_tiff(recolor, painted, reader.shape + ((depth,) if depth > 1 else ()), np.uint8,
                       compress=compress)
            seg.recolor_path = os.fspath(recolor)
    return seg


def _fit(summary, n_clusters, fit_params, shape):
    """Fit the histogram as :func:`segment` does; the result and a label per colour."""
    centers, color_labels, inertia, n_iter, elbow = fit_colors(summary, n_clusters, fit_params,
                                                               stacklevel=3)
    centers, counts, color_labels = order_clusters(summary.features, summary.weights, centers,
                                                   color_labels, fit_params["n_threads"])
    seg = LargeSegmentation(shape, centers, to_rgb8(centers, summary.space), counts, float(inertia),
                            int(n_iter), summary.space)
    seg.elbow = elbow
    return seg, color_labels


def _label_table(hist, codes, color_labels, dtype):
    """A label per colour code: per grey value, or per 24-bit code in the
    histogram's own table memory (:func:`~kmseg.histogram._histogram.label_lut`)."""
    if hist.rgb:
        from .histogram._histogram import label_lut

        return label_lut(hist.table, codes, color_labels, dtype)
    table = np.zeros(256, dtype=dtype)
    table[codes] = color_labels.astype(dtype)
    return table


def _split(reader):
    """Yield ``(colour, alpha)`` per band: the colour channels, C-contiguous, and the
    alpha channel (None without one); pixels of alpha 0 are left out."""
    for _, band in reader.bands():
        if not reader.alpha:
            yield band, None
            continue
        colour = band[:, :, 0] if reader.channels == 1 else band[:, :, :3]
        yield np.ascontiguousarray(colour), band[:, :, -1]


def _labelled(reader, table, k, n_threads):
    """Yield ``(labels, alpha)`` per band: labels through a label-per-colour table,
    ``k`` where alpha is 0; ``alpha`` as from :func:`_split`."""
    from .histogram._kernels import lookup_rgb8

    for colour, alpha in _split(reader):
        if colour.ndim == 2:
            lab = np.take(table, colour)
        else:
            lab = np.empty(colour.shape[:2], dtype=table.dtype)
            with v.thread_limit(n_threads):
                lookup_rgb8(colour.reshape(-1, 3), table, lab.reshape(-1))
        if alpha is not None:
            lab[alpha == 0] = k
        yield lab, alpha


