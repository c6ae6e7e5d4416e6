"""Batch benchmark: kmseg batch on BSDS500 train+val (300 photos), k=8.

Run from the repository root::

    python benchmarks/bench_batch.py            # about 3 minutes
    python benchmarks/bench_batch.py --cli      # kmseg batch through the command line, 100 val photos

In one run: a plain loop of scikit-learn ``KMeans(n_clusters=8, n_init=1)`` on all
pixels of each photo (float32; labels kept, nothing written); ``kmseg.segment_many``
(label maps written, manifest kept) with one worker on 1 kernel thread and on 2,
with 2 thread workers (the default) and with 2 worker processes, of one kernel
thread each (``--repeats`` times each, interleaved, medians; the time includes
starting the workers); and the shared palette: ``kmseg.fit_palette`` over the 300
photos (in this process and with 2 workers), then labelling all of them with it.
Reports images per second and ratios; writes ``benchmarks/results/batch.md``.

With ``--dask N [--bsds DIR]``, instead: the first N of those photos through
``segment_many`` with 2 local worker threads (``jobs=2``, the default), on a Dask
``LocalCluster`` of 2 one-thread workers started for the call
(``scheduler='local'``, as ``kmseg batch --cluster local --jobs 2``), and on such
a cluster already running (a ``Client``); each 3 times, interleaved, medians
reported; writes ``benchmarks/results/batch_dask.md``. ``--bsds`` is the BSDS500
``images`` folder (default: ``../shared/data/bsds500/images``).
"""

import datetime
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _images  # noqa: E402


def _photos(root=None):
    from pathlib import Path

    root = _images.BSDS_VAL_DIR.parent if root is None else Path(root)
    return sorted(str(p) for split in ("train", "val") for p in (root / split).glob("*.jpg"))


def dask_vs_local(n_photos, root=None, repeats=3):
    """Images per second: local jobs=2, a Dask LocalCluster started per call, one already running."""
    import statistics

    from dask.distributed import Client, LocalCluster

    import kmseg

    photos = _photos(root)[:n_photos]
    n = len(photos)
    times = {"local threads (jobs=2)": [], "Dask LocalCluster started by the call": [],
             "Dask LocalCluster already running": []}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        with tempfile.TemporaryDirectory() as out:  # workers load their modules
            kmseg.segment_many(photos[:4], 8, out, outputs=("labels",), scheduler=client)
        runs = list(zip(times, [None, "local", client]))
        for _ in range(repeats):
            for name, scheduler in runs:
                with tempfile.TemporaryDirectory() as out:
                    t = time.perf_counter()
                    summary = kmseg.segment_many(photos, 8, out, outputs=("labels",), jobs=2, scheduler=scheduler)
                    times[name].append(time.perf_counter() - t)
                    assert summary.count("ok") == n
    rates = {name: n / statistics.median(ts) for name, ts in times.items()}
    base = rates["local threads (jobs=2)"]
    lines = [f"# Batch on Dask: {n} BSDS500 train+val photos, k=8, 2 workers", "",
             f"command: `python benchmarks/bench_batch.py --dask {n_photos}`; {datetime.date.today()}, "
             f"{os.cpu_count()} CPUs, kmseg {kmseg.__version__}; median of {repeats} interleaved runs, "
             "each from the call to its return (label maps written)", ""]
    for name, rate in rates.items():
        spread = ", ".join(f"{n / t:.2f}" for t in times[name])
        lines.append(f"- {name}: {rate:.2f} images/s ({rate / base:.2f}x local; runs {spread})")
    text = "\n".join(lines + [""])
    print(text)
    (_images.results_dir() / "batch_dask.md").write_text(text)


def stages(n_photos=30):
    """Process time per stage of one photo on one thread (medians over the first
    ``n_photos`` val photos, each segmented twice): decode, colour histogram,
    k-means, labelling, label PNG. Returns (name, milliseconds) pairs."""
    import numpy as np

    import kmseg
    from kmseg import _segment
    from kmseg.io._read import read_image
    from kmseg.io._write import label_png

    photos = sorted(str(p) for p in _images.BSDS_VAL_DIR.glob("*.jpg"))[:n_photos]
    kmseg.segment(photos[0], 8, n_threads=1)  # kernels from the cache
    times = {}

    def timed(name, fn, *args):
        t = time.process_time()
        out = fn(*args)
        times.setdefault(name, []).append(time.process_time() - t)
        return out

    for _ in range(2):
        for p in photos:
            image = timed("decode", read_image, p)
            pixels = image.reshape(-1, 3)
            hist = timed("colour histogram", _segment.ColorHistogram, pixels)
            features = _segment.to_features(hist.colors, "rgb")
            fit = timed("k-means", _segment.fit, features, hist.counts.astype(np.float64), 8, {"n_threads": 1})
            labels = timed("labelling", hist.to_pixels, fit.labels_, pixels, np.uint8)
            timed("label PNG", label_png, labels.reshape(image.shape[:2]), 8)
            timed("whole segment()", lambda path: kmseg.segment(path, 8, n_threads=1), p)
    return [(name, 1e3 * float(np.median(ts))) for name, ts in times.items()]


def cli_vs_loop(root=None, repeats=3):
    """``kmseg batch`` of the 100 BSDS500 val photos through the command line (a fresh
    process each run, start-up included, its default outputs written) against a
    scikit-learn loop over the same photos in this process (decoding included,
    nothing written: its start-up is not counted)."""
    import statistics
    import subprocess
    from pathlib import Path

    import numpy as np
    from PIL import Image
    from sklearn.cluster import KMeans

    folder = _images.BSDS_VAL_DIR if root is None else Path(root) / "val"
    photos = sorted(folder.glob("*.jpg"))
    t_cli, t_sk = [], []
    for _ in range(repeats):  # interleaved
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "kmseg", "batch", str(folder), "-o", out, "-k", "8", "--quiet"],
                           check=True)
            t_cli.append(time.perf_counter() - t)
        t = time.perf_counter()
        for p in photos:
            with Image.open(p) as im:
                pixels = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(np.float32)
            KMeans(n_clusters=8, n_init=1, random_state=0).fit(pixels).labels_
        t_sk.append(time.perf_counter() - t)
    cli, sk = statistics.median(t_cli), statistics.median(t_sk)
    text = "\n".join([
        f"# kmseg batch through the command line: {len(photos)} BSDS500 val photos, k=8", "",
        f"command: `python benchmarks/bench_batch.py --cli`; {datetime.date.today()}, {os.cpu_count()} CPUs; "
        f"median of {repeats} interleaved runs", "",
        f"- `kmseg batch {folder.name}/ -o OUT -k 8 --quiet` (fresh process, default outputs): {cli:.2f} s "
        f"(runs: " + ", ".join(f"{t:.2f}" for t in t_cli) + ")",
        f"- scikit-learn loop (decode, KMeans n_init=1 on all pixels, float32), in process: {sk:.2f} s (runs: "
        + ", ".join(f"{t:.2f}" for t in t_sk) + ")",
        f"- ratio: **{sk / cli:.1f}x** (target >= 10x)", ""])
    print(text)
    (_images.results_dir() / "batch_cli.md").write_text(text)


def main(repeats=5):
    import numpy as np
    from PIL import Image
    from sklearn.cluster import KMeans

    import kmseg

    photos = _photos()
    n = len(photos)
    kmseg.segment(photos[0], 8)  # kernels from the cache

    def sklearn_loop():
        t = time.perf_counter()
        for p in photos:
            KMeans(n_clusters=8, n_init=1, random_state=0).fit(np.asarray(Image.open(p)).reshape(-1, 3)
                                                                .astype(np.float32)).labels_
        return time.perf_counter() - t

    configs = {"1 worker, 1 kernel thread": dict(jobs=1, n_threads=1),
               "1 worker, 2 kernel threads": dict(jobs=1),
               "2 workers (threads), 1 kernel thread each": dict(jobs=2),
               "2 workers (processes), 1 kernel thread each": dict(jobs=2, workers="processes")}
    runs = {name: [] for name in configs}
    t_sks = []
    for _ in range(repeats):  # interleaved repeats: medians
        t_sks.append(sklearn_loop())
        for name, params in configs.items():
            with tempfile.TemporaryDirectory() as out:
                t = time.perf_counter()
                summary = kmseg.segment_many(photos, 8, out, outputs=("labels",), **params)
                runs[name].append(n / (time.perf_counter() - t))
                assert summary.count("ok") == n
    rates = {name: float(np.median(r)) for name, r in runs.items()}
    one = rates["1 worker, 1 kernel thread"]
    t_sk = float(np.median(t_sks))
    t_fits = {}
    for jobs in (1, 2):
        t = time.perf_counter()
        palette = kmseg.fit_palette(photos, 8, jobs=jobs)
        t_fits[jobs] = time.perf_counter() - t
    t_fit = min(t_fits.values())
    t = time.perf_counter()
    for p in photos:
        palette.apply(p)
    t_label = time.perf_counter() - t
    lines = [
        f"# Batch: {n} BSDS500 train+val photos, k=8", "",
        f"command: `python benchmarks/bench_batch.py`; {datetime.date.today()}, {os.cpu_count()} CPUs, "
        f"kmseg {kmseg.__version__}; median of {repeats} interleaved runs of each", "",
        f"- scikit-learn loop (KMeans n_init=1, all pixels): {n / t_sk:.2f} images/s (runs: "
        + ", ".join(f"{n / t:.2f}" for t in t_sks) + ")",
        *(f"- kmseg batch, {name}: {rate:.2f} images/s ({rate * t_sk / n:.1f}x the loop; "
          f"{rate / one:.2f}x one worker on one thread; runs: "
          + ", ".join(f"{r:.2f}" for r in runs[name]) + ")" for name, rate in rates.items()),
        f"- shared palette: fit over all {n} photos {t_fits[1]:.1f} s in this process, {t_fits[2]:.1f} s with 2 "
        f"workers for the histograms; labelling them all with it {t_label:.1f} s; fit (faster) / "
        f"label = {t_fit / t_label:.2f}",
        "",
    ]
    lines += ["Process time per photo on one thread (medians, 30 val photos, each twice): "
              + ", ".join(f"{name} {ms:.1f} ms" for name, ms in stages()), ""]
    text = "\n".join(lines)
    print(text)
    (_images.results_dir() / "batch.md").write_text(text)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dask", type=int, metavar="N", help="only Dask against local workers, on N photos")
    parser.add_argument("--bsds", metavar="DIR", help="the BSDS500 images folder")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each batch configuration")
    parser.add_argument("--cli", action="store_true",
                        help="only kmseg batch through the command line against a scikit-learn loop (100 val photos)")
    args = parser.parse_args()
    if args.cli:
        cli_vs_loop(args.bsds, min(args.repeats, 3))
    elif args.dask:
        dask_vs_local(args.dask, args.bsds)
    else:
        main(args.repeats)
