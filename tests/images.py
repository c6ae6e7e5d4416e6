"""Synthetic images and fixture files shared by several test modules."""

import io

import numpy as np
from PIL import Image

QUADRANT_COLOURS = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200], [220, 220, 40]])

#: A 6 x 7 16-bit RGB image whose values spread over the whole range.
RGB16 = (np.arange(6 * 7 * 3).reshape(6, 7, 3) * 997 % 65536).astype(np.uint16)


def quadrants(h=40, w=60, noise=12, seed=0):
    """Four flat quadrants plus Gaussian noise, as uint8 RGB."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3))
    img[: h // 2, : w // 2] = QUADRANT_COLOURS[0]
    img[: h // 2, w // 2 :] = QUADRANT_COLOURS[1]
    img[h // 2 :, : w // 2] = QUADRANT_COLOURS[2]
    img[h // 2 :, w // 2 :] = QUADRANT_COLOURS[3]
    img += rng.normal(0, noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def red_squares():
    """Two red squares apart on green plus a little Gaussian noise, as 60 x 80 uint8 RGB:
    one colour, but two connected segments beside the background."""
    rng = np.random.default_rng(0)
    img = np.full((60, 80, 3), (40, 120, 40), float)
    img[10:30, 10:30] = (220, 40, 40)  # a red square
    img[35:55, 50:75] = (220, 40, 40)  # another, apart: a different segment, though the same colour
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def encoded(img, fmt="PNG", **options):
    """The bytes of ``img`` saved by Pillow as a ``fmt`` file (PNG unless told)."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format=fmt, **options)
    return buf.getvalue()


def write_ground_truth(path, segmentations, boundaries=None):
    """A BSDS500-style file: ``groundTruth``, a 1 x G cell array of structs."""
    from scipy.io import savemat

    from kmseg.metrics import boundary_map

    cells = np.empty((1, len(segmentations)), dtype=object)
    for i, seg in enumerate(segmentations):
        bdry = boundary_map(seg) if boundaries is None else boundaries[i]
        cells[0, i] = {
            "Segmentation": np.asarray(seg, dtype=np.uint16),
            "Boundaries": np.asarray(bdry, dtype=np.uint8),
        }
    savemat(path, {"groundTruth": cells})


def photo_12mp(seed=0):
    """A 12-megapixel (3000 x 4000) photo: scikit-image's astronaut enlarged, with
    noise, so that it has photo-like regions and many distinct colours."""
    from skimage import data

    rng = np.random.default_rng(seed)
    big = np.kron(data.astronaut(), np.ones((6, 8, 1), np.uint8))[:3000, :4000]
    return np.clip(big.astype(np.int16) + rng.integers(-6, 7, big.shape), 0, 255).astype(np.uint8)
