"""Numba kernels for SLIC superpixels: local k-means in CIELAB plus position.

A pixel is compared only with the centres seeded in its own and the eight
neighbouring grid cells, and only those lying within one grid step of it on
both axes (SLIC's 2S x 2S search window, seen from the pixel): each pixel is
assigned independently, so rows run in parallel with no shared writes.
"""

import numpy as np
from numba import njit, prange

#: Rows per block of the parallel centre update (fixed: sums never depend on threads).
ROW_BLOCK = 16


@njit(parallel=True, cache=True, nogil=True)
def slic_assign(lab, centers, cell_of, step, spatial, labels, sums):
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
    h, w, _ = lab.shape
    ny, nx = cell_of.shape
    n_blocks = sums.shape[0]
    for blk in prange(n_blocks):
        sums[blk, :, :] = 0.0
        for y in range(blk * ROW_BLOCK, min(h, (blk + 1) * ROW_BLOCK)):
            gy = min(ny - 1, int(y * ny / h))
            for x in range(w):
                gx = min(nx - 1, int(x * nx / w))
                best = np.inf
                best_c = -1
                # first the centres whose window holds the pixel; if none does, the nearest
                for windowed in range(1, -1, -1):
                    if best_c >= 0:
                        break
                    for cy in range(max(0, gy - 1), min(ny, gy + 2)):
                        for cx in range(max(0, gx - 1), min(nx, gx + 2)):
                            c = cell_of[cy, cx]
                            dy = y - centers[c, 3]
                            dx = x - centers[c, 4]
                            if windowed and (abs(dy) > step or abs(dx) > step):
                                continue
                            d0 = lab[y, x, 0] - centers[c, 0]
                            d1 = lab[y, x, 1] - centers[c, 1]
                            d2 = lab[y, x, 2] - centers[c, 2]
                            dist = d0 * d0 + d1 * d1 + d2 * d2 + spatial * (dy * dy + dx * dx)
                            if dist < best:
                                best = dist
                                best_c = c
                labels[y, x] = best_c
                sums[blk, best_c, 0] += lab[y, x, 0]
                sums[blk, best_c, 1] += lab[y, x, 1]
                sums[blk, best_c, 2] += lab[y, x, 2]
                sums[blk, best_c, 3] += y
                sums[blk, best_c, 4] += x
                sums[blk, best_c, 5] += 1.0


@njit(cache=True, nogil=True)
def connected_relabel(labels, min_size, out):
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
    h, w = labels.shape
    out[:, :] = -1
    queue_y = np.empty(h * w, dtype=np.int64)
    queue_x = np.empty(h * w, dtype=np.int64)
    n = 0
    for y0 in range(h):
        for x0 in range(w):
            if out[y0, x0] >= 0:
                continue
            adjacent = n - 1 if n > 0 else 0
            if x0 > 0 and out[y0, x0 - 1] >= 0:
                adjacent = out[y0, x0 - 1]
            elif y0 > 0 and out[y0 - 1, x0] >= 0:
                adjacent = out[y0 - 1, x0]
            lab = labels[y0, x0]
            out[y0, x0] = n
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
                    if 0 <= yy < h and 0 <= xx < w and out[yy, xx] < 0 and labels[yy, xx] == lab:
                        out[yy, xx] = n
                        queue_y[tail] = yy
                        queue_x[tail] = xx
                        tail += 1
            if tail < min_size and n > 0:
                for i in range(tail):
                    out[queue_y[i], queue_x[i]] = adjacent
            else:
                n += 1
    return n
