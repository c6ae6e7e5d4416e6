"""Learn the merge cost of kmseg's region pipeline from the BSDS500 train photos.

Run from the repository root::

    python benchmarks/learn_merge.py                 # fit on all 200 train photos, print the model
    python benchmarks/learn_merge.py --folds 2       # cross-validated: fit on half, score the other half

The pipeline (``kmseg.segment_regions``) merges adjacent superpixels, the
cheapest pair first. Here the cost of a pair is learned: a logistic model of
the chance that a person puts the two regions in one segment, from the pair
features of ``kmseg.regions._merge_kernels.pair_features`` (colour and texture
differences, histogram distance, boundary strength and contrast, sizes, shared
boundary, and the hand-made cost). The target of a pair ``(A, B)`` is what the
Probabilistic Rand Index counts: the share of its pixel pairs ``(i in A, j in
B)`` that the photo's human segmentations put together, averaged over them.

Training pairs are the merges that the pipeline does, down to one region, in
every train photo (the states a merge order visits; as in learned agglomeration,
e.g. Nunez-Iglesias et al., PLoS ONE 2013, "GALA"): first with the hand-made
cost, then with the model of the round before, pooled. A pair is weighed by the
square root of its pixel pairs ``n_A n_B`` (a merge's share of PRI grows with
``n_A n_B``; the root keeps small merges in).

Scores: ODS Covering / PRI / VOI over a grid of thresholds on the model's chance that a
merge joins two objects (the unit of ``segment_regions(threshold=)``), as
``benchmarks/tune_regions.py`` scores a design.
"""

import argparse
import os
import sys
import time
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tune_regions as tr  # noqa: E402

#: Thresholds on the model's chance that a merge joins two objects, as ``segment_regions(threshold=)``
#: takes it: 121 values with odds from 1e-3 to 1e3, evenly spaced in log-odds.
ODDS = np.geomspace(1e-3, 1e3, 121)
CHANCE_GRID = ODDS / (1 + ODDS)


def _inputs(image_path):
    from kmseg.color._spaces import lab_image
    from kmseg.io._read import read_image
    from kmseg.regions import _pipeline as pl

    img = read_image(str(image_path))[:, :, :3]
    lab = lab_image(img)
    sp = tr.superpixels(img, lab, {**tr.BASE, **tr.DESIGNS["best"]})
    return sp, lab, pl._merge_inputs(lab)


def _targets(sp, merges, gts):
    """Per merge: the share of the pair's pixel pairs that the humans put together (mean over
    humans), and the number of those pixel pairs."""
    n = int(sp.max()) + 1
    flat = sp.ravel()
    counts = np.bincount(flat, minlength=n).astype(np.float64)
    tables = []
    for gt in gts:
        g = np.unique(gt, return_inverse=True)[1].ravel()
        ng = int(g.max()) + 1
        tables.append(np.bincount(flat * ng + g, minlength=n * ng).astype(np.float64).reshape(n, ng))
    y = np.empty(len(merges))
    pairs = np.empty(len(merges))
    for i, (a, b) in enumerate(merges):
        nab = counts[a] * counts[b]
        y[i] = np.mean([t[a] @ t[b] for t in tables]) / nab
        pairs[i] = nab
        counts[a] += counts[b]
        for t in tables:
            t[a] += t[b]
    return y, pairs


def collect(args):
    """Pair features, targets and pixel pairs of every merge of one photo under ``model``."""
    model, image_path, gt_path = args
    from kmseg.metrics._bsds import read_bsds_ground_truth
    from kmseg.regions._merge import merge_tree

    sp, lab, kw = _inputs(image_path)
    merges, feats = merge_tree(sp, **kw, model=model, return_features=True)
    y, pairs = _targets(sp, merges, read_bsds_ground_truth(str(gt_path)))
    return feats, y, pairs


def score(args):
    """(len(CHANCE_GRID), 3) Covering / PRI / VOI of one photo under ``model``."""
    model, image_path, gt_path = args
    from kmseg.metrics._bsds import read_bsds_ground_truth
    from kmseg.regions._merge import merge_tree
    from kmseg.regions._pipeline import stopping_chances

    sp, lab, kw = _inputs(image_path)
    t = time.perf_counter()
    merges, costs = merge_tree(sp, **kw, model=model, return_costs=True)
    seconds = time.perf_counter() - t
    return tr.grid_scores(sp, merges, stopping_chances(costs), CHANCE_GRID,
                          read_bsds_ground_truth(str(gt_path))), seconds


def fit(feats, y, weight, columns, c=1.0):
    """Logistic model (intercept, then a weight per pair feature; 0 for unused columns)."""
    from sklearn.linear_model import LogisticRegression

    x = feats[:, columns]
    mu, sd = x.mean(0), x.std(0) + 1e-12
    z = (x - mu) / sd
    n = len(y)
    lr = LogisticRegression(C=c, max_iter=2000)
    lr.fit(np.concatenate([z, z]), np.r_[np.ones(n), np.zeros(n)],
           sample_weight=np.r_[weight * y, weight * (1 - y)])
    w = np.zeros(1 + feats.shape[1])
    w[1 + np.asarray(columns)] = lr.coef_[0] / sd
    w[0] = lr.intercept_[0] - (lr.coef_[0] * mu / sd).sum()
    return w


def _map(fn, jobs, workers):
    if workers > 1:
        with Pool(workers) as pool:
            return pool.map(fn, jobs, chunksize=2)
    return [fn(j) for j in jobs]


def ods(scores):
    return tr.ods(np.mean(scores, 0), CHANCE_GRID)


def learn(photos, rounds, columns, power, workers, c=1.0):
    """Models fitted round by round on ``photos`` (each round pools the merges of all rounds so far)."""
    pool, models = [], []
    model = None
    for _ in range(rounds):
        got = _map(collect, [(model, a, b) for a, b in photos], workers)
        pool += got
        feats = np.concatenate([g[0] for g in pool])
        y = np.concatenate([g[1] for g in pool])
        pairs = np.concatenate([g[2] for g in pool])
        model = fit(feats, y, pairs ** power, columns, c)
        models.append(model)
    return models


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--folds", type=int, default=0, help="cross-validate on train with this many folds")
    p.add_argument("--columns", default=None, help="pair features used, e.g. 0,1,3 (default: all)")
    p.add_argument("--power", type=float, default=0.5, help="pairs are weighed by (n_A n_B)^power")
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--split", default="train", help="score the final model on this split too")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one kernel thread per worker process
    from kmseg.regions._merge_kernels import N_PAIR_FEATURES

    columns = list(range(N_PAIR_FEATURES)) if args.columns is None else [int(c) for c in args.columns.split(",")]
    photos = tr._photos("train", args.limit)
    if args.folds:
        scores = [[] for _ in range(args.rounds)]
        for k in range(args.folds):
            test = photos[k::args.folds]
            train = [ph for i, ph in enumerate(photos) if i % args.folds != k]
            for r, model in enumerate(learn(train, args.rounds, columns, args.power, args.workers, args.C)):
                scores[r] += [s for s, _ in _map(score, [(model, a, b) for a, b in test], args.workers)]
        for r in range(args.rounds):
            o = ods(scores[r])
            print(f"round {r + 1} cross-validated ({args.folds} folds, {len(photos)} train photos): "
                  f"Cov {o['covering'][1]:.4f}  PRI {o['pri'][1]:.4f} @{o['pri'][0]:.3g}  VOI {o['voi'][1]:.4f}",
                  flush=True)
        return
    model = learn(photos, args.rounds, columns, args.power, args.workers, args.C)[-1]
    print("model =", np.array2string(model, precision=6, separator=", ", max_line_width=100))
    for split in dict.fromkeys(["train", args.split]):
        res = _map(score, [(model, a, b) for a, b in tr._photos(split, args.limit)], args.workers)
        o = ods([s for s, _ in res])
        print(f"{split}: Cov {o['covering'][1]:.4f} @{o['covering'][0]:.3g}  PRI {o['pri'][1]:.4f} "
              f"@{o['pri'][0]:.3g}  VOI {o['voi'][1]:.4f} @{o['voi'][0]:.3g}  "
              f"(merge {np.median([t for _, t in res]) * 1e3:.1f} ms/photo)", flush=True)


if __name__ == "__main__":
    main()
