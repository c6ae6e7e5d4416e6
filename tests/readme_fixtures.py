"""The files and variables README.md's snippets assume, made small and synthetic.

``write_fixtures(folder)`` writes every file the README's snippets and commands
name (``photo.jpg``, ``logo.png``, ``photos/``, ``groundTruth/val/101085.mat``,
...); ``snippet_variables(folder)`` returns the names its Python snippets use
without defining them (``img``, ``grey_img``, ``rgba``, ``frames``, ...).
"""

import os
import struct
import zlib

import numpy as np
from PIL import Image

from images import write_ground_truth

#: (height, width) of the photos: small, so that every snippet runs in a moment.
SHAPE = (120, 160)


def _resized(img, shape=SHAPE):
    return np.asarray(Image.fromarray(img).resize(shape[::-1], Image.Resampling.BILINEAR))


def photo():
    """scikit-learn's china.jpg at 160 x 120: a photo, installed with the dependencies."""
    from sklearn.datasets import load_sample_image

    return _resized(load_sample_image("china.jpg"))


def other_photo():
    """scikit-learn's flower.jpg at 160 x 120."""
    from sklearn.datasets import load_sample_image

    return _resized(load_sample_image("flower.jpg"))


def grey_photo():
    """scikit-image's camera at 160 x 120 (uint8 grey)."""
    from skimage import data

    return _resized(data.camera())


def logo():
    """The README's logo: a white page (wavering by up to 3 levels) with three squares,
    80 x 60 = 4,800 pixels, of which 900 blue, 225 red and 400 green."""
    rng = np.random.default_rng(0)
    img = (255 - rng.integers(0, 4, (60, 80, 3))).astype(np.uint8)
    img[5:35, 5:35] = (40, 60, 200)
    img[40:55, 10:25] = (200, 30, 30)
    img[10:30, 50:70] = (30, 160, 60)
    return img


def frame(i):
    """Frame ``i`` of a short sequence: the photo shifted by ``4 i`` pixels."""
    return np.roll(photo(), 4 * i, axis=1)


def _png_with_bad_idat_crc(img):
    """A PNG of ``img`` whose first IDAT chunk has a wrong stored CRC (its data intact)."""
    import io

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            crc_at = pos + 8 + length
            assert struct.unpack(">I", data[crc_at:crc_at + 4])[0] == zlib.crc32(data[pos + 4:crc_at])
            data[crc_at] ^= 0xFF
            return bytes(data)
        pos += 12 + length
    raise AssertionError("no IDAT chunk")


def _ground_truth(shape=SHAPE):
    """Two human segmentations in BSDS500's style: labels from 1, halves and quarters."""
    h, w = shape
    halves = np.ones(shape, np.uint16)
    halves[:, w // 2:] = 2
    quarters = halves.copy()
    quarters[h // 2:] += 2
    return [halves, quarters]


def _save_tiff(path, img):
    try:
        import tifffile
    except ImportError:  # Pillow's TIFF is read whole
        Image.fromarray(img).save(path)
    else:
        tifffile.imwrite(path, img, rowsperstrip=16)


def write_fixtures(folder):
    """Write every file the README names into ``folder``."""
    folder = os.fspath(folder)
    join = lambda *parts: os.path.join(folder, *parts)  # noqa: E731
    for sub in ("photos", "more", "frames", "scans", "groundTruth/val", "BSR/images/val", "BSR/groundTruth/val"):
        os.makedirs(join(sub), exist_ok=True)
    img, other = photo(), other_photo()
    Image.fromarray(img).save(join("photo.jpg"), quality=90)
    Image.fromarray(img).save(join("photo.png"))
    Image.fromarray(other).save(join("other.jpg"), quality=90)
    Image.fromarray(other).save(join("other.png"))
    # a quantized photo.jpg, as `kmseg quantize photo.jpg -n 16 -o small.png` writes, for `compare`
    Image.open(join("photo.jpg")).quantize(16).save(join("small.png"))
    Image.fromarray(logo()).save(join("logo.png"))
    weights = np.full(SHAPE, 40, np.uint8)
    weights[30:90, 50:110] = 255  # a bright "face" weighs more
    Image.fromarray(weights).save(join("faces.png"))
    web = [(r, g, b) for r in (0, 128, 255) for g in (0, 128, 255) for b in (0, 128, 255)]
    with open(join("web.gpl"), "w", encoding="utf-8") as fh:
        fh.write("GIMP Palette\nName: web\nColumns: 9\n#\n")
        fh.writelines(f"{r:3d} {g:3d} {b:3d}\tc{i}\n" for i, (r, g, b) in enumerate(web))
    _save_tiff(join("scan.tif"), img)
    _save_tiff(join("scans", "scan.tif"), other)
    frames = [Image.fromarray(frame(i)).quantize(64) for i in range(3)]
    frames[0].save(join("anim.gif"), save_all=True, append_images=frames[1:], duration=100, loop=0)
    Image.fromarray(frame(1)).save(join("frame_0001.png"))
    for i in range(3):
        Image.fromarray(frame(i)).save(join("frames", f"frame_{i:04d}.png"))
    for i, (name, pic) in enumerate([("china", img), ("flower", other), ("camera", grey_photo())]):
        Image.fromarray(pic).save(join("photos", f"{i:02d}_{name}.jpg"), quality=90)
    for i in range(2):
        Image.fromarray(np.flip(frame(i + 1), axis=0).copy()).save(join("more", f"m{i}.jpg"), quality=90)
    with open(join("download.png"), "wb") as fh:
        fh.write(_png_with_bad_idat_crc(img))
    write_ground_truth(join("groundTruth", "val", "101085.mat"), _ground_truth())
    _write_arrays(join)
    for stem, pic in (("101085", img), ("102061", other)):
        Image.fromarray(pic).save(join("BSR", "images", "val", f"{stem}.jpg"), quality=90)
        write_ground_truth(join("BSR", "groundTruth", "val", f"{stem}.mat"), _ground_truth())


def volume(shape=(24, 28, 32), seed=0):
    """A small CT-like uint16 volume: air, tissue and a denser core, with noise."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*(np.linspace(-1, 1, n) for n in shape), indexing="ij")
    vol = np.full(shape, 1000.0)
    vol[x ** 2 + y ** 2 + z ** 2 <= 0.8] = 21000
    vol[(x - 0.2) ** 2 + y ** 2 + z ** 2 <= 0.1] = 42000
    return np.clip(vol + rng.normal(0, 900, shape), 0, 65535).astype(np.uint16)


def raster(seed=1):
    """A (H, W, 6) uint16 raster: the photo's colours mixed into six bands."""
    mix = np.random.default_rng(seed).uniform(0, 1, (3, 6))
    return np.rint(photo().astype(np.float64) @ mix * 40).astype(np.uint16)


def _write_arrays(join):
    """The volume and raster files the README names: .npy, a TIFF stack, a 6-band
    GeoTIFF, a NIfTI volume (where tifffile and nibabel are installed)."""
    np.save(join("ct.npy"), volume())
    try:
        import tifffile
    except ImportError:
        return
    tifffile.imwrite(join("stack.tif"), volume(seed=2))
    geo = [(33550, 12, 3, (30.0, 30.0, 0.0), True), (33922, 12, 6, (0, 0, 0, 500000.0, 4000000.0, 0), True)]
    tifffile.imwrite(join("bands.tif"), raster(), photometric="minisblack", planarconfig="contig", extratags=geo)
    try:
        import nibabel
    except ImportError:
        return
    nibabel.save(nibabel.Nifti1Image(volume(seed=3), np.diag([0.8, 0.8, 2.0, 1.0])), join("ct.nii.gz"))


def snippet_variables(folder):
    """The names README snippets use without defining them, as arrays of the fixture files."""
    folder = os.fspath(folder)
    img = np.asarray(Image.open(os.path.join(folder, "photo.jpg")).convert("RGB"))
    rgba = np.dstack([img, np.full(SHAPE, 255, np.uint8)])
    rgba[:20, :30, 3] = 0  # a transparent corner
    float_img = img / 255.0
    float_img[50:53, 60:64] = np.nan
    importance = np.ones(SHAPE)
    importance[30:90, 50:110] = 2.0
    photos = sorted(os.listdir(os.path.join(folder, "photos")))
    return {
        "img": img,
        "grey_img": grey_photo(),
        "rgba": rgba,
        "float_img": float_img,
        "importance": importance,
        "frames": [frame(i) for i in range(3)],
        "list_of_images": [img, other_photo()],
        "list_of_paths": [os.path.join("photos", name) for name in photos],
        "raster": raster().astype(np.float32) / 40,
    }
