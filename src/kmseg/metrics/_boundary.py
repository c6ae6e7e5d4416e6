"""Boundary scores of a segmentation against human ground truth, as BSDS500 computes them.

Boundaries: pixels whose 2x2 block (clipped at the image edge) holds two labels
(``seg2bdry(seg, 'imageSize')``), thinned (``bwmorph(.., 'thin', inf)``); this
reproduces the ``Boundaries`` stored in the BSDS500 ground-truth files. Pixels
within ``tolerance`` times the image diagonal are matched one-to-one; recall pools
the matched pixels of every human map, and a segmentation boundary pixel counts
for precision if it is matched in any of them (see ``_region.py`` for the source).
"""

from typing import NamedTuple

import numpy as np

from .._validation import check_number
from ._region import _check_gts, _check_labels

#: BSDS500's boundary tolerance (``maxDist``), as a fraction of the image diagonal.
BSDS_TOLERANCE = 0.0075


class BoundaryScores(NamedTuple):
    """Boundary precision, recall and F-measure, with the counts behind them.

    The counts let a data set be scored as BSDS does: sum them over the images,
    then take ``seg_matched / seg_total`` and ``gt_matched / gt_total``.
    """

    precision: float
    recall: float
    f: float
    #: Segmentation boundary pixels matched in at least one ground truth (BSDS ``cntP``).
    seg_matched: int
    #: Segmentation boundary pixels (BSDS ``sumP``).
    seg_total: int
    #: Ground-truth boundary pixels matched, summed over the ground truths (``cntR``).
    gt_matched: int
    #: Ground-truth boundary pixels, summed over the ground truths (``sumR``).
    gt_total: int


# ---------------------------------------------------------------------------
# Boundaries
# ---------------------------------------------------------------------------

def _raw_boundaries(labels):
    """BSDS ``seg2bdry(labels, 'imageSize')``: the 2x2 block from each pixel holds two labels."""
    across = labels[:, :-1] != labels[:, 1:]  # pixel differs from its right neighbour
    down = labels[:-1, :] != labels[1:, :]  # pixel differs from its lower neighbour
    bdry = np.zeros(labels.shape, dtype=bool)
    bdry[:, :-1] |= across
    bdry[:-1, :] |= down
    bdry[:-1, :-1] |= across[1:, :] | down[:, 1:]
    return bdry


def boundary_map(labels):
    """The boundary pixels of a label map, as BSDS500 draws them.

    A pixel is on a boundary when the 2x2 block of which it is the top-left pixel
    (clipped at the image edge) holds more than one label (BSDS ``seg2bdry`` in
    ``'imageSize'`` format); the map is then thinned
    (``skimage.morphology.thin``, BSDS ``bwmorph(.., 'thin', inf)``). For every
    human segmentation of BSDS500's train and val sets this equals the stored
    ``Boundaries``.

    Parameters
    ----------
    labels : (H, W) ndarray of int or bool
        A label map.

    Returns
    -------
    (H, W) ndarray of bool
        True on boundary pixels.

    Raises
    ------
    KmsegError
        If ``labels`` is not a non-empty 2-D integer array.

    See Also
    --------
    boundary_scores

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 3, 3]])
    >>> boundary_map(labels).astype(int)  # thinning drops the pixel above the junction
    array([[0, 0, 0, 0],
           [1, 1, 1, 1],
           [0, 0, 0, 0]])
    """
    from skimage.morphology import thin

    return thin(_raw_boundaries(_check_labels("labels", labels)))


def _matched(bdry1, bdry2, radius):
    """Which pixels of ``bdry1`` a maximum one-to-one matching to ``bdry2`` uses.

    Pixels within ``radius`` (Euclidean) of each other may be matched. The matching
    is a maximum flow (Dinic's algorithm, the unit-capacity equivalent of
    Hopcroft-Karp) through source -> ``bdry1`` pixels -> ``bdry2`` pixels -> sink.
    ``scipy.sparse.csgraph.maximum_bipartite_matching`` is not used: its depth-first
    search takes exponential time on chain-like graphs such as boundaries
    (scipy issue 26147; seconds per map on BSDS images). Returns a bool array over
    the pixels of ``bdry1`` in row-major order, and the match size.
    """
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import maximum_flow

    y, x = np.nonzero(bdry1)
    n1, n2 = len(y), int(np.count_nonzero(bdry2))
    if n1 == 0 or n2 == 0:
        return np.zeros(n1, dtype=bool), 0
    node2 = np.full(bdry2.shape, -1, dtype=np.intp)
    node2[bdry2] = np.arange(n2)
    reach = int(np.floor(radius))
    dy, dx = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    near = dy**2 + dx**2 <= radius * radius
    yy = y[:, None] + dy[near][None, :]
    xx = x[:, None] + dx[near][None, :]
    height, width = bdry2.shape
    inside = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
    rows = np.broadcast_to(np.arange(n1)[:, None], yy.shape)[inside]
    cols = node2[yy[inside], xx[inside]]
    edge = cols >= 0
    # Nodes: bdry1 pixels [0, n1), bdry2 pixels [n1, n1 + n2), source, sink.
    source, sink = n1 + n2, n1 + n2 + 1
    tails = np.concatenate([np.full(n1, source), rows[edge], n1 + np.arange(n2)])
    heads = np.concatenate([np.arange(n1), n1 + cols[edge], np.full(n2, sink)])
    network = csr_array(
        (np.ones(len(tails), dtype=np.int32), (tails, heads)), shape=(sink + 1, sink + 1)
    )
    result = maximum_flow(network, source, sink, method="dinic")
    flow = result.flow.tocoo()
    through = (flow.data > 0) & (flow.row < n1)  # a bdry1 pixel sends its unit on
    used = np.zeros(n1, dtype=bool)
    used[flow.row[through]] = True
    return used, int(result.flow_value)


def _ratio(count, total):
    """BSDS's ``cnt / (sum + (sum == 0))``: 0 when there is nothing to count."""
    return count / total if total else 0.0


def _f_measure(precision, recall):
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


def boundary_scores(seg, gts, tolerance=BSDS_TOLERANCE):
    """Boundary precision, recall and F-measure against the ground truths (BSDS500).

    The boundaries of ``seg`` and of each ground truth are drawn by
    :func:`boundary_map`. A segmentation boundary pixel and a ground-truth one may
    be matched when they lie within ``tolerance * sqrt(H**2 + W**2)`` pixels
    (Euclidean), and each pixel is matched at most once. BSDS's ``correspondPixels``
    solves a minimum-cost assignment in which an unmatched pixel costs 100 times the
    largest allowed distance, which makes its optimum a maximum-cardinality
    matching. The match sizes here are those of a maximum matching (a maximum flow
    by Dinic's algorithm, ``scipy.sparse.csgraph.maximum_flow``), so they agree
    with BSDS except in pathological cases, where one more match would cost more
    than 100 tolerances of added distance. As in ``evaluation_bdry_image.m``, recall
    pools the matched and total pixels of every ground truth, and a segmentation
    pixel counts as matched for precision if any ground truth matches it. Which
    pixels a maximum matching uses is not unique (BSDS keeps the one of least total
    distance), so with several ground truths the precision may differ from BSDS's
    by a few pixels' worth; recall and single-ground-truth scores do not. A ratio
    with nothing to count is 0, as in BSDS (so a map with a single region scores 0).

    Parameters
    ----------
    seg : (H, W) ndarray of int or bool
        The segmentation.
    gts : sequence of (H, W) ndarray of int, or (G, H, W) ndarray
        The ground-truth label maps; a single (H, W) map is taken as one.
    tolerance : float, default 0.0075
        The largest matching distance as a fraction of the image diagonal:
        BSDS500's ``maxDist``, about 4.3 pixels for a 481 x 321 image.

    Returns
    -------
    BoundaryScores
        ``precision``, ``recall``, ``f`` (their harmonic mean) and the four
        pixel counts behind them.

    Raises
    ------
    KmsegError
        If a map is not a non-empty 2-D integer array, the shapes differ, ``gts``
        is empty, or ``tolerance`` is not a finite number ``>= 0``.

    See Also
    --------
    boundary_map, evaluate

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.repeat([[0, 0, 1, 1, 1]], 4, axis=0)  # boundary: column 1
    >>> seg = np.repeat([[0, 0, 1, 1, 2]], 4, axis=0)  # boundaries: columns 1 and 3
    >>> scores = boundary_scores(seg, [gt], tolerance=0.4)  # 0.4 * diagonal = 2.6 pixels
    >>> scores.precision, scores.recall, round(scores.f, 4)  # one-to-one: 4 of 8 matched
    (0.5, 1.0, 0.6667)
    """
    seg = _check_labels("seg", seg)
    gts = _check_gts(gts, seg.shape)
    tolerance = check_number("tolerance", tolerance)
    return _boundary_scores(seg, gts, tolerance)


def _boundary_scores(seg, gts, tolerance):
    return _boundary_counts(seg, _gt_boundaries(gts), tolerance)


def _gt_boundaries(gts):
    """The thinned boundary map of each ground truth: once per image, for every segmentation of it."""
    from skimage.morphology import thin

    return [thin(_raw_boundaries(gt)) for gt in gts]


def _boundary_counts(seg, gt_bdrys, tolerance):
    """:func:`boundary_scores` of ``seg`` against ground-truth boundary maps already drawn."""
    from skimage.morphology import thin

    radius = tolerance * float(np.hypot(*seg.shape))
    seg_bdry = thin(_raw_boundaries(seg))
    seg_any = np.zeros(int(np.count_nonzero(seg_bdry)), dtype=bool)
    gt_matched = gt_total = 0
    for gt_bdry in gt_bdrys:
        used, n_matched = _matched(seg_bdry, gt_bdry, radius)
        seg_any |= used
        gt_matched += n_matched
        gt_total += int(np.count_nonzero(gt_bdry))
    seg_matched, seg_total = int(seg_any.sum()), len(seg_any)
    precision, recall = _ratio(seg_matched, seg_total), _ratio(gt_matched, gt_total)
    return BoundaryScores(
        precision, recall, _f_measure(precision, recall),
        seg_matched, seg_total, gt_matched, gt_total,
    )
