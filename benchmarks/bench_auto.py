"""How often ``k="auto"`` picks the known k, and what it picks on photos.

Run from the repository root::

    python benchmarks/bench_auto.py

* Blobs: ``make_blobs(n_samples=600, centers=k, cluster_std=0.6,
  center_box=(-20, 20), random_state=seed)`` for k = 2..8 and seeds 0..9;
  ``kmseg.elbow(X, range(1, 11))`` chooses k. Reported: the share of data sets
  where the chosen k is the true k, per k. Blobs that happen to overlap make
  the true k ambiguous, so 100% is not expected.
* Photos: ``kmseg.segment(photo, "auto")`` on every photo of the BSDS500 val
  split (``../shared/data/bsds500/images/val``): the distribution of the
  chosen k, and how often the knee is clear.

Prints a report and writes ``benchmarks/results/auto.md``.
"""

import collections
import datetime
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _images  # noqa: E402


def blobs_report():
    from sklearn.datasets import make_blobs

    import kmseg

    lines = ["## Blobs with known k", "", "| true k | chosen = true | chosen k (10 seeds) |", "|---:|---:|---|"]
    hits = total = 0
    for true_k in range(2, 9):
        chosen = []
        for seed in range(10):
            X, _ = make_blobs(n_samples=600, centers=true_k, cluster_std=0.6, center_box=(-20, 20),
                              random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                chosen.append(kmseg.elbow(X, range(1, 11)).best_k)
        right = sum(c == true_k for c in chosen)
        hits += right
        total += len(chosen)
        lines.append(f"| {true_k} | {right}/10 | {' '.join(map(str, chosen))} |")
    lines += ["", f"Overall: {hits}/{total} ({100 * hits / total:.0f}%).", ""]
    return lines


def photos_report():
    import kmseg

    folder = _images.BSDS_VAL_DIR
    if not folder.is_dir():
        return ["## BSDS500 val photos", "", f"skipped: {folder} not found", ""]
    names = sorted(p for p in folder.iterdir() if p.suffix == ".jpg")
    chosen, clear = [], 0
    start = time.perf_counter()
    for path in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seg = kmseg.segment(path, "auto")
        chosen.append(seg.n_clusters)
        clear += seg.elbow.knee.clear
    seconds = time.perf_counter() - start
    counts = collections.Counter(chosen)
    lines = ["## BSDS500 val photos (481x321)", "",
             "| chosen k | photos |", "|---:|---:|"]
    lines += [f"| {k} | {counts[k]} |" for k in sorted(counts)]
    lines += ["", f"{len(names)} photos; median chosen k {int(np.median(chosen))}; clear knee in "
                  f"{clear}/{len(names)}; {seconds / len(names):.2f} s per photo (sweep k=1..10 + labels).", ""]
    return lines


def main():
    import kmseg

    lines = ["# k='auto' (knee of the log-WCSS curve over k=1..10)", "",
             f"command: `python benchmarks/bench_auto.py`; {datetime.date.today()}, "
             f"{os.cpu_count()} CPUs, kmseg {kmseg.__version__}", ""]
    lines += blobs_report()
    lines += photos_report()
    text = "\n".join(lines)
    print(text)
    (_images.results_dir() / "auto.md").write_text(text)


if __name__ == "__main__":
    main()
