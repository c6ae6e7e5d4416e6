"""Cython kernels for 8-bit RGB pixels gathered by the cells of a regular grid.

The grid has ``2**bits`` cells per axis (``1 <= bits <= 7``): colour ``(r, g, b)``
lies in cell ``(r >> s) << 2 bits | (g >> s) << bits | (b >> s)``, with ``s = 8 -
bits``, at offset ``(r & m, g & m, b & m)`` from the cell's lowest corner (``m =
2**s - 1``), and its sub-code in the cell is ``(r & m) << 2 s | (g & m) << s | (b
& m)``. A pass over the pixels gives each cell's pixel count and offset sums
(with the sum of squares of all pixels, these are the sufficient statistics of
every cell that lies inside one cluster); a second counts the colours of chosen
cells only, in a table of ``2**(3 s)`` entries per chosen cell; a third labels
every pixel from a label per cell, or per colour in the chosen cells. All sums
are of integers, so no result depends on the number of threads.
"""

import numpy as np

from kmseg import _parallel  # its fork handler must exist wherever a kernel can run (see _parallel.pyx)
cimport openmp
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from kmseg._parallel cimport CHUNK, n_chunks, team_size

cdef enum:
    _N_STATS = 4

#: Statistics per cell, in this order: pixels, the sums of the three offsets.
N_STATS = _N_STATS

ctypedef fused label_t:
    uint8_t
    uint16_t


cdef inline Py_ssize_t _cell(const uint8_t* p, int s, int bits) noexcept nogil:
    return ((<Py_ssize_t>(p[0] >> s)) << (2 * bits)) | ((<Py_ssize_t>(p[1] >> s)) << bits) | (p[2] >> s)


cdef inline Py_ssize_t _sub(const uint8_t* p, int s, uint32_t m) noexcept nogil:
    return ((<Py_ssize_t>(p[0] & m)) << (2 * s)) | ((<Py_ssize_t>(p[1] & m)) << s) | (p[2] & m)


cdef uint64_t _stats_part(const uint8_t* pix, Py_ssize_t start, Py_ssize_t stop, int bits, uint64_t* acc,
                          int32_t* touched, Py_ssize_t* n_touched) noexcept nogil:
    """Accumulate pixels ``start..stop`` into ``acc`` and list the cells they touch;
    return the sum of their squared offsets.

    A cell's pixel count and offset sums are four 32-bit lanes of two 64-bit words
    of ``acc`` (two additions per pixel); the caller keeps parts short enough that
    no lane overflows."""
    cdef int s = 8 - bits
    cdef uint64_t m = (1u << s) - 1
    cdef Py_ssize_t i, c, t = 0
    cdef uint64_t r, g, b
    cdef uint64_t sq = 0
    cdef const uint8_t* p
    for i in range(start, stop):
        p = pix + 3 * i
        r = p[0]
        g = p[1]
        b = p[2]
        c = _cell(p, s, bits)
        if acc[2 * c] == 0:
            touched[t] = <int32_t>c
            t += 1
        r = r & m
        g = g & m
        b = b & m
        acc[2 * c] += 1 + (r << 32)
        acc[2 * c + 1] += g + (b << 32)
        sq += r * r + g * g + b * b
    n_touched[0] = t
    return sq


def cell_stats(const uint8_t[:, ::1] pixels, int bits):
    """Pixels and offset sums of every occupied cell, and the pixels' sum of squared offsets.

    The pixels are split into parts, one a thread (more for images so large that a
    part could overflow a 32-bit sum), each counted in a table of its own; the
    cells the parts touched are then added up in 64-bit integers.

    Parameters
    ----------
    pixels : (n, 3) uint8
    bits : int, 1..7
        Cells per axis: ``2**bits``.

    Returns
    -------
    cells : (m,) int64
        The occupied cells, ascending.
    stats : (m, 4) int64
        Per cell: pixels, and the sums of the three offsets from the cell's
        lowest corner.
    sum_sq : int
        The sum over all pixels of their squared offsets from their cells' lowest
        corners (with the statistics, each cell's sum of squares over all pixels
        follows exactly, in small numbers).
    """
    if not 1 <= bits <= 7:
        raise ValueError(f"bits={bits} must be 1..7")
    cdef Py_ssize_t n = pixels.shape[0]
    cdef Py_ssize_t n_cells = (<Py_ssize_t>1) << (3 * bits)
    cdef Py_ssize_t w = (<Py_ssize_t>1) << (8 - bits)
    # pixels a 32-bit lane holds without overflow
    cdef Py_ssize_t block = 4294967295 // (w - 1)
    cdef int team = team_size(<double>n * 8)
    cdef Py_ssize_t n_parts = max(team if n >= team else 1, (n + block - 1) // block)
    cdef Py_ssize_t per = (n + n_parts - 1) // n_parts if n > 0 else 0
    cdef Py_ssize_t part
    cdef const uint8_t* pix = &pixels[0, 0] if n > 0 else NULL
    # NumPy's allocation: on Linux it asks for huge pages for arrays of 4 MB or more,
    # so the first touch of a cell costs no page fault each
    accs_a = np.zeros((n_parts, 2 * n_cells), dtype=np.uint64)
    touched_a = np.empty((n_parts, min(n_cells, max(per, 1))), dtype=np.int32)
    found_a = np.zeros(n_parts, dtype=np.intp)
    sums_a = np.zeros(n_parts, dtype=np.uint64)
    cdef uint64_t[:, ::1] accs = accs_a
    cdef int32_t[:, ::1] touched = touched_a
    cdef Py_ssize_t[::1] found = found_a
    cdef uint64_t[::1] sums = sums_a
    if n > 0:
        with nogil:
            for part in prange(n_parts, num_threads=team, schedule="static", chunksize=1):
                sums[part] = _stats_part(pix, part * per, min(n, part * per + per), bits, &accs[part, 0],
                                         &touched[part, 0], &found[part])
    cells = np.unique(np.concatenate([touched_a[part, : found_a[part]] for part in range(n_parts)]))
    cells = cells.astype(np.int64)
    stats_a = np.zeros((len(cells), _N_STATS), dtype=np.int64)
    if len(cells):
        _add_parts(accs, cells, stats_a)
    return cells, stats_a, int(sums_a.sum(dtype=np.uint64))


cdef void _add_parts(const uint64_t[:, ::1] accs, const int64_t[::1] cells, int64_t[:, ::1] stats):
    """``stats[j]``: the lanes of cell ``cells[j]`` in every part, added in 64 bits."""
    cdef Py_ssize_t j, q, c
    cdef uint64_t w0, w1
    cdef uint64_t low32 = ((<uint64_t>1) << 32) - 1
    with nogil:
        for j in prange(cells.shape[0], schedule="static"):
            c = cells[j]
            for q in range(accs.shape[0]):
                w0 = accs[q, 2 * c]
                w1 = accs[q, 2 * c + 1]
                stats[j, 0] += <int64_t>(w0 & low32)
                stats[j, 1] += <int64_t>(w0 >> 32)
                stats[j, 2] += <int64_t>(w1 & low32)
                stats[j, 3] += <int64_t>(w1 >> 32)


cdef void _count_part(const uint8_t* pix, Py_ssize_t start, Py_ssize_t stop, int bits, const int32_t* slot_of,
                      Py_ssize_t n_slots, uint32_t* table) noexcept nogil:
    """Count pixels ``start..stop`` of the chosen cells into ``table``; the others
    go to the spare slot ``n_slots`` (no branch on the pixel's cell)."""
    cdef int s = 8 - bits
    cdef uint32_t m = (1u << s) - 1
    cdef int per_shift = 3 * s
    cdef Py_ssize_t i, slot
    cdef const uint8_t* p
    for i in range(start, stop):
        p = pix + 3 * i
        slot = slot_of[_cell(p, s, bits)]
        if slot < 0:  # a conditional move, not a branch
            slot = n_slots
        table[(slot << per_shift) + _sub(p, s, m)] += 1


def count_in_cells(const uint8_t[:, ::1] pixels, int bits, const int32_t[::1] slot_of,
                   const int64_t[:, ::1] slot_corner):
    """The distinct colours of the chosen cells, with their pixel counts.

    Threads count their share of the pixels in tables of their own, added up after.

    Parameters
    ----------
    pixels : (n, 3) uint8, fewer than ``2**32``.
    bits : int, 1..7
    slot_of : (2**(3 bits),) int32
        ``slot_of[cell]``: the cell's slot, ``0 <= slot < n_slots``, for the
        cells whose colours are wanted; -1 for the others.
    slot_corner : (n_slots, 3) int64
        The lowest corner of each slot's cell.

    Returns
    -------
    index : (c,) int64
        ``slot * 2**(3 s) + sub-code`` of every colour found, ascending (by slot,
        then by sub-code).
    counts : (c,) float64
        Pixels of each.
    colors : (c, 3) float64
        The colours.
    sum_sq : int
        The sum over the pixels counted of their squared offsets from their
        cells' lowest corners.
    """
    if not 1 <= bits <= 7:
        raise ValueError(f"bits={bits} must be 1..7")
    if slot_of.shape[0] != (<Py_ssize_t>1) << (3 * bits):
        raise ValueError("slot_of needs one entry per cell")
    if pixels.shape[0] >= 4294967295:
        raise ValueError("count_in_cells counts fewer than 2**32 pixels at a time")
    cdef Py_ssize_t n = pixels.shape[0]
    cdef Py_ssize_t n_slots = slot_corner.shape[0]
    cdef int s = 8 - bits
    cdef Py_ssize_t per = (<Py_ssize_t>1) << (3 * s)
    if n == 0 or n_slots == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64), np.empty((0, 3), np.float64), 0
    cdef int team = team_size(<double>n * 4)
    cdef Py_ssize_t n_parts = team if n >= team else 1
    cdef Py_ssize_t span = (n + n_parts - 1) // n_parts
    cdef Py_ssize_t size = (n_slots + 1) * per
    tables_a = np.zeros((n_parts, size), dtype=np.uint32)
    cdef uint32_t[:, ::1] tables = tables_a
    cdef uint32_t* first = &tables[0, 0]
    cdef const uint8_t* pix = &pixels[0, 0]
    cdef const int32_t* so = &slot_of[0]
    cdef Py_ssize_t part, e, q, c = 0, slot, sub
    cdef uint32_t mask = (1u << s) - 1
    cdef uint64_t o0, o1, o2, sq = 0
    with nogil:
        for part in prange(n_parts, num_threads=team, schedule="static", chunksize=1):
            _count_part(pix, part * span, min(n, part * span + span), bits, so, n_slots, &tables[part, 0])
        for e in prange(n_slots * per, num_threads=team, schedule="static"):
            for q in range(1, n_parts):
                first[e] += tables[q, e]
        for e in range(n_slots * per):
            if first[e] != 0:
                c += 1
    index_a = np.empty(c, dtype=np.int64)
    counts_a = np.empty(c, dtype=np.float64)
    colors_a = np.empty((c, 3), dtype=np.float64)
    cdef int64_t[::1] index = index_a
    cdef double[::1] counts = counts_a
    cdef double[:, ::1] colors = colors_a
    c = 0
    with nogil:
        for e in range(n_slots * per):
            if first[e] != 0:
                slot = e >> (3 * s)
                sub = e & (per - 1)
                o0 = (sub >> (2 * s)) & mask
                o1 = (sub >> s) & mask
                o2 = sub & mask
                index[c] = e
                counts[c] = first[e]
                colors[c, 0] = <double>(slot_corner[slot, 0] + <int64_t>o0)
                colors[c, 1] = <double>(slot_corner[slot, 1] + <int64_t>o1)
                colors[c, 2] = <double>(slot_corner[slot, 2] + <int64_t>o2)
                sq += first[e] * (o0 * o0 + o1 * o1 + o2 * o2)
                c += 1
    return index_a, counts_a, colors_a, int(sq)


cdef void _label_chunk(const uint8_t* pix, Py_ssize_t start, Py_ssize_t stop, int bits, const int32_t* cell_index,
                       const label_t* labels, label_t* out) noexcept nogil:
    cdef int s = 8 - bits
    cdef uint32_t m = (1u << s) - 1
    cdef Py_ssize_t i
    cdef int32_t v
    cdef const uint8_t* p
    for i in range(start, stop):
        p = pix + 3 * i
        v = cell_index[_cell(p, s, bits)]
        # no branch on the cell: the sub-code counts only where the cell is opened
        out[i] = labels[(v >> 1) + (_sub(p, s, m) & (-(v & 1)))]


def label_cells(const uint8_t[:, ::1] pixels, int bits, const int32_t[::1] cell_index,
                const label_t[::1] labels, label_t[::1] out):
    """A label per pixel: its cell's, or (in opened cells) its colour's.

    Parameters
    ----------
    pixels : (n, 3) uint8
    bits : int, 1..7
    cell_index : (2**(3 bits),) int32
        ``2 * base + opened`` for every cell that pixels can lie in: a pixel of
        a cell that is not opened takes the label ``labels[base]``, one of an
        opened cell ``labels[base + sub-code]``.
    labels : (L,) uint8 or uint16
    out : (n,) the dtype of ``labels``, output.
    """
    if not 1 <= bits <= 7:
        raise ValueError(f"bits={bits} must be 1..7")
    if cell_index.shape[0] != (<Py_ssize_t>1) << (3 * bits):
        raise ValueError("cell_index needs one entry per cell")
    cdef Py_ssize_t n = pixels.shape[0]
    if out.shape[0] != n:
        raise ValueError("out needs one entry per pixel")
    if n == 0:
        return
    cdef const uint8_t* pix = &pixels[0, 0]
    cdef const int32_t* ci = &cell_index[0]
    cdef const label_t* lab = &labels[0]
    cdef label_t* dst = &out[0]
    cdef Py_ssize_t c, start
    cdef int team = team_size(<double>n * 2)
    with nogil:
        for c in prange(n_chunks(n), num_threads=team):
            start = c * CHUNK
            _label_chunk(pix, start, min(n, start + CHUNK), bits, ci, lab, dst)
