"""Cython kernel of the PNG reader in :mod:`kmseg.io._png`: undoing the
per-row filters of a decompressed PNG stream."""

from libc.stdint cimport uint8_t


def unfilter_rows(const uint8_t[::1] raw, Py_ssize_t h, Py_ssize_t stride, Py_ssize_t bpp,
                  uint8_t[:, ::1] out):
    """Undo PNG's per-row filters: ``raw`` holds ``h`` rows of a filter byte then
    ``stride`` bytes; ``out`` (h, stride) uint8 receives the image bytes."""
    cdef Py_ssize_t y, x, start
    cdef Py_ssize_t bad = -1
    cdef uint8_t kind
    cdef int v, a, b, c, p, pa, pb, pc
    with nogil:
        for y in range(h):
            start = y * (stride + 1)
            kind = raw[start]
            if kind == 0:
                for x in range(stride):
                    out[y, x] = raw[start + 1 + x]
            elif kind == 1:
                for x in range(stride):
                    v = raw[start + 1 + x]
                    if x >= bpp:
                        v += out[y, x - bpp]
                    out[y, x] = v & 0xFF
            elif kind == 2:
                for x in range(stride):
                    v = raw[start + 1 + x]
                    if y > 0:
                        v += out[y - 1, x]
                    out[y, x] = v & 0xFF
            elif kind == 3:
                for x in range(stride):
                    v = raw[start + 1 + x]
                    a = out[y, x - bpp] if x >= bpp else 0
                    b = out[y - 1, x] if y > 0 else 0
                    v += (a + b) // 2  # non-negative: C division is floor division
                    out[y, x] = v & 0xFF
            elif kind == 4:
                for x in range(stride):
                    v = raw[start + 1 + x]
                    a = out[y, x - bpp] if x >= bpp else 0
                    b = out[y - 1, x] if y > 0 else 0
                    c = out[y - 1, x - bpp] if (x >= bpp and y > 0) else 0
                    p = a + b - c
                    pa = abs(p - a)
                    pb = abs(p - b)
                    pc = abs(p - c)
                    if pa <= pb and pa <= pc:
                        v += a
                    elif pb <= pc:
                        v += b
                    else:
                        v += c
                    out[y, x] = v & 0xFF
            elif stride > 0:  # a bad filter type: the row it was found in
                bad = y
                break
    return bad
