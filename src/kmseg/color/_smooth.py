"""Edge-preserving smoothing of a colour image: a bilateral filter, repeated.

Each pass replaces every pixel by the mean of its ``(2 radius + 1)^2``
neighbourhood, each neighbour weighted by ``exp(-|c - c_0|^2 / (2 sigma^2))``
(its colour distance to the centre pixel) times ``exp(-d^2 / (2 radius^2))``
(its distance in pixels): flat areas and fine texture are averaged, colour
steps are kept. A few passes pull each pixel towards the mode of its local
colour distribution, as mean shift filtering does.
"""

import numpy as np

from ._smooth_kernels import bilateral_pass


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
