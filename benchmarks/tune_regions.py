"""Tuning of kmseg's region pipeline on the BSDS500 train split.

Run from the repository root::

    python benchmarks/tune_regions.py --configs base B best                # on all 200 train photos
    python benchmarks/tune_regions.py --limit 50 --extra '{"texture": 3}'  # one more design, 50 photos
    python benchmarks/tune_regions.py --configs best --split val           # to confirm on val

The first round (BENCHMARKS.md lists every design tried and its scores) ran
designs one at a time with ``--limit 50 --extra ...``, the named ones then
confirmed on all 200 train photos; the second round ran every design on all 200
(``--workers 1 --configs --extra ...``).

Every design is a dict of :func:`kmseg.metrics`-independent settings of the
pipeline (superpixels, smoothing, edge map, merge cost, stopping rule). For a
design, each photo is segmented once into its full merge order; every value
of the stopping threshold then only cuts that order. Scores are the BSDS
region measures (Covering, PRI, VOI) computed exactly as ``kmseg.metrics``
does, but from a superpixel-by-human contingency table made once per photo,
so each threshold costs a few bincounts instead of a pass over the pixels.
ODS: the best single threshold for the set, per measure.

Designs are chosen on train; ``--split val`` scores one on val (BENCHMARKS.md
says where that was done), as ``kmseg evaluate`` / ``benchmarks/bench_bsds.py`` do.
"""

import argparse
import hashlib
import json
import os
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
#: ../shared/data/bsds500 beside the repository (or beside the folder of worktrees holding it)
BSDS = next((d / "shared" / "data" / "bsds500" for d in (ROOT.parent, ROOT.parent.parent)
             if (d / "shared" / "data" / "bsds500").is_dir()), ROOT.parent / "shared" / "data" / "bsds500")
#: Superpixels are cached here between runs (git-ignored); None: no cache.
CACHE = ROOT / "benchmarks" / "results" / "tune_cache"
#: Thresholds tried for every design (cost per pixel, after the design's normalisation).
GRID = np.geomspace(10, 1e7, 61)

BASE = dict(n_superpixels=1000, compactness=10.0, smooth=None, edges="sobel", edge_weight=30.0,
            dilate=0, hist=None, hist_weight=0.0, norm="pixel", min_size=0, stop_alpha=0.0, size_power=1.0)


def _photos(split, limit):
    names = sorted(p.stem for p in (BSDS / "images" / split).glob("*.jpg"))
    return [(BSDS / "images" / split / (n + ".jpg"), BSDS / "groundTruth" / split / (n + ".mat"))
            for n in names[:limit]]


def _edge_map(lab, kind):
    from scipy import ndimage
    from skimage import filters

    def sobel(x):
        return np.sqrt(sum(filters.sobel(x[:, :, c]) ** 2 for c in range(3)))

    if kind == "sobel":
        return sobel(lab)
    if kind == "sobel-g1":
        return sobel(ndimage.gaussian_filter(lab, (1, 1, 0)))
    if kind == "sobel-2scale":
        return (sobel(lab) + sobel(ndimage.gaussian_filter(lab, (2, 2, 0))) * 2) / 2
    if kind == "sobel-max":
        return np.max([filters.sobel(lab[:, :, c]) for c in range(3)], axis=0)
    if kind.startswith("strip"):  # "strip-W-G": colour difference of W-pixel strips G pixels either side
        _, width, gap = kind.split("-")
        return strip_contrast(lab, int(width), int(gap))
    if kind.startswith("sobel+strip"):  # mean of the two, the strip difference at Sobel's scale
        _, width, gap = kind.split("-")
        col, row = strip_contrast(lab, int(width), int(gap))
        s = sobel(lab)
        return (s[:, :-1] + s[:, 1:] + col / 2.8) / 3, (s[:-1] + s[1:] + row / 2.8) / 3
    raise ValueError(kind)


def strip_contrast(lab, width, gap):
    """CIELAB distance between the means of two ``width``-pixel strips on either
    side of each 4-neighbour pixel pair, starting ``gap`` pixels away from it,
    as ``(across_columns (H, W-1), across_rows (H-1, W))``."""
    def across(img):
        w = img.shape[1]
        pad = gap + width
        padded = np.pad(img, ((0, 0), (pad, pad), (0, 0)), mode="edge")
        cs = np.concatenate([np.zeros_like(padded[:, :1]), np.cumsum(padded, axis=1)], axis=1)
        x = np.arange(w - 1)
        left = x + 1                      # first padded column of the strip left of pair x
        right = x + 1 + gap + pad         # and of the one on its right
        d = (cs[:, left + width] - cs[:, left]) - (cs[:, right + width] - cs[:, right])
        return np.sqrt((d ** 2).sum(-1)) / width

    return across(lab), across(lab.transpose(1, 0, 2)).T


def _codes(lab, kind, edges=None):
    """Histogram bin of every pixel and the number of bins."""
    def q(x, lo, hi, n):
        return np.clip(((x - lo) / (hi - lo) * n).astype(np.int64), 0, n - 1)

    if kind == "ab8":
        return q(lab[:, :, 1], -40, 40, 8) * 8 + q(lab[:, :, 2], -40, 60, 8), 64
    if kind == "lab4":
        return (q(lab[:, :, 0], 0, 100, 4) * 4 + q(lab[:, :, 1], -40, 40, 4)) * 4 + q(lab[:, :, 2], -40, 60, 4), 64
    if kind == "lab6":
        return (q(lab[:, :, 0], 0, 100, 6) * 6 + q(lab[:, :, 1], -40, 40, 6)) * 6 + q(lab[:, :, 2], -40, 60, 6), 216
    if kind == "L16":
        return q(lab[:, :, 0], 0, 100, 16), 16
    raise ValueError(kind)


def superpixels(img, lab, cfg):
    """SLIC superpixels of a photo's CIELAB (possibly smoothed) image, from the cache if there."""
    from kmseg.regions._superpixels import slic_superpixels

    key = f"{cfg['n_superpixels']}-{cfg['compactness']:g}-{cfg['smooth']}-{cfg.get('slic_iter', 10)}"
    cache = CACHE / key.replace(" ", "") / (hashlib.md5(img.tobytes()).hexdigest() + ".npy") if CACHE else None
    if cache is not None and cache.exists():
        return np.load(cache)
    sp = slic_superpixels(lab, cfg["n_superpixels"], cfg["compactness"], cfg.get("slic_iter", 10))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, sp)
    return sp


def hierarchy(img, cfg):
    """Superpixels, the merge order and the normalised running-max costs of one photo."""
    from kmseg.color._smooth import edge_preserving_smooth
    from kmseg.color._spaces import lab_image
    from kmseg.regions._merge import merge_tree

    lab = lab_image(img)
    if cfg["smooth"]:  # as segment_regions(smooth=True): everything below sees the smoothed image
        r, s, n = cfg["smooth"]
        lab = edge_preserving_smooth(lab, r, s, n)
    sp = superpixels(img, lab, cfg)
    edges = _edge_map(lab, cfg["edges"])
    if cfg["dilate"]:
        from scipy import ndimage
        edges = ndimage.grey_dilation(edges, size=(cfg["dilate"], cfg["dilate"]))
    codes, n_codes = (None, 0)
    if cfg["hist"]:
        codes, n_codes = _codes(lab, cfg["hist"])
    feats = lab
    if cfg.get("l_weight", 1.0) != 1.0:  # lightness weighed against colour in the region means
        feats = lab * np.array([cfg["l_weight"], 1.0, 1.0])
    if cfg.get("texture"):  # local contrast of L: the smoothed gradient magnitude, as one more feature
        from scipy import ndimage
        if cfg.get("texture_lab"):  # of all three channels instead
            grad = _edge_map(lab, "sobel")
        else:
            grad = _edge_map(lab[:, :, :1].repeat(3, 2), "sobel") / np.sqrt(3)
        grad = ndimage.gaussian_filter(grad, cfg.get("texture_sigma", 3))
        feats = np.concatenate([feats, cfg["texture"] * grad[:, :, None]], axis=2)
    merges, costs = merge_tree(sp, feats, edges, cfg["edge_weight"], return_costs=True, codes=codes,
                               n_codes=n_codes, hist_weight=cfg["hist_weight"],
                               size_power=cfg["size_power"], share_power=cfg.get("share_power", 0.0),
                               edge_floor=cfg.get("edge_floor", 0.0))
    costs = np.asarray(costs) / sp.size ** cfg["size_power"]
    if cfg["stop_alpha"]:  # cost / N * (N / harmonic size of the pair)^alpha
        size = np.bincount(sp.ravel()).astype(float)
        harm = np.empty(len(merges))
        for i, (a, b) in enumerate(merges):
            harm[i] = size[a] * size[b] / (size[a] + size[b])
            size[a] += size[b]
        costs = costs * (sp.size / harm) ** cfg["stop_alpha"]
    costs = np.maximum.accumulate(costs)
    if cfg.get("stop_edge_power"):  # per unit of the photo's mean Sobel gradient (CIELAB), to a power
        costs = costs / _edge_map(lab, "sobel").mean() ** cfg["stop_edge_power"]
    if cfg.get("noise_power"):  # per unit of the mean squared colour residual inside superpixels, to a power
        n = int(sp.max()) + 1
        cnt = np.bincount(sp.ravel(), minlength=n)
        resid = sum(float((lab[..., c] ** 2).sum()) - float((np.bincount(sp.ravel(), lab[..., c].ravel(), n) ** 2
                                                              / np.maximum(cnt, 1)).sum()) for c in range(3))
        costs = costs / (resid / sp.size / 10.0) ** cfg["noise_power"]
    if cfg["norm"] == "var":  # per unit of the photo's own colour variance
        costs = costs / lab.reshape(-1, 3).var(0).sum() * 100
    return sp, merges, costs, lab


def _tables(sp, gts):
    """Per human segmentation: (superpixel, human label, count) cells and the human sizes."""
    out = []
    n = int(sp.max()) + 1
    for gt in gts:
        g = np.unique(gt, return_inverse=True)[1].reshape(gt.shape)
        ng = int(g.max()) + 1
        cnt = np.bincount(sp.ravel() * ng + g.ravel(), minlength=n * ng)
        cells = np.flatnonzero(cnt)
        out.append((cells // ng, cells % ng, cnt[cells], np.bincount(g.ravel(), minlength=ng)))
    return out


def _scores(region_of, tables, sp_sizes):
    from kmseg.metrics._region import _covering, _Joint, _rand, _voi

    k = int(region_of.max()) + 1
    seg_sizes = np.bincount(region_of, weights=sp_sizes, minlength=k).astype(np.int64)
    res = []
    for rows_sp, cols, cnt, gt_sizes in tables:
        rows = region_of[rows_sp]
        ng = len(gt_sizes)
        c = np.bincount(rows * ng + cols, weights=cnt, minlength=k * ng)
        cells = np.flatnonzero(c)
        j = _Joint(cells // ng, cells % ng, c[cells].astype(np.int64), seg_sizes, gt_sizes,
                   np.arange(k), np.arange(ng))
        res.append((_covering(j), _rand(j), _voi(j)))
    return np.mean(res, axis=0)


def grid_scores(sp, merges, stop, grid, gts, lab=None, min_size=0):
    """(len(grid), 3) Covering / PRI / VOI of one photo, its merge order cut at each
    threshold of ``grid`` (``stop``: what a threshold is compared with, never decreasing)."""
    from kmseg.regions._merge import absorb_small, cut_tree

    n = int(sp.max()) + 1
    tables = _tables(sp, gts)
    sp_sizes = np.bincount(sp.ravel(), minlength=n)
    out = np.empty((len(grid), 3))
    last = None
    for i, th in enumerate(grid):
        done = int(np.searchsorted(stop, th, side="right"))
        if last is not None and done == last[0]:
            out[i] = last[1]
            continue
        region_of = cut_tree(n, merges, max(1, n - done))
        if min_size > 1:
            region_of = absorb_small(region_of[sp], lab, min_size)[region_of]
        out[i] = _scores(region_of, tables, sp_sizes)
        last = (done, out[i])
    return out


def ods(mean, grid):
    """Per measure, the grid value best on average over the photos and that mean score;
    ``mean``: (len(grid), 3) Covering / PRI / VOI averaged over the photos."""
    return {"covering": (grid[mean[:, 0].argmax()], mean[:, 0].max()),
            "pri": (grid[mean[:, 1].argmax()], mean[:, 1].max()),
            "voi": (grid[mean[:, 2].argmin()], mean[:, 2].min())}


def score_photo(args):
    """(len(GRID), 3) scores of one photo under one design, and seconds for the hierarchy."""
    cfg, image_path, gt_path = args
    from kmseg.io._read import read_image
    from kmseg.metrics._bsds import read_bsds_ground_truth

    img = read_image(str(image_path))[:, :, :3]
    gts = read_bsds_ground_truth(str(gt_path))
    t = time.perf_counter()
    sp, merges, costs, lab = hierarchy(img, cfg)
    seconds = time.perf_counter() - t
    return grid_scores(sp, merges, costs, GRID, gts, lab, cfg["min_size"]), seconds


def evaluate_design(cfg, photos, workers=2):
    full = {**BASE, **cfg}
    jobs = [(full, a, b) for a, b in photos]
    if workers > 1:
        with Pool(workers) as pool:
            res = pool.map(score_photo, jobs, chunksize=4)
    else:
        res = [score_photo(j) for j in jobs]
    scores = np.stack([r[0] for r in res])  # (photos, grid, 3)
    return ods(scores.mean(0), GRID), float(np.median([r[1] for r in res]))


def _fmt(name, ods, sec):
    return (f"{name:<40} Cov {ods['covering'][1]:.4f} @{ods['covering'][0]:.3g}  PRI {ods['pri'][1]:.4f} "
            f"@{ods['pri'][0]:.3g}  VOI {ods['voi'][1]:.4f} @{ods['voi'][0]:.3g}  ({sec:.3f} s/photo)")


#: Named designs (changes from BASE, the pipeline before any tuning). "B": the defaults after
#: the first round; "best" is kmseg.segment_regions(cost="ward") with its defaults (its constants in
#: kmseg/regions/_pipeline.py: B + compactness 20 + boundary contrast), and the inputs of the learned
#: cost (benchmarks/learn_merge.py), which is the default.
DESIGNS = {
    "base": {},
    "B": dict(n_superpixels=1500, texture=3.0, hist="ab8", hist_weight=1000.0, stop_alpha=0.25,
              share_power=0.25, slic_iter=7),
    "best": dict(n_superpixels=1500, texture=3.0, hist="ab8", hist_weight=1000.0, stop_alpha=0.25,
                 share_power=0.25, slic_iter=7, compactness=20.0, edge_floor=3.0, edge_weight=300.0),
}


def main(argv=None):
    global GRID
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=None, help="first N train photos (sorted by name)")
    p.add_argument("--configs", nargs="*", default=list(DESIGNS), help="named designs to score")
    p.add_argument("--extra", default=None, help="JSON dict: one more design, changes from BASE")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--grid", type=int, default=len(GRID), help="thresholds in the grid from 10 to 1e7")
    p.add_argument("--split", default="train", help="BSDS500 split to score on (tuning: train; val only to confirm)")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one kernel thread per worker process
    GRID = np.geomspace(10, 1e7, args.grid)
    photos = _photos(args.split, args.limit)
    designs = {name: DESIGNS[name] for name in args.configs}
    if args.extra:
        designs[args.extra] = json.loads(args.extra)
    print(f"{len(photos)} {args.split} photos", file=sys.stderr)
    for name, cfg in designs.items():
        ods, sec = evaluate_design(cfg, photos, args.workers)
        print(_fmt(name, ods, sec), flush=True)


if __name__ == "__main__":
    main()
