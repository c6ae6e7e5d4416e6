"""All BSDS500 scores of one segmentation: the region scores and the boundary scores."""

from typing import NamedTuple

import numpy as np

from .._validation import check_number
from ._boundary import BSDS_TOLERANCE, BoundaryScores, _boundary_scores
from ._region import _check_gts, _check_labels, _covering, _joint, _rand, _voi


class SegmentationScores(NamedTuple):
    """The BSDS500 scores of one segmentation of one image (see :func:`evaluate`)."""

    covering: float
    pri: float
    voi: float
    precision: float
    recall: float
    f: float


# ---------------------------------------------------------------------------
# All scores of one image
# ---------------------------------------------------------------------------

def evaluate(seg, gts, tolerance=BSDS_TOLERANCE, *, boundaries=True):
    """All BSDS500 scores of one segmentation against the human segmentations of its image.

    Each contingency table is computed once and serves the three region scores.

    Parameters
    ----------
    seg : (H, W) ndarray of int or bool
        The segmentation.
    gts : sequence of (H, W) ndarray of int, or (G, H, W) ndarray
        The ground-truth label maps, such as :func:`read_bsds_ground_truth` returns;
        a single (H, W) map is taken as one.
    tolerance : float, default 0.0075
        Boundary matching distance as a fraction of the image diagonal.
    boundaries : bool, default True
        Compute the boundary scores (about three quarters of the time); when
        False, ``precision``, ``recall`` and ``f`` are NaN.

    Returns
    -------
    SegmentationScores
        ``covering`` (:func:`segmentation_covering`), ``pri``
        (:func:`probabilistic_rand_index`), ``voi``
        (:func:`mean_variation_of_information`, bits), and ``precision``,
        ``recall``, ``f`` (:func:`boundary_scores`).

    Raises
    ------
    KmsegError
        If a map is not a non-empty 2-D integer array, the shapes differ, ``gts``
        is empty, or ``tolerance`` is not a finite number ``>= 0``.

    See Also
    --------
    read_bsds_ground_truth

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.repeat([[1, 1, 2, 2, 2, 3]], 5, axis=0)
    >>> scores = evaluate(gt * 10, [gt])
    >>> scores.covering, scores.pri, scores.voi, scores.f
    (1.0, 1.0, 0.0, 1.0)
    """
    seg = _check_labels("seg", seg)
    gts = _check_gts(gts, seg.shape)
    tolerance = check_number("tolerance", tolerance)
    joints = [_joint(seg, gt) for gt in gts]
    if boundaries:
        boundary = _boundary_scores(seg, gts, tolerance)
    else:
        boundary = BoundaryScores(np.nan, np.nan, np.nan, 0, 0, 0, 0)
    return SegmentationScores(
        float(np.mean([_covering(j) for j in joints])),
        float(np.mean([_rand(j) for j in joints])),
        float(np.mean([_voi(j) for j in joints])),
        boundary.precision,
        boundary.recall,
        boundary.f,
    )


#: Public name of :func:`evaluate` in the ``kmseg`` namespace.
evaluate_segmentation = evaluate
