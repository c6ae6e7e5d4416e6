"""Elbow-sweep benchmark: kmseg.elbow against the same sweep with scikit-learn.

Run from the repository root::

    python benchmarks/bench_elbow.py                 # k = 1..10 on the 12 MP mosaic
    python benchmarks/bench_elbow.py --k-max 6 --image bsds
    python benchmarks/bench_elbow.py --image photo2mp   # a BSDS500 val photo enlarged to 2 MP

For each k, scikit-learn's ``KMeans(n_clusters=k, n_init=1, random_state=0)`` is
fitted on all pixels (float32, as the tutorials do), and kmseg's sweep fits every
k on the colour histogram (defaults: 4 restarts per k). Both sweeps are timed
in the same process (kmseg twice, median, after a warm-up on a small image; the
scikit-learn sweep once: it takes minutes). Every WCSS is recomputed exactly, in
float64 over all pixels, from each method's centres (scikit-learn's own
``inertia_`` on float32 input is not exact). Prints a table and writes
``benchmarks/results/elbow.md``.
"""

import argparse
import datetime
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _images  # noqa: E402
from bench_core import exact_inertia  # noqa: E402


def kmseg_sweep(img, ks):
    import kmseg

    start = time.perf_counter()
    curve = kmseg.elbow(img, ks)
    return time.perf_counter() - start, curve


def sklearn_sweep(img, ks):
    from sklearn.cluster import KMeans

    start = time.perf_counter()
    pixels = img.reshape(-1, 3).astype(np.float32)
    centers = [KMeans(n_clusters=k, n_init=1, random_state=0).fit(pixels).cluster_centers_ for k in ks]
    return time.perf_counter() - start, centers


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k-max", type=int, default=10)
    p.add_argument("--image", choices=["mosaic", "bsds", "photo2mp"], default="mosaic")
    args = p.parse_args(argv)
    import kmseg

    if args.image == "mosaic":
        img = _images.mosaic_12mp()
    elif args.image == "bsds":
        img = _images.bsds_photo()
    else:  # one photo at a size users meet: 1732x1155 (2.0 MP), enlarged bicubically
        from PIL import Image

        img = np.asarray(Image.fromarray(_images.bsds_photo()).resize((1732, 1155), Image.Resampling.BICUBIC))
    ks = list(range(1, args.k_max + 1))
    kmseg.elbow(img[:64, :64], range(1, 4))  # warm-up: first-call costs stay out of the timing
    runs = [kmseg_sweep(img, ks) for _ in range(2)]
    t_kmseg = statistics.median(t for t, _ in runs)
    curve = runs[0][1]
    t_sk, sk_centers = sklearn_sweep(img, ks)
    n_colours = len(np.unique(img.reshape(-1, 3) @ np.array([65536, 256, 1])))
    lines = [
        f"# Elbow sweep k=1..{args.k_max}, {args.image} ({img.shape[1]}x{img.shape[0]}, "
        f"{img.shape[0] * img.shape[1] / 1e6:.1f} MP, {n_colours:,} distinct colours)",
        "",
        f"command: `python benchmarks/bench_elbow.py {' '.join(argv or sys.argv[1:])}`; "
        f"{datetime.date.today()}, {os.cpu_count()} CPUs, kmseg {kmseg.__version__}",
        "",
        "| k | kmseg WCSS (exact) | scikit-learn WCSS (exact) | kmseg / scikit-learn |",
        "|---:|---:|---:|---:|",
    ]
    worse = 0
    for k, wcss, centers in zip(ks, curve.wcss, sk_centers):
        sk = exact_inertia(img, centers)
        worse += wcss > sk * (1 + 1e-9)
        lines.append(f"| {k} | {wcss:.6e} | {sk:.6e} | {wcss / sk:.4f} |")
    lines += [
        "",
        f"- sweep time: kmseg {t_kmseg:.2f} s (median of 2), scikit-learn {t_sk:.1f} s (one run): "
        f"**{t_sk / t_kmseg:.0f}x** (target >= 20x)",
        f"- k with kmseg's WCSS above scikit-learn's: {worse} of {len(ks)} (target 0)",
        f"- chosen k: {curve.best_k} ({curve.knee.reason})",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    (_images.results_dir() / "elbow.md").write_text(text)


if __name__ == "__main__":
    main()
