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

import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))
from bombs import bomb_png, bomb_tiff, zero_png  # noqa: E402  (the tests' bomb files)

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


def main(repeats=5):
    folder = tempfile.mkdtemp()
    small = os.path.join(folder, "small.png")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(small)
    cases = {"header-bomb.png": bomb_png(), "zeros-20000.png": zero_png(20_000, 20_000),
             "header-bomb.tif": bomb_tiff()}
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
