"""Volumes and multi-band rasters: kmseg's ``channel_axis`` path against scikit-image and scikit-learn.

Run from the repository root::

    python benchmarks/bench_arrays.py                 # 256^3 uint16 volume, k=3; 6-band rasters
    python benchmarks/bench_arrays.py --size 128 --repeat 3

* **Volume**: a CT-like 256x256x256 uint16 phantom (ellipsoids of three tissues in air,
  a smooth bias field and noise; made here, deterministic), ``kmseg.segment(vol, 3,
  channel_axis=None)`` (labels of every voxel: the optimal 1-D partition of its 65,536
  levels), against ``skimage.filters.threshold_multiotsu(vol, classes=3)`` + ``np.digitize``
  (on its 256-bin histogram, the default) and the sampling shortcut (scikit-learn
  ``KMeans(3)`` on 1,000 voxels, ``predict`` on all). Medians of ``--repeat`` runs; the
  within-class sum of squares of each partition, exact over all voxels.
* **Rasters**: (H, W, 6) float32 rasters made from scikit-image's photos (their RGB mixed
  into six bands by a fixed random matrix, plus noise), ``kmseg.segment(raster, k)``
  against scikit-learn ``KMeans(k, n_init=10)`` (its best of 10 restarts) on the same rows.
"""

import argparse
import statistics
import time

import numpy as np


def phantom(n, seed=0):
    """A CT-like (n, n, n) uint16 volume: air, soft tissue, bone-like shell, a denser core."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*(np.linspace(-1, 1, n, dtype=np.float32),) * 3, indexing="ij")
    body = (x / 0.8) ** 2 + (y / 0.65) ** 2 + (z / 0.9) ** 2 <= 1
    shell = body & ((x / 0.72) ** 2 + (y / 0.57) ** 2 + (z / 0.82) ** 2 > 1)
    core = ((x - 0.2) / 0.25) ** 2 + ((y + 0.1) / 0.2) ** 2 + (z / 0.3) ** 2 <= 1
    vol = np.full((n, n, n), 1000, np.float32)
    vol[body] = 21000
    vol[shell] = 42000
    vol[core] = 30000
    vol *= 1 + 0.05 * x  # a bias field
    vol += rng.normal(0, 1500, vol.shape).astype(np.float32)
    return np.clip(vol, 0, 65535).astype(np.uint16)


def wcss(values, labels):
    """Exact within-class sum of squares of a partition of 1-D values."""
    v = values.reshape(-1).astype(np.float64)
    lab = labels.reshape(-1).astype(np.int64)
    k = lab.max() + 1
    n = np.bincount(lab, minlength=k)
    s = np.bincount(lab, weights=v, minlength=k)
    ss = np.bincount(lab, weights=v * v, minlength=k)
    return float((ss - s * s / np.maximum(n, 1)).sum())


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bench_volume(size, repeat):
    import kmseg
    from skimage.filters import threshold_multiotsu
    from sklearn.cluster import KMeans

    vol = phantom(size)
    levels = len(np.unique(vol))
    print(f"\n### Volume {size}^3 uint16, k=3 ({levels:,} distinct levels)\n")
    print("| method | median s | WCSS / kmseg's |")
    print("|---|---:|---:|")
    t_k, seg = timed(lambda: kmseg.segment(vol, 3, channel_axis=None), repeat)
    best = wcss(vol, seg.labels)

    def multiotsu():
        return np.digitize(vol, threshold_multiotsu(vol, classes=3))

    t_o, otsu = timed(multiotsu, repeat)

    def shortcut():
        flat = vol.reshape(-1, 1).astype(np.float32)
        pick = np.random.default_rng(0).choice(len(flat), 1000, replace=False)
        return KMeans(3, n_init=1, random_state=0).fit(flat[pick]).predict(flat).reshape(vol.shape)

    t_s, short = timed(shortcut, repeat)
    for name, t, labels in (("kmseg channel_axis=None", t_k, seg.labels),
                            ("threshold_multiotsu + digitize", t_o, otsu),
                            ("sample 1,000 + predict (scikit-learn)", t_s, short)):
        print(f"| {name} | {t:.3f} | {wcss(vol, labels) / best:.6f} |")
    print(f"\nkmseg: {t_k:.3f} s (target <= 1 s); threshold_multiotsu / kmseg time {t_o / t_k:.1f}x; "
          f"shortcut / kmseg time {t_s / t_k:.2f}x")


def bench_rasters(repeat):
    import kmseg
    from skimage import data
    from sklearn.cluster import KMeans

    print("\n### (H, W, 6) rasters against scikit-learn's best of 10 restarts\n")
    print("| photo | pixels | k | kmseg s | scikit-learn s | inertia kmseg / scikit-learn |")
    print("|---|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    mix = rng.uniform(0, 1, (3, 6))
    ratios = []
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        img = getattr(data, name)().astype(np.float64) / 255
        raster = (img @ mix + rng.normal(0, 0.01, img.shape[:2] + (6,))).astype(np.float32)
        rows = raster.reshape(-1, 6).astype(np.float64)
        for k in (4, 8, 16):
            t_k, seg = timed(lambda: kmseg.segment(raster, k), repeat)
            t_s, sk = timed(lambda: KMeans(k, n_init=10, random_state=0).fit(rows), repeat)
            ratios.append(seg.inertia / sk.inertia_)
            print(f"| {name} | {len(rows):,} | {k} | {t_k:.2f} | {t_s:.2f} | {ratios[-1]:.5f} |")
    print(f"\nworst inertia ratio {max(ratios):.5f} (target <= 1.001)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=256, help="volume side (default: 256)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs, median taken (default: 3)")
    p.add_argument("--no-rasters", action="store_true")
    args = p.parse_args()
    print(f"# Volumes and rasters ({time.strftime('%Y-%m-%d %H:%M')})")
    bench_volume(args.size, args.repeat)
    if not args.no_rasters:
        bench_rasters(args.repeat)


if __name__ == "__main__":
    main()
