"""Photos kmseg was never tuned on: kmseg against the sampling shortcut and the quantizers, k = 2..256.

Run from the repository root (``pip install -e ".[bench]"`` for libimagequant)::

    python benchmarks/bench_unseen.py                      # both inputs, k = 2 4 8 16 64 256
    python benchmarks/bench_unseen.py --inputs mosaic --k 4 8 16 --full
    python benchmarks/bench_unseen.py --inputs photos --photos 6 --k 8 256

Inputs (every figure is printed beside the input's distinct-colour count):

* ``mosaic``: a 12-megapixel mosaic of 16 *different* BSDS500 photos (``--set val`` by
  default, the photos the project reports on; ``--set train`` for the photos it tunes
  on), each turned landscape and enlarged bicubically to 1000x750, in a 4x4 grid
  (4000x3000). Sixteen photos give the distinct colours of real photos; the mosaic of
  two repeated photos in ``bench_core.py`` has far fewer.
* ``photos``: the Kodak photos (``../shared/data/kodak``, the standard colour
  quantization set) enlarged bicubically 2x, to 1536x1024 (1.6 MP), one by one.

Methods, each timed from the uint8 image to a label (or palette index) per pixel, as
its recipe starts:

* ``kmseg``: ``kmseg.segment(img, k)`` (every pixel counts; its defaults; the label map, as the
  shortcut's ``predict`` and the quantizers' palette indices: no recoloured image for any);
* ``shortcut``: scikit-learn's recipe with float32 pixels: ``KMeans(k, n_init=1)``
  fitted on max(1000, 4k) random pixels, then ``predict`` on all;
* ``sklearn-1``: ``KMeans(k, n_init=1)`` on all pixels, float32 (with ``--full``; slow);
* ``imagequant``: libimagequant (``imagequant`` on PyPI; GPL, a benchmark peer only),
  no dithering;
* ``pil-fastoctree``: Pillow's ``Image.quantize(k, method=FASTOCTREE)``;
* ``pngquant``: the ``pngquant`` program on a PNG file (``--nofs``), where installed.

Error: the exact inertia per pixel (mean squared RGB distance, 0..255 units, to the
nearest of the method's centres or palette colours), computed in float64 from the
image's colour histogram; kmseg's is the k-means objective itself. Times are medians
of ``--repeats`` runs (slow methods fewer); ratios are other / kmseg (above 1: kmseg
faster), per input, then their median over the photos.
"""

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import _images

METHODS = ["kmseg", "shortcut", "sklearn-1", "imagequant", "pil-fastoctree", "pngquant"]
KODAK_DIR = _images.SHARED_DIR / "data" / "kodak"
BSDS_DIR = _images.SHARED_DIR / "data" / "bsds500" / "images"


# --------------------------------------------------------------------------- inputs

def mosaic16(which="val"):
    """4000x3000 mosaic of the first 16 BSDS500 photos of ``which`` (sorted by name)."""
    from PIL import Image

    paths = sorted((BSDS_DIR / which).glob("*.jpg"))[:16]
    tiles = []
    for path in paths:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if im.height > im.width:
                im = im.transpose(Image.Transpose.ROTATE_90)
            tiles.append(np.asarray(im.resize((1000, 750), Image.Resampling.BICUBIC)))
    rows = [np.concatenate(tiles[r * 4:(r + 1) * 4], axis=1) for r in range(4)]
    return np.ascontiguousarray(np.concatenate(rows, axis=0)), [p.name for p in paths]


def kodak_photos(n):
    from PIL import Image

    for path in sorted(KODAK_DIR.glob("*.png"))[:n]:
        with Image.open(path) as im:
            im = im.convert("RGB")
            yield path.name, np.asarray(im.resize((im.width * 2, im.height * 2), Image.Resampling.BICUBIC))


def distinct_colours(img):
    codes = (img[..., 0].astype(np.uint32) << 16) | (img[..., 1].astype(np.uint32) << 8) | img[..., 2]
    return len(np.unique(codes))


# --------------------------------------------------------------------------- methods
# Each takes the (H, W, 3) uint8 image and k and returns its centres / palette as (m, 3)
# float RGB; labels for every pixel are made inside the timed call.

def run_kmseg(img, k):
    import kmseg

    return kmseg.segment(img, k).centers  # labels for every pixel, as predict gives them


def run_shortcut(img, k):
    from sklearn.cluster import KMeans

    pixels = img.reshape(-1, 3).astype(np.float32)
    rng = np.random.default_rng(0)
    sample = pixels[rng.choice(len(pixels), size=max(1000, 4 * k), replace=False)]
    model = KMeans(n_clusters=k, n_init=1, random_state=0).fit(sample)
    model.predict(pixels)
    return model.cluster_centers_


def run_sklearn1(img, k):
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, n_init=1, random_state=0).fit(img.reshape(-1, 3).astype(np.float32))
    return model.cluster_centers_


def _palette_of(pil_p, k):
    palette = np.asarray(pil_p.getpalette()[: 3 * k], dtype=np.float64).reshape(-1, 3)
    return palette[np.unique(np.asarray(pil_p))]  # the entries in use


def run_imagequant(img, k):
    import imagequant
    from PIL import Image

    return _palette_of(imagequant.quantize_pil_image(Image.fromarray(img), dithering_level=0.0, max_colors=k), k)


def run_fastoctree(img, k):
    from PIL import Image

    return _palette_of(Image.fromarray(img).quantize(k, method=Image.Quantize.FASTOCTREE), k)


def run_pngquant(img, k):
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.png"), os.path.join(tmp, "out.png")
        Image.fromarray(img).save(src, compress_level=1)
        subprocess.run(["pngquant", "--nofs", "--force", "--output", out, str(k), src], check=True)
        with Image.open(out) as im:
            return _palette_of(im, k)


RUNNERS = {"kmseg": run_kmseg, "shortcut": run_shortcut, "sklearn-1": run_sklearn1,
           "imagequant": run_imagequant, "pil-fastoctree": run_fastoctree, "pngquant": run_pngquant}


def available(method):
    if method == "imagequant":
        try:
            import imagequant  # noqa: F401
        except ImportError:
            return False
    if method == "pngquant":
        return shutil.which("pngquant") is not None
    return True


# --------------------------------------------------------------------------- scoring

def exact_mse(hist, centers):
    """Mean over all pixels of the squared RGB distance to the nearest centre, in float64."""
    from kmseg.cluster._lloyd import assign

    colors, weights = hist
    _, _, inertia = assign(colors, weights, np.ascontiguousarray(centers, dtype=np.float64))
    return inertia / weights.sum()


def histogram(img):
    from kmseg.histogram._histogram import ColorHistogram

    hist = ColorHistogram(img.reshape(-1, 3))
    return np.ascontiguousarray(hist.colors, dtype=np.float64), hist.counts.astype(np.float64)


def timed(fn, img, k, repeats):
    times, centers = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        centers = fn(img, k)
        times.append(time.perf_counter() - start)
    return statistics.median(times), centers


def measure(img, k, methods, repeats):
    hist = histogram(img)
    rows = {}
    for method in methods:  # untimed warm-ups: imports, thread start, page faults
        RUNNERS[method](img[:64, :64], 2)
    RUNNERS["kmseg"](img, min(k, 8))
    for method in methods:
        slow = method in ("sklearn-1", "pngquant")
        seconds, centers = timed(RUNNERS[method], img, k, 1 if method == "sklearn-1" else
                                 max(1, repeats // 2) if slow else repeats)
        rows[method] = (seconds, exact_mse(hist, centers), len(centers))
    return rows


# --------------------------------------------------------------------------- report

def table(title, n_colours, results, methods):
    lines = [f"#### {title} ({n_colours:,} distinct colours)", "",
             "| k | " + " | ".join(f"{m}: s" for m in methods) + " | "
             + " | ".join(f"{m} / kmseg time" for m in methods[1:]) + " | "
             + " | ".join(f"{m}: MSE" for m in methods) + " |",
             "|---:|" + "---:|" * (3 * len(methods) - 1)]
    for k, rows in results.items():
        base = rows["kmseg"][0]
        lines.append(f"| {k} | " + " | ".join(f"{rows[m][0]:.3f}" for m in methods) + " | "
                     + " | ".join(f"{rows[m][0] / base:.2f}" for m in methods[1:]) + " | "
                     + " | ".join(f"{rows[m][1]:.2f}" for m in methods) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", nargs="+", choices=["mosaic", "photos"], default=["mosaic", "photos"])
    parser.add_argument("--k", nargs="+", type=int, default=[2, 4, 8, 16, 64, 256])
    parser.add_argument("--set", choices=["val", "train"], default="val", help="BSDS500 photos of the mosaic")
    parser.add_argument("--photos", type=int, default=8, help="Kodak photos (default: 8 of the 24)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also KMeans(n_init=1) on all pixels (slow)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=None)
    args = parser.parse_args(argv)
    import kmseg
    import sklearn
    import PIL

    methods = args.methods or [m for m in METHODS if m != "sklearn-1" or args.full]
    methods = ["kmseg"] + [m for m in methods if m != "kmseg" and available(m)]
    versions = f"kmseg {kmseg.__version__}, scikit-learn {sklearn.__version__}, Pillow {PIL.__version__}"
    if "imagequant" in methods:
        from importlib.metadata import version

        versions += f", imagequant {version('imagequant')}"
    out = ["# Photos never tuned on: kmseg against the shortcut and the quantizers",
           "", f"- command: `python {' '.join(['benchmarks/bench_unseen.py'] + (argv or sys.argv[1:]))}`",
           f"- date: {datetime.date.today().isoformat()}; {os.cpu_count()} CPUs; python {platform.python_version()}; "
           f"{versions}; numpy {np.__version__}", ""]
    print("\n".join(out), flush=True)
    if "mosaic" in args.inputs:
        img, names = mosaic16(args.set)
        results = {k: measure(img, k, methods, args.repeats) for k in args.k}
        text = table(f"12 MP mosaic of 16 BSDS500 {args.set} photos ({', '.join(n[:-4] for n in names)})",
                     distinct_colours(img), results, methods)
        print(text + "\n", flush=True)
        out.append(text + "\n")
    if "photos" in args.inputs:
        per_k = {k: {m: [] for m in methods} for k in args.k}
        for name, img in kodak_photos(args.photos):
            results = {k: measure(img, k, methods, args.repeats) for k in args.k}
            text = table(f"Kodak {name} x2 ({img.shape[1]}x{img.shape[0]})", distinct_colours(img), results, methods)
            print(text + "\n", flush=True)
            out.append(text + "\n")
            for k, rows in results.items():
                for m in methods:
                    per_k[k][m].append((rows[m][0] / rows["kmseg"][0], rows[m][1] / rows["kmseg"][1]))
        lines = [f"#### Kodak photos x2: medians over {args.photos} photos", "",
                 "| k | " + " | ".join(f"{m} / kmseg time" for m in methods[1:]) + " | "
                 + " | ".join(f"{m} / kmseg MSE" for m in methods[1:]) + " |",
                 "|---:|" + "---:|" * (2 * len(methods) - 2)]
        for k in args.k:
            lines.append(f"| {k} | " + " | ".join(f"{statistics.median(t for t, _ in per_k[k][m]):.2f}"
                                                  for m in methods[1:]) + " | "
                         + " | ".join(f"{statistics.median(e for _, e in per_k[k][m]):.2f}" for m in methods[1:])
                         + " |")
        print("\n".join(lines), flush=True)
        out.append("\n".join(lines))
    path = _images.results_dir() / "unseen.md"
    path.write_text("\n".join(out) + "\n")
    print(f"\nWrote {path}")


if __name__ == "__main__":
    main()
