"""Files that claim (or decode to) far more pixels than they hold: decompression
bombs for the tests and for ``benchmarks/bench_bomb.py``. PNG chunks are written
with the project's own ``kmseg.io._png._chunk``."""

import io
import struct
import zlib

import numpy as np
from PIL import Image

from kmseg.io._png import _SIGNATURE, _chunk


def bomb_png(width=100_000, height=100_000):
    """A 100-byte PNG whose header claims ``width x height`` 8-bit RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


def zero_png(width, height):
    """A genuine grey PNG of zeros, compressed row by row: ``width x height`` pixels
    in a few kB, built in little memory."""
    comp = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte 0, then the zeros
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def bomb_tiff():
    """An 8x8 TIFF whose width and length tags are rewritten to 65,535."""
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(buf, format="TIFF")
    data = bytearray(buf.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd:ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        tag, kind = struct.unpack("<HH", data[entry:entry + 4])
        if tag in (256, 257):
            fmt = "<H" if kind == 3 else "<I"
            data[entry + 8:entry + 8 + struct.calcsize(fmt)] = struct.pack(fmt, 65_535)
    return bytes(data)
