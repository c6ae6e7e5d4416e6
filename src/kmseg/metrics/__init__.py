"""Scores of a segmentation against human ground truth, as the BSDS500 benchmark defines them.

Region scores (segmentation covering, probabilistic Rand index, variation of
information) come from the contingency table of two label maps; boundary
precision, recall and F-measure come from a one-to-one matching of boundary pixels
within a distance tolerance. :func:`read_bsds_ground_truth` reads the human
segmentations of one BSDS500 image. :func:`color_errors` and :func:`s_cielab`
judge a quantized or dithered image against its original (MSE, PSNR, CIEDE2000,
and S-CIELAB, which blurs both as the eye does). Importing this package loads
NumPy only; SciPy and scikit-image load when a function that needs them is called.
"""

from ._boundary import BSDS_TOLERANCE, BoundaryScores, boundary_map, boundary_scores
from ._boundary_pr import BoundarySummary, average_precision, summarize_boundaries
from ._bsds import read_bsds_ground_truth
from ._dataset import METHODS, DatasetScores, evaluate_dataset
from ._evaluate import SegmentationScores, evaluate, evaluate_segmentation
from ._image import SAMPLES_PER_DEGREE, ColorErrors, color_errors, s_cielab
from ._region import (
    Contingency,
    contingency,
    mean_variation_of_information,
    probabilistic_rand_index,
    rand_index,
    segmentation_covering,
    variation_of_information,
)

__all__ = [
    "BSDS_TOLERANCE",
    "BoundaryScores",
    "BoundarySummary",
    "ColorErrors",
    "Contingency",
    "DatasetScores",
    "METHODS",
    "SAMPLES_PER_DEGREE",
    "SegmentationScores",
    "boundary_map",
    "average_precision",
    "boundary_scores",
    "color_errors",
    "contingency",
    "evaluate",
    "evaluate_dataset",
    "evaluate_segmentation",
    "mean_variation_of_information",
    "probabilistic_rand_index",
    "rand_index",
    "read_bsds_ground_truth",
    "s_cielab",
    "segmentation_covering",
    "summarize_boundaries",
    "variation_of_information",
]
