"""Does k='auto' hold still when the swept range grows? BSDS500 photos, k_max 10, 12 and 16.

Run from the repository root::

    python benchmarks/bench_knee.py --set train --min-drop 0.26,0.28,0.3,0.32,0.34   # tuning
    python benchmarks/bench_knee.py --set val                                          # the report
    python benchmarks/bench_knee.py --set val --limit 10

For each photo of ``../shared/data/bsds500/images/<set>/``, ``kmseg.elbow(photo,
range(1, k_max + 1))`` runs three times, for k_max = 10, 12 and 16 (with
``silhouette_samples=0``: the silhouette plays no part in the WCSS or the knee).
Reported for each ``min_drop`` of :func:`kmseg.find_knee` (the library's default
is the sweep's own ``best_k``; other values are applied to the same three WCSS
curves): the share of photos whose chosen k is the same for all three k_max, the
distribution of the chosen k (k_max=10), how many knees are clear, and how often
the answer at k_max=10 is the former rule's (Kneedle on the log WCSS curve, the
chord from the first point to the last, which k='auto' used before). The former
rule's own share of photos with one k for all three is printed beside it. Also
checked: whether the k_max=10 and 12 sweeps' WCSS are the first values of the
k_max=16 sweep's (each k is fitted on its own, with the same seed).

Prints a report and writes ``benchmarks/results/knee_<set>.md``.
"""

import argparse
import collections
import datetime
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _images  # noqa: E402

K_MAXES = (10, 12, 16)


def former_knee(k, wcss):
    """The rule k='auto' used before: Kneedle on the log WCSS curve (running minimum,
    normalised to the unit square), the point farthest below the chord from first to last."""
    x = np.asarray(k, dtype=float)
    y = np.asarray(wcss, dtype=float)
    y = np.minimum.accumulate(np.log(np.maximum(y, 1e-12 * y.max())))
    if len(x) < 3 or y[0] - y[-1] <= 0:
        return int(x[0])
    below = (1.0 - (x - x[0]) / (x[-1] - x[0])) - (y - y[-1]) / (y[0] - y[-1])
    return int(x[np.argmax(below)])


def sweeps(path, n_threads):
    """The three sweeps of one photo: {k_max: (k, wcss, knee)}."""
    import kmseg

    out = {}
    for k_max in K_MAXES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", kmseg.KneeWarning)
            curve = kmseg.elbow(path, range(1, k_max + 1), silhouette_samples=0, n_threads=n_threads)
        out[k_max] = (curve.k, curve.wcss, curve.knee)
    return out


def main(argv=None):
    import kmseg
    from kmseg.choose._knee import MIN_DROP

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", choices=["train", "val"], default="val")
    p.add_argument("--limit", type=int, default=None, help="the first N photos (sorted by name)")
    p.add_argument("--min-drop", default=str(MIN_DROP),
                   help=f"comma-separated min_drop values to report (default: the library's {MIN_DROP})")
    p.add_argument("--n-threads", type=int, default=1)
    args = p.parse_args(argv)
    values = [float(s) for s in args.min_drop.split(",")]
    folder = _images.BSDS_VAL_DIR.parent / args.set
    names = sorted(q for q in folder.iterdir() if q.suffix.lower() == ".jpg")[: args.limit]
    if not names:
        sys.exit(f"no photos in {folder}")

    start = time.perf_counter()
    curves, prefix_same = [], 0
    for j, path in enumerate(names):
        s = sweeps(path, args.n_threads)
        full = s[K_MAXES[-1]][1]
        prefix_same += all(np.array_equal(s[m][1], full[:m]) for m in K_MAXES[:-1])
        curves.append(s)
        if (j + 1) % 20 == 0:
            print(f"{j + 1}/{len(names)} photos, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    n = len(names)

    former = [[former_knee(s[m][0], s[m][1]) for m in K_MAXES] for s in curves]
    former_same = sum(len(set(f)) == 1 for f in former)
    command = " ".join(["python benchmarks/bench_knee.py"] + (argv if argv is not None else sys.argv[1:]))
    lines = [f"# k='auto' over k_max {', '.join(map(str, K_MAXES))}: BSDS500 {args.set} ({n} photos)", "",
             f"command: `{command}`; {datetime.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, "
             f"kmseg {kmseg.__version__}; {seconds:.0f} s for the {3 * n} sweeps", "",
             "| min_drop | same k for all k_max | clear (k_max=10) | = former rule (k_max=10) | median k | "
             "chosen k (k_max=10): photos |",
             "|---:|---:|---:|---:|---:|---|"]
    for value in values:
        chosen, clear = [], 0
        for s in curves:
            if value == MIN_DROP:  # the sweep's own choice
                ks, knee = [s[m][2].k for m in K_MAXES], s[K_MAXES[0]][2]
            else:
                knees = [kmseg.find_knee(s[m][0], s[m][1], warn=False, min_drop=value) for m in K_MAXES]
                ks, knee = [q.k for q in knees], knees[0]
            chosen.append(ks)
            clear += knee.clear
        same = sum(len(set(ks)) == 1 for ks in chosen)
        agree = sum(ks[0] == f[0] for ks, f in zip(chosen, former))
        counts = collections.Counter(ks[0] for ks in chosen)
        dist = ", ".join(f"{k}: {counts[k]}" for k in sorted(counts))
        mark = " (default)" if value == MIN_DROP else ""
        lines.append(f"| {value:g}{mark} | {same}/{n} ({same / n:.0%}) | {clear}/{n} | {agree}/{n} ({agree / n:.0%}) | "
                     f"{np.median([ks[0] for ks in chosen]):g} | {dist} |")
    fc = collections.Counter(f[0] for f in former)
    lines += ["",
              f"- former rule (Kneedle, log WCSS, chord first to last): same k for all k_max on {former_same}/{n} "
              f"({former_same / n:.0%}); chosen k (k_max=10): {', '.join(f'{k}: {fc[k]}' for k in sorted(fc))}",
              f"- the k_max=10 and 12 sweeps' WCSS equal the first values of the k_max=16 sweep's on "
              f"{prefix_same}/{n} photos", ""]
    text = "\n".join(lines)
    print(text)
    (_images.results_dir() / f"knee_{args.set}.md").write_text(text)


if __name__ == "__main__":
    main()
