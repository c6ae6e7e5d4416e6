"""segment_large(): images bigger than memory, in bands of rows.

Pass 1 adds each band's colours to one histogram; k-means runs once on it (the
same fit as :func:`segment` on the whole image); pass 2 labels each band by a
lookup table and writes it out; an optional pass 3 labels the bands again and
writes them painted with the palette.
"""

import os

import numpy as np

from .. import _validation as v
from .._params import (DEFAULT_MAX_ITER, DEFAULT_N_CLUSTERS, DEFAULT_N_INIT, DEFAULT_RANDOM_STATE,
                       DEFAULT_TOL, FitParams)
from ..color._features import ColorFeatures
from ..histogram._histogram import ColorCounts
from ..histogram._kernels import lookup_rgb8
from ..io._bands import open_bands, require_tifffile, write_tiff
from ..labels._order import label_dtype, paint_labels
from ._fit import check_n_clusters, fit_colors, warn_fit
from ._prepare import check_space
from ._result import LargeSegmentation


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
    max_iter=DEFAULT_MAX_ITER,
    tol=DEFAULT_TOL,
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
    or tile at a time with tifffile (``pip install tifffile``, or ``pip install
    ".[big]"`` in a clone of kmseg). Other formats cannot be decoded in parts: they are read whole, within ``max_pixels``, and
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
        As for :func:`segment` (``n_threads`` for every pass: counting,
        fitting and labelling).

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
    params = FitParams.check(n_init, max_iter, tol, random_state, n_threads)
    n_clusters = check_n_clusters(n_clusters)
    if rows is not None:
        rows = v.check_int("rows", rows)
    if color_space is not None:  # checked before the file is opened; the default needs its channels
        color_space = check_space(color_space, grey=False)
    for target in (output, recolor):
        if target is not None:
            require_tifffile()
            folder = os.path.dirname(os.path.abspath(target))
            if not os.path.isdir(folder):
                raise v.KmsegError(f"{os.fspath(target)!r}: folder {folder!r} does not exist")
    with open_bands(image, rows) as reader, v.thread_limit(params.n_threads):
        grey = reader.channels == 1
        space = color_space or ("gray" if grey else "rgb")
        counts = ColorCounts("grey8" if grey else "rgb8")
        n_left_out = 0
        for colour, alpha in _split(reader):
            if alpha is None:
                counts.add_pixels(colour.reshape(-1) if grey else colour.reshape(-1, 3))
            else:
                keep = alpha != 0
                counts.add_pixels(colour[keep])
                n_left_out += keep.size - int(np.count_nonzero(keep))
        if n_left_out == reader.shape[0] * reader.shape[1]:
            raise v.KmsegError(f"{reader.name} has no pixels left to cluster (all transparent)")
        if grey:
            colors, n_pixels = counts.histogram()
            codes = colors
        else:
            codes, n_pixels, colors = counts.codes()
        fitted = fit_colors(ColorFeatures(colors, n_pixels, space, reader.name), n_clusters, params)
        warn_fit(fitted, stacklevel=2)
        seg = LargeSegmentation(reader.shape, fitted, space, n_left_out)
        k = seg.n_clusters
        if output is not None or recolor is not None:
            table = counts.label_table(codes, fitted.color_labels, label_dtype(k + 1 if n_left_out else k))
            del counts
        if output is not None:
            write_tiff(output, (lab for lab, _ in _labelled(reader, table, k)), reader.shape,
                       table.dtype, compress=compress)
            seg.labels_path = os.fspath(output)
        if recolor is not None:  # a second pass over the image: labels are not kept
            grey_out = grey and space == "gray"
            paint = np.concatenate([seg.palette, np.zeros((1, 3), np.uint8)])  # left-out pixels: 0
            paint = np.ascontiguousarray(paint[:, :1] if grey_out else paint)
            painted = (paint_labels(paint, lab, alpha) for lab, alpha in _labelled(reader, table, k))
            depth = paint.shape[1] + reader.alpha
            write_tiff(recolor, painted, reader.shape + ((depth,) if depth > 1 else ()), np.uint8,
                       compress=compress)
            seg.recolor_path = os.fspath(recolor)
    return seg


def _split(reader):
    """Yield ``(colour, alpha)`` per band: the colour channels, C-contiguous, and the
    alpha channel (None without one); pixels of alpha 0 are left out."""
    for _, band in reader.bands():
        if not reader.alpha:
            yield band, None
            continue
        colour = band[:, :, 0] if reader.channels == 1 else band[:, :, :3]
        yield np.ascontiguousarray(colour), band[:, :, -1]


def _labelled(reader, table, k):
    """Yield ``(labels, alpha)`` per band: labels through a label-per-colour table,
    ``k`` where alpha is 0; ``alpha`` as from :func:`_split`."""
    for colour, alpha in _split(reader):
        if colour.ndim == 2:
            lab = np.take(table, colour)
        else:
            lab = np.empty(colour.shape[:2], dtype=table.dtype)
            lookup_rgb8(colour.reshape(-1, 3), table, lab.reshape(-1))
        if alpha is not None:
            lab[alpha == 0] = k
        yield lab, alpha


