"""Edge-preserving smoothing of a colour image: a bilateral filter, repeated.

Each pass replaces every pixel by the mean of its ``(2 radius + 1)^2``
neighbourhood, each neighbour weighted by ``exp(-|c - c_0|^2 / (2 sigma^2))``
(its colour distance to the centre pixel) times ``exp(-d^2 / (2 radius^2))``
(its distance in pixels): flat areas and fine texture are averaged, colour
steps are kept. A few passes pull each pixel towards the mode of its local
colour distribution, as mean shift filtering does.
"""

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True, nogil=True)
def bilateral_pass(image, radius, sigma, out):
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
    h, w, nc = image.shape
    inv_c = 1.0 / (2.0 * sigma * sigma)
    inv_s = 1.0 / (2.0 * radius * radius) if radius > 0 else 0.0
    for y in prange(h):
        acc = np.empty(nc)
        for x in range(w):
            for c in range(nc):
                acc[c] = 0.0
            total = 0.0
            for yy in range(max(0, y - radius), min(h, y + radius + 1)):
                for xx in range(max(0, x - radius), min(w, x + radius + 1)):
                    dist = 0.0
                    for c in range(nc):
                        t = image[yy, xx, c] - image[y, x, c]
                        dist += t * t
                    wgt = np.exp(-dist * inv_c - ((yy - y) ** 2 + (xx - x) ** 2) * inv_s)
                    total += wgt
                    for c in range(nc):
                        acc[c] += wgt * image[yy, xx, c]
            for c in range(nc):
                out[y, x, c] = acc[c] / total


def edge_preserving_smooth(image, radius=2, sigma=8.0, n_passes=2):
    """An image smoothed by ``n_passes`` bilateral passes (see the module docstring).

    Parameters
    ----------
    image : (H, W, C) float ndarray
        E.g. CIELAB.
    radius : int, default=2
    sigma : float, default=8
        Colour differences well above this are kept as edges.
    n_passes : int, default=2

    Returns
    -------
    (H, W, C) float64 ndarray
    """
    src = np.ascontiguousarray(image, dtype=np.float64)
    if n_passes <= 0:
        return src.copy()
    a = src.copy()
    b = np.empty_like(a)
    for _ in range(n_passes):
        bilateral_pass(a, int(radius), float(sigma), b)
        a, b = b, a
    return a
