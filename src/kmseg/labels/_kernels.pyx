"""Cython kernel of the label stage: painting a label map with a colour per label."""

from kmseg import _parallel  # its fork handler must exist wherever a kernel can run (see _parallel.pyx)
from cython.parallel cimport prange
from libc.stdint cimport uint8_t, uint16_t, uint32_t

from kmseg._parallel cimport CHUNK, n_chunks, team_size

ctypedef fused label_t:
    uint8_t
    uint16_t
    uint32_t

ctypedef fused value_t:
    uint8_t
    uint16_t
    float


cdef Py_ssize_t _paint_chunk(const label_t* labels, const value_t* table, Py_ssize_t m, Py_ssize_t c,
                             value_t* out, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """Paint pixels ``start..stop``; the number of labels that are not rows of the table."""
    cdef Py_ssize_t i, j, bad = 0
    cdef Py_ssize_t label
    for i in range(start, stop):
        label = labels[i]
        if label >= m:
            bad += 1
            continue
        for j in range(c):
            out[i * c + j] = table[label * c + j]
    return bad


def paint(const label_t[::1] labels, const value_t[:, ::1] table, value_t[:, ::1] out):
    """``out[i] = table[labels[i]]``, in parallel over fixed chunks.

    Parameters
    ----------
    labels : (n,) uint8, uint16 or uint32
    table : (m, c) uint8, uint16 or float32, a row per label
    out : (n, c) of the table's dtype, output

    Returns
    -------
    int
        Labels that are not rows of the table (their rows of ``out`` are left as they were).
    """
    cdef Py_ssize_t n = labels.shape[0], m = table.shape[0], c = table.shape[1]
    cdef Py_ssize_t chunk, start, bad = 0
    if n == 0 or c == 0:
        return 0
    cdef const label_t* lab = &labels[0]
    cdef const value_t* tab = &table[0, 0] if m > 0 else NULL
    cdef value_t* dst = &out[0, 0]
    cdef int team = team_size(<double>n * c)
    with nogil:
        for chunk in prange(n_chunks(n), num_threads=team, schedule="static"):
            start = chunk * CHUNK
            bad += _paint_chunk(lab, tab, m, c, dst, start, min(n, start + CHUNK))
    return bad
