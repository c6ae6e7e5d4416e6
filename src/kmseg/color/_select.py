"""Colours chosen by how they look: the pixels near some colours (a background to
leave out of the clustering), and the order to list a palette in.

Both work in CIELAB (D65), as :func:`kmseg.color_error`: distances are CIEDE2000,
lightness is L*, hue the angle of (a*, b*). Pixels are compared by their distinct
colours (the colour histogram), so a large image costs one count, not one
CIEDE2000 per pixel.
"""

import numpy as np

from .. import _validation as v
from .._params import DEFAULT_EXCLUDE_DISTANCE
from ..histogram._histogram import ColorHistogram
from ..io._read import describe, excluded_pixels, read_image
from ._error import lab_colors

#: Below this CIELAB chroma C*ab (a just-noticeable difference from grey) a colour has
#: no hue to sort by: ``palette_order(..., by='hue')`` lists such greys last.
ACHROMATIC_CHROMA = 2.3


def mask_colors(image, colors, distance=DEFAULT_EXCLUDE_DISTANCE):
    """The ``mask=`` of :func:`segment` that leaves out the pixels near some colours.

    Use it to keep a background (a white page, a studio backdrop) out of a
    palette, as colorthief and extcolors do: the clustering, the counts and the
    shares then cover the other pixels only.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        As for :func:`segment`. Pass the array :func:`read_image` returned to
        cluster the same pixels without reading the file again.
    colors : sequence of str or of RGB triples, or (m, 3) ndarray
        The colours to leave out: ``'#rrggbb'`` (or ``'#rgb'``) strings or
        three integers in 0..255.
    distance : float, default=5.0
        Pixels whose CIEDE2000 difference to one of ``colors`` is at most this
        are left out (0: that exact colour only; about 2.3 is just noticeable).
        Grey pixels are compared as the RGB grey of the same value.

    Returns
    -------
    mask : (H, W) bool ndarray
        True where a pixel is clustered, as :func:`segment` takes it.

    Raises
    ------
    KmsegError
        A colour that is not one, a negative distance, or no pixel left to
        cluster (transparent pixels, which :func:`segment` leaves out too,
        count as left out); the message names the image.

    See Also
    --------
    palette_order : the order to list the palette in.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.full((4, 4, 3), 255, np.uint8)
    >>> img[1:3, 1:3] = (200, 0, 0)
    >>> img[0, 0] = (250, 250, 250)   # near white: within 5
    >>> keep = kmseg.mask_colors(img, ["#ffffff"])
    >>> int(keep.sum())
    4
    >>> seg = kmseg.segment(img, 1, mask=keep)
    >>> seg.palette.tolist(), seg.counts.tolist()
    ([[200, 0, 0]], [4])
    """
    colors = v.check_colors("colors", colors)
    distance = v.check_number("distance", distance)
    img = read_image(image)
    h, w = img.shape[:2]
    if img.ndim == 2:
        pixels = img.reshape(-1)
    elif img.shape[2] == 2:  # grey + alpha
        pixels = np.ascontiguousarray(img[:, :, 0]).reshape(-1)
    else:
        pixels = np.ascontiguousarray(img[:, :, :3]).reshape(-1, 3)
    hist = ColorHistogram(pixels)
    from skimage.color import deltaE_ciede2000

    lab = lab_colors(hist.colors)
    near = np.zeros(len(hist), dtype=bool)
    for excluded in lab_colors(colors):
        near |= deltaE_ciede2000(lab, excluded[None, :]) <= distance
    keep = hist.to_pixels(~near, pixels, np.uint8).reshape(h, w).astype(bool)
    transparent = excluded_pixels(img, None, describe(image))
    if not (keep if transparent is None else keep & ~transparent).any():
        hexes = ", ".join("#{:02x}{:02x}{:02x}".format(*c) for c in colors.tolist())
        raise v.KmsegError(f"{describe(image)} has no pixels left to cluster: every one is within "
                           f"{distance:g} (CIEDE2000) of {hexes}" + ("" if transparent is None else
                                                                     " or transparent"))
    return keep


def palette_order(palette, counts, by="share"):
    """The order to list a palette's colours in: a permutation of its indices.

    Parameters
    ----------
    palette : (k, 3) uint8 array-like
        RGB colours, as a result's ``palette``.
    counts : (k,) array-like
        Pixels of each colour, as a result's ``counts``.
    by : {'share', 'lightness', 'hue'}, default='share'
        'share': most used first (the order of :func:`segment`'s labels).
        'lightness': darkest first, by CIELAB L*. 'hue': around the colour
        wheel by CIELAB hue angle ``atan2(b*, a*)`` in [0, 360) degrees (red
        near 40, yellow 103, green 136, cyan 196, blue 306, magenta 328), then
        the greys (chroma C*ab below 2.3, no hue to speak of) darkest first.
        Ties go to the larger share, then to the lower index.

    Returns
    -------
    order : (k,) int64 ndarray
        ``palette[order]``, ``counts[order]`` are the palette listed so.

    Raises
    ------
    KmsegError
        An unknown ``by``, a colour out of 0..255, or counts that are not one a colour.

    See Also
    --------
    mask_colors : leave a background out of the palette.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> palette = np.array([[250, 250, 250], [200, 0, 0], [0, 0, 90]], np.uint8)
    >>> counts = [5, 3, 1]
    >>> kmseg.palette_order(palette, counts).tolist()
    [0, 1, 2]
    >>> kmseg.palette_order(palette, counts, by="lightness").tolist()
    [2, 1, 0]
    >>> kmseg.palette_order(palette, counts, by="hue").tolist()   # red, blue, then the grey
    [1, 2, 0]
    """
    by = v.check_choice("by", by, v.PALETTE_SORTS)
    palette = v.check_colors("palette", palette)
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape != (len(palette),):
        raise v.KmsegError(f"counts has shape {counts.shape}; expected ({len(palette)},), one per palette colour")
    index = np.arange(len(palette))
    if by == "share":
        return np.lexsort((index, -counts)).astype(np.int64)
    lab = lab_colors(palette)
    if by == "lightness":
        return np.lexsort((index, -counts, lab[:, 0])).astype(np.int64)
    grey = np.hypot(lab[:, 1], lab[:, 2]) < ACHROMATIC_CHROMA
    hue = np.mod(np.degrees(np.arctan2(lab[:, 2], lab[:, 1])), 360.0)
    return np.lexsort((index, -counts, np.where(grey, lab[:, 0], hue), grey)).astype(np.int64)
