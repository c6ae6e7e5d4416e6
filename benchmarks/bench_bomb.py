"""Decompression bombs: how fast kmseg refuses them, and how much memory that takes.

Each case runs in a fresh process: imports and a first small read happen first, then
the bomb is read; the time of that read, the growth of the process's peak resident
memory (ru_maxrss) during it and the whole process's peak are printed, with Pillow's own refusal (Image.open then load, its
default limits) timed the same way as the peer.

    python benchmarks/bench_bomb.py            # repeats=5; prints a table

Cases: a 100-byte PNG whose header claims 100,000 x 100,000 pixels; a real PNG of
20,000 x 20,000 grey pixels (400 megapixels, all zero, about 400 KB compressed); a
TIFF whose header claims 65,535 x 65,535 pixels.
"""

import io
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
from PIL import Image

CHILD = r"""
import resource, sys, time, warnings
warnings.simplefilter("ignore")
which, path, small = sys.argv[1:4]
if which == "kmseg":
    import kmseg
    from kmseg.io._read import read_path as read
else:
    from PIL import Image
    def read(p):
        with Image.open(p) as im:
            im.load()
read(small)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    read(path)
    outcome = "decoded"
except Exception as exc:
    outcome = type(exc).__name__
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(time.perf_counter() - start, after - before, after, outcome)
"""


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def header_bomb_png():
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _chunk(b"IEND", b""))


def zero_png(side=20_000):
    """A valid grey PNG of side x side zeros, compressed row by row (little memory)."""
    comp = zlib.compressobj(9)
    row = b"\0" * (side + 1)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def header_bomb_tiff():
    """An 8x8 TIFF whose width and length tags are rewritten to 65,535."""
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(buf, format="TIFF")
    data = bytearray(buf.getvalue())
    assert data[:2] == b"II"
    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd:ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        tag, kind = struct.unpack("<HH", data[entry:entry + 4])
        if tag in (256, 257):
            fmt = "<H" if kind == 3 else "<I"
            data[entry + 8:entry + 8 + struct.calcsize(fmt)] = struct.pack(fmt, 65_535)
    return bytes(data)


def main(repeats=5):
    folder = tempfile.mkdtemp()
    small = os.path.join(folder, "small.png")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(small)
    cases = {"header-bomb.png": header_bomb_png(), "zeros-20000.png": zero_png(),
             "header-bomb.tif": header_bomb_tiff()}
    print("machine shared with other jobs; medians of", repeats, "fresh processes")
    print(f"{'file':18s} {'bytes':>9s} {'reader':7s} {'median s':>10s} {'peak +MB':>9s} "
          f"{'peak MB':>8s}  outcome")
    for name, data in cases.items():
        path = os.path.join(folder, name)
        with open(path, "wb") as fh:
            fh.write(data)
        for which in ("kmseg", "pillow"):
            runs = []
            for _ in range(repeats):
                out = subprocess.run([sys.executable, "-c", CHILD, which, path, small],
                                     capture_output=True, text=True, check=True).stdout.split()
                runs.append((float(out[0]), int(out[1]) / 1024, int(out[2]) / 1024, out[3]))
            secs = statistics.median(r[0] for r in runs)
            grew, peak = max(r[1] for r in runs), max(r[2] for r in runs)
            print(f"{name:18s} {len(data):9,d} {which:7s} {secs:10.5f} {grew:9.1f} {peak:8.0f}  "
                  f"{runs[0][3]}")


if __name__ == "__main__":
    main()
