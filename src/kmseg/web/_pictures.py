"""The pictures and files of the page: views as PNG bytes, palettes as text."""

import colorsys

import numpy as np

from ..io import display_image, encode_image, palette_text

#: Boundary colour of the overlay (yellow) and how much the rest is dimmed when
#: one region is highlighted.
BOUNDARY_RGB = (255, 255, 0)
DIM = 0.25


def display_rgb(image):
    """An image of any supported dtype as (H, W, 3) uint8 RGB, alpha dropped."""
    out = display_image(image)
    if out.ndim == 2:
        out = np.repeat(out[:, :, None], 3, axis=2)
    return np.ascontiguousarray(out)


def png_bytes(array, compress_level=None, transparency=None):
    """PNG file bytes of an image array of any supported dtype (16 bits kept);
    ``transparency``: a grey value shown transparent (a tRNS chunk)."""
    return encode_image(array, "PNG", transparency, compress_level)


def boundary_mask(labels):
    """Pixels whose right or lower neighbour has another label, (H, W) bool.

    Examples
    --------
    >>> import numpy as np
    >>> boundary_mask(np.array([[0, 0, 1], [0, 0, 1]])).astype(int).tolist()
    [[0, 1, 0], [0, 1, 0]]
    """
    mask = np.zeros(labels.shape, dtype=bool)
    mask[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    mask[:-1, :] |= labels[:-1, :] != labels[1:, :]
    return mask


def boundaries(rgb, labels, color=BOUNDARY_RGB):
    """The image with the boundaries between labels drawn over it."""
    out = rgb.copy()
    out[boundary_mask(labels)] = color
    return out


def label_colors(k):
    """k distinct display colours: hues a golden angle apart, (k, 3) uint8.

    Examples
    --------
    >>> label_colors(3).shape
    (3, 3)
    """
    hues = (np.arange(k) * 0.6180339887498949) % 1.0
    rows = [colorsys.hsv_to_rgb(h, 0.65 if i % 2 else 0.85, 0.95 if i % 3 else 0.8)
            for i, h in enumerate(hues)]
    return np.rint(np.array(rows, dtype=np.float64).reshape(k, 3) * 255).astype(np.uint8)


def label_view(labels, k):
    """The label map painted with distinct colours; pixels left out of the
    clustering (label ``k``: transparent, masked) white."""
    return np.concatenate([label_colors(k), np.full((1, 3), 255, np.uint8)])[labels]


def highlight(rgb, labels, label):
    """The image with one label's pixels as they are and the rest dimmed."""
    inside = labels == label
    out = (rgb * DIM).astype(np.uint8)
    out[inside] = rgb[inside]
    out[boundary_mask(inside)] = BOUNDARY_RGB
    return out


def palette_file(seg, fmt, name, stem):
    """The palette as JSON, CSS or GIMP .gpl text."""
    return palette_text(seg, fmt, name, stem)
