"""BSDS500 region benchmark: kmseg's pipelines and scikit-image's, through the same metric code.

Run from the repository root::

    python benchmarks/bench_bsds.py                  # val split, all methods (about 20 min)
    python benchmarks/bench_bsds.py --limit 10 --methods regions felzenszwalb
    python benchmarks/bench_bsds.py --methods kmeans slic --no-timing --out peers.md   # a part of the table

For each method, ``kmseg.metrics._dataset.evaluate_dataset`` runs the method's
parameter sweep on every val photo and scores it against all human segmentations
(Covering, PRI, VOI in bits; BSDS definitions, see ``kmseg.metrics``): ODS takes
the one parameter value best for the whole set, OIS the best per image. Also
timed, photo by photo in the same run: ``kmseg.segment_regions(photo, 8)``
(superpixels to 8 segments) against scikit-image's ``felzenszwalb`` and ``slic``
with kmseg's superpixel settings. Writes ``benchmarks/results/bsds.md``.
"""

import argparse
import datetime
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _images  # noqa: E402

GT_DIR = _images.BSDS_VAL_DIR.parent.parent / "groundTruth" / "val"
METHODS = ["regions-threshold", "regions-ward", "regions-smooth", "regions", "kmeans", "kmeans-connected", "felzenszwalb", "slic", "quickshift"]
SLOW = {"quickshift": 30}  # images, for methods too slow for the whole split
#: Per measure (Covering, PRI, VOI), the threshold that the 200 *train* photos chose
#: (benchmarks/tune_regions.py): val scored at them, no threshold chosen on val (BENCHMARKS.md
#: says where val was seen when a design was picked).
TRAIN_CHOSEN = {"regions-threshold": (0.6, 0.5, 0.65), "regions-ward": (32000, 25000, 40000)}


def timing(limit):
    """Per photo, in one loop: kmseg's superpixel stage against scikit-image's slic (same
    number of segments and compactness; time from RGB, boundary recall against the
    humans), and the whole segment_regions against felzenszwalb."""
    import numpy as np
    from skimage import io, segmentation

    import kmseg
    from kmseg.metrics._bsds import read_bsds_ground_truth
    from kmseg.metrics import boundary_scores
    from kmseg.color._spaces import lab_image
    from kmseg.regions._pipeline import DEFAULT_COMPACTNESS, DEFAULT_N_SUPERPIXELS
    from kmseg.regions._superpixels import slic_superpixels

    names = sorted(p for p in _images.BSDS_VAL_DIR.iterdir() if p.suffix == ".jpg")[:limit]
    ratio_fz, ratio_slic, t_regions, recall_ours, recall_sk, n_ours, n_sk = [], [], [], [], [], [], []
    for path in names:
        img = io.imread(path)
        gts = read_bsds_ground_truth(GT_DIR / (path.stem + ".mat"))
        t = time.perf_counter()
        ours = slic_superpixels(lab_image(img), DEFAULT_N_SUPERPIXELS, DEFAULT_COMPACTNESS)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        theirs = segmentation.slic(img, n_segments=DEFAULT_N_SUPERPIXELS, compactness=DEFAULT_COMPACTNESS,
                                   start_label=0)
        t_sk = time.perf_counter() - t
        t = time.perf_counter()
        kmseg.segment_regions(img, 8)
        t_reg = time.perf_counter() - t
        t = time.perf_counter()
        segmentation.felzenszwalb(img, scale=800, sigma=0.8, min_size=20)
        t_fz = time.perf_counter() - t
        t_regions.append(t_reg)
        ratio_fz.append(t_reg / t_fz)
        ratio_slic.append(t_ours / t_sk)
        recall_ours.append(boundary_scores(ours, gts).recall)
        recall_sk.append(boundary_scores(theirs, gts).recall)
        n_ours.append(ours.max() + 1)
        n_sk.append(theirs.max() + 1)
    return [
        "### Time per photo (481x321)", "",
        f"- superpixel stage, kmseg SLIC / scikit-image `slic` (n_segments={DEFAULT_N_SUPERPIXELS}, "
        f"compactness={DEFAULT_COMPACTNESS:g}, both from RGB): median time ratio "
        f"{statistics.median(ratio_slic):.2f}; boundary recall {np.mean(recall_ours):.3f} against "
        f"{np.mean(recall_sk):.3f}; superpixels {np.median(n_ours):.0f} against {np.median(n_sk):.0f} (medians)",
        f"- `kmseg.segment_regions(photo, 8)`: median {statistics.median(t_regions):.3f} s; its time / "
        f"scikit-image `felzenszwalb(scale=800)`: median ratio {statistics.median(ratio_fz):.2f}",
        f"- {len(names)} photos", "",
    ]


def main(argv=None):
    from kmseg.metrics._dataset import evaluate_dataset

    import kmseg

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--methods", nargs="*", default=METHODS, choices=METHODS,
                   help="methods to score (none: only the timing)")
    p.add_argument("--no-timing", action="store_true", help="skip the time-per-photo section")
    p.add_argument("--out", default="bsds.md", help="file name in benchmarks/results/")
    args = p.parse_args(argv)
    lines = ["# BSDS500 val: region scores", "",
             f"command: `python benchmarks/bench_bsds.py {' '.join(argv or sys.argv[1:])}`; "
             f"{datetime.date.today()}, {os.cpu_count()} CPUs, kmseg {kmseg.__version__}", "",
             "| method | images | parameter (ODS value: Cov / PRI / VOI) | ODS Covering | ODS PRI | ODS VOI "
             "| OIS Covering | OIS PRI | OIS VOI | s per image and value |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    held_out = []
    for method in args.methods:
        limit = min(x for x in (args.limit, SLOW.get(method)) if x is not None) if (
            args.limit or method in SLOW) else None
        print(f"[{method}] ...", file=sys.stderr, flush=True)
        r = evaluate_dataset(str(_images.BSDS_VAL_DIR), str(GT_DIR), method, limit=limit)
        n = len(r.rows) // len(r.values)
        best = " / ".join(str(r.ods[m][0]) for m in ("covering", "pri", "voi"))
        lines.append(f"| {method} | {n} | {r.parameter} ({best}) | {r.ods['covering'][1]:.3f} | "
                     f"{r.ods['pri'][1]:.3f} | {r.ods['voi'][1]:.3f} | {r.ois['covering']:.3f} | "
                     f"{r.ois['pri']:.3f} | {r.ois['voi']:.3f} | {r.seconds:.3f} |")
        if method in TRAIN_CHOSEN:
            scores = [statistics.fmean(row[2 + j] for row in r.rows if row[1] == value)
                      for j, value in enumerate(TRAIN_CHOSEN[method])]
            held_out.append(f"- {method} at the thresholds chosen on train "
                            f"({' / '.join(map(str, TRAIN_CHOSEN[method]))}): Covering {scores[0]:.3f}, "
                            f"PRI {scores[1]:.3f}, VOI {scores[2]:.3f}")
    lines += [""] + held_out
    lines += ["", "Published on the BSDS500 test split (Arbelaez et al., PAMI 2011), ODS Covering / PRI / VOI: "
              "Felzenszwalb-Huttenlocher 0.52 / 0.80 / 2.21, Mean Shift 0.54 / 0.79 / 1.85, "
              "gPb-owt-ucm 0.59 / 0.83 / 1.69.", ""]
    if not args.no_timing:
        lines += timing(args.limit)
    text = "\n".join(lines)
    print(text)
    (_images.results_dir() / args.out).write_text(text)


if __name__ == "__main__":
    main()
