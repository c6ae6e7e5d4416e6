"""Boundary scores of a method over a data set, as the BSDS500 benchmark pools them.

Each image and parameter value gives four boundary pixel counts (see
:class:`BoundaryScores`): matched and total segmentation boundary pixels
(precision's numerator and denominator), matched and total ground-truth ones
(recall's). Following the BSDS500 benchmark (Arbelaez et al., "Contour Detection
and Hierarchical Image Segmentation", TPAMI 2011, section 3.1; its
``collect_eval_bdry.m``), the counts are summed over the images before any
ratio is taken:

- ODS (optimal data set scale): for each value, precision and recall of the
  counts summed over the images, their F; the value of the best F.
- OIS (optimal image scale): for each image, the counts of its own best value
  (by that image's F), summed over the images, then precision, recall and F.
- AP: the area under the data set's precision-recall curve (one point per
  value, from the summed counts): precision linearly interpolated in recall at
  recall 0, 0.01, ..., 1, points outside the recall range the values reach
  counting 0, the sum times 0.01, as ``collect_eval_bdry.m`` does. A sweep that
  reaches few recalls gets a low AP; a finer sweep covers more of the curve.

BSDS also interpolates between neighbouring thresholds when it picks the best F
(``maxF``); here the best is taken over the values tried.
"""

from typing import NamedTuple

import numpy as np

#: Recall step of the average precision (BSDS's ``dR``).
AP_RECALL_STEP = 0.01


class BoundarySummary(NamedTuple):
    """Boundary F at ODS and OIS and the average precision of a method over a data set."""

    #: Best value over the set (ODS), and precision, recall and F there.
    ods_value: object
    ods_precision: float
    ods_recall: float
    ods_f: float
    #: Each image at its own best value (OIS): precision, recall, F of the summed counts.
    ois_precision: float
    ois_recall: float
    ois_f: float
    #: Area under the precision-recall curve over the values.
    ap: float


def _prf(counts):
    """Precision, recall, F of ``(..., 4)`` counts ``(seg_matched, seg_total, gt_matched, gt_total)``."""
    counts = np.asarray(counts, dtype=np.float64)
    p = np.divide(counts[..., 0], counts[..., 1], out=np.zeros(counts.shape[:-1]), where=counts[..., 1] > 0)
    r = np.divide(counts[..., 2], counts[..., 3], out=np.zeros(counts.shape[:-1]), where=counts[..., 3] > 0)
    f = np.divide(2 * p * r, p + r, out=np.zeros(p.shape), where=p + r > 0)
    return p, r, f


def average_precision(precision, recall, step=AP_RECALL_STEP):
    """Area under a precision-recall curve given at a few points (BSDS500's AP).

    Precision is interpolated linearly in recall at ``0, step, ..., 1``; grid
    points outside the recall range of the points count 0; the sum times
    ``step`` is the area (as ``collect_eval_bdry.m``).

    Parameters
    ----------
    precision, recall : (n,) array-like
        The curve's points, in any order; of points of equal recall the first counts.
    step : float, default=0.01
        Recall step.

    Returns
    -------
    float
        0 for fewer than two distinct recalls.

    Examples
    --------
    >>> round(average_precision([1.0, 0.5], [0.0, 1.0]), 4)   # from (R=0, P=1) to (R=1, P=0.5)
    0.7575
    """
    recall, precision = np.asarray(recall, dtype=np.float64), np.asarray(precision, dtype=np.float64)
    recall, first = np.unique(recall, return_index=True)  # one point per recall, sorted
    if len(recall) < 2:
        return 0.0
    precision = precision[first]
    grid = np.linspace(0.0, 1.0, int(round(1 / step)) + 1)
    slack = 1e-9 * step  # a recall of 0.6 reaches the grid point 0.6, rounding aside
    inside = (grid >= recall[0] - slack) & (grid <= recall[-1] + slack)
    return float(np.interp(grid[inside], recall, precision).sum() * step)


def summarize_boundaries(counts, values):
    """ODS, OIS and AP from per-image, per-value boundary counts.

    Parameters
    ----------
    counts : (n_images, n_values, 4) array of int
        ``(seg_matched, seg_total, gt_matched, gt_total)`` of each image at each value.
    values : sequence
        The parameter values, in the order of ``counts``' second axis.

    Returns
    -------
    BoundarySummary

    See Also
    --------
    evaluate_dataset : which gathers the counts, image by image.

    Examples
    --------
    >>> counts = [[[9, 10, 5, 10], [1, 1, 1, 10]]]   # one image, two values
    >>> s = summarize_boundaries(counts, [0.4, 0.6])
    >>> s.ods_value, round(s.ods_f, 4), round(s.ois_f, 4)
    (0.4, 0.6429, 0.6429)
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(-1, len(values), 4)
    p, r, f = _prf(counts.sum(axis=0))  # per value, over the set
    best = int(np.argmax(f))
    per_image = _prf(counts)[2].argmax(axis=1)  # each image's best value
    op, orr, of = _prf(counts[np.arange(len(counts)), per_image].sum(axis=0))
    return BoundarySummary(values[best], float(p[best]), float(r[best]), float(f[best]),
                           float(op), float(orr), float(of), average_precision(p, r))
