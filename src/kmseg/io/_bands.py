"""Big images in bands of rows: TIFF strips and tiles read a band at a time, label
maps and recoloured images written a strip at a time.

A band is a run of whole image rows, ``(rows, W)`` or ``(rows, W, C)``. TIFF files
are decoded with tifffile one segment (strip or tile) at a time, so memory holds a
band, never the image. Other formats cannot be decoded in parts here: they are read
whole (bounded by ``max_pixels``) and handed out as bands of that array.
"""

import numbers
import os
import zlib

import numpy as np

from .._validation import ImageReadError, KmsegError
from ._read import describe

#: The first bytes of a classic (``*``) or BigTIFF (``+``) file, either byte order.
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

#: Pixels per band when none is asked for: about 12 MB of 8-bit RGB.
BAND_PIXELS = 1 << 22

#: Rows per strip of the TIFF files written.
ROWS_PER_STRIP = 64

#: TIFF photometric interpretations read in bands: grey (0 is black) and RGB.
_MINISBLACK, _RGB = 1, 2


def require_tifffile():
    """The tifffile module, or a one-line error saying how to get it."""
    try:
        import tifffile
    except ImportError:
        raise KmsegError("reading and writing big TIFF files in strips needs tifffile: "
                         'pip install tifffile (or pip install ".[big]" in a clone of kmseg)') from None
    return tifffile


def is_tiff(path):
    """Whether ``path`` is a file that starts like a TIFF."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in _TIFF_MAGIC
    except OSError:
        return False


def _check_page(page, name):
    """Refuse TIFF layouts whose pixels a plain read would give differently."""
    spp = int(page.samplesperpixel)
    reason = None
    if page.imagedepth != 1:
        reason = f"a volume of depth {page.imagedepth}"
    elif page.bitspersample != 8 or page.sampleformat != 1:
        reason = f"{page.bitspersample}-bit samples of format {int(page.sampleformat)}"
    elif page.photometric not in (_MINISBLACK, _RGB):
        reason = f"photometric {getattr(page.photometric, 'name', page.photometric)}"
    elif page.photometric == _RGB and spp not in (3, 4):
        reason = f"RGB with {spp} samples"
    elif page.photometric == _MINISBLACK and spp not in (1, 2):
        reason = f"grey with {spp} samples"
    elif any(int(e) == 1 for e in page.extrasamples):
        reason = "premultiplied alpha"
    elif int(page.tags.valueof(274, 1)) != 1:
        reason = f"orientation {page.tags.valueof(274)}"
    if reason is not None:
        raise ImageReadError(f"{name}: strip reading handles 8-bit grey or RGB(A) TIFF, "
                             f"not {reason}; convert it, or read it whole")
    channels = 3 if page.photometric == _RGB else 1
    # an unassociated alpha is kept, extra samples of unspecified meaning dropped (as a whole read does)
    alpha = spp > channels and int(page.extrasamples[0]) == 2
    return channels, alpha


class TiffBands:
    """A TIFF's first image, decoded a band of rows at a time.

    Parameters
    ----------
    path : str or os.PathLike
    rows : int or None
        Rows per band, rounded up to whole strips or tiles; None gives about
        ``BAND_PIXELS`` pixels a band.

    Attributes
    ----------
    shape : (int, int)
        Height and width.
    channels : int
        Colour channels: 1 for grey, 3 for RGB.
    alpha : bool
        Whether bands carry an alpha channel last (an unassociated alpha; other
        extra samples are dropped).
    """

    def __init__(self, path, rows=None):
        tifffile = require_tifffile()
        self.name = describe(path)
        self._tif = None
        try:
            self._tif = tifffile.TiffFile(path)
            self._layout(self._tif.pages[0], rows)
        except ImageReadError:
            self._close_file()
            raise
        except Exception as exc:  # tifffile fed hostile bytes raises all sorts: never a traceback
            self._close_file()
            raise ImageReadError(f"{self.name}: corrupt or unreadable TIFF ({exc or type(exc).__name__})") \
                from None
        except BaseException:
            self._close_file()
            raise

    def _close_file(self):
        if self._tif is not None:
            self._tif.close()

    def _layout(self, page, rows):
        """The page's checks, shape and segment grid, and the rows of a band."""
        self.channels, self.alpha = _check_page(page, self.name)
        self._page = page
        h, w = self.shape = (int(page.imagelength), int(page.imagewidth))
        # the TIFF segment order: plane, then rows of segments, then segments in a row
        if page.is_tiled:
            self._seg_rows, self._per_row = int(page.tilelength), -(-w // int(page.tilewidth))
        else:
            self._seg_rows, self._per_row = max(1, min(int(page.rowsperstrip) or h, h)), 1
        self._n_seg_rows = -(-h // self._seg_rows)
        self._planes = self.channels + self.alpha if page.planarconfig == 2 else 1
        seg_width = self._per_row * int(page.tilewidth) if page.is_tiled else w
        self._check_band(self._seg_rows * seg_width)
        self._check_segments(page)
        # tifffile's segment decoder, built here where its errors (from the tags it reads) are a refusal
        self._decode = page.decode
        self._decode_kwargs = {}
        if page.compression in (6, 7, 34892, 33007):
            self._decode_kwargs = dict(jpegtables=page.jpegtables, jpegheader=page.jpegheader)
        from .._config import get_config

        # a default band also stays within max_pixels (whole rows of segments, at least one)
        budget = min(BAND_PIXELS, get_config()["max_pixels"])
        want = max(1, budget // max(seg_width, 1)) if rows is None else int(rows)
        whole = (want // self._seg_rows) * self._seg_rows if rows is None else -(-want // self._seg_rows) * self._seg_rows
        self.band_rows = max(self._seg_rows, whole)

    def _check_band(self, pixels):
        """The image is never held whole, but its smallest band is: refuse one over ``max_pixels``."""
        from .._config import get_config

        limit = get_config()["max_pixels"]
        if pixels > limit:
            raise ImageReadError(
                f"{self.name}: its strips or tiles make bands of {self._seg_rows} rows = {pixels:,} "
                f"pixels, more than max_pixels={limit:,} (raise it with kmseg.set_config(max_pixels=...) "
                "or --max-pixels, or rewrite the file with smaller strips)")

    def _check_segments(self, page):
        """Refuse a file with fewer strips or tiles than its image needs, or one that runs
        past the end of the file (reading it would ask for its byte count, however large)."""
        h, w = self.shape
        if h == 0 or w == 0:
            raise ImageReadError(f"{self.name}: corrupt TIFF (an image of {w}x{h} pixels)")
        needed = self._planes * self._n_seg_rows * self._per_row
        offsets, counts = page.dataoffsets, page.databytecounts
        if min(len(offsets), len(counts)) < needed:
            raise ImageReadError(f"{self.name}: corrupt TIFF ({len(offsets)} strip or tile offsets and "
                                 f"{len(counts)} byte counts, for an image of {needed} strips or tiles)")
        size = self._tif.filehandle.size
        for index in range(needed):
            if not isinstance(offsets[index], numbers.Integral) or not isinstance(counts[index], numbers.Integral):
                raise ImageReadError(f"{self.name}: corrupt TIFF (strip or tile {index} has offset "
                                     f"{offsets[index]!r} and byte count {counts[index]!r}, not integers)")
            if counts[index] and not 0 <= offsets[index] <= size - counts[index]:
                raise ImageReadError(f"{self.name}: truncated or corrupt TIFF (strip or tile {index} of "
                                     f"{counts[index]:,} bytes at {offsets[index]:,} runs past the end of "
                                     f"the file, {size:,} bytes)")

    def close(self):
        self._tif.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _segments_of(self, seg_row):
        """Indices of the segments covering row ``seg_row`` of the segment grid."""
        per_plane = self._n_seg_rows * self._per_row
        return [p * per_plane + seg_row * self._per_row + c
                for p in range(self._planes) for c in range(self._per_row)]

    def bands(self):
        """Yield ``(row0, band)``: bands of whole rows, top to bottom.

        ``band`` is a C-contiguous uint8 array of shape ``(rows, W)``, or
        ``(rows, W, C)`` with C = 2 (grey+alpha), 3 or 4 (RGBA); it is reused,
        so copy it to keep it.
        """
        page = self._page
        fh = self._tif.filehandle
        decode, kwargs = self._decode, self._decode_kwargs
        h, w = self.shape
        c = self.channels + self.alpha
        offsets, counts = page.dataoffsets, page.databytecounts
        per_band = self.band_rows // self._seg_rows
        buf = np.empty((self.band_rows, w, c), dtype=np.uint8)
        for row0 in range(0, h, self.band_rows):
            n = min(self.band_rows, h - row0)
            first = row0 // self._seg_rows
            for seg_row in range(first, min(first + per_band, self._n_seg_rows)):
                for index in self._segments_of(seg_row):
                    if counts[index] == 0:
                        data = None
                    else:
                        fh.seek(offsets[index])
                        data = fh.read(counts[index])
                    self._place(buf, row0, data, index, decode, kwargs)
            band = buf[:n] if c > 1 else buf[:n, :, 0]
            yield row0, band

    def _place(self, buf, row0, data, index, decode, kwargs):
        """Decode one segment into its place in the band buffer."""
        try:
            segment, (s, _, y, x, _), shape = decode(data, index, **kwargs)
        except Exception as exc:  # codecs raise their own types
            raise ImageReadError(f"{self.name}: cannot decode segment {index} ({exc})") from None
        y -= row0
        rows = min(shape[1], self.shape[0] - row0 - y, buf.shape[0] - y)
        cols = min(shape[2], self.shape[1] - x)
        if segment is None:
            if self._page.planarconfig == 1:
                buf[y:y + rows, x:x + cols] = 0
            else:
                buf[y:y + rows, x:x + cols, s] = 0
            return
        if self._page.planarconfig == 1:
            buf[y:y + rows, x:x + cols] = segment[0, :rows, :cols, : buf.shape[2]]
        else:
            buf[y:y + rows, x:x + cols, s] = segment[0, :rows, :cols, 0]


class ArrayBands:
    """An image read whole (any format), handed out as bands of rows."""

    def __init__(self, image, rows=None):
        from ._read import read_image

        self.name = describe(image)
        arr = read_image(image)
        if arr.dtype != np.uint8:
            raise KmsegError(f"{self.name}: strip processing handles 8-bit images, not {arr.dtype}")
        self._image = arr
        self.shape = arr.shape[:2]
        self.channels = 1 if arr.ndim == 2 or arr.shape[2] == 2 else 3
        self.alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
        w = self.shape[1]
        self.band_rows = max(1, BAND_PIXELS // w) if rows is None else int(rows)

    def close(self):
        self._image = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def bands(self):
        for row0 in range(0, self.shape[0], self.band_rows):
            yield row0, self._image[row0:row0 + self.band_rows]


def open_bands(image, rows=None):
    """Bands of an image: a TIFF file decoded in parts, anything else read whole."""
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if not os.path.exists(path):
            raise ImageReadError(f"{describe(path)}: no such file")
        if is_tiff(path):
            return TiffBands(path, rows)
    return ArrayBands(image, rows)


def _strips(bands, rows_per_strip):
    """Re-cut a stream of bands of any heights into strips of ``rows_per_strip`` rows."""
    pending = []
    have = 0
    for band in bands:
        pending.append(band)
        have += len(band)
        while have >= rows_per_strip:
            block = np.concatenate(pending) if len(pending) > 1 else pending[0]
            yield block[:rows_per_strip]
            rest = block[rows_per_strip:]
            pending = [rest] if len(rest) else []
            have = len(rest)
    if have:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0]


def write_tiff(path, bands, shape, dtype, *, compress=True, rows_per_strip=ROWS_PER_STRIP):
    """Write a grey or RGB TIFF (alpha last, if any) from row bands, a strip at a time, atomically.

    Parameters
    ----------
    path : str or os.PathLike
    bands : iterator of (rows, W) or (rows, W, C) ndarrays
        The image top to bottom, in bands of any heights.
    shape : tuple
        ``(H, W)`` or ``(H, W, C)``: C = 2 grey+alpha, 3 RGB, 4 RGBA.
    dtype : numpy dtype
    compress : bool, default=True
        Deflate each strip (zlib level 1).
    """
    from ._write import atomic_path

    tifffile = require_tifffile()
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    depth = shape[2] if len(shape) == 3 else 1

    def encoded():
        for strip in _strips(bands, rows_per_strip):
            raw = np.ascontiguousarray(strip, dtype=dtype).tobytes()
            yield zlib.compress(raw, 1) if compress else raw

    with atomic_path(path) as tmp:
        tifffile.imwrite(
            tmp, encoded(), shape=tuple(shape), dtype=dtype,
            photometric="rgb" if depth >= 3 else "minisblack",
            extrasamples=["unassalpha"] if depth in (2, 4) else None,
            rowsperstrip=rows_per_strip, compression="zlib" if compress else None,
            bigtiff=nbytes > (1 << 31), metadata=None,
        )
