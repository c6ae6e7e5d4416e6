"""Cython kernels for SLIC superpixels: local k-means in CIELAB plus position.

A pixel is compared only with the centres seeded in its own and the eight
neighbouring grid cells, and only those lying within one grid step of it on
both axes (SLIC's 2S x 2S search window, seen from the pixel): each pixel is
assigned independently, so rows run in parallel with no shared writes.
"""

from kmseg import _parallel  # its fork handler must exist wherever a kernel can run (see _parallel.pyx)
from cython.parallel cimport prange
from libc.math cimport INFINITY, fabs
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

cdef enum:
    _ROW_BLOCK = 16

#: Rows per block of the parallel centre update (fixed: sums never depend on threads).
ROW_BLOCK = _ROW_BLOCK


cdef void _assign_block(const double* lab, const double* centers, const int64_t* cell_of, Py_ssize_t h,
                        Py_ssize_t w, Py_ssize_t ny, Py_ssize_t nx, Py_ssize_t k, double step, double spatial,
                        int64_t* labels, double* sums, Py_ssize_t blk) noexcept nogil:
    """Rows ``blk * ROW_BLOCK`` to ``(blk + 1) * ROW_BLOCK`` of :func:`slic_assign`;
    ``sums`` is that block's ``(K, 6)`` slice."""
    cdef Py_ssize_t i, y, x, gy, gx, cy, cx, cy0, cy1, cx0, cx1, y1, best_c, slot
    cdef int windowed
    cdef int64_t c
    cdef double best, dy, dx, d0, d1, d2, dist, fy, fx
    cdef const double* px
    cdef const double* cc
    cdef double* s
    for i in range(k * 6):
        sums[i] = 0.0
    y1 = (blk + 1) * _ROW_BLOCK
    if h < y1:
        y1 = h
    for y in range(blk * _ROW_BLOCK, y1):
        gy = <Py_ssize_t>(<double>(y * ny) / <double>h)  # int(y * ny / h): truncated true division
        if ny - 1 < gy:
            gy = ny - 1
        cy0 = gy - 1 if gy - 1 > 0 else 0
        cy1 = gy + 2 if gy + 2 < ny else ny
        fy = <double>y
        for x in range(w):
            gx = <Py_ssize_t>(<double>(x * nx) / <double>w)
            if nx - 1 < gx:
                gx = nx - 1
            cx0 = gx - 1 if gx - 1 > 0 else 0
            cx1 = gx + 2 if gx + 2 < nx else nx
            fx = <double>x
            px = lab + (y * w + x) * 3
            best = INFINITY
            best_c = -1
            # first the centres whose window holds the pixel; if none does, the nearest
            windowed = 1
            while windowed >= 0:
                if best_c >= 0:
                    break
                for cy in range(cy0, cy1):
                    for cx in range(cx0, cx1):
                        c = cell_of[cy * nx + cx]
                        cc = centers + c * 5
                        dy = fy - cc[3]
                        dx = fx - cc[4]
                        if windowed and (fabs(dy) > step or fabs(dx) > step):
                            continue
                        d0 = px[0] - cc[0]
                        d1 = px[1] - cc[1]
                        d2 = px[2] - cc[2]
                        dist = d0 * d0 + d1 * d1 + d2 * d2 + spatial * (dy * dy + dx * dx)
                        if dist < best:
                            best = dist
                            best_c = c
                windowed -= 1
            labels[y * w + x] = best_c
            slot = best_c if best_c >= 0 else k - 1  # index -1 (no centre: NaN input): the last, as Python indexes
            s = sums + slot * 6
            s[0] += px[0]
            s[1] += px[1]
            s[2] += px[2]
            s[3] += fy
            s[4] += fx
            s[5] += 1.0


def slic_assign(const double[:, :, ::1] lab, const double[:, ::1] centers, const int64_t[:, ::1] cell_of,
                double step, double spatial, int64_t[:, ::1] labels, double[:, :, ::1] sums):
    """Assign every pixel to its nearest centre in the window; accumulate centre sums.

    Parameters
    ----------
    lab : (H, W, 3) float64
    centers : (K, 5) float64
        L, a, b, row, column of each centre.
    cell_of : (ny, nx) int64
        Centre seeded in each grid cell.
    step : float
        Grid step S (pixels).
    spatial : float
        Weight of squared position distance, ``(compactness / S)**2``.
    labels : (H, W) int64, output.
    sums : (n_blocks, K, 6) float64, output: per block of rows, the sums of
        L, a, b, row, column and the pixel count of each centre.
    """
    cdef Py_ssize_t h = lab.shape[0], w = lab.shape[1]
    cdef Py_ssize_t ny = cell_of.shape[0], nx = cell_of.shape[1]
    cdef Py_ssize_t n_blocks = sums.shape[0], k = sums.shape[1]
    cdef Py_ssize_t blk
    cdef const double* p_lab = &lab[0, 0, 0]
    cdef const double* p_centers = &centers[0, 0]
    cdef const int64_t* p_cell = &cell_of[0, 0]
    cdef int64_t* p_labels = &labels[0, 0]
    cdef double* p_sums = &sums[0, 0, 0]
    with nogil:
        for blk in prange(n_blocks, schedule="static"):
            _assign_block(p_lab, p_centers, p_cell, h, w, ny, nx, k, step, spatial, p_labels,
                          p_sums + blk * k * 6, blk)


cdef int64_t _relabel(const int64_t* labels, Py_ssize_t h, Py_ssize_t w, Py_ssize_t min_size, int64_t* out,
                      int64_t* queue_y, int64_t* queue_x) noexcept nogil:
    """The work of :func:`connected_relabel`, on raw buffers."""
    cdef Py_ssize_t i, y0, x0, y, x, yy, xx, head, tail, k
    cdef int64_t n = 0, adjacent, lab
    for i in range(h * w):
        out[i] = -1
    for y0 in range(h):
        for x0 in range(w):
            if out[y0 * w + x0] >= 0:
                continue
            adjacent = n - 1 if n > 0 else 0
            if x0 > 0 and out[y0 * w + x0 - 1] >= 0:
                adjacent = out[y0 * w + x0 - 1]
            elif y0 > 0 and out[(y0 - 1) * w + x0] >= 0:
                adjacent = out[(y0 - 1) * w + x0]
            lab = labels[y0 * w + x0]
            out[y0 * w + x0] = n
            queue_y[0] = y0
            queue_x[0] = x0
            head = 0
            tail = 1
            while head < tail:
                y = queue_y[head]
                x = queue_x[head]
                head += 1
                for k in range(4):
                    yy = y + (1 if k == 0 else -1 if k == 1 else 0)
                    xx = x + (1 if k == 2 else -1 if k == 3 else 0)
                    if 0 <= yy < h and 0 <= xx < w and out[yy * w + xx] < 0 and labels[yy * w + xx] == lab:
                        out[yy * w + xx] = n
                        queue_y[tail] = yy
                        queue_x[tail] = xx
                        tail += 1
            if tail < min_size and n > 0:
                for i in range(tail):
                    out[queue_y[i] * w + queue_x[i]] = adjacent
            else:
                n += 1
    return n


def connected_relabel(const int64_t[:, ::1] labels, Py_ssize_t min_size, int64_t[:, ::1] out):
    """Relabel 4-connected components; merge those under ``min_size`` pixels into a neighbour.

    Components are numbered in raster order of their first pixel. A component
    smaller than ``min_size`` takes the new label of the component met just
    before it (left or above its first pixel), as the SLIC reference does.

    Parameters
    ----------
    labels : (H, W) int64
    min_size : int
    out : (H, W) int64, output.

    Returns
    -------
    n : int
        Number of labels in ``out`` (0..n-1).
    """
    cdef Py_ssize_t h = labels.shape[0], w = labels.shape[1]
    cdef int64_t n
    cdef int64_t* queue = <int64_t*>malloc((2 * h * w + 1) * sizeof(int64_t))
    if queue == NULL:
        raise MemoryError()
    cdef const int64_t* p_labels = &labels[0, 0]
    cdef int64_t* p_out = &out[0, 0]
    try:
        with nogil:
            n = _relabel(p_labels, h, w, min_size, p_out, queue, queue + h * w)
    finally:
        free(queue)
    return n
