"""kmseg's estimators against scikit-learn's (and faiss) on general data and on the seed recipe.

Peers in the same run, the same data: scikit-learn's ``KMeans(n_init=1)`` and
``MiniBatchKMeans``, and faiss-cpu's ``faiss.Kmeans`` where installed
(``pip install faiss-cpu``; benchmark only). Times are medians of ``--repeat``
runs (different seeds); inertias are means over the same runs, each computed
by the estimator on all samples.

    python benchmarks/bench_general.py [--repeat 3] [--quick]

Cases: the seed's colour-compression recipe (``MiniBatchKMeans(16)`` on the pixels
of scikit-learn's china.jpg in [0, 1]); blobs of several shapes with ``KMeans``;
the digits.
"""

import argparse
import datetime
import platform
import statistics
import time

import numpy as np


def _timed(make, X, repeat):
    times, inertias = [], []
    for seed in range(repeat):
        est = make(seed)
        t = time.perf_counter()
        est.fit(X)
        times.append(time.perf_counter() - t)
        inertias.append(float(est.inertia_))
    return statistics.median(times), float(np.mean(inertias))


def _faiss(X, k, repeat, niter=25):
    try:
        import faiss
    except ImportError:
        return None
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    times, inertias = [], []
    for seed in range(repeat):
        km = faiss.Kmeans(X.shape[1], k, niter=niter, seed=seed + 1, verbose=False)
        t = time.perf_counter()
        km.train(X32)
        _, labels = km.index.search(X32, 1)
        times.append(time.perf_counter() - t)
        inertias.append(float(((X - km.centroids[labels[:, 0]].astype(np.float64)) ** 2).sum()))
    return statistics.median(times), float(np.mean(inertias))


def _row(name, n, d, k, peers):
    base_t, base_i = peers["kmseg"]
    cells = []
    for peer, value in peers.items():
        if value is None:
            cells.append(f"{peer}: -")
            continue
        t, inertia = value
        extra = "" if peer == "kmseg" else f" (kmseg {t / base_t:.1f}x faster, inertia {base_i / inertia:.4f}x)"
        cells.append(f"{peer} {t:.3f} s, inertia {inertia:.6g}{extra}")
    print(f"| {name} | {n:,} x {d} | {k} | " + " | ".join(cells) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the recipe and the 200,000 x 16 blobs only")
    args = parser.parse_args(argv)

    import sklearn
    from sklearn.cluster import KMeans as SKMeans
    from sklearn.cluster import MiniBatchKMeans as SMiniBatch
    from sklearn.datasets import load_digits, load_sample_image, make_blobs

    import kmseg

    print(f"# kmseg {kmseg.__version__} against scikit-learn {sklearn.__version__}: "
          f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.processor() or platform.machine()}, "
          f"command: python benchmarks/bench_general.py --repeat {args.repeat}{' --quick' if args.quick else ''}")
    print("\n| case | samples x features | k | timings (median) and mean inertia |")
    print("|---|---|---|---|")

    china = np.asarray(load_sample_image("china.jpg"), dtype=np.float64) / 255
    X = china.reshape(-1, 3)
    peers = {
        "kmseg": _timed(lambda s: kmseg.MiniBatchKMeans(16, random_state=s), X, args.repeat),
        "sklearn MiniBatchKMeans": _timed(lambda s: SMiniBatch(16, random_state=s), X, args.repeat),
    }
    _row(f"seed recipe MiniBatchKMeans(16), china.jpg ({len(np.unique(china.reshape(-1, 3), axis=0)):,} "
         "distinct colours)", *X.shape, 16, peers)

    shapes = [(200_000, 16, 64)] if args.quick else [(200_000, 16, 64), (100_000, 2, 8), (1_000_000, 3, 16),
                                                     (100_000, 64, 64), (100_000, 128, 256),
                                                     (200_000, 8, 1024)]
    for n, d, k in shapes:
        X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.0, random_state=0)
        peers = {
            "kmseg": _timed(lambda s: kmseg.KMeans(k, n_init=1, random_state=s), X, args.repeat),
            "sklearn": _timed(lambda s: SKMeans(k, n_init=1, random_state=s), X, args.repeat),
            "faiss": _faiss(X, k, args.repeat),
        }
        _row("blobs", n, d, k, peers)
    if not args.quick:
        X = load_digits().data
        peers = {
            "kmseg": _timed(lambda s: kmseg.KMeans(10, n_init=1, random_state=s), X, args.repeat),
            "sklearn": _timed(lambda s: SKMeans(10, n_init=1, random_state=s), X, args.repeat),
            "faiss": _faiss(X, 10, args.repeat),
        }
        _row("digits", *X.shape, 10, peers)


if __name__ == "__main__":
    main()
