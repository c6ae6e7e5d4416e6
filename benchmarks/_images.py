"""Benchmark inputs: a 12-megapixel photo mosaic and a BSDS500 photo.

``mosaic_12mp()`` tiles scikit-learn's two sample photos (china.jpg and
flower.jpg), each upscaled with Pillow's bicubic filter to 2000x1500, as

    china  | flower
    -------+-------
    flower | china

giving a 3000x4000x3 uint8 image (12 million pixels, real photographic colour
statistics). It is cached as ``benchmarks/results/mosaic_12mp.npy`` (the
results folder is git-ignored).

``bsds_photo()`` loads one photo of the BSDS500 validation set from
``../shared/data/bsds500/images/val/`` (relative to the repository root), or
returns None where that folder is missing.
"""

from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
MOSAIC_NPY = RESULTS_DIR / "mosaic_12mp.npy"
MOSAIC_PNG = RESULTS_DIR / "mosaic_12mp.png"
#: ../shared beside the repository, or beside the folder holding it (a git worktree)
SHARED_DIR = next((d / "shared" for d in (REPO_ROOT.parent, REPO_ROOT.parent.parent) if (d / "shared").is_dir()),
                  REPO_ROOT.parent / "shared")
BSDS_VAL_DIR = SHARED_DIR / "data" / "bsds500" / "images" / "val"

TILE_SIZE = (2000, 1500)  # (width, height), as Pillow's resize takes it


def results_dir():
    """The (git-ignored) results folder, created if missing."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    return RESULTS_DIR


def _tile(name):
    """One scikit-learn sample photo, resized bicubically to TILE_SIZE."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    photo = Image.fromarray(load_sample_image(name))
    return np.asarray(photo.resize(TILE_SIZE, Image.Resampling.BICUBIC))


def _build_mosaic():
    china, flower = _tile("china.jpg"), _tile("flower.jpg")
    top = np.concatenate([china, flower], axis=1)
    bottom = np.concatenate([flower, china], axis=1)
    return np.ascontiguousarray(np.concatenate([top, bottom], axis=0), dtype=np.uint8)


def mosaic_12mp(cache=True):
    """The 3000x4000x3 uint8 mosaic, C-contiguous, from the cache when present."""
    if cache and MOSAIC_NPY.exists():
        img = np.load(MOSAIC_NPY)
        if img.shape == (3000, 4000, 3) and img.dtype == np.uint8:
            return np.ascontiguousarray(img)
    img = _build_mosaic()
    if cache:
        results_dir()
        np.save(MOSAIC_NPY, img)
    return img


def mosaic_png():
    """Path of the mosaic saved as PNG (for the command-line cold start), written once."""
    if not MOSAIC_PNG.exists():
        from PIL import Image

        results_dir()
        Image.fromarray(mosaic_12mp()).save(MOSAIC_PNG)
    return MOSAIC_PNG


def bsds_names():
    """File names of the BSDS500 validation photos, sorted; empty if the folder is missing."""
    if not BSDS_VAL_DIR.is_dir():
        return []
    return sorted(p.name for p in BSDS_VAL_DIR.iterdir() if p.suffix.lower() == ".jpg")


def bsds_photo(name=None):
    """One BSDS500 validation photo as (H, W, 3) uint8, or None if the data is missing.

    ``name`` is a file name such as ``"101085.jpg"``; by default the first in
    sorted order.
    """
    names = bsds_names()
    if not names:
        return None
    name = names[0] if name is None else name
    path = BSDS_VAL_DIR / name
    if not path.is_file():
        return None
    from PIL import Image

    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB")), dtype=np.uint8)
