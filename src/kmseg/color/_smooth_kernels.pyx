"""Cython kernel of the edge-preserving smoothing in :mod:`kmseg.color._smooth`:
one bilateral pass.

Each pass replaces every pixel by the mean of its ``(2 radius + 1)^2``
neighbourhood, each neighbour weighted by ``exp(-|c - c_0|^2 / (2 sigma^2))``
(its colour distance to the centre pixel) times ``exp(-d^2 / (2 radius^2))``
(its distance in pixels). Rows are computed in parallel, each pixel's sums in
a fixed order: results do not depend on the number of threads.
"""

import numpy as np

from kmseg import _parallel  # its fork handler must exist wherever a kernel can run (see _parallel.pyx)
from cython.parallel cimport prange
from libc.math cimport exp


cdef void _bilateral_row(const double* image, Py_ssize_t h, Py_ssize_t w, Py_ssize_t nc,
                         Py_ssize_t y, Py_ssize_t radius, double inv_c, double inv_s,
                         double* acc, double* out) noexcept nogil:
    """Row ``y`` of :func:`bilateral_pass`, with ``acc`` (nc,) scratch."""
    cdef Py_ssize_t x, c, yy, xx, dy, dx
    cdef Py_ssize_t y0 = max(0, y - radius)
    cdef Py_ssize_t y1 = min(h, y + radius + 1)
    cdef Py_ssize_t x0, x1
    cdef double total, dist, t, wgt
    cdef const double* centre
    cdef const double* other
    for x in range(w):
        centre = image + (y * w + x) * nc
        for c in range(nc):
            acc[c] = 0.0
        total = 0.0
        x0 = max(0, x - radius)
        x1 = min(w, x + radius + 1)
        for yy in range(y0, y1):
            dy = yy - y
            for xx in range(x0, x1):
                dx = xx - x
                other = image + (yy * w + xx) * nc
                dist = 0.0
                for c in range(nc):
                    t = other[c] - centre[c]
                    dist += t * t
                wgt = exp(-dist * inv_c - <double>(dy * dy + dx * dx) * inv_s)
                total += wgt
                for c in range(nc):
                    acc[c] += wgt * other[c]
        for c in range(nc):
            out[(y * w + x) * nc + c] = acc[c] / total


def bilateral_pass(const double[:, :, ::1] image, Py_ssize_t radius, double sigma,
                   double[:, :, ::1] out):
    """One bilateral pass over an (H, W, C) float64 image into ``out`` (same shape).

    Parameters
    ----------
    image : (H, W, C) float64
    radius : int
        Window half-width in pixels; also the spatial Gaussian's scale.
    sigma : float
        Colour scale (the image's units), > 0.
    out : (H, W, C) float64, output; must not be ``image``.
    """
    if sigma == 0.0:  # as the Python division would (C's gives inf)
        raise ZeroDivisionError("float division by zero")
    cdef Py_ssize_t h = image.shape[0], w = image.shape[1], nc = image.shape[2]
    cdef double inv_c = 1.0 / (2.0 * sigma * sigma)
    cdef double inv_s = 1.0 / (2.0 * radius * radius) if radius > 0 else 0.0
    cdef Py_ssize_t y
    if h == 0 or w == 0:
        return
    scratch = np.empty((h, nc if nc > 0 else 1), dtype=np.float64)  # a row of sums per image row
    cdef double[:, ::1] acc = scratch
    cdef const double* src = &image[0, 0, 0]
    cdef double* dst = &out[0, 0, 0]
    cdef double* sums = &acc[0, 0]
    cdef Py_ssize_t acc_stride = acc.shape[1]
    with nogil:
        for y in prange(h):
            _bilateral_row(src, h, w, nc, y, radius, inv_c, inv_s, sums + y * acc_stride, dst)
