"""Perceptual colour error: CIEDE2000 between colours, averaged over pixels."""

import numpy as np

from ._spaces import unit_rgb


def delta_e(colors_a, colors_b):
    """CIEDE2000 colour difference between matching rows of two colour arrays.

    Parameters
    ----------
    colors_a, colors_b : (n, 3) or (n,) arrays
        RGB (or grey) colours, uint8, uint16 or float in [0, 1].

    Returns
    -------
    (n,) float64 ndarray
    """
    from skimage.color import deltaE_ciede2000

    return deltaE_ciede2000(lab_colors(colors_a), lab_colors(colors_b))


def lab_colors(colors):
    """CIELAB of (n, 3) or (n,) colours (uint8, uint16 or float in [0, 1]), (n, 3) float64."""
    from skimage.color import rgb2lab

    return rgb2lab(unit_rgb(colors)[:, None, :])[:, 0, :]


def mean_delta_e(colors, counts, palette, color_labels, colors_lab=None):
    """Pixel-weighted mean CIEDE2000 between colours and their palette colours.

    Parameters
    ----------
    colors : (m, 3) or (m,) array
        Distinct colours of an image.
    counts : (m,) array
        Their pixel counts.
    palette : (k, 3) uint8 array
        The colours they are painted with.
    color_labels : (m,) int array
        Which palette colour paints each distinct colour.
    colors_lab : (m, 3) array, optional
        ``lab_colors(colors)``, when already known (a search over palettes
        converts the image's colours once); only the k palette colours are
        converted here.
    """
    from skimage.color import deltaE_ciede2000

    counts = np.asarray(counts, dtype=np.float64)
    lab = lab_colors(colors) if colors_lab is None else colors_lab
    err = deltaE_ciede2000(lab, lab_colors(np.asarray(palette))[color_labels])
    return float(err @ counts / counts.sum())


def color_error(original, quantized):
    """Mean CIEDE2000 colour difference between two images of the same size.

    Parameters
    ----------
    original, quantized : str, os.PathLike, PIL.Image.Image or ndarray
        Two images (grey or RGB; alpha is ignored) of equal height and width.

    Returns
    -------
    float
        Delta E 2000 averaged over all pixels (0 for identical images; about
        2.3 is a just-noticeable difference).

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.zeros((2, 2, 3), np.uint8)
    >>> kmseg.color_error(img, img)
    0.0
    """
    from .._validation import KmsegError
    from ..io._read import read_image

    a, b = read_image(original), read_image(quantized)
    if a.shape[:2] != b.shape[:2]:
        raise KmsegError(f"images differ in size: {a.shape[:2]} and {b.shape[:2]}")
    pa = unit_rgb(a.reshape(a.shape[0] * a.shape[1], -1))
    pb = unit_rgb(b.reshape(b.shape[0] * b.shape[1], -1))
    pairs, counts = np.unique(np.concatenate([pa, pb], axis=1), axis=0, return_counts=True)
    err = delta_e(pairs[:, :3], pairs[:, 3:])
    return float(err @ counts / counts.sum())
