"""Numba kernels for 8-bit RGB colour histograms and label lookup.

A colour ``(r, g, b)`` is addressed by its 24-bit code ``r << 16 | g << 8 | b``
in a table of ``2**24`` entries: one pass counts the pixels of every colour, and
the same table, refilled with a label per colour, maps pixels back to labels.
Small images skip the big table: their codes are bucketed by their high bits and
each bucket is counted in a small table that stays in cache (:func:`unique_codes`).
"""

import numpy as np
from numba import njit, prange

from ..cluster._kernels import CHUNK, n_chunks

#: Number of 8-bit RGB colours, the size of the code tables.
N_CODES = 1 << 24
#: De Bruijn constant and table: the index of the lowest set bit ``t`` of a
#: 64-bit word is ``DEBRUIJN[(t * MAGIC) >> 58]`` (arithmetic modulo 2**64).
MAGIC = 0x03F79D71B4CB0A89
DEBRUIJN = np.zeros(64, dtype=np.int64)
for _i in range(64):
    DEBRUIJN[(((1 << _i) * MAGIC) % (1 << 64)) >> 58] = _i
del _i


@njit(inline="always")
def _lowest_bit(word):
    """``(index, bit)`` of the lowest set bit of a non-zero uint64 ``word``."""
    bit = word & (~word + np.uint64(1))
    return DEBRUIJN[(bit * np.uint64(MAGIC)) >> np.uint64(58)], bit


@njit(parallel=True, cache=True, nogil=True)
def count_rgb8(pixels, table, marks, n_parts):
    """Add the pixels of each colour to ``table[code]``, marking colours seen.

    The code range is split into ``n_parts`` parts (whole 64-code words of
    ``marks``) counted in parallel, each part scanning all pixels and counting
    only its own codes: no two threads write the same entry, and the counts do
    not depend on ``n_parts``. A colour counted into an empty entry sets its bit
    in ``marks``, so :func:`compact_rgb8` reads a 2 MB bitmap instead of the
    64 MB table.

    Parameters
    ----------
    pixels : (n, 3) uint8
    table : (2**24,) uint32, counts accumulated in place.
    marks : (2**18,) uint64, bit ``code`` set in place for every colour counted.
    n_parts : int, at least 1
    """
    span = ((N_CODES + n_parts - 1) // n_parts + 63) // 64 * 64
    for part in prange(n_parts):
        lo = part * span
        hi = lo + span
        for i in range(pixels.shape[0]):
            code = (
                (np.uint32(pixels[i, 0]) << 16)
                | (np.uint32(pixels[i, 1]) << 8)
                | np.uint32(pixels[i, 2])
            )
            if code >= lo and code < hi:
                count = table[code]
                if count == 0:
                    marks[code >> 6] |= np.uint64(1) << np.uint64(code & 63)
                table[code] = count + 1


@njit(parallel=True, cache=True, nogil=True)
def lookup_rgb8(pixels, table, out):
    """``out[i] = table[code(pixels[i])]``.

    Parameters
    ----------
    pixels : (n, 3) uint8
    table : (2**24,) unsigned integers, a value per colour code.
    out : (n,) integer array, output.
    """
    n = pixels.shape[0]
    for c in prange(n_chunks(n)):
        start = c * CHUNK
        stop = min(n, start + CHUNK)
        for i in range(start, stop):
            code = (
                (np.uint32(pixels[i, 0]) << 16)
                | (np.uint32(pixels[i, 1]) << 8)
                | np.uint32(pixels[i, 2])
            )
            out[i] = table[code]


#: Parts of the bitmap that :func:`compact_rgb8` reads in parallel (any number
#: gives the same result).
COMPACT_PARTS = 64


@njit(parallel=True, cache=True, nogil=True)
def compact_rgb8(table, marks):
    """The colours marked in ``marks`` (see :func:`count_rgb8`): their codes
    (ascending), their values in ``table`` and the colours themselves.

    Returns
    -------
    codes : (n,) uint32, values : (n,) int64, colors : (n, 3) uint8
    """
    per = marks.shape[0] // COMPACT_PARTS
    found = np.zeros(COMPACT_PARTS + 1, dtype=np.int64)
    for part in prange(COMPACT_PARTS):
        m = 0
        for q in range(part * per, (part + 1) * per):
            word = marks[q]
            while word != 0:
                word &= word - np.uint64(1)
                m += 1
        found[part + 1] = m
    for part in range(COMPACT_PARTS):
        found[part + 1] += found[part]
    n = found[COMPACT_PARTS]
    codes = np.empty(n, dtype=np.uint32)
    values = np.empty(n, dtype=np.int64)
    colors = np.empty((n, 3), dtype=np.uint8)
    for part in prange(COMPACT_PARTS):
        m = found[part]
        for q in range(part * per, (part + 1) * per):
            word = marks[q]
            while word != 0:
                index, bit = _lowest_bit(word)
                code = q * 64 + index
                codes[m] = code
                values[m] = table[code]
                colors[m, 0] = (code >> 16) & 255
                colors[m, 1] = (code >> 8) & 255
                colors[m, 2] = code & 255
                m += 1
                word ^= bit
    return codes, values, colors


#: Low bits of a code counted in the small table of :func:`unique_codes`.
LOW_BITS = 12


@njit(cache=True, nogil=True)
def unique_codes(codes):
    """Distinct codes (ascending), their counts, and each code's index among them.

    The same result as ``np.unique(codes, return_counts=True,
    return_inverse=True)``, in linear time: a counting sort on the high bits
    groups the codes into buckets, then each bucket is counted in a
    ``2**LOW_BITS``-entry table (32 KB), its distinct low bits marked in a
    bitmap of 64 words that is read back in ascending order.

    Parameters
    ----------
    codes : (n,) uint32, values below ``2**24``.

    Returns
    -------
    distinct : (m,) uint32, counts : (m,) int64, inverse : (n,) int32
    """
    n = codes.shape[0]
    n_low = 1 << LOW_BITS
    mask = np.uint32(n_low - 1)
    n_buckets = N_CODES >> LOW_BITS
    start = np.zeros(n_buckets + 1, dtype=np.int64)
    for i in range(n):
        start[(codes[i] >> LOW_BITS) + 1] += 1
    for b in range(n_buckets):
        start[b + 1] += start[b]
    fill = start[:n_buckets].copy()
    order = np.empty(n, dtype=np.int32)
    low_of = np.empty(n, dtype=np.uint16)
    for i in range(n):
        b = codes[i] >> LOW_BITS
        order[fill[b]] = i
        low_of[fill[b]] = codes[i] & mask
        fill[b] += 1
    table = np.zeros(n_low, dtype=np.int64)
    words = np.zeros(n_low // 64, dtype=np.uint64)
    distinct = np.empty(n, dtype=np.uint32)
    counts = np.empty(n, dtype=np.int64)
    inverse = np.empty(n, dtype=np.int32)
    one = np.uint64(1)
    m = 0
    for b in range(n_buckets):
        lo, hi = start[b], start[b + 1]
        if lo == hi:
            continue
        for j in range(lo, hi):
            low = low_of[j]
            table[low] += 1
            words[low >> 6] |= one << np.uint64(low & 63)
        high = np.uint32(b) << LOW_BITS
        for q in range(n_low // 64):  # distinct lows in ascending order
            word = words[q]
            if word == 0:
                continue
            words[q] = 0
            while word != 0:
                index, bit = _lowest_bit(word)
                low = q * 64 + index
                distinct[m] = high | np.uint32(low)
                counts[m] = table[low]
                table[low] = m  # from now on: the colour's index
                m += 1
                word ^= bit
        for j in range(lo, hi):
            inverse[order[j]] = table[low_of[j]]
        for j in range(lo, hi):
            table[low_of[j]] = 0
    return distinct[:m].copy(), counts[:m].copy(), inverse


@njit(cache=True, nogil=True)
def add_counts(table, codes, counts):
    """``table[codes[i]] += counts[i]`` for every i, repeated codes included."""
    for i in range(codes.shape[0]):
        table[codes[i]] += counts[i]
