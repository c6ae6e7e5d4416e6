"""Scoring a segmentation method over a dataset: per-image scores, ODS and OIS.

ODS (optimal dataset scale): the one parameter value best for the whole set,
each measure averaged over images at that value. OIS (optimal image scale): the
best value for each image, then averaged. As in the BSDS benchmark, each measure
chooses its own best value (highest covering and PRI, lowest VOI). Boundary F,
with ``boundaries=True``, is pooled over the images first (``_boundary_pr.py``).
"""

import os
import sys
import time
from typing import NamedTuple

import numpy as np

from .._validation import KmsegError
from ..io._read import read_image
from ..io._write import save_image
from ..pipeline._segment import segment
from ..regions._pipeline import region_hierarchy
from ._boundary import BSDS_TOLERANCE, _boundary_counts, _gt_boundaries
from ._boundary_pr import summarize_boundaries
from ._bsds import read_bsds_ground_truth
from ._evaluate import evaluate

#: Thresholds of the learned merge cost: chances that a merge joins two objects.
CHANCES = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8]
#: Parameter swept by default, per method, and its default values.
METHODS = {
    "regions": ("n_segments", list(range(2, 17))),
    "regions-threshold": ("threshold", CHANCES),
    "regions-smooth": ("threshold", CHANCES),
    "regions-ward": ("threshold", [5000, 6300, 7900, 10000, 13000, 16000, 20000, 25000, 32000, 40000,
                                   50000, 63000, 79000, 100000, 130000, 160000]),
    "kmeans": ("k", list(range(2, 17))),
    "kmeans-connected": ("k", list(range(2, 17))),
    "felzenszwalb": ("scale", [50, 100, 200, 300, 500, 800, 1200]),
    "slic": ("n_segments", [4, 8, 12, 16, 24, 32, 48]),
    "quickshift": ("max_dist", [5, 10, 15, 20, 30, 40]),
}
MEASURES = ("covering", "pri", "voi")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")


def run_method(method, image, value, cache=None):
    """Label map of ``image`` (an RGB uint8 array) by ``method`` at parameter ``value``.

    ``cache`` (a dict, one per image) keeps work shared between values.
    """
    if method in ("regions", "regions-threshold", "regions-smooth", "regions-ward"):
        cache = {} if cache is None else cache
        if "hierarchy" not in cache:
            cache["hierarchy"] = region_hierarchy(image, smooth=method == "regions-smooth",
                                                  cost="ward" if method == "regions-ward" else "learned")
        if method == "regions":
            return cache["hierarchy"].regions(int(value)).labels
        return cache["hierarchy"].regions_below(float(value)).labels
    if method in ("kmeans", "kmeans-connected"):
        labels = segment(image, int(value)).labels.astype(np.int64)
        if method == "kmeans":
            return labels
        from scipy import ndimage

        out = np.zeros_like(labels)
        offset = 0
        for c in range(int(labels.max()) + 1):
            comp, n = ndimage.label(labels == c)
            out[comp > 0] = comp[comp > 0] + offset - 1
            offset += n
        return out
    from skimage import segmentation

    if method == "felzenszwalb":
        return segmentation.felzenszwalb(image, scale=float(value), sigma=0.8, min_size=20)
    if method == "slic":
        return segmentation.slic(image, n_segments=int(value), compactness=20, start_label=0)
    if method == "quickshift":
        return segmentation.quickshift(image, kernel_size=5, max_dist=float(value), ratio=0.5)
    raise KmsegError(f"method={method!r} must be one of {', '.join(METHODS)}")


class DatasetScores(NamedTuple):
    """Scores of a method over a dataset."""

    #: Parameter name and values tried.
    parameter: str
    values: list
    #: Per image and value: rows of (image, value, covering, pri, voi, seconds), then with
    #: boundaries the four boundary counts (seg_matched, seg_total, gt_matched, gt_total).
    rows: list
    #: Measure -> (best value, mean score) over the set (ODS).
    ods: dict
    #: Measure -> mean over images of each image's best score (OIS).
    ois: dict
    #: Mean seconds per image and value of the method alone (its segmentation).
    seconds: float
    #: Wall seconds of the whole run (reading, segmenting, scoring), per image and value.
    wall_seconds: float = float("nan")
    #: Boundary F at ODS and OIS and AP (a :class:`BoundarySummary`), or None without boundaries.
    boundary: object = None

    def table(self):
        """ODS / OIS as a plain-text table (with boundaries: F_b, and AP below)."""
        b = self.boundary
        head = f"{'':<10}{'Covering':>12}{'PRI':>12}{'VOI':>12}" + (f"{'F_b':>12}" if b else "")
        ods = "ODS" + " " * 7 + "".join(f"{self.ods[m][1]:>12.4f}" for m in MEASURES)
        at = (f"  {self.parameter}" + " " * max(0, 8 - len(self.parameter))
              + "".join(f"{str(self.ods[m][0]):>12}" for m in MEASURES))
        ois = "OIS" + " " * 7 + "".join(f"{self.ois[m]:>12.4f}" for m in MEASURES)
        lines = [head, ods + (f"{b.ods_f:>12.4f}" if b else ""), at + (f"{str(b.ods_value):>12}" if b else ""),
                 ois + (f"{b.ois_f:>12.4f}" if b else "")]
        if b:
            lines.append(f"boundaries: ODS P={b.ods_precision:.4f} R={b.ods_recall:.4f}, "
                         f"OIS P={b.ois_precision:.4f} R={b.ois_recall:.4f}, AP={b.ap:.4f} "
                         f"(over {len(self.values)} values)")
        return "\n".join(lines)


def list_pairs(images_dir, ground_truth_dir):
    """(image path, ground-truth path) for every image that has a ``.mat`` beside it."""
    if not os.path.isdir(images_dir):
        raise KmsegError(f"{images_dir!r}: not a folder")
    if not os.path.isdir(ground_truth_dir):
        raise KmsegError(f"{ground_truth_dir!r}: not a folder")
    pairs = []
    for name in sorted(os.listdir(images_dir)):
        stem, ext = os.path.splitext(name)
        gt = os.path.join(ground_truth_dir, stem + ".mat")
        if ext.lower() in IMAGE_SUFFIXES and os.path.exists(gt):
            pairs.append((os.path.join(images_dir, name), gt))
    if not pairs:
        raise KmsegError(f"no image in {images_dir!r} has a ground truth .mat in {ground_truth_dir!r}")
    return pairs


def evaluate_dataset(images_dir, ground_truth_dir, method="regions-threshold", values=None, *, save=None,
                     limit=None, progress=False, boundaries=True):
    """Run ``method`` over a folder of images for each parameter value, and score it.

    Parameters
    ----------
    images_dir, ground_truth_dir : str
        Images, and BSDS ``.mat`` ground truths named after them.
    method : str, default='regions-threshold'
        One of ``METHODS``: 'regions' (:func:`kmseg.segment_regions` by number of
        segments), 'regions-threshold' (the same, merging stopped by a threshold:
        the learned cost's chance that a merge joins two objects), 'regions-smooth'
        (that, with ``smooth=True``), 'regions-ward' (merging by the hand-made cost,
        ``cost='ward'``, stopped by its threshold),
        'kmeans' (colour classes), 'kmeans-connected' (each class split into its
        connected pieces), and scikit-image's 'felzenszwalb', 'slic', 'quickshift'.
    values : list, optional
        Parameter values; the method's default sweep by default.
    save : str, optional
        Folder: each label map goes to ``save/<image stem>/<value>.png`` (16-bit PNG).
    limit : int, optional
        Only the first ``limit`` images (sorted by name).
    progress : bool, default=False
        A line per image on standard error, with rate and time left.
    boundaries : bool, default=True
        Also match boundaries (BSDS500, :func:`boundary_scores`): boundary F at
        ODS and OIS and the average precision over the values, pooled over the
        images as the BSDS benchmark does (``_boundary_pr.py``). About 0.1 to 0.3 s
        per image and value on a BSDS photo.

    Returns
    -------
    DatasetScores
    """
    if method not in METHODS:
        raise KmsegError(f"method={method!r} must be one of {', '.join(METHODS)}")
    parameter, default = METHODS[method]
    values = list(default if values is None else values)
    pairs = list_pairs(images_dir, ground_truth_dir)[:limit]
    rows = []
    start = time.perf_counter()
    for i, (image_path, gt_path) in enumerate(pairs):
        image = read_image(image_path)
        if image.ndim == 3 and image.shape[2] == 2:  # grey + alpha
            image = image[:, :, 0]
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        image = image[:, :, :3]
        gts = read_bsds_ground_truth(gt_path)
        gt_bdrys = _gt_boundaries(gts) if boundaries else None
        stem = os.path.splitext(os.path.basename(image_path))[0]
        cache = {}
        for value in values:
            t = time.perf_counter()
            labels = run_method(method, image, value, cache)
            seconds = time.perf_counter() - t
            scores = evaluate(labels, gts, boundaries=False)
            row = (stem, value, scores.covering, scores.pri, scores.voi, seconds)
            if boundaries:
                row += tuple(_boundary_counts(labels, gt_bdrys, BSDS_TOLERANCE)[3:])
            rows.append(row)
            if save is not None:
                folder = os.path.join(save, stem)
                os.makedirs(folder, exist_ok=True)
                save_image(os.path.join(folder, f"{value}.png"), labels.astype(np.uint16))
        if progress:
            done = i + 1
            rate = done / (time.perf_counter() - start)
            left = (len(pairs) - done) / rate
            print(f"evaluate: {done}/{len(pairs)} images, {rate:.2f} images/s, {left:.0f} s left",
                  file=sys.stderr, flush=True)
    scores = np.array([r[2:5] for r in rows]).reshape(len(pairs), len(values), 3)
    mean = scores.mean(axis=0)  # (values, measures)
    ods, ois = {}, {}
    for j, m in enumerate(MEASURES):
        pick = np.argmin if m == "voi" else np.argmax
        best = int(pick(mean[:, j]))
        ods[m] = (values[best], float(mean[best, j]))
        per_image = scores[:, :, j].min(axis=1) if m == "voi" else scores[:, :, j].max(axis=1)
        ois[m] = float(per_image.mean())
    seconds = float(np.mean([r[5] for r in rows]))
    wall = (time.perf_counter() - start) / max(len(rows), 1)
    summary = summarize_boundaries([r[6:10] for r in rows], values) if boundaries else None
    return DatasetScores(parameter, values, rows, ods, ois, seconds, wall, summary)
