"""Stage 1: colours to clustering features, and centres back to RGB.

Colour classes convert the distinct colours of an image, never each pixel;
only the spatial pipeline (``lab_image``, for superpixels) converts whole images.

Feature scales: 'rgb' is R, G, B in [0, 255]; 'gray' is luminance in [0, 255]
(ITU-R BT.709 weights, as :func:`skimage.color.rgb2gray`); 'lab' is CIELAB
(D65) with L in [0, 100]; 'hsv' is the HSV cylinder in Cartesian coordinates,
``(S cos 2piH, S sin 2piH, V)`` with S, V in [0, 1], so that hue wraps around:
reds of hue 0.01 and 0.99 are neighbours, as they look, not opposite ends of a
line.
"""

import numpy as np

#: Luminance weights of R, G and B (ITU-R BT.709).
GRAY_WEIGHTS = np.array([0.2125, 0.7154, 0.0721])


def to_unit_rgb(colors):
    """Colours of any supported dtype as float64 in [0, 1]; grey gives one column."""
    colors = np.asarray(colors)
    if colors.dtype == np.uint8:
        out = colors / 255.0
    elif colors.dtype == np.uint16:
        out = colors / 65535.0
    else:
        out = colors.astype(np.float64)
    return out.reshape(len(out), -1)


def unit_rgb(colors):
    """Colours (or pixels) as float64 RGB in [0, 1], ``(n, 3)``: grey replicated, alpha dropped."""
    unit = to_unit_rgb(colors)
    if unit.shape[1] in (1, 2):  # grey, grey + alpha
        return np.repeat(unit[:, :1], 3, axis=1)
    return unit[:, :3]


def lab_image(image):
    """CIELAB of a whole (H, W) or (H, W, 3|4) image of any supported dtype, ``(H, W, 3)``."""
    from skimage import color

    h, w = image.shape[:2]
    return color.rgb2lab(unit_rgb(image.reshape(h * w, -1)).reshape(h, w, 3))


def to_features(colors, space):
    """Features of distinct colours, an ``(n, d)`` float64 C-contiguous array.

    Parameters
    ----------
    colors : (n,) or (n, 3) ndarray
        Grey values or RGB colours (uint8, uint16 or float in [0, 1]).
    space : {'rgb', 'lab', 'hsv', 'gray'}
    """
    colors = np.asarray(colors)
    width = 1 if colors.ndim == 1 else colors.shape[1]
    if colors.dtype == np.uint8 and (space, width) in (("rgb", 3), ("gray", 1)):
        # 8-bit values as they are: the same as the path below ((x / 255) * 255 == x for 8-bit x)
        return np.ascontiguousarray(colors.reshape(len(colors), width), dtype=np.float64)
    unit = to_unit_rgb(colors)
    if space == "gray":
        grey = unit[:, 0] if unit.shape[1] == 1 else unit @ GRAY_WEIGHTS
        return np.ascontiguousarray(grey[:, None] * 255.0)
    unit = unit_rgb(unit)
    if space == "rgb":
        return np.ascontiguousarray(unit * 255.0)
    from skimage import color

    if space == "lab":
        return np.ascontiguousarray(color.rgb2lab(unit[:, None, :])[:, 0, :], dtype=np.float64)
    hsv = color.rgb2hsv(unit[:, None, :])[:, 0, :]
    angle = 2 * np.pi * hsv[:, 0]
    return np.ascontiguousarray(
        np.stack([hsv[:, 1] * np.cos(angle), hsv[:, 1] * np.sin(angle), hsv[:, 2]], axis=1)
    )


def to_unit_rgb_centers(centers, space):
    """Centres in feature space as RGB float64 in [0, 1], ``(k, 3)``."""
    centers = np.asarray(centers, dtype=np.float64)
    if space == "gray":
        unit = np.repeat(centers[:, :1] / 255.0, 3, axis=1)
    elif space == "rgb":
        unit = centers / 255.0
    else:
        from skimage import color

        if space == "lab":
            unit = color.lab2rgb(centers[:, None, :])[:, 0, :]
        else:
            hue = np.mod(np.arctan2(centers[:, 1], centers[:, 0]) / (2 * np.pi), 1.0)
            sat = np.clip(np.hypot(centers[:, 0], centers[:, 1]), 0, 1)
            hsv = np.stack([hue, sat, np.clip(centers[:, 2], 0, 1)], axis=1)
            unit = color.hsv2rgb(hsv[:, None, :])[:, 0, :]
    return np.clip(unit, 0.0, 1.0)


def to_rgb8(centers, space):
    """Centres in feature space as displayable RGB uint8 colours, ``(k, 3)``."""
    return np.rint(to_unit_rgb_centers(centers, space) * 255.0).astype(np.uint8)
