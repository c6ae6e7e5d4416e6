"""Colour histograms: distinct colours and their pixel counts.

:class:`ColorCounts` adds counts up: the pixels of an image a band at a time,
and the counts of other images or of other workers, exactly. :class:`ColorHistogram`
is one image's histogram with the way back from a label per colour to a label per
pixel; it counts with :class:`ColorCounts` where no such way back needs keeping.
"""

import numpy as np

from .._parallel import get_num_threads
from ._kernels import N_CODES, add_counts, compact_rgb8, count_rgb8, lookup_rgb8, unique_codes

#: From this many pixels on, 8-bit RGB colours are counted in a 2**24-entry table
#: (fixed cost: a 64 MB table to clear and scan); below, by bucketing their codes
#: (:func:`~kmseg.histogram._kernels.unique_codes`).
TABLE_MIN_PIXELS = 1 << 20
#: Pixel counts are kept in uint32 and moved to an int64 table before this many pixels.
FLUSH_PIXELS = (1 << 32) - 1
#: Counts of colours that are not 8-bit are merged into one when this many rows wait.
COMPACT_ROWS = 4_000_000
#: What :class:`ColorCounts` counts.
KINDS = ("rgb8", "grey8", "rows")


class ColorCounts:
    """Pixel counts of colours that add up, exactly, whatever the order of adding.

    Parameters
    ----------
    kind : {'rgb8', 'grey8', 'rows'}
        'rgb8': 8-bit RGB colours, counted by 24-bit code ``r << 16 | g << 8 | b``
        in a 2**24-entry table; 'grey8': 8-bit grey values, 256 bins; 'rows':
        any other colours (rows, or values, of one dtype), merged by sorting.

    Notes
    -----
    Counts added as histograms are kept as they are (a few bytes a colour) until
    more than ``COMPACT_ROWS`` rows wait: then 'rgb8' ones go into one 2**24-entry
    table (128 MB) and 'rows' ones are merged by sorting. A pickled ColorCounts
    holds its distinct colours and counts only (not the tables), so it travels to
    and from worker processes cheaply.

    Examples
    --------
    >>> import numpy as np
    >>> counts = ColorCounts("rgb8").add_pixels(np.array([[0, 0, 9], [0, 0, 9]], np.uint8))
    >>> counts += ColorCounts("rgb8").add(np.array([[0, 0, 9], [255, 0, 0]], np.uint8), np.array([1, 5]))
    >>> colors, n = counts.histogram()
    >>> colors.tolist(), n.tolist()
    ([[0, 0, 9], [255, 0, 0]], [3, 5])
    """

    def __init__(self, kind):
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r} must be one of {KINDS}")
        self.kind = kind
        self._pixels = None  # rgb8: uint32 counts of the pixels since the last flush; grey8: int64 (256,)
        self._total = None  # rgb8: int64 counts (pixels flushed, and counts added)
        self._marks = None  # rgb8: a bit per colour code that has a count
        self._since_flush = 0
        self._parts = []  # rgb8: (codes, counts); rows: (colors, counts); not merged yet

    def add_pixels(self, pixels):
        """Count pixels: ``(n, 3)`` uint8 for 'rgb8', ``(n,)`` uint8 for 'grey8', rows
        for 'rows'. Returns self."""
        if self.kind == "rgb8":
            if self._since_flush + len(pixels) > FLUSH_PIXELS:
                self._flush()
            if self._pixels is None:
                self._pixels = np.zeros(N_CODES, dtype=np.uint32)
            count_rgb8(np.ascontiguousarray(pixels), self._pixels, self._bitmap(), get_num_threads())
            self._since_flush += len(pixels)
        elif self.kind == "grey8":
            self._grey_table()[:] += np.bincount(pixels, minlength=256)
        else:
            axis = None if pixels.ndim == 1 else 0
            colors, counts = np.unique(pixels, axis=axis, return_counts=True)
            self.add(colors, counts)
        return self

    def add(self, colors, counts):
        """Add the counts of distinct colours (as from :meth:`histogram`). Returns self."""
        counts = np.asarray(counts, dtype=np.int64)
        if self.kind == "grey8":
            np.add.at(self._grey_table(), np.asarray(colors, dtype=np.intp), counts)
            return self
        return self.add_keys(rgb8_codes(colors) if self.kind == "rgb8" else colors, counts)

    def add_keys(self, keys, counts):
        """Add counts by key: 24-bit codes for 'rgb8' (as :func:`rgb8_codes` gives
        them), colours for 'rows'. Returns self."""
        keys = np.asarray(keys, dtype=np.int64) if self.kind == "rgb8" else np.asarray(keys)
        self._parts.append((keys, np.asarray(counts, dtype=np.int64)))
        if sum(len(c) for _, c in self._parts) > COMPACT_ROWS:
            self._merge_parts()
        return self

    def __iadd__(self, other):
        if other.kind != self.kind:
            raise ValueError(f"cannot add {other.kind} colour counts to {self.kind} ones")
        if self.kind != "grey8" and other._marks is None:  # no table: its parts as they are
            for keys, counts in other._parts:
                self.add_keys(keys, counts)
            return self
        return self.add(*other.histogram())

    def histogram(self):
        """Distinct colours (ascending: by code, value or row) and their counts (int64).

        Colours are ``(m, 3)`` uint8 for 'rgb8', ``(m,)`` uint8 for 'grey8', rows
        of the added dtype for 'rows'.
        """
        if self.kind == "rgb8":
            codes, counts, colors = self._compact()
            return colors, counts
        if self.kind == "grey8":
            table = self._grey_table()
            values = np.flatnonzero(table)
            return values.astype(np.uint8), table[values]
        if not self._parts:
            return np.empty((0, 3)), np.empty(0, np.int64)
        self._parts[:] = [_merged(self._parts)]
        return self._parts[0]

    def codes(self):
        """'rgb8': the 24-bit codes of the distinct colours (uint32, ascending), their
        counts and the colours, from one pass over the table's bitmap."""
        return self._compact()

    def label_table(self, codes, color_labels, dtype):
        """A label per colour, to look pixels up in: per 24-bit code ('rgb8', written
        over the pixel counts' own table memory, see :func:`label_lut`) or per grey value.
        The counts are gone afterwards."""
        if self.kind == "grey8":
            table = np.zeros(256, dtype=dtype)
            table[codes] = np.asarray(color_labels).astype(dtype)
            return table
        table = self._pixels if self._pixels is not None else np.zeros(N_CODES, np.uint32)
        self._pixels = self._total = None
        return label_lut(table, codes, color_labels, dtype)

    def _bitmap(self):
        if self._marks is None:
            self._marks = np.zeros(N_CODES // 64, dtype=np.uint64)
        return self._marks

    def _grey_table(self):
        if self._pixels is None:
            self._pixels = np.zeros(256, dtype=np.int64)
        return self._pixels

    def _flush(self):
        """Move the uint32 pixel counts into the int64 totals."""
        if self._pixels is None or self._since_flush == 0:
            return
        if self._total is None:
            self._total = np.zeros(N_CODES, dtype=np.int64)
        self._total += self._pixels
        self._pixels[:] = 0
        self._since_flush = 0

    def _merge_parts(self):
        """The waiting parts into one: 'rgb8' into the 2**24-entry table, 'rows' by sorting."""
        if not self._parts:
            return
        if self.kind == "rows":
            self._parts[:] = [_merged(self._parts)]
            return
        if self._total is None:
            self._total = np.zeros(N_CODES, dtype=np.int64)  # 128 MB, pages touched as used
        for codes, counts in self._parts:
            add_counts(self._total, self._bitmap(), codes, counts)
        self._parts.clear()

    def _compact(self):
        if self._marks is None:  # no table: the added parts alone
            codes, counts = _merged(self._parts) if self._parts else (np.empty(0, np.int64), np.empty(0, np.int64))
            self._parts[:] = [(codes, counts)] if len(counts) else []
            codes = codes.astype(np.uint32)
            return codes, counts, decode_rgb8(codes)
        self._merge_parts()
        if self._total is None:
            return compact_rgb8(self._pixels, self._marks)
        self._flush()
        return compact_rgb8(self._total, self._marks)

    def __sizeof__(self):
        arrays = [self._pixels, self._total, self._marks] + [a for part in self._parts for a in part]
        return object.__sizeof__(self) + sum(a.nbytes for a in arrays if a is not None)

    def __getstate__(self):
        return {"kind": self.kind, "histogram": self.histogram()}

    def __setstate__(self, state):
        self.__init__(state["kind"])
        colors, counts = state["histogram"]
        if len(counts):
            self.add(colors, counts)


class ColorHistogram:
    """The distinct colours of an image's pixels and how many pixels have each.

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
        self._inverse = None  # the index of each pixel's colour, where kept
        self.codes = None
        rgb8 = pixels.dtype == np.uint8 and pixels.ndim == 2 and pixels.shape[1] == 3
        if rgb8 and pixels.shape[0] < TABLE_MIN_PIXELS:
            codes, counts, inverse = unique_codes(rgb8_codes(pixels))
            self.codes, self.colors, self.counts = codes, decode_rgb8(codes), counts
            self._inverse = inverse
        elif rgb8 or (pixels.dtype == np.uint8 and pixels.ndim == 1):
            counts = ColorCounts("rgb8" if rgb8 else "grey8").add_pixels(pixels)
            if rgb8:  # labels go back to pixels through a table by code (see to_pixels)
                self.codes, self.counts, self.colors = counts.codes()
            else:
                self.colors, self.counts = counts.histogram()
        else:
            colors, inverse, counts = np.unique(pixels, axis=None if pixels.ndim == 1 else 0,
                                                return_inverse=True, return_counts=True)
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
        if self._inverse is not None:
            return color_labels.astype(dtype)[self._inverse]
        if self.codes is None:  # 8-bit grey
            table = np.zeros(256, dtype=dtype)
            table[self.colors] = color_labels.astype(dtype)
            return table[pixels]
        # a table of its own (not the counts' memory): a histogram may label for many
        # fits at once; only the entries of the image's colours are read
        lut = np.empty(N_CODES, dtype=dtype)
        lut[self.codes] = color_labels.astype(dtype)
        out = np.empty(pixels.shape[0], dtype=dtype)
        lookup_rgb8(np.ascontiguousarray(pixels), lut, out)
        return out


def _merged(parts):
    """One histogram of several ``(keys, counts)``: keys distinct and ascending, counts
    added exactly (int64)."""
    if len(parts) == 1:  # one histogram: already distinct and sorted
        return parts[0]
    keys = np.concatenate([k for k, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    keys, inverse = np.unique(keys, axis=None if keys.ndim == 1 else 0, return_inverse=True)
    total = np.zeros(len(keys), dtype=np.int64)
    np.add.at(total, inverse.reshape(-1), counts)
    return keys, total


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
    colors = np.asarray(colors)
    return (colors[:, 0].astype(np.uint32) << 16) | (colors[:, 1].astype(np.uint32) << 8) | colors[:, 2]


def decode_rgb8(codes):
    """(n, 3) uint8 colours of 24-bit codes."""
    return np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=1).astype(np.uint8)
