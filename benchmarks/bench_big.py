"""Big-image benchmark: ``kmseg.segment_large`` on a 20000x20000 RGB TIFF, k=8.

Run from the repository root::

    python benchmarks/bench_big.py                      # about 10 minutes, 1.2 GB in /tmp
    python benchmarks/bench_big.py --size 8000 --peer-size 3000   # a quick look

The input is a mosaic of scikit-learn's china.jpg and flower.jpg, each upscaled
bicubically to 2000x1500 (as in ``_images.mosaic_12mp``), tiled in a checkerboard
and written strip by strip (64 rows a strip, uncompressed), so the generator
never holds the image either. Each run is a fresh process that reports its own
peak resident memory (``getrusage(RUSAGE_SELF).ru_maxrss``) and its time:

- ``segment_large`` (histogram in bands, one k-means fit, labels and recoloured
  image written strip by strip as deflated TIFF) on the big image;
- the peer at ``--peer-size``: ``segment_large`` against ``kmseg.segment`` on the
  whole image (labels and recoloured image in memory, then written), with their
  label maps checked equal byte for byte;
- a baseline process: ``segment_large`` on a 64x64 image (imports, compiled
  kernels, the 64 MB colour table), the floor of any ``segment_large`` run.

``--whole-peer`` also runs ``kmseg.segment`` on the big image (several GB).
Figures go to stdout and ``benchmarks/results/big.md``; the TIFFs are deleted.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _images  # noqa: E402

CHILD = r"""
import json, resource, sys, time
import numpy as np
import kmseg
mode, path, k, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
t = time.perf_counter()
if mode == "large":
    seg = kmseg.segment_large(path, k, out + "/labels.tif", recolor=out + "/recolor.tif")
elif mode == "whole":
    import tifffile
    with kmseg.config_context(max_pixels=1 << 40):
        seg = kmseg.segment(path, k)
    painted = seg.recolor()
    tifffile.imwrite(out + "/labels.tif", seg.labels, compression="zlib", compressionargs={"level": 1})
    tifffile.imwrite(out + "/recolor.tif", painted, compression="zlib", compressionargs={"level": 1})
else:  # baseline: imports, kernels and tables of segment_large on a tiny image
    img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    seg = kmseg.segment_large(img, k, out + "/labels.tif", recolor=out + "/recolor.tif")
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak, "inertia": float(seg.inertia)}))
"""


def write_mosaic(path, size):
    """A ``size`` x ``size`` RGB TIFF of china/flower tiles, written strip by strip."""
    from kmseg.io._bands import write_tiff

    china, flower = _images._tile("china.jpg"), _images._tile("flower.jpg")
    th, tw = china.shape[:2]
    reps = -(-size // tw) + 1

    def tile_row(first, second):  # one full-width row of tiles, cut to the image width
        return np.ascontiguousarray(np.concatenate([first, second] * (reps // 2 + 1), axis=1)[:, :size])

    rows = (tile_row(china, flower), tile_row(flower, china))

    def bands():
        for row0 in range(0, size, th):
            yield rows[(row0 // th) % 2][: min(th, size - row0)]

    write_tiff(path, bands(), (size, size, 3), np.uint8, compress=False)


def child(mode, path, k, folder):
    """Run one process; returns its report (seconds, peak bytes, inertia)."""
    out = tempfile.mkdtemp(dir=folder)
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(k), out],
                              capture_output=True, text=True, check=True)
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        report["out"] = out
        return report
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise SystemExit(f"{mode} run failed:\n{exc.stderr}") from None


def same_labels(a, b):
    """Label maps equal byte for byte (read whole: peer sizes only)."""
    import tifffile

    x, y = tifffile.imread(a), tifffile.imread(b)
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--peer-size", type=int, default=5000)
    parser.add_argument("-k", type=int, default=8)
    parser.add_argument("--folder", default=tempfile.gettempdir(), help="where the TIFFs go (default: /tmp)")
    parser.add_argument("--whole-peer", action="store_true", help="also kmseg.segment on the big image")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each method, alternated (default: 3)")
    args = parser.parse_args()

    import kmseg

    mb = 1 / 2**20
    folder = tempfile.mkdtemp(prefix="kmseg-big-", dir=args.folder)
    lines = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    try:
        base = child("baseline", "-", args.k, folder)
        say(f"# Big image: segment_large, k={args.k}")
        say()
        say(f"command: `python benchmarks/bench_big.py --size {args.size} --peer-size {args.peer_size}"
            f"{' --whole-peer' if args.whole_peer else ''} --repeat {args.repeat}`; {datetime.date.today()}, "
            f"{os.cpu_count()} CPUs (shared with other jobs), kmseg {kmseg.__version__}; median seconds and "
            f"largest peak of {args.repeat} alternated runs")
        say()
        say("baseline process (segment_large on a 64x64 image: imports, kernels, colour table): "
            f"peak RSS {base['peak'] * mb:.0f} MB")
        say()
        say("| image | method | seconds (median) | seconds (all) | peak RSS (MB) | image bytes (MB) |")
        say("|---|---|---|---|---|---|")
        for size, modes in ((args.peer_size, ("large", "whole")),
                            (args.size, ("large", "whole") if args.whole_peer else ("large",))):
            path = os.path.join(folder, f"mosaic_{size}.tif")
            t = time.perf_counter()
            write_mosaic(path, size)
            made = time.perf_counter() - t
            runs = {mode: [] for mode in modes}
            for _ in range(args.repeat):
                for mode in modes:
                    runs[mode].append(child(mode, path, args.k, folder))
                    if len(runs[mode]) > 1:  # keep the first run's outputs for the check
                        shutil.rmtree(runs[mode][-1]["out"], ignore_errors=True)
            reports = {mode: r[0] for mode, r in runs.items()}
            for mode, rs in runs.items():
                seconds = sorted(r["seconds"] for r in rs)
                peak = max(r["peak"] for r in rs)
                reports[mode]["peak"] = peak
                name = "segment_large" if mode == "large" else "segment (whole image)"
                say(f"| {size}x{size} | {name} | {np.median(seconds):.1f} | "
                    f"{', '.join(f'{t:.1f}' for t in seconds)} | {peak * mb:.0f} | {3 * size * size * mb:.0f} |")
            if "whole" in reports:
                equal = same_labels(os.path.join(reports["large"]["out"], "labels.tif"),
                                    os.path.join(reports["whole"]["out"], "labels.tif"))
                lines.append(f"<!-- {size}: labels equal {equal} -->")
                print(f"  {size}x{size}: labels byte-equal to segment's: {equal}; inertia "
                      f"{reports['large']['inertia']:.6g} vs {reports['whole']['inertia']:.6g}; "
                      f"peak RSS ratio whole/large {reports['whole']['peak'] / reports['large']['peak']:.2f}")
            print(f"  (writing the {size}x{size} input took {made:.1f} s)")
            for r in reports.values():
                shutil.rmtree(r["out"], ignore_errors=True)
            os.remove(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _images.results_dir()
    (_images.RESULTS_DIR / "big.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
