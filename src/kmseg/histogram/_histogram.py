"""Colour histogram: an image's distinct colours, their pixel counts, and the
way back from a label per colour to a label per pixel."""

import numpy as np

from .._parallel import get_num_threads
from ._kernels import N_CODES, compact_rgb8, count_rgb8, lookup_rgb8, unique_codes

#: From this many pixels on, 8-bit RGB colours are counted in a 2**24-entry table
#: (fixed cost: a 64 MB table to clear and scan); below, by bucketing their codes
#: (:func:`~kmseg.histogram._kernels.unique_codes`).
TABLE_MIN_PIXELS = 1 << 20


class ColorHistogram:
    """The distinct colours of a set of pixels and how many pixels have each.

    Parameters
    ----------
    pixels : (n,) or (n, c) ndarray
        Pixel values, one row a pixel (grey: one value).

    Attributes
    ----------
    colors : (n_colors,) or (n_colors, c) ndarray
        Distinct colours, of the pixels' dtype, in ascending order.
    counts : (n_colors,) int64 ndarray
        Number of pixels of each colour.
    codes : (n_colors,) uint32 ndarray or None
        For 8-bit RGB pixels, each colour's 24-bit code ``r << 16 | g << 8 | b``.
    """

    def __init__(self, pixels):
        self._table = None
        self._inverse = None
        self.codes = None
        rgb8 = pixels.dtype == np.uint8 and pixels.ndim == 2 and pixels.shape[1] == 3
        if rgb8 and pixels.shape[0] < TABLE_MIN_PIXELS:
            codes = rgb8_codes(pixels)
            codes, counts, inverse = unique_codes(codes)
            self.codes = codes
            self.colors = _decode(codes)
            self.counts = counts
            self._inverse = inverse
        elif rgb8:
            table = np.zeros(N_CODES, dtype=np.uint32)
            marks = np.zeros(N_CODES // 64, dtype=np.uint64)
            count_rgb8(np.ascontiguousarray(pixels), table, marks, get_num_threads())
            self.codes, self.counts, self.colors = compact_rgb8(table, marks)
            self._table = table
        elif pixels.dtype == np.uint8 and pixels.ndim == 1:
            counts = np.bincount(pixels, minlength=256)
            values = np.flatnonzero(counts)
            self.colors = values.astype(np.uint8)
            self.counts = counts[values].astype(np.int64)
            self._lut_index = np.zeros(256, dtype=np.intp)
            self._lut_index[values] = np.arange(len(values))
        else:
            if pixels.ndim == 1:
                colors, inverse, counts = np.unique(pixels, return_inverse=True, return_counts=True)
            else:
                colors, inverse, counts = np.unique(
                    pixels, axis=0, return_inverse=True, return_counts=True
                )
            self.colors = colors
            self.counts = counts.astype(np.int64)
            self._inverse = inverse.reshape(-1)

    def __len__(self):
        return len(self.counts)

    def to_pixels(self, color_labels, pixels, dtype):
        """Labels of the pixels the histogram was made of.

        Parameters
        ----------
        color_labels : (n_colors,) integer ndarray
            A label per distinct colour.
        pixels : ndarray
            The same pixels that made the histogram.
        dtype : numpy dtype
            Integer dtype of the output.

        Returns
        -------
        labels : (n,) ndarray of ``dtype``
        """
        color_labels = np.asarray(color_labels)
        if self._table is not None:
            lut = label_lut(self._table, self.codes, color_labels, dtype)
            out = np.empty(pixels.shape[0], dtype=dtype)
            lookup_rgb8(np.ascontiguousarray(pixels), lut, out)
            return out
        if self._inverse is None:
            return color_labels.astype(dtype)[self._lut_index[pixels]]
        return color_labels.astype(dtype)[self._inverse]


def label_lut(table, codes, color_labels, dtype):
    """A label per 24-bit colour code, written over a uint32 count ``table`` of
    ``2**24`` entries: its memory viewed at the width of ``dtype`` (the smallest
    table that holds the labels: fewer bytes to fetch per pixel). Only the
    entries of ``codes`` are meaningful afterwards; the counts are gone."""
    dtype = np.dtype(dtype)
    lut = table.view(dtype)[:N_CODES] if dtype.itemsize <= table.itemsize else np.zeros(N_CODES, dtype)
    lut[codes] = np.asarray(color_labels).astype(dtype)
    return lut


def rgb8_codes(colors):
    """24-bit codes ``r << 16 | g << 8 | b`` (uint32) of (n, 3) 8-bit colours."""
    return (colors[:, 0].astype(np.uint32) << 16) | (colors[:, 1].astype(np.uint32) << 8) | colors[:, 2]


def _decode(codes):
    """(n, 3) uint8 colours of 24-bit codes."""
    return np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=1).astype(np.uint8)
