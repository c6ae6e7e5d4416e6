"""BSDS500 region benchmark: kmseg's pipelines and scikit-image's, through the same metric code.

Run from the repository root::

    python benchmarks/bench_bsds.py                  # val split, all methods (about 20 min)
    python benchmarks/bench_bsds.py --limit 10 --methods regions felzenszwalb

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
METHODS = ["regions", "regions-threshold", "kmeans", "kmeans-connected", "felzenszwalb", "slic", "quickshift"]
SLOW = {"quickshift": 30}  # images, for methods too slow for the whole split


def timing(limit):
    import numpy as np
    from skimage import io, segmentation

    import kmseg
    from kmseg.regions._pipeline import DEFAULT_COMPACTNESS, DEFAULT_N_SUPERPIXELS

    names = sorted(p for p in _images.BSDS_VAL_DIR.iterdir() if p.suffix == ".jpg")[:limit]
    ratios_fz, ratios_slic, t_regions = [], [], []
    for path in names:
        img = io.imread(path)
        t = time.perf_counter()
        kmseg.segment_regions(img, 8)
        t_reg = time.perf_counter() - t
        t = time.perf_counter()
        segmentation.felzenszwalb(img, scale=800, sigma=0.8, min_size=20)
        t_fz = time.perf_counter() - t
        t = time.perf_counter()
        segmentation.slic(img, n_segments=DEFAULT_N_SUPERPIXELS, compactness=DEFAULT_COMPACTNESS, start_label=0)
        t_slic = time.perf_counter() - t
        t_regions.append(t_reg)
        ratios_fz.append(t_reg / t_fz)
        ratios_slic.append(t_reg / t_slic)
    return [
        "## Time per photo (481x321)", "",
        f"- `kmseg.segment_regions(photo, 8)`: median {statistics.median(t_regions):.3f} s over {len(names)} photos",
        f"- its time / scikit-image `felzenszwalb(scale=800)`: median ratio {statistics.median(ratios_fz):.2f}",
        f"- its time / scikit-image `slic` alone ({DEFAULT_N_SUPERPIXELS} superpixels, the stage it "
        f"starts with): median ratio {statistics.median(ratios_slic):.2f}", "",
    ]


def main(argv=None):
    from kmseg.metrics._dataset import evaluate_dataset

    import kmseg

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    args = p.parse_args(argv)
    lines = ["# BSDS500 val: region scores", "",
             f"command: `python benchmarks/bench_bsds.py {' '.join(argv or sys.argv[1:])}`; "
             f"{datetime.date.today()}, {os.cpu_count()} CPUs, kmseg {kmseg.__version__}", "",
             "| method | images | parameter (ODS value: Cov / PRI / VOI) | ODS Covering | ODS PRI | ODS VOI "
             "| OIS Covering | OIS PRI | OIS VOI | s per image and value |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
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
    lines += ["", "Published on the BSDS500 test split (Arbelaez et al., PAMI 2011), ODS Covering / PRI / VOI: "
              "Felzenszwalb-Huttenlocher 0.52 / 0.80 / 2.21, Mean Shift 0.54 / 0.79 / 1.85, "
              "gPb-owt-ucm 0.59 / 0.83 / 1.69.", ""]
    lines += timing(args.limit)
    text = "\n".join(lines)
    print(text)
    (_images.results_dir() / "bsds.md").write_text(text)


if __name__ == "__main__":
    main()
