"""Numba kernels for 8-bit RGB colour histograms and label lookup.

A colour ``(r, g, b)`` is addressed by its 24-bit code ``r << 16 | g << 8 | b``
in a table of ``2**24`` entries: one pass counts the pixels of every colour, and
the same table, refilled with a label per colour, maps pixels back to labels.
"""

import numpy as np
from numba import njit, prange

from ..cluster._kernels import CHUNK

#: Number of 8-bit RGB colours, the size of the code tables.
N_CODES = 1 << 24


@njit(parallel=True, cache=True, nogil=True)
def count_rgb8(pixels, table, n_parts):
    """Add the pixels of each colour to ``table[code]``.

    The code range is split into ``n_parts`` parts counted in parallel, each
    part scanning all pixels and counting only its own codes: no two threads
    write the same entry, and the counts do not depend on ``n_parts``.

    Parameters
    ----------
    pixels : (n, 3) uint8
    table : (2**24,) uint32, counts accumulated in place.
    n_parts : int, at least 1
    """
    span = (N_CODES + n_parts - 1) // n_parts
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
                table[code] += 1


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
    for c in prange((n + CHUNK - 1) // CHUNK):
        start = c * CHUNK
        stop = min(n, start + CHUNK)
        for i in range(start, stop):
            code = (
                (np.uint32(pixels[i, 0]) << 16)
                | (np.uint32(pixels[i, 1]) << 8)
                | np.uint32(pixels[i, 2])
            )
            out[i] = table[code]


@njit(cache=True, nogil=True)
def compact_rgb8(table):
    """The non-zero entries of ``table``: their codes (ascending) and values.

    Returns
    -------
    codes : (n,) uint32, values : (n,) uint32
    """
    n = 0
    for code in range(table.shape[0]):
        if table[code] != 0:
            n += 1
    codes = np.empty(n, dtype=np.uint32)
    values = np.empty(n, dtype=np.uint32)
    n = 0
    for code in range(table.shape[0]):
        if table[code] != 0:
            codes[n] = code
            values[n] = table[code]
            n += 1
    return codes, values
