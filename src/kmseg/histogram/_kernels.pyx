"""Cython kernels for 8-bit RGB colour histograms and label lookup.

A colour ``(r, g, b)`` is addressed by its 24-bit code ``r << 16 | g << 8 | b``
in a table of ``2**24`` entries: one pass counts the pixels of every colour, and
the same table, refilled with a label per colour, maps pixels back to labels.
Small images skip the big table: their codes are bucketed by their high bits and
each bucket is counted in a small table that stays in cache (:func:`unique_codes`).
"""

import numpy as np

from kmseg import _parallel  # its fork handler must exist wherever a kernel can run (see _parallel.pyx)
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from kmseg._parallel cimport CHUNK, n_chunks, team_size


cdef extern from *:
    # GCC/Clang builtins: index of the lowest set bit of a non-zero word, and
    # the number of set bits.
    int __builtin_ctzll(unsigned long long) noexcept nogil
    int __builtin_popcountll(unsigned long long) noexcept nogil


cdef enum:
    _N_CODES = 1 << 24
    #: Parts of the bitmap that compact_rgb8 reads in parallel (any number gives the same result).
    _COMPACT_PARTS = 64
    #: Low bits of a code counted in the small table of unique_codes.
    _LOW_BITS = 12

#: Number of 8-bit RGB colours, the size of the code tables.
N_CODES = _N_CODES

#: Value types of the label tables and label outputs of :func:`lookup_rgb8`.
ctypedef fused table_t:
    uint8_t
    uint16_t
    uint32_t

ctypedef fused label_t:
    uint8_t
    uint16_t
    uint32_t

#: Count types of the tables :func:`compact_rgb8` reads (per-band uint32 counts,
#: or int64 totals).
ctypedef fused count_t:
    uint32_t
    int64_t


cdef inline uint32_t _code(const uint8_t* p) noexcept nogil:
    """24-bit code of the colour at ``p[0:3]``."""
    return (<uint32_t>p[0] << 16) | (<uint32_t>p[1] << 8) | <uint32_t>p[2]


cdef void _count_part(const uint8_t* pix, Py_ssize_t n, uint32_t* table, uint64_t* marks,
                      Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Count the pixels whose codes lie in ``[lo, hi)``."""
    cdef Py_ssize_t i
    cdef size_t code
    cdef size_t span = <size_t>(hi - lo)
    cdef uint32_t count
    for i in range(n):
        code = _code(pix + 3 * i)
        if code - <size_t>lo < span:  # lo <= code < hi, one unsigned comparison
            count = table[code]
            if count == 0:
                marks[code >> 6] |= (<uint64_t>1) << (code & 63)
            table[code] = count + 1


def count_rgb8(const uint8_t[:, ::1] pixels, uint32_t[::1] table, uint64_t[::1] marks,
               Py_ssize_t n_parts):
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
    if n_parts == 0:  # as the Python division would (C's would crash)
        raise ZeroDivisionError("integer division or modulo by zero")
    cdef Py_ssize_t n = pixels.shape[0]
    cdef Py_ssize_t span = ((_N_CODES + n_parts - 1) // n_parts + 63) // 64 * 64
    cdef Py_ssize_t part
    if n == 0:
        return
    cdef const uint8_t* pix = &pixels[0, 0]
    cdef uint32_t* tab = &table[0]
    cdef uint64_t* mk = &marks[0]
    with nogil:
        for part in prange(n_parts):
            _count_part(pix, n, tab, mk, part * span, part * span + span)


cdef void _lookup_chunk(const uint8_t* pix, const table_t* table, label_t* out,
                        Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """``out[i] = table[code(pix[i])]`` for ``start <= i < stop``."""
    cdef Py_ssize_t i
    for i in range(start, stop):
        out[i] = <label_t>table[_code(pix + 3 * i)]


def lookup_rgb8(const uint8_t[:, ::1] pixels, const table_t[::1] table, label_t[::1] out):
    """``out[i] = table[code(pixels[i])]``.

    Parameters
    ----------
    pixels : (n, 3) uint8
    table : (2**24,) unsigned integers, a value per colour code.
    out : (n,) integer array, output.
    """
    cdef Py_ssize_t n = pixels.shape[0]
    cdef Py_ssize_t c, start
    if n == 0:
        return
    cdef const uint8_t* pix = &pixels[0, 0]
    cdef const table_t* tab = &table[0]
    cdef label_t* dst = &out[0]
    cdef int team = team_size(<double>n)
    with nogil:
        for c in prange(n_chunks(n), num_threads=team):
            start = c * CHUNK
            _lookup_chunk(pix, tab, dst, start, min(n, start + CHUNK))


cdef int64_t _count_marks(const uint64_t* marks, Py_ssize_t q0, Py_ssize_t q1) noexcept nogil:
    """Number of bits set in ``marks[q0:q1]``."""
    cdef int64_t m = 0
    cdef Py_ssize_t q
    for q in range(q0, q1):
        m += __builtin_popcountll(marks[q])
    return m


cdef void _compact_part(const count_t* table, const uint64_t* marks, Py_ssize_t q0, Py_ssize_t q1,
                        int64_t m, uint32_t* codes, int64_t* values, uint8_t* colors) noexcept nogil:
    """Write the colours marked in ``marks[q0:q1]`` from position ``m`` on."""
    cdef Py_ssize_t q
    cdef uint64_t word
    cdef uint32_t code
    for q in range(q0, q1):
        word = marks[q]
        while word != 0:
            code = <uint32_t>(q * 64 + __builtin_ctzll(word))
            codes[m] = code
            values[m] = <int64_t>table[code]
            colors[3 * m] = (code >> 16) & 255
            colors[3 * m + 1] = (code >> 8) & 255
            colors[3 * m + 2] = code & 255
            m += 1
            word &= word - 1


def compact_rgb8(const count_t[::1] table, const uint64_t[::1] marks):
    """The colours marked in ``marks`` (see :func:`count_rgb8`): their codes
    (ascending), their values in ``table`` and the colours themselves.

    Returns
    -------
    codes : (n,) uint32, values : (n,) int64, colors : (n, 3) uint8
    """
    cdef Py_ssize_t per = marks.shape[0] // _COMPACT_PARTS
    cdef int64_t found[_COMPACT_PARTS + 1]
    cdef Py_ssize_t part
    cdef const uint64_t* mk = &marks[0]
    found[0] = 0
    with nogil:
        for part in prange(_COMPACT_PARTS):
            found[part + 1] = _count_marks(mk, part * per, (part + 1) * per)
    for part in range(_COMPACT_PARTS):
        found[part + 1] += found[part]
    cdef Py_ssize_t n = found[_COMPACT_PARTS]
    codes = np.empty(n, dtype=np.uint32)
    values = np.empty(n, dtype=np.int64)
    colors = np.empty((n, 3), dtype=np.uint8)
    if n == 0:
        return codes, values, colors
    cdef uint32_t[::1] codes_v = codes
    cdef int64_t[::1] values_v = values
    cdef uint8_t[:, ::1] colors_v = colors
    cdef const count_t* tab = &table[0]
    cdef uint32_t* cd = &codes_v[0]
    cdef int64_t* vl = &values_v[0]
    cdef uint8_t* cl = &colors_v[0, 0]
    with nogil:
        for part in prange(_COMPACT_PARTS):
            _compact_part(tab, mk, part * per, (part + 1) * per, found[part], cd, vl, cl)
    return codes, values, colors


def unique_codes(const uint32_t[::1] codes):
    """Distinct codes (ascending), their counts, and each code's index among them.

    The same result as ``np.unique(codes, return_counts=True,
    return_inverse=True)``, in linear time: a counting sort on the high bits
    groups the codes into buckets, then each bucket is counted in a
    ``2**12``-entry table (32 KB), its distinct low bits marked in a
    bitmap of 64 words that is read back in ascending order.

    Parameters
    ----------
    codes : (n,) uint32, values below ``2**24``.

    Returns
    -------
    distinct : (m,) uint32, counts : (m,) int64, inverse : (n,) int32
    """
    cdef Py_ssize_t n = codes.shape[0]
    cdef Py_ssize_t n_low = 1 << _LOW_BITS
    cdef uint32_t mask = <uint32_t>(n_low - 1)
    cdef Py_ssize_t n_buckets = _N_CODES >> _LOW_BITS
    start_a = np.zeros(n_buckets + 1, dtype=np.int64)
    fill_a = np.empty(n_buckets, dtype=np.int64)
    order_a = np.empty(n, dtype=np.int32)
    low_of_a = np.empty(n, dtype=np.uint16)
    table_a = np.zeros(n_low, dtype=np.int64)
    words_a = np.zeros(n_low // 64, dtype=np.uint64)
    distinct_a = np.empty(n, dtype=np.uint32)
    counts_a = np.empty(n, dtype=np.int64)
    inverse_a = np.empty(n, dtype=np.int32)
    cdef int64_t[::1] start = start_a
    cdef int64_t[::1] fill = fill_a
    cdef int32_t[::1] order = order_a
    cdef uint16_t[::1] low_of = low_of_a
    cdef int64_t[::1] table = table_a
    cdef uint64_t[::1] words = words_a
    cdef uint32_t[::1] distinct = distinct_a
    cdef int64_t[::1] counts = counts_a
    cdef int32_t[::1] inverse = inverse_a
    cdef Py_ssize_t i, b, j, q, lo, hi, low, m = 0
    cdef uint32_t high
    cdef uint64_t word
    with nogil:
        for i in range(n):
            start[(codes[i] >> _LOW_BITS) + 1] += 1
        for b in range(n_buckets):
            start[b + 1] += start[b]
        for b in range(n_buckets):
            fill[b] = start[b]
        for i in range(n):
            b = codes[i] >> _LOW_BITS
            order[fill[b]] = <int32_t>i
            low_of[fill[b]] = <uint16_t>(codes[i] & mask)
            fill[b] += 1
        for b in range(n_buckets):
            lo = start[b]
            hi = start[b + 1]
            if lo == hi:
                continue
            for j in range(lo, hi):
                low = low_of[j]
                table[low] += 1
                words[low >> 6] |= (<uint64_t>1) << (low & 63)
            high = (<uint32_t>b) << _LOW_BITS
            for q in range(n_low // 64):  # distinct lows in ascending order
                word = words[q]
                if word == 0:
                    continue
                words[q] = 0
                while word != 0:
                    low = q * 64 + __builtin_ctzll(word)
                    distinct[m] = high | <uint32_t>low
                    counts[m] = table[low]
                    table[low] = m  # from now on: the colour's index
                    m += 1
                    word &= word - 1
            for j in range(lo, hi):
                inverse[order[j]] = <int32_t>table[low_of[j]]
            for j in range(lo, hi):
                table[low_of[j]] = 0
    return distinct_a[:m].copy(), counts_a[:m].copy(), inverse_a


def add_counts(int64_t[::1] table, uint64_t[::1] marks, const int64_t[::1] codes,
               const int64_t[::1] counts):
    """``table[codes[i]] += counts[i]`` for every i, repeated codes included, and
    bit ``codes[i]`` of ``marks`` set (as :func:`count_rgb8` marks the colours it counts)."""
    cdef Py_ssize_t i
    cdef int64_t code
    with nogil:
        for i in range(codes.shape[0]):
            code = codes[i]
            table[code] += counts[i]
            marks[code >> 6] |= (<uint64_t>1) << (code & 63)
