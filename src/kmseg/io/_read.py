"""Stage 0: images in, from a path, a PIL image or a NumPy array."""

import os
import threading
import warnings

import numpy as np

from .._validation import ImageReadError, KmsegError

#: Dtypes accepted for array images.
ARRAY_DTYPES = (np.uint8, np.uint16, np.float32, np.float64)


def describe(source):
    """How to name an image source in messages."""
    if isinstance(source, (str, os.PathLike)):
        return repr(os.fspath(source))
    return "the image"


def _from_pil(im):
    """Array of a PIL image: grey or RGB(A), uint8 or uint16, EXIF orientation applied."""
    from PIL import ImageOps

    im = ImageOps.exif_transpose(im)
    mode = im.mode
    if mode in ("L", "RGB", "RGBA"):
        return np.asarray(im)
    if mode == "1" or mode == "LA":
        return np.asarray(im.convert("L"))
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(im, dtype=np.uint16) if mode == "I;16" else np.asarray(
            im.convert("I"), dtype=np.uint16
        )
    if mode == "I":
        arr = np.asarray(im)
        if arr.min() >= 0 and arr.max() <= 65535:
            return arr.astype(np.uint16)
        return (arr.astype(np.float64) - arr.min()) / max(1, arr.max() - arr.min())
    if mode == "F":
        return np.asarray(im, dtype=np.float32)
    if mode in ("P", "PA"):
        return np.asarray(im.convert("RGBA" if "transparency" in im.info or mode == "PA" else "RGB"))
    return np.asarray(im.convert("RGB"))


#: Pillow's own decompression-bomb limit is a process-wide setting: changed only
#: under this lock, for the time it takes to read a header.
_PIL_LIMIT_LOCK = threading.Lock()


def _open(path):
    """``Image.open`` without Pillow's bomb check: it reads the header only, and the
    caller checks the size against ``max_pixels`` before decoding anything."""
    from PIL import Image

    with _PIL_LIMIT_LOCK:
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                return Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def read_path(path):
    """Decode an image file into an array, or raise ImageReadError naming it.

    Images larger than ``kmseg.get_config()["max_pixels"]`` are refused from
    their header's dimensions, before any pixel buffer is allocated.
    """
    name = describe(path)
    if not os.path.exists(path):
        raise ImageReadError(f"{name}: no such file")
    if os.path.isdir(path):
        raise ImageReadError(f"{name}: is a folder, not an image")
    return decode(path, name)


def decode(source, name):
    """Decode an image from a path or a binary file object (such as the bytes of an
    upload in ``io.BytesIO``), with the checks of :func:`read_path`; messages
    start with ``name``."""
    from PIL import Image, UnidentifiedImageError

    from .._config import get_config

    max_pixels = get_config()["max_pixels"]
    try:
        with _open(source) as im:
            w, h = im.size
            if w * h > max_pixels:
                raise ImageReadError(
                    f"{name}: too large ({w}x{h} = {w * h:,} pixels, more than max_pixels="
                    f"{max_pixels:,}; raise it with kmseg.set_config(max_pixels=...) or --max-pixels)"
                )
            im.load()
            return _from_pil(im)
    except ImageReadError:  # already phrased (it is an OSError too: keep it from the handler below)
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{name}: not an image (no decoder recognises it)") from None
    except Image.DecompressionBombError as exc:  # a frame larger than its header said
        raise ImageReadError(f"{name}: too large ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__
        if "truncated" in reason:
            raise ImageReadError(f"{name}: truncated ({reason})") from None
        raise ImageReadError(f"{name}: corrupt or unreadable ({reason})") from None


def check_array(arr, name="the image"):
    """Validate an image array: (H, W) or (H, W, 1|3|4), uint8/uint16/float in [0, 1]."""
    arr = np.asarray(arr)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise KmsegError(
            f"{name} has shape {arr.shape}; expected (H, W) grey or (H, W, 3|4) RGB(A)"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise KmsegError(f"{name} is empty (shape {arr.shape})")
    if arr.dtype not in ARRAY_DTYPES:
        if np.issubdtype(arr.dtype, np.integer) and arr.size and arr.min() >= 0 and arr.max() <= 255:
            arr = arr.astype(np.uint8)
        else:
            raise KmsegError(
                f"{name} has dtype {arr.dtype}; expected uint8, uint16, or float in [0, 1]"
            )
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise KmsegError(f"{name} holds NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 1:
            raise KmsegError(f"{name} is float with values in [{lo:g}, {hi:g}]; expected [0, 1]")
    return np.ascontiguousarray(arr)


def read_image(image):
    """Read an image into a validated NumPy array.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        A file path, a PIL image, or an ``(H, W)`` / ``(H, W, 3|4)`` array of
        uint8, uint16, or float in [0, 1].

    Returns
    -------
    array : (H, W) or (H, W, 3|4) ndarray
        Grey or RGB(A) pixels, uint8, uint16 or float. EXIF orientation is applied
        to files and PIL images; palette, 1-bit and CMYK images become RGB or grey.

    Raises
    ------
    ImageReadError
        A file that does not exist or cannot be decoded; the message names it.
    KmsegError
        An array of unsupported shape, dtype or values.

    Examples
    --------
    >>> import numpy as np
    >>> from kmseg import read_image
    >>> read_image(np.zeros((2, 3, 3), dtype=np.uint8)).shape
    (2, 3, 3)
    """
    name = describe(image)
    if isinstance(image, (str, os.PathLike)):
        arr = read_path(image)
    elif type(image).__module__.startswith("PIL."):
        arr = _from_pil(image)
    else:
        arr = image
    return check_array(arr, name)
