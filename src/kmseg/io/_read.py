"""Stage 0: images in, from a path, a PIL image or a NumPy array."""

import os
import threading
import warnings
from contextlib import contextmanager

import numpy as np

from .._validation import ImageReadError, KmsegError, KmsegWarning, check_choice

#: Dtypes accepted for array images.
ARRAY_DTYPES = (np.uint8, np.uint16, np.float32, np.float64)


def describe(source):
    """How to name an image source in messages."""
    if isinstance(source, (str, os.PathLike)):
        return repr(os.fspath(source))
    return "the image"


#: What ``frames=`` may be: the first frame of a multi-frame file, or all of them.
FRAMES = ("first", "all")
#: What ``nan=`` may be: refuse NaN and infinite values, or leave those pixels out.
NAN_POLICIES = ("raise", "mask")


def _from_pil(im, notes):
    """Array of a decoded PIL image: grey, grey+alpha or RGB(A), uint8 or uint16, or
    float; EXIF orientation applied. Anything worth a warning goes to ``notes``."""
    from PIL import ImageOps

    try:
        im = ImageOps.exif_transpose(im)
    except Exception as exc:  # Pillow raises assorted errors on broken EXIF blocks
        notes.append(f"corrupt EXIF data, orientation not applied ({exc or type(exc).__name__})")
    mode = im.mode
    key = im.info.get("transparency")  # a colour key: pixels of this value are transparent
    if key is not None and mode in ("L", "RGB"):
        return np.asarray(im.convert(mode + "A" if mode == "L" else "RGBA"))
    if key is not None and mode == "I;16" and isinstance(key, int):
        grey = np.asarray(im).astype(np.uint16)
        return np.dstack([grey, np.where(grey == key, 0, 65535).astype(np.uint16)])
    if mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(im)
    if mode == "1":
        return np.asarray(im.convert("L"))
    if mode.startswith("I;16"):
        return np.asarray(im if mode == "I;16" else im.convert("I")).astype(np.uint16)
    if mode == "I":
        arr = np.asarray(im)
        if arr.min() >= 0 and arr.max() <= 65535:
            return arr.astype(np.uint16)
        return _rescale(arr)
    if mode == "F":
        return _rescale(np.asarray(im, dtype=np.float32))
    if mode in ("P", "PA"):
        return np.asarray(im.convert("RGBA" if "transparency" in im.info or mode == "PA" else "RGB"))
    if mode in ("RGBa", "La"):
        return np.asarray(im.convert(mode.upper()))
    return np.asarray(im.convert("RGB"))  # CMYK, YCbCr, LAB, HSV, RGBX: Pillow's conversion


def _rescale(arr):
    """Integers beyond 16 bits or floats beyond [0, 1], mapped onto [0, 1] by their
    finite minimum and maximum (non-finite values are left for ``nan=`` to judge)."""
    arr = arr.astype(np.float64 if arr.dtype.kind != "f" else arr.dtype)
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return arr
    lo, hi = finite.min(), finite.max()
    if arr.dtype.kind == "f" and lo >= 0 and hi <= 1:
        return arr
    return (arr - lo) / (hi - lo if hi > lo else 1)


#: The warnings filters and handler are process-wide. While any thread records
#: (:func:`thread_warnings`), one window is open: every warning passes the filters
#: and reaches :func:`_route`, which gives it to the recorder of the thread that
#: raised it, or else to the handler in place before the window. Threads record
#: side by side; this lock only guards opening and closing the window.
_RECORDING_LOCK = threading.Lock()
_recorders = {}  # thread id -> its open recorders, innermost last: [(caught, kmseg_warnings)]
_window = None  # the catch_warnings that restores the filters and handler when the last recorder ends
_passed_on = None  # the handler in place before the window


def _route(message, category, filename, lineno, file=None, line=None):
    """The warnings handler while a window is open."""
    for caught, kmseg_warnings in reversed(_recorders.get(threading.get_ident(), ())):
        if kmseg_warnings or not issubclass(category, KmsegWarning):
            caught.append(message)
            return
    _passed_on(message, category, filename, lineno, file, line)


@contextmanager
def thread_warnings(kmseg_warnings=False):
    """Record the warnings raised in this thread, every one of them, whatever
    the filters (kmseg's own only with ``kmseg_warnings``); warnings of other
    threads meanwhile (batch workers, the web server's) go on to the handler
    they would have reached. Threads may record at the same time. Yields the
    list of recorded messages."""
    global _window, _passed_on

    me = threading.get_ident()
    caught = []
    with _RECORDING_LOCK:
        if not _recorders:
            _window = warnings.catch_warnings()
            _window.__enter__()
            warnings.simplefilter("always")
            _passed_on = warnings.showwarning
            warnings.showwarning = _route
        _recorders.setdefault(me, []).append((caught, kmseg_warnings))
    try:
        yield caught
    finally:
        with _RECORDING_LOCK:
            mine = _recorders[me]
            mine.pop()
            if not mine:
                del _recorders[me]
            if not _recorders:
                _window.__exit__(None, None, None)
                _window = None


#: Pillow's own decompression-bomb limit is a process-wide setting: changed only
#: under this lock, for the time it takes to read a header.
_PIL_LIMIT_LOCK = threading.Lock()


@contextmanager
def _no_pillow_limit():
    """Pillow's bomb check lifted (kmseg checks ``max_pixels`` itself, from the
    header), under a lock so that threads restore it in order."""
    from PIL import Image

    with _PIL_LIMIT_LOCK:
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield previous
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _pillow_limit():
    """Pillow's decompression-bomb warning threshold (None: off)."""
    from PIL import Image

    return Image.MAX_IMAGE_PIXELS


def _open(path):
    """``(image, pillow_limit)``: ``Image.open`` without Pillow's bomb check (it reads
    the header only, and the caller checks the size before decoding anything), and
    the limit Pillow would have warned above.

    A GIF is the exception: opening one grows its canvas to the first frame's extent
    and fills that frame's disposal area, up to 65535 x 65535 pixels (4 GB from a
    283-byte file), checked only against Pillow's limit: kept, at ``max_pixels``."""
    from PIL import Image

    from .._config import get_config

    with _no_pillow_limit() as previous:
        if _signature(path) == "GIF":
            Image.MAX_IMAGE_PIXELS = get_config()["max_pixels"]  # Pillow refuses twice that
        return Image.open(path), previous


def _check_size(name, w, h, n_frames=1, strict_notes=None, pillow_limit=None):
    """Refuse an image whose header promises more than ``max_pixels`` pixels (over
    all frames read). With ``strict_notes`` (a list, in strict mode), note an image
    over Pillow's warning threshold ``pillow_limit`` there."""
    from .._config import get_config

    if strict_notes is not None and pillow_limit is not None and w * h > pillow_limit:
        strict_notes.append(f"possible decompression bomb ({w}x{h} = {w * h:,} pixels, more than "
                            f"Pillow's limit of {pillow_limit:,})")

    max_pixels = get_config()["max_pixels"]
    total = w * h * n_frames
    frames = f" x {n_frames} frames" if n_frames > 1 else ""
    if total > max_pixels:
        raise ImageReadError(
            f"{name}: too large ({w}x{h}{frames} = {total:,} pixels, more than max_pixels="
            f"{max_pixels:,}; raise it with kmseg.set_config(max_pixels=...) or --max-pixels)"
        )


def _end_problem(path, fmt):
    """What is wrong with the end of a file Pillow decodes: the end marker of PNG,
    JPEG and GIF files (a PNG's chunk checksums are checked before, IEND's too)."""
    with open(path, "rb") as fh:
        fh.seek(max(0, os.path.getsize(path) - 16))
        tail = fh.read()
    if fmt == "PNG":
        if tail[-12:-4] != b"\0\0\0\0IEND":
            return "truncated or trailing data (the file does not end with PNG's IEND chunk)"
    elif fmt in ("JPEG", "MPO") and not tail.endswith(b"\xff\xd9"):
        return "truncated or trailing data (the file does not end with JPEG's end-of-image marker)"
    elif fmt == "GIF" and not tail.endswith(b";"):
        return "truncated or trailing data (the file does not end with GIF's trailer)"
    return None


def _decode_frame(im, path, fmt, notes, name):
    """The current frame of an opened file as an array, keeping 16-bit precision
    where Pillow would drop it (colour PNG: read here; TIFF: read by tifffile).
    Errors name the file ``name`` (an upload's, not its temporary path)."""
    tile = im.tile[0] if im.tile else None
    rawmode = tile.args if tile is not None and isinstance(tile.args, str) else (
        tile.args[0] if tile is not None and tile.args else "")
    colour16_png = fmt == "PNG" and "16" in str(rawmode) and im.mode in ("RGB", "RGBA", "LA")
    if colour16_png and getattr(im, "n_frames", 1) > 1:
        notes.append("frames of a 16-bit colour animated PNG are read at 8 bits per channel")
    elif colour16_png:
        from ._png import PNGError, read_png16

        with open(path, "rb") as fh:
            data = fh.read()
        try:
            return read_png16(data, check_crc=False)  # checked before, or lenient
        except PNGError as exc:
            raise ImageReadError(f"{name}: {exc}") from None
    if fmt == "TIFF" and max(_as_tuple(im.tag_v2.get(258, 8))) > 8 and im.mode in (
            "RGB", "RGBA", "RGBX", "CMYK", "LA"):
        arr = _tifffile_page(path, im.tell(), name)
        if arr is not None:
            return arr
        notes.append("16-bit colour TIFF read at 8 bits per channel (tifffile is not installed)")
    if fmt == "TIFF" and any(t[2] > os.path.getsize(path) for t in im.tile):
        # Pillow reads a strip up to the next one's offset, however far: a buffer of that size
        raise ImageReadError(f"{name}: truncated or corrupt (a strip or tile starts past the end of the file)")
    limit = _pillow_limit()
    if fmt == "TIFF" and limit is not None and im.size[0] * im.size[1] > limit:
        # Pillow checks a TIFF's size again as it loads; kmseg has checked it against
        # max_pixels. Lifted (process-wide, under the lock) only for such large TIFFs.
        with _no_pillow_limit():
            im.load()
    else:
        im.load()
    return _from_pil(im, notes)


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def _tifffile_page(path, index, name):
    """One page of a TIFF file decoded by tifffile, or None without tifffile."""
    try:
        import tifffile
    except ImportError:  # pragma: no cover - scikit-image requires tifffile
        return None
    with tifffile.TiffFile(path) as tif:
        return _tiff_array(tif.pages[index], name)


def _tiff_array(page, name):
    """A tifffile page as an image array: samples last, at most RGBA, 8/16-bit or float.

    All of a page's samples are decoded before the extra ones are dropped, so
    their number is bounded too: at most four values per pixel of ``max_pixels``."""
    from .._config import get_config

    values = page.imagewidth * page.imagelength * max(1, page.imagedepth) * max(1, page.samplesperpixel)
    budget = 4 * get_config()["max_pixels"]
    if values > budget:
        raise ImageReadError(
            f"{name}: too large ({page.imagewidth}x{page.imagelength} pixels of "
            f"{page.samplesperpixel} samples x depth {page.imagedepth} = {values:,} values, more than "
            f"4 x max_pixels = {budget:,}; raise it with kmseg.set_config(max_pixels=...) or --max-pixels)"
        )
    from math import prod

    needed = prod(page.chunked)  # tifffile decodes every one, present or not: 30 us each
    if min(len(page.dataoffsets), len(page.databytecounts)) < needed:
        raise ImageReadError(f"{name}: corrupt ({len(page.dataoffsets):,} strip or tile offsets and "
                             f"{len(page.databytecounts):,} byte counts, for an image of {needed:,} strips or tiles)")
    size = page.parent.filehandle.size
    if any(count and offset + count > size for offset, count in zip(page.dataoffsets, page.databytecounts)):
        # tifffile would ask for the strip's byte count, however large
        raise ImageReadError(f"{name}: truncated or corrupt (a strip or tile runs past the end of the file)")
    arr = page.asarray()
    if arr.ndim == 3 and int(page.planarconfig) == 2:  # planes stored one after the other
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim == 3 and arr.shape[2] > 4:  # extra samples beyond RGBA
        arr = arr[:, :, :4]
    if arr.dtype.kind in "iu" and arr.dtype != np.uint8 and arr.dtype != np.uint16:
        arr = _rescale(arr) if (arr.min() < 0 or arr.max() > 65535) else arr.astype(np.uint16)
    elif arr.dtype.kind == "f":
        arr = _rescale(arr)
    return arr


def _read_tiff(path, name, frames, strict):
    """``(arrays, notes)`` of a TIFF file that Pillow cannot open (planar or float
    colour, say), by tifffile as scikit-image reads it; the size is checked first."""
    import tifffile

    notes = []
    with tifffile.TiffFile(path) as tif:
        pages = tif.pages
        n_frames = len(pages)
        first = pages[0]
        _check_size(name, first.imagewidth, first.imagelength, n_frames if frames == "all" else 1,
                    notes if strict else None, _pillow_limit())
        _note_frames(name, n_frames, frames, notes, strict)
        arrays = []
        for i in range(n_frames if frames == "all" else 1):
            page = pages[i]
            _check_size(name, page.imagewidth, page.imagelength, n_frames if frames == "all" else 1)
            arrays.append(_tiff_array(page, name))
    return arrays, notes


def read_path(path, frames="first"):
    """Decode an image file into an array (or a list of arrays, one per frame, for
    ``frames='all'``), or raise ImageReadError naming the file and the reason.

    Images larger than ``kmseg.get_config()["max_pixels"]`` are refused from
    their header's dimensions, before any pixel buffer is allocated, and PNG
    files whose chunk CRCs do not match are refused (read with a warning when
    ``kmseg.set_config(lenient=True)``). What the decoder only warns about (and
    extra frames) is a :class:`KmsegWarning` naming the file, or in strict mode
    (``kmseg.set_config(strict=True)``) an error.
    """
    name = describe(path)
    frames = check_choice("frames", frames, FRAMES)
    if not os.path.exists(path):
        raise ImageReadError(f"{name}: no such file")
    if os.path.isdir(path):
        raise ImageReadError(f"{name}: is a folder, not an image")
    return decode(path, name, frames)


def decode(source, name, frames="first"):
    """Decode an image from a path or a binary file object (such as the bytes of an
    upload in ``io.BytesIO``) with the checks of :func:`read_path`; messages start
    with ``name``. A file object is spilled to a temporary file first: the checks
    look at the file's end and tifffile reads by path."""
    if not isinstance(source, (str, bytes, os.PathLike)):
        import shutil
        import tempfile

        with tempfile.TemporaryDirectory(prefix="kmseg-") as folder:
            path = os.path.join(folder, "upload")
            with open(path, "wb") as fh:
                shutil.copyfileobj(source, fh)
            return decode(path, name, frames)
    from PIL import Image, UnidentifiedImageError

    from .._config import get_config

    path = source
    frames = check_choice("frames", frames, FRAMES)
    if os.path.getsize(path) == 0:
        raise ImageReadError(f"{name}: not an image (the file is empty)")
    config = get_config()
    strict = config["strict"]
    try:
        with thread_warnings() as caught:  # what the decoders warn about
            try:
                arrays, notes = _read_pillow(path, name, frames, strict, config["lenient"])
            except UnidentifiedImageError:
                if _signature(path) != "TIFF":
                    raise
                arrays, notes = _read_tiff(path, name, frames, strict)  # planar, float RGB...
        for message in caught:  # what the decoders only warned about
            text = " ".join(str(message).split())
            if text not in notes:
                notes.append(text)
    except UnidentifiedImageError:
        kind = _signature(path)
        mismatch = _crc_mismatch(path) if kind == "PNG" else None
        if mismatch:  # Pillow checks the CRCs of the chunks before the image data itself
            refused = "; the decoder refuses it, even leniently" if config["lenient"] else ""
            raise ImageReadError(f"{name}: corrupt (CRC mismatch in {mismatch}{refused})") from None
        if kind:
            raise ImageReadError(f"{name}: truncated or corrupt (it starts as a {kind} file, but "
                                 "no decoder can read it)") from None
        raise ImageReadError(f"{name}: not an image (no decoder recognises it)") from None
    except Image.DecompressionBombError as exc:  # a frame larger than its header said
        raise ImageReadError(f"{name}: too large ({exc})") from None
    except ImageReadError:
        raise
    except Exception as exc:  # decoders fed hostile bytes raise all sorts: never a traceback
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, MemoryError):
            reason = "out of memory while decoding"
        if "truncat" in reason.lower():
            raise ImageReadError(f"{name}: truncated ({reason})") from None
        raise ImageReadError(f"{name}: corrupt or unreadable ({reason})") from None
    if notes:
        if strict:
            raise _strict_error(name, notes)
        for note in notes:
            warnings.warn(f"{name}: {note}", KmsegWarning, stacklevel=4)
    return arrays if frames == "all" else arrays[0]


def _crc_mismatch(path):
    """The type of a PNG file's first chunk whose CRC does not match (Pillow checks
    those before the image data only), or None: see :func:`._png.crc_mismatch`."""
    from ._png import crc_mismatch

    with open(path, "rb") as fh:
        return crc_mismatch(fh)


def _read_pillow(path, name, frames, strict, lenient=False):
    """``(arrays, notes)`` of a file Pillow opens: the size checked from the header
    and a PNG's chunk CRCs (a mismatch read only when ``lenient``), then the frames
    decoded; in strict mode, what would be a note is an error."""
    im, pillow_limit = _open(path)
    notes = []
    with im:
        w, h = im.size
        fmt = im.format
        n_frames = getattr(im, "n_frames", 1)
        _check_size(name, w, h, n_frames if frames == "all" else 1, notes if strict else None, pillow_limit)
        mismatch = _crc_mismatch(path) if fmt == "PNG" else None  # what Pillow does not check
        if mismatch:
            if not lenient:
                raise ImageReadError(f"{name}: corrupt (CRC mismatch in {mismatch})")
            if strict:
                raise _strict_error(name, [f"corrupt (CRC mismatch in {mismatch})"])
            notes.append(f"corrupt (CRC mismatch in {mismatch}), read anyway (lenient)")
        problem = _end_problem(path, fmt)
        if problem:
            notes.append(problem)
        _note_frames(name, n_frames, frames, notes, strict)
        arrays = []
        for i in range(n_frames if frames == "all" else 1):
            im.seek(i)
            if im.size != (w, h):
                _check_size(name, *im.size, n_frames)
            arrays.append(_decode_frame(im, path, fmt, notes, name))
    return arrays, notes


#: The first bytes of common image formats, to tell a broken image from a non-image.
_SIGNATURES = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"II*\x00": "TIFF",
               b"MM\x00*": "TIFF", b"BM": "BMP", b"RIFF": "RIFF (WebP)"}


def _signature(path):
    with open(path, "rb") as fh:
        head = fh.read(8)
    return next((kind for magic, kind in _SIGNATURES.items() if head.startswith(magic)), None)


def _note_frames(name, n_frames, frames, notes, strict):
    """Note extra frames left unread; in strict mode, any note is an error."""
    if n_frames > 1 and frames == "first":
        notes.append(f"has {n_frames} frames; only the first is read (frames='all' reads every one)")
    if strict and notes:
        raise _strict_error(name, notes)


def _strict_error(name, notes):
    more = f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""
    return ImageReadError(f"{name}: refused in strict mode: {notes[0]}{more}")


def check_array(arr, name="the image", nan="raise"):
    """Validate an image array: (H, W) grey, (H, W, 2) grey+alpha or (H, W, 3|4)
    RGB(A), uint8 / uint16 / float in [0, 1]; with ``nan='mask'`` float arrays may
    hold NaN or infinite values (left out of the clustering by the caller)."""
    nan = check_choice("nan", nan, NAN_POLICIES)
    arr = np.asarray(arr)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise KmsegError(
            f"{name} has shape {arr.shape}; expected (H, W) grey, (H, W, 2) grey+alpha "
            "or (H, W, 3|4) RGB(A)"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise KmsegError(f"{name} is empty (shape {arr.shape})")
    if arr.dtype not in ARRAY_DTYPES:
        if np.issubdtype(arr.dtype, np.integer) and arr.size and arr.min() >= 0 and arr.max() <= 255:
            arr = arr.astype(np.uint8)
        elif np.issubdtype(arr.dtype, np.integer) and arr.min() >= 0 and arr.max() <= 65535:
            arr = arr.astype(np.uint16)
        elif arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        else:
            raise KmsegError(
                f"{name} has dtype {arr.dtype}; expected uint8, uint16, or float in [0, 1]"
            )
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all():
            if nan == "raise":
                bad = int((~finite).sum())
                raise KmsegError(f"{name} holds NaN or infinite values ({bad:,} of {arr.size:,}); "
                                 "pass nan='mask' to leave those pixels out")
            values = arr[finite]
        else:
            values = arr
        if values.size:
            lo, hi = float(values.min()), float(values.max())
            if lo < 0 or hi > 1:
                raise KmsegError(f"{name} is float with values in [{lo:g}, {hi:g}]; expected [0, 1]")
    return np.ascontiguousarray(arr)


def excluded_pixels(image, mask=None, name="the image"):
    """Pixels left out of the clustering, ``(H, W)`` bool, or None when none are.

    A pixel is left out when it is fully transparent (alpha 0 in a grey+alpha or
    RGBA image), when any of its values is NaN or infinite (arrays validated with
    ``nan='mask'``), or when ``mask`` (True = cluster this pixel) is False there.
    """
    h, w = image.shape[:2]
    has_alpha = image.ndim == 3 and image.shape[2] in (2, 4)
    if not has_alpha and image.dtype.kind != "f" and mask is None:
        return None  # nothing can be left out: no pass over the pixels
    out = np.zeros((h, w), dtype=bool)
    if has_alpha:
        out |= image[:, :, -1] == 0
    if image.dtype.kind == "f":
        bad = ~np.isfinite(image)
        out |= bad.any(axis=2) if bad.ndim == 3 else bad
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise KmsegError(f"mask has dtype {mask.dtype}; expected a boolean array "
                             "(True where pixels are clustered)")
        if mask.shape != (h, w):
            raise KmsegError(f"mask has shape {mask.shape}; expected {(h, w)}, the shape of {name}")
        out |= ~mask
    if out.all():
        raise KmsegError(f"{name} has no pixels left to cluster (all transparent, masked or NaN)")
    return out if out.any() else None


def read_bytes(data, name="upload"):
    """Decode the bytes of an image file (an upload, say) with the checks of
    :func:`read_image`; messages name the file ``name``."""
    import io

    label = repr(name)
    return check_array(decode(io.BytesIO(data), label), label)


def read_image(image, *, frames="first", nan="raise"):
    """Read an image into a validated NumPy array.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        A file path, a PIL image, or an ``(H, W)`` grey, ``(H, W, 2)`` grey+alpha
        or ``(H, W, 3|4)`` RGB(A) array of uint8, uint16, or float in [0, 1].
    frames : {'first', 'all'}, default='first'
        For multi-frame files (GIF, APNG, multi-page TIFF): 'first' reads the
        first frame, with a :class:`KmsegWarning` (an error in strict mode);
        'all' returns a list with every frame.
    nan : {'raise', 'mask'}, default='raise'
        NaN or infinite values in a float image: an error, or kept (callers such
        as :func:`segment` then leave those pixels out).

    Returns
    -------
    array : (H, W), (H, W, 2) or (H, W, 3|4) ndarray, or a list of them
        Pixels as uint8, uint16 or float, at the file's precision: 16-bit grey,
        RGB(A) and grey+alpha PNG and TIFF files give uint16; 32-bit integer and
        float files beyond [0, 1] are rescaled to float in [0, 1] by their
        minimum and maximum. EXIF orientation is applied to files and PIL
        images; 1-bit images become uint8 grey, palette images RGB (RGBA with
        transparency; a PNG colour key becomes alpha too), CMYK and YCbCr RGB by Pillow's conversion (ICC profiles are
        not applied).

    Raises
    ------
    ImageReadError
        A file that does not exist or cannot be decoded, or is too large
        (``max_pixels``), or is corrupt (a PNG chunk's CRC does not match,
        unless ``lenient``: see :func:`kmseg.set_config`), or in strict mode
        decodes only with a warning; the message names the file and the reason.
    KmsegError
        An array of unsupported shape, dtype or values.

    Warns
    -----
    KmsegWarning
        A file that Pillow decodes with a warning, or whose extra frames are not
        read, or that is read although corrupt (``lenient``); the message names
        the file.

    Examples
    --------
    >>> import numpy as np
    >>> from kmseg import read_image
    >>> read_image(np.zeros((2, 3, 3), dtype=np.uint8)).shape
    (2, 3, 3)
    >>> img = np.array([[0.5, np.nan]])
    >>> read_image(img, nan="mask").tolist()
    [[0.5, nan]]
    """
    name = describe(image)
    if isinstance(image, (str, os.PathLike)):
        arr = read_path(image, frames)
    elif type(image).__module__.startswith("PIL."):
        notes = []
        arr = _from_pil(image, notes)
        for note in notes:
            warnings.warn(f"{name}: {note}", KmsegWarning, stacklevel=2)
        if check_choice("frames", frames, FRAMES) == "all":
            arr = [arr]
    else:
        arr = [image] if check_choice("frames", frames, FRAMES) == "all" else image
    if isinstance(arr, list):
        return [check_array(a, name, nan) for a in arr]
    return check_array(arr, name, nan)
