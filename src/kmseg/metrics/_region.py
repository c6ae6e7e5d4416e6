"""Region scores of a segmentation against human ground truth: covering, Rand index, VOI.

The definitions are those of the Berkeley Segmentation Dataset benchmark, BSDS500
(P. Arbelaez, M. Maire, C. Fowlkes, J. Malik, "Contour Detection and Hierarchical
Image Segmentation", IEEE TPAMI 33(5), 2011), as its MATLAB code computes them
(``BSR/bench/benchmarks``: ``match_segmentations2.m`` for the Rand index and the
variation of information, ``match_segmentations.m`` and ``evaluation_reg_image.m``
for the covering, ``seg2bdry.m``, ``evaluation_bdry_image.m`` and the
``correspondPixels`` matcher for the boundaries):

* Rand index: the fraction of the ``N (N - 1) / 2`` pixel pairs on which the two
  maps agree (same region in both, or different regions in both). The
  probabilistic Rand index (PRI) of one image is its mean over the human
  segmentations.
* Variation of information: ``H(S) + H(G) - 2 I(S, G)`` with base-2 logarithms
  (bits), as ``match_segmentations2.m`` uses ``log2``; its mean over the human
  segmentations is the image's VOI.
* Segmentation covering of the ground truth ``G`` by the segmentation ``S``:
  ``sum over regions R of G of |R| max_{R' in S} |R & R'| / |R | R'|``, divided by
  the number of pixels. BSDS pools all the human segmentations of an image
  (``cntR / sumR`` in ``evaluation_reg_image.m``); as each one covers every pixel,
  that is the mean of the coverings of each human segmentation.
* Boundaries: pixels whose 2x2 block (clipped at the image edge) holds two labels
  (``seg2bdry(seg, 'imageSize')``), thinned (``bwmorph(.., 'thin', inf)``);
  this reproduces the ``Boundaries`` stored in the BSDS500 ground-truth files.
  Pixels within ``tolerance`` times the image diagonal are matched one-to-one;
  recall pools the matched pixels of every human map, and a segmentation boundary
  pixel counts for precision if it is matched in any of them.

Every region score comes from the contingency table, in O(pixels + table entries).
"""
from typing import NamedTuple

import numpy as np

from .._validation import KmsegError


class Contingency(NamedTuple):
    """Joint label counts of two label maps (see :func:`contingency`)."""

    #: ``(n_seg_labels, n_gt_labels)`` ``scipy.sparse.csr_array`` of int64 pixel counts.
    table: object
    #: ``(n_seg_labels,)`` sorted labels of ``seg``: the rows of ``table``.
    seg_labels: np.ndarray
    #: ``(n_gt_labels,)`` sorted labels of ``gt``: the columns of ``table``.
    gt_labels: np.ndarray


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def _check_labels(name, labels, shape=None):
    """``labels`` as a 2-D integer array, of ``shape`` when given."""
    arr = np.asarray(labels)
    if arr.ndim != 2:
        raise KmsegError(f"{name} must be a 2-D (H, W) label map, got shape {arr.shape}")
    if arr.size == 0:
        raise KmsegError(f"{name} must not be empty, got shape {arr.shape}")
    if arr.dtype == bool:
        arr = arr.view(np.uint8)
    elif not np.issubdtype(arr.dtype, np.integer):
        raise KmsegError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    if shape is not None and arr.shape != shape:
        raise KmsegError(f"{name} has shape {arr.shape}, expected the shape of seg {shape}")
    return arr


def _check_gts(gts, shape):
    """The ground truths as a list of label maps of ``shape``.

    ``gts`` is a sequence of (H, W) maps, a (G, H, W) array, or one (H, W) map.
    """
    if isinstance(gts, np.ndarray) and gts.ndim == 2:
        gts = [gts]
    gts = list(gts)
    if not gts:
        raise KmsegError("gts must hold at least one ground-truth label map, got none")
    return [_check_labels(f"gts[{i}]", gt, shape) for i, gt in enumerate(gts)]


# ---------------------------------------------------------------------------
# Contingency table and region scores
# ---------------------------------------------------------------------------

def _compact(values):
    """``(codes, labels)``: codes in ``[0, len(labels))`` with ``labels[codes] == values``."""
    low, high = int(values.min()), int(values.max())
    if low >= 0 and high < max(4 * values.size, 1 << 16):
        present = np.bincount(values.astype(np.intp, copy=False), minlength=high + 1) > 0
        codes = np.cumsum(present) - 1
        return codes[values], np.flatnonzero(present).astype(values.dtype)
    labels, codes = np.unique(values, return_inverse=True)
    return codes.ravel(), labels


class _Joint(NamedTuple):
    """Non-zero cells of a contingency table, in compact label codes."""

    rows: np.ndarray
    cols: np.ndarray
    counts: np.ndarray
    seg_sizes: np.ndarray
    gt_sizes: np.ndarray
    seg_labels: np.ndarray
    gt_labels: np.ndarray

    @property
    def n(self):
        return int(self.seg_sizes.sum())


def _joint(seg, gt):
    """The non-zero cells of the contingency table of two checked label maps."""
    a, seg_labels = _compact(seg.ravel())
    b, gt_labels = _compact(gt.ravel())
    n_a, n_b = len(seg_labels), len(gt_labels)
    key = a.astype(np.int64) * n_b + b
    if n_a * n_b <= max(4 * key.size, 1 << 16):
        counts = np.bincount(key, minlength=n_a * n_b)
        cells = np.flatnonzero(counts)
        counts = counts[cells]
    else:
        cells, counts = np.unique(key, return_counts=True)
    rows, cols = np.divmod(cells, n_b)
    return _Joint(
        rows, cols, counts.astype(np.int64),
        np.bincount(a, minlength=n_a), np.bincount(b, minlength=n_b), seg_labels, gt_labels,
    )


def _sum_squares(x):
    x = x.astype(np.float64)
    return float(np.dot(x, x))


def _rand(joint):
    """Rand index from the table (``rand_index`` of ``match_segmentations2.m``)."""
    n = joint.n
    if n < 2:
        return 1.0
    disagree = (_sum_squares(joint.seg_sizes) + _sum_squares(joint.gt_sizes)) / 2 - _sum_squares(
        joint.counts
    )
    return 1.0 - disagree / (n * (n - 1) / 2)


def _voi(joint):
    """Variation of information in bits: ``H(S|G) + H(G|S)``."""
    c = joint.counts.astype(np.float64)
    a = joint.seg_sizes[joint.rows].astype(np.float64)
    b = joint.gt_sizes[joint.cols].astype(np.float64)
    vi = float(np.dot(c, np.log2(a) + np.log2(b) - 2 * np.log2(c))) / joint.n
    return max(vi, 0.0)


def _covering(joint):
    """Covering of the ground truth by the segmentation (``R`` of the region benchmark)."""
    c = joint.counts.astype(np.float64)
    union = joint.seg_sizes[joint.rows] + joint.gt_sizes[joint.cols] - c
    best = np.zeros(len(joint.gt_sizes))
    np.maximum.at(best, joint.cols, c / union)
    return float(np.dot(joint.gt_sizes, best)) / joint.n


def contingency(seg, gt):
    """Joint label counts of two label maps.

    Parameters
    ----------
    seg, gt : (H, W) ndarray of int or bool
        Label maps of the same shape. Labels are any integers, such as the labels
        from 1 of BSDS ground truth; only the labels present get a row or column.

    Returns
    -------
    Contingency
        ``table``, a ``(n_seg_labels, n_gt_labels)`` ``scipy.sparse.csr_array`` of
        int64 counts where ``table[i, j]`` is the number of pixels labelled
        ``seg_labels[i]`` in ``seg`` and ``gt_labels[j]`` in ``gt``; ``seg_labels``
        and ``gt_labels``, the sorted distinct labels.

    Raises
    ------
    KmsegError
        If a map is not a non-empty 2-D integer array, or the shapes differ.

    See Also
    --------
    rand_index, variation_of_information, segmentation_covering

    Examples
    --------
    >>> import numpy as np
    >>> seg = np.array([[0, 0, 1], [0, 0, 1]])
    >>> gt = np.array([[1, 1, 1], [5, 5, 5]])
    >>> table, seg_labels, gt_labels = contingency(seg, gt)
    >>> table.toarray()
    array([[2, 2],
           [1, 1]])
    >>> gt_labels
    array([1, 5])
    """
    from scipy.sparse import csr_array

    seg = _check_labels("seg", seg)
    joint = _joint(seg, _check_labels("gt", gt, seg.shape))
    table = csr_array(
        (joint.counts, (joint.rows, joint.cols)),
        shape=(len(joint.seg_labels), len(joint.gt_labels)),
    )
    return Contingency(table, joint.seg_labels, joint.gt_labels)


def rand_index(seg, gt):
    """Rand index of two label maps: the fraction of pixel pairs they agree on.

    A pair agrees when both maps put its two pixels in the same region, or both
    put them in different regions. Computed from the contingency table ``n`` with
    row sums ``a`` and column sums ``b`` as
    ``1 - (sum(a**2) / 2 + sum(b**2) / 2 - sum(n**2)) / (N (N - 1) / 2)``,
    the formula of BSDS500's ``match_segmentations2.m``.

    Parameters
    ----------
    seg, gt : (H, W) ndarray of int or bool
        Label maps of the same shape; the index is symmetric in them.

    Returns
    -------
    float
        In ``[0, 1]``; 1 when the maps are equal up to a renaming of labels,
        and 1 for a single pixel (no pairs).

    Raises
    ------
    KmsegError
        If a map is not a non-empty 2-D integer array, or the shapes differ.

    See Also
    --------
    probabilistic_rand_index : its mean over several ground truths.

    Examples
    --------
    >>> import numpy as np
    >>> seg = np.array([[0, 0, 1], [0, 0, 1]])
    >>> gt = np.array([[0, 0, 0], [1, 1, 1]])
    >>> round(rand_index(seg, gt), 6)  # 6 of the 15 pairs agree
    0.4
    >>> rand_index(seg, 7 - seg)
    1.0
    """
    seg = _check_labels("seg", seg)
    return _rand(_joint(seg, _check_labels("gt", gt, seg.shape)))


def probabilistic_rand_index(seg, gts):
    """Probabilistic Rand index (PRI): the mean Rand index over the ground truths.

    BSDS500 (``match_segmentations2.m``) averages the Rand index against each human
    segmentation of the image, which is what this does.

    Parameters
    ----------
    seg : (H, W) ndarray of int or bool
        The segmentation.
    gts : sequence of (H, W) ndarray of int, or (G, H, W) ndarray
        The ground-truth label maps; a single (H, W) map is taken as one.

    Returns
    -------
    float
        In ``[0, 1]``, higher is better.

    Raises
    ------
    KmsegError
        If a map is not a non-empty 2-D integer array, the shapes differ, or
        ``gts`` is empty.

    See Also
    --------
    rand_index

    Examples
    --------
    >>> import numpy as np
    >>> seg = np.array([[0, 0, 1], [0, 0, 1]])
    >>> gts = [np.array([[0, 0, 0], [1, 1, 1]]), seg]
    >>> round(probabilistic_rand_index(seg, gts), 6)  # (0.4 + 1) / 2
    0.7
    """
    seg = _check_labels("seg", seg)
    return float(np.mean([_rand(_joint(seg, gt)) for gt in _check_gts(gts, seg.shape)]))


def variation_of_information(seg, gt):
    """Variation of information of two label maps, in bits.

    ``VI(S, G) = H(S) + H(G) - 2 I(S, G) = H(S | G) + H(G | S)``, with base-2
    logarithms as in BSDS500's ``match_segmentations2.m`` (and in
    ``skimage.metrics.variation_of_information``, which returns the two
    conditional entropies). Multiply by ``ln 2`` for nats.

    Parameters
    ----------
    seg, gt : (H, W) ndarray of int or bool
        Label maps of the same shape; the distance is symmetric in them.

    Returns
    -------
    float
        ``>= 0``, lower is better; 0 when the maps are equal up to a renaming of labels.

    Raises
    ------
    KmsegError
        If a map is not a non-empty 2-D integer array, or the shapes differ.

    See Also
    --------
    mean_variation_of_information : the BSDS average over several ground truths.

    Examples
    --------
    >>> import numpy as np
    >>> seg = np.array([[0, 0, 1], [0, 0, 1]])
    >>> gt = np.array([[0, 0, 0], [1, 1, 1]])
    >>> round(variation_of_information(seg, gt), 6)  # independent: H(1/3) + H(1/2) bits
    1.918296
    >>> variation_of_information(seg, seg + 3)
    0.0
    """
    seg = _check_labels("seg", seg)
    return _voi(_joint(seg, _check_labels("gt", gt, seg.shape)))


def mean_variation_of_information(seg, gts):
    """Variation of information averaged over the ground truths, as BSDS500 reports it.

    BSDS500 (``match_segmentations2.m``) takes the mean over the human
    segmentations of the image of the variation of information (in bits).

    Parameters
    ----------
    seg : (H, W) ndarray of int or bool
        The segmentation.
    gts : sequence of (H, W) ndarray of int, or (G, H, W) ndarray
        The ground-truth label maps; a single (H, W) map is taken as one.

    Returns
    -------
    float
        ``>= 0``, lower is better.

    Raises
    ------
    KmsegError
        If a map is not a non-empty 2-D integer array, the shapes differ, or
        ``gts`` is empty.

    See Also
    --------
    variation_of_information

    Examples
    --------
    >>> import numpy as np
    >>> seg = np.array([[0, 0, 1], [0, 0, 1]])
    >>> gts = [np.array([[0, 0, 0], [1, 1, 1]]), seg]
    >>> round(mean_variation_of_information(seg, gts), 6)
    0.959148
    """
    seg = _check_labels("seg", seg)
    return float(np.mean([_voi(_joint(seg, gt)) for gt in _check_gts(gts, seg.shape)]))


def segmentation_covering(seg, gts):
    """Covering of the ground truths by the segmentation, as BSDS500 defines it.

    Each ground-truth region ``R`` is scored by its best overlap
    ``|R & R'| / |R | R'|`` (intersection over union) with a region ``R'`` of
    ``seg``, weighted by its size ``|R|``: ``C = sum |R| max O(R, R') / N``.
    BSDS500 (``evaluation_reg_image.m``) pools the regions of all the human
    segmentations (``cntR / sumR``); each covers all N pixels, so this is the mean
    of the coverings of the ground truths. Unlike BSDS, which ignores label 0
    (its labels start at 1), every label here is a region.

    Parameters
    ----------
    seg : (H, W) ndarray of int or bool
        The segmentation.
    gts : sequence of (H, W) ndarray of int, or (G, H, W) ndarray
        The ground-truth label maps; a single (H, W) map is taken as one.

    Returns
    -------
    float
        In ``(0, 1]``, higher is better; 1 when ``seg`` equals every ground
        truth up to a renaming of labels.

    Raises
    ------
    KmsegError
        If a map is not a non-empty 2-D integer array, the shapes differ, or
        ``gts`` is empty.

    See Also
    --------
    evaluate

    Examples
    --------
    >>> import numpy as np
    >>> seg = np.array([[0, 0, 1], [0, 0, 1]])
    >>> gt = np.array([[0, 0, 0], [1, 1, 1]])
    >>> round(segmentation_covering(seg, [gt]), 6)  # each row: best IoU 2/5
    0.4
    >>> segmentation_covering(seg, [seg])
    1.0
    """
    seg = _check_labels("seg", seg)
    return float(np.mean([_covering(_joint(seg, gt)) for gt in _check_gts(gts, seg.shape)]))
