"""PNG in and out where Pillow falls short: 16-bit colour, and fast label maps.

Pillow decodes 16-bit RGB, RGBA and grey+alpha PNG files to 8 bits per channel
and cannot write them; scikit-image and imageio read them through Pillow. These
few functions keep the 16 bits: such files (interlaced or not) are read here, and
16-bit colour arrays are written here. Grey 16-bit PNG is read through Pillow,
which keeps it. Label maps are written here too: unfiltered rows deflated with
zlib's run-length strategy are smaller than Pillow's level-1 PNG and take about
a third of its time.
"""

import struct
import zlib

import numpy as np

from ._png_kernels import unfilter_rows

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Channels of each PNG colour type.
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
#: Adam7 interlacing: (first row, first column, row step, column step) of each pass.
_ADAM7 = ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2),
          (1, 0, 2, 1))


class PNGError(ValueError):
    """A PNG file this reader cannot decode; the message says why."""


def header(data):
    """``(width, height, bit_depth, colour_type, interlace)`` of PNG bytes."""
    if data[:8] != _SIGNATURE or data[12:16] != b"IHDR":
        raise PNGError("not a PNG file")
    if len(data) < 29:
        raise PNGError("truncated (the file ends inside the IHDR chunk)")
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if w == 0 or h == 0:  # zlib's max_length=0 would inflate the whole stream: no bound
        raise PNGError(f"corrupt (the IHDR chunk gives a {w}x{h} image)")
    return w, h, depth, ctype, interlace


#: Bytes of a chunk's data read at a time by :func:`crc_mismatch`.
_CRC_BLOCK = 1 << 20


def crc_mismatch(fh):
    """The type of the first chunk whose CRC does not match, or None.

    ``fh`` is a binary file open at the start of a PNG file. Each chunk's CRC
    (of its type and data) is computed a block at a time, up to IEND; a chunk
    cut short by the end of the file stops the pass (the decoder reports the
    truncation), and so does anything that is not PNG. Pillow checks the CRCs
    of the chunks before the image data only; zlib checks the stream's own
    Adler-32 checksum as it decodes.

    Examples
    --------
    >>> import io, numpy as np
    >>> data = bytearray(png_bytes(np.zeros((2, 3), np.uint8)))
    >>> print(crc_mismatch(io.BytesIO(data)))
    None
    >>> data[-20] ^= 1  # a byte of the IDAT chunk
    >>> crc_mismatch(io.BytesIO(data))
    'IDAT'
    """
    if fh.read(8) != _SIGNATURE:
        return None
    while True:
        head = fh.read(8)
        if len(head) < 8:
            return None
        length, kind = struct.unpack(">I4s", head)
        crc = zlib.crc32(kind)
        left = length
        while left:
            block = fh.read(min(left, _CRC_BLOCK))
            if not block:
                return None
            crc = zlib.crc32(block, crc)
            left -= len(block)
        stored = fh.read(4)
        if len(stored) < 4:
            return None
        if crc != struct.unpack(">I", stored)[0]:
            return kind.decode("ascii") if kind.isalpha() else repr(kind)
        if kind == b"IEND":
            return None


def _passes(w, h, interlace):
    """``(row0, col0, row_step, col_step, pass_h, pass_w)`` of each non-empty pass."""
    if not interlace:
        return [(0, 0, 1, 1, h, w)]
    out = []
    for r0, c0, dr, dc in _ADAM7:
        ph, pw = (h - r0 + dr - 1) // dr, (w - c0 + dc - 1) // dc
        if ph > 0 and pw > 0:
            out.append((r0, c0, dr, dc, ph, pw))
    return out


def read_png16(data, check_crc=True):
    """Pixels of a 16-bit PNG, ``(H, W[, C])`` uint16.

    ``data`` is the whole file. The caller has checked the header's size; the
    decompressed stream is never allowed past the size the header promises.
    Chunk CRCs are checked unless ``check_crc`` is False (a caller that has
    checked them, or reads a file with bad ones on purpose).
    """
    w, h, depth, ctype, interlace = header(data)
    if depth != 16 or ctype not in _CHANNELS or interlace not in (0, 1):
        raise PNGError(f"only 16-bit PNG is read here (depth {depth}, colour type {ctype}, "
                       f"interlace {interlace})")
    channels = _CHANNELS[ctype]
    bpp = 2 * channels
    passes = _passes(w, h, interlace)
    expected = sum(ph * (pw * bpp + 1) for _, _, _, _, ph, pw in passes)
    pos, chunks = 8, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) < length or len(data) < pos + 12 + length:
            raise PNGError("truncated (a chunk runs past the end of the file)")
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if check_crc and zlib.crc32(body, zlib.crc32(kind)) != crc:
            raise PNGError(f"corrupt (CRC mismatch in {kind.decode('latin-1')})")
        if kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
        elif kind == b"IHDR" and pos != 8:  # Pillow takes the last one: its size is not the one checked
            raise PNGError("corrupt (a second IHDR chunk)")
        pos += 12 + length
    else:
        raise PNGError("truncated (no IEND chunk)")
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(b"".join(chunks), expected)
    except zlib.error as exc:
        raise PNGError(f"corrupt (compressed data: {exc})") from None
    if len(raw) < expected:
        raise PNGError(f"truncated ({len(raw):,} of {expected:,} bytes of pixel data)")
    raw = np.frombuffer(raw, dtype=np.uint8)
    pixels = np.empty((h, w, channels), dtype=np.uint16)
    start = 0
    for r0, c0, dr, dc, ph, pw in passes:
        stride = pw * bpp
        out = np.empty((ph, stride), dtype=np.uint8)
        bad_row = unfilter_rows(raw[start:start + ph * (stride + 1)], ph, stride, bpp, out)
        if bad_row >= 0:
            raise PNGError(f"corrupt (unknown filter type in row {bad_row})")
        pixels[r0::dr, c0::dc] = out.view(">u2").reshape(ph, pw, channels)
        start += ph * (stride + 1)
    return pixels[:, :, 0] if channels == 1 else pixels


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


#: Compressed bytes per IDAT chunk written (the stream continues across chunks).
IDAT_BYTES = 1 << 24


def png_bytes(array, transparency=None, level=6, strategy=zlib.Z_DEFAULT_STRATEGY):
    """PNG file bytes of a ``(H, W[, 2|3|4])`` uint8 or uint16 array (grey,
    grey+alpha, RGB, RGBA), rows unfiltered.

    ``transparency`` is a grey value shown transparent (a tRNS chunk; grey
    images only); ``level`` and ``strategy`` are zlib's (``zlib.Z_RLE`` suits
    label maps: long runs of one value).

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> labels = np.array([[0, 0, 1], [2, 2, 2]], dtype=np.uint8)
    >>> im = Image.open(io.BytesIO(png_bytes(labels, transparency=2)))
    >>> np.asarray(im).tolist(), im.info["transparency"]
    ([[0, 0, 1], [2, 2, 2]], 2)
    """
    array = np.ascontiguousarray(array)
    if array.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"PNG holds uint8 or uint16 samples, not {array.dtype}")
    h, w = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    depth = 8 * array.dtype.itemsize
    rows = array.astype(">u2" if depth == 16 else np.uint8, copy=False).reshape(h, w * channels).view(np.uint8)
    raw = np.zeros((h, rows.shape[1] + 1), dtype=np.uint8)  # filter byte 0: none
    raw[:, 1:] = rows
    deflate = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))]
    if transparency is not None:
        if channels != 1:
            raise ValueError("a transparent value is for grey PNGs only")
        chunks.append(_chunk(b"tRNS", struct.pack(">H", int(transparency))))
    data = deflate.compress(raw) + deflate.flush()
    for at in range(0, max(len(data), 1), IDAT_BYTES):  # a chunk holds less than 2**31 bytes
        chunks.append(_chunk(b"IDAT", data[at:at + IDAT_BYTES]))
    return _SIGNATURE + b"".join(chunks) + _chunk(b"IEND", b"")


def palette_png_bytes(indices, palette, alpha=None, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
    """PNG file bytes of an indexed image: ``(H, W)`` indices into a ``(n, 3)`` uint8
    palette (n <= 256), with ``alpha`` the ``(m,)`` uint8 alphas of its first ``m``
    entries (a tRNS chunk) when given.

    Pixels are packed 1, 2 or 4 to a byte for palettes of up to 2, 4 or 16 entries;
    rows are unfiltered (indices are not magnitudes, so PNG's filters, which predict
    a byte from its neighbours, only scatter them: on the Kodak photos at 16 to 256
    colours unfiltered rows deflate smallest, and smaller than the adaptive filters
    Pillow chooses for packed pixels), then deflated at zlib's ``level`` with its
    ``strategy``.

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> idx = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    >>> pal = np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255]], np.uint8)
    >>> data = palette_png_bytes(idx, pal, alpha=np.array([0], np.uint8))
    >>> im = Image.open(io.BytesIO(data))
    >>> im.mode, data[24], np.asarray(im).tolist(), np.asarray(im.convert("RGBA"))[0, 0].tolist()
    ('P', 2, [[0, 1, 2], [2, 1, 0]], [0, 0, 0, 0])
    """
    indices = np.ascontiguousarray(indices, dtype=np.uint8)
    palette = np.ascontiguousarray(palette, dtype=np.uint8).reshape(-1, 3)
    h, w = indices.shape
    n = len(palette)
    depth = 1 if n <= 2 else 2 if n <= 4 else 4 if n <= 16 else 8
    per = 8 // depth
    if per > 1:  # pack `per` pixels a byte, the first in the high bits
        width = -(-w // per)
        padded = np.zeros((h, width * per), np.uint8)
        padded[:, :w] = indices
        groups = padded.reshape(h, width, per).astype(np.uint16)
        shifts = (depth * np.arange(per - 1, -1, -1)).astype(np.uint16)
        rows = (groups << shifts).sum(axis=2).astype(np.uint8)
    else:
        rows = indices
    raw = np.zeros((h, rows.shape[1] + 1), dtype=np.uint8)  # filter byte 0: none
    raw[:, 1:] = rows
    deflate = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
    data = deflate.compress(raw) + deflate.flush()
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, 3, 0, 0, 0)),
              _chunk(b"PLTE", palette.tobytes())]
    if alpha is not None and len(alpha):
        chunks.append(_chunk(b"tRNS", np.asarray(alpha, dtype=np.uint8).tobytes()))
    for at in range(0, max(len(data), 1), IDAT_BYTES):
        chunks.append(_chunk(b"IDAT", data[at:at + IDAT_BYTES]))
    return _SIGNATURE + b"".join(chunks) + _chunk(b"IEND", b"")
