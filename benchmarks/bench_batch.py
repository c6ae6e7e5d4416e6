"""Batch benchmark: kmseg batch on BSDS500 train+val (300 photos), k=8.

Run from the repository root::

    python benchmarks/bench_batch.py            # about 3 minutes

In one run: a plain loop of scikit-learn ``KMeans(n_clusters=8, n_init=1)`` on all
pixels of each photo (float32; labels kept, nothing written); ``kmseg.segment_many``
with 1 and with 2 worker processes (label maps written, manifest kept); and the
shared palette: ``kmseg.fit_palette`` over the 300 photos, then labelling all of
them with it. Reports images per second and ratios; writes
``benchmarks/results/batch.md``.
"""

import datetime
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _images  # noqa: E402


def main():
    import numpy as np
    from PIL import Image
    from sklearn.cluster import KMeans

    import kmseg

    root = _images.BSDS_VAL_DIR.parent
    photos = sorted(str(p) for split in ("train", "val") for p in (root / split).glob("*.jpg"))
    n = len(photos)
    kmseg.segment(photos[0], 8)  # kernels from the cache
    t = time.perf_counter()
    for p in photos:
        KMeans(n_clusters=8, n_init=1, random_state=0).fit(np.asarray(Image.open(p)).reshape(-1, 3)
                                                            .astype(np.float32)).labels_
    t_sk = time.perf_counter() - t
    rates = {}
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            summary = kmseg.segment_many(photos, 8, out, outputs=("labels",), jobs=jobs)
            rates[jobs] = n / (time.perf_counter() - t)
            assert summary.count("ok") == n
    t = time.perf_counter()
    palette = kmseg.fit_palette(photos, 8, jobs=2)
    t_fit = time.perf_counter() - t
    t = time.perf_counter()
    for p in photos:
        palette.apply(p)
    t_label = time.perf_counter() - t
    lines = [
        f"# Batch: {n} BSDS500 train+val photos, k=8", "",
        f"command: `python benchmarks/bench_batch.py`; {datetime.date.today()}, {os.cpu_count()} CPUs, "
        f"kmseg {kmseg.__version__}", "",
        f"- scikit-learn loop (KMeans n_init=1, all pixels): {n / t_sk:.2f} images/s",
        f"- kmseg batch, 1 worker: {rates[1]:.2f} images/s ({rates[1] * t_sk / n:.1f}x the loop)",
        f"- kmseg batch, 2 workers: {rates[2]:.2f} images/s ({rates[2] * t_sk / n:.1f}x the loop; "
        f"{rates[2] / rates[1]:.2f}x one worker)",
        f"- shared palette: fit over all {n} photos (2 processes for the histograms) {t_fit:.1f} s; "
        f"labelling them all with it {t_label:.1f} s; fit / label = {t_fit / t_label:.2f}",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    (_images.results_dir() / "batch.md").write_text(text)


if __name__ == "__main__":
    main()
