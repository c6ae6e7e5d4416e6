"""segment_regions(): k connected segments that follow objects.

image -> CIELAB per pixel (optionally smoothed, edges kept: color/_smooth.py)
-> SLIC superpixels (local k-means in Lab + xy, connected; kmseg's own kernels, see _superpixels.py)
-> adjacent superpixels merged, the likeliest pair first: a logistic model, learned on the BSDS500
   train photos (benchmarks/learn_merge.py), of the chance that a person puts the two in one
   segment, from their colour, texture and colour-histogram differences, the boundary's strength
   and contrast, their sizes and Ward's criterion (_merge.py, _merge_kernels.py); or by that
   hand-made cost alone (cost='ward')
-> k connected regions, largest first, or those left when the next merge is too unlikely.
"""

import numpy as np

from .. import _validation as v
from ..color._spaces import lab_image
from ..io._read import read_image
from ..labels._order import label_dtype, paint_labels, size_order
from ..pipeline._result import Segmentation
from ._merge import absorb_small, cut_tree, merge_tree, region_stats
from ._superpixels import slic_superpixels

#: Merge costs (see :func:`segment_regions`).
COSTS = ("learned", "ward")
#: The learned merge model: intercept, then one weight per pair feature of
#: ``_merge_kernels.pair_features``, made by ``python benchmarks/learn_merge.py`` (three rounds
#: on the 200 BSDS500 train photos; see BENCHMARKS.md). The features it sees are made with the
#: defaults below: the ones of the hand-made cost included.
MERGE_MODEL = (4.653973, 0.024684, -0.058964, -0.130024, -0.858702, 2.52232, -6.582278, -1.717118,
               -0.974039, 0.858897, -0.031863, 0.345979, -0.288138)

#: Segments of :func:`segment_regions` when neither a number nor a threshold is given.
DEFAULT_N_SEGMENTS = 8
#: Defaults, tuned on the BSDS500 train photos (benchmarks/tune_regions.py; see BENCHMARKS.md).
DEFAULT_N_SUPERPIXELS = 1500
DEFAULT_COMPACTNESS = 20.0
#: SLIC rounds: 7 instead of SLIC's usual 10 costs about 0.005 of Covering on the train photos and
#: saves about a fifth of the time of the whole pipeline.
SLIC_ITERATIONS = 7
DEFAULT_EDGE_WEIGHT = 300.0
#: The boundary's mean gradient is divided by this plus the two regions' mean gradient over their
#: pixels (CIELAB Sobel units; a typical photo's median is 1 to 4), see _merge.py.
EDGE_FLOOR = 3.0
DEFAULT_TEXTURE_WEIGHT = 3.0
DEFAULT_HIST_WEIGHT = 1000.0
DEFAULT_STOP_SIZE_POWER = 0.25
#: A pair's cost is also multiplied by (shorter perimeter / shared boundary)^this (see _merge.py).
DEFAULT_SHARE_POWER = 0.25
#: Scale (pixels) over which the local contrast feature is averaged.
TEXTURE_SIGMA = 3.0
#: CIELAB a and b ranges cut into 8 bins each for the colour histograms (beyond: the end bins).
HIST_BINS = 8
HIST_A_RANGE = (-40.0, 40.0)
HIST_B_RANGE = (-40.0, 60.0)


class Regions:
    """Connected segments of an image.

    Attributes
    ----------
    labels : (H, W) ndarray
        Segment of each pixel, 0 for the largest; every segment is 4-connected.
    centers : (k, 3) float64 ndarray
        Mean CIELAB colour of each segment.
    palette : (k, 3) uint8 ndarray
        Those means as RGB.
    counts : (k,) int64 ndarray
        Pixels per segment.
    n_superpixels : int
        Superpixels before merging.
    inertia : float or None
        Sum over the pixels of the squared CIELAB distance to their segment's mean.
    """

    def __init__(self, labels, centers, palette, counts, n_superpixels, inertia=None):
        self.labels = labels
        self.centers = centers
        self.palette = palette
        self.counts = counts
        self.n_superpixels = n_superpixels
        self.inertia = inertia

    @property
    def n_segments(self):
        """Number of segments."""
        return len(self.counts)

    def __repr__(self):
        h, w = self.labels.shape
        return f"Regions({h}x{w} pixels, n_segments={self.n_segments}, from {self.n_superpixels} superpixels)"

    def recolor(self):
        """The image painted with each segment's mean colour, (H, W, 3) uint8."""
        return paint_labels(self.palette, self.labels)

    def as_segmentation(self):
        """The same segments as a :class:`~kmseg.Segmentation` (centres in CIELAB),
        for what takes one: :func:`~kmseg.io._write.save_segmentation`, the plots."""
        return Segmentation(self.labels, self.centers, self.palette, self.counts, self.inertia, 0, "lab",
                            grey=False)


def _sobel_lab(lab):
    """Sobel gradient magnitude of each CIELAB channel, (3, H, W)."""
    from skimage import filters

    return np.stack([filters.sobel(lab[:, :, c]) for c in range(3)])


def _features(lab, grads, texture_weight):
    """Per-pixel merge features: CIELAB, plus the local contrast (Gaussian-averaged
    gradient magnitude of L) times ``texture_weight``, so that plain and textured
    areas of the same mean colour stay apart."""
    if texture_weight <= 0:
        return lab
    from scipy import ndimage

    contrast = ndimage.gaussian_filter(grads[0], TEXTURE_SIGMA)
    return np.concatenate([lab, texture_weight * contrast[:, :, None]], axis=2)


def _ab_codes(lab):
    """Colour histogram bin (a and b, ``HIST_BINS`` each) of every pixel."""
    def bins(x, lo, hi):
        return np.clip(((x - lo) / (hi - lo) * HIST_BINS).astype(np.int64), 0, HIST_BINS - 1)

    return bins(lab[:, :, 1], *HIST_A_RANGE) * HIST_BINS + bins(lab[:, :, 2], *HIST_B_RANGE)


def segment_regions(
    image,
    n_segments=DEFAULT_N_SEGMENTS,
    *,
    threshold=None,
    min_size=0,
    n_superpixels=DEFAULT_N_SUPERPIXELS,
    compactness=DEFAULT_COMPACTNESS,
    cost="learned",
    edge_weight=None,
    texture_weight=None,
    hist_weight=None,
    smooth=False,
    n_threads=None,
):
    """Segment an image into ``n_segments`` connected regions that follow objects.

    Superpixels (SLIC: local k-means in CIELAB plus position, with connectivity
    enforced, on kmseg's kernels) are merged pairwise, adjacent pairs only, the
    cheapest pair first, its cost re-priced after every merge.

    With ``cost='learned'`` (the default) the cost of a pair is minus the
    log-odds that a person puts the two segments in one: a logistic model
    learned on the 200 BSDS500 train photos (``benchmarks/learn_merge.py``) from
    twelve pair features: the differences of the two segments' mean lightness,
    colour (CIELAB a, b) and local contrast, the distance of their colour
    histograms, the mean gradient along their shared boundary and its contrast
    with the gradient inside them, how busy they are inside, their sizes, how
    much of the smaller one's outline they share, and the hand-made cost below.

    With ``cost='ward'`` the cost is hand-made: Ward's criterion (the rise of the
    within-segment sum of squares) on CIELAB plus a local contrast feature, with
    the distance of the two segments' colour histograms added, multiplied by
    ``1 + edge_weight * s`` where ``s`` is the boundary's contrast: the mean Sobel
    gradient (CIELAB) along their shared boundary divided by 3 plus the mean of
    the two segments' mean gradient over their pixels (a boundary through
    texture resists less than one as strong between plain areas); and by
    ``(P / L)^0.25`` where ``L`` is the length of that boundary and ``P`` the
    shorter of the two segments' boundaries with all others::

        n_a n_b / (n_a + n_b) * (|mu_a - mu_b|^2 + hist_weight * chi2(h_a, h_b))
        * (1 + edge_weight * s) * (P / L)^0.25

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        As for :func:`segment`, but alpha is not read: transparent pixels are
        segmented as the others are (there is no ``mask``).
    n_segments : int, default=8
        Segments to return (fewer if there are fewer superpixels). Ignored
        when ``threshold`` is given.
    threshold : float, optional
        Instead of a number of segments, stop merging where the merges become
        unlikely, so that busy photos keep more segments than plain ones. With
        ``cost='learned'``, a probability between 0 and 1: merging stops before
        the first merge that the model gives more than this chance of joining
        two different objects (0.5: stop where a merge is more likely wrong than
        right; on BSDS500 photos 0.5 to 0.65 score best). With ``cost='ward'``,
        a cost per pixel of the image: merging stops before the first merge
        whose cost, divided by the merged pair's share of the image to the power
        0.25, exceeds this (25000 to 40000 score best on BSDS500 photos).
    min_size : int, default=0
        Segments smaller than this many pixels are merged into a neighbour
        (so fewer than ``n_segments`` may remain).
    n_superpixels : int, default=1500
        Approximate number of superpixels.
    compactness : float, default=20
        SLIC's balance of colour against position (higher: squarer superpixels).
    cost : {'learned', 'ward'}, default='learned'
        The merge cost, as above. The learned one scores better on BSDS500 (see
        BENCHMARKS.md); the hand-made one is the k-means objective with a few
        weights a user may set.
    edge_weight : float, optional
        With ``cost='ward'``: how strongly boundary contrast resists merging
        (0: plain Ward). Default 300.
    texture_weight : float, optional
        With ``cost='ward'``: weight of the local contrast feature (the gradient
        magnitude of L, averaged over a few pixels) beside CIELAB; 0 leaves it
        out. Default 3.
    hist_weight : float, optional
        With ``cost='ward'``: weight (in squared CIELAB units) of the
        chi-squared distance, 0 to 1, between the two segments' histograms of a
        and b (8 x 8 bins); 0 leaves it out. Default 1000.
    smooth : bool, default=False
        Smooth the image first with an edge-preserving (bilateral) filter, two
        passes over a 5 x 5 window: superpixels and merging then see less
        noise and fine texture. Slower; it did not score better on BSDS500.
    n_threads : int or None, default=None
        Threads of the kernels; None uses all cores. Results do not depend on it.

    Returns
    -------
    Regions
        Labels (largest segment first, each connected), mean colours, counts.

    Raises
    ------
    KmsegError
        For ``edge_weight``, ``texture_weight`` or ``hist_weight`` with the
        learned cost (its model was learned with the defaults), or a
        ``threshold`` outside its range.

    See Also
    --------
    segment : colour classes, which need not be connected.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.zeros((40, 40, 3), np.uint8)
    >>> img[:, :10] = img[:, 30:] = (200, 30, 30)   # two red bands, apart
    >>> regions = kmseg.segment_regions(img, 3, n_superpixels=50)
    >>> regions.n_segments, sorted(np.unique(regions.labels[:, [0, 39]]).tolist())
    (3, [1, 2])
    >>> kmseg.segment_regions(img, threshold=0.5, n_superpixels=50).n_segments
    3
    """
    return regions_and_hierarchy(image, n_segments, threshold=threshold, min_size=min_size,
                                 n_superpixels=n_superpixels, compactness=compactness, cost=cost,
                                 edge_weight=edge_weight, texture_weight=texture_weight, hist_weight=hist_weight,
                                 smooth=smooth, n_threads=n_threads)[0]


def regions_and_hierarchy(image, n_segments=DEFAULT_N_SEGMENTS, *, n_threads=None, **params):
    """:func:`segment_regions`'s result and the :class:`RegionHierarchy` it was cut
    from, ``(regions, hierarchy)``: for what writes both (``kmseg segment --regions
    --ucm``), from one tree. ``params`` are those of :func:`segment_regions`."""
    p = check_region_params(n_segments, **params)
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        hierarchy = _hierarchy(image, p)
        if p["threshold"] is not None:
            return hierarchy.regions_below(p["threshold"], p["min_size"]), hierarchy
        return hierarchy.regions(p["n_segments"], p["min_size"]), hierarchy


#: The parameters of :func:`segment_regions` but the image, ``n_segments`` and ``n_threads``.
REGION_PARAMS = ("threshold", "min_size", "n_superpixels", "compactness", "cost", "edge_weight",
                 "texture_weight", "hist_weight", "smooth")


def check_region_params(n_segments=DEFAULT_N_SEGMENTS, *, threshold=None, min_size=0, n_superpixels=DEFAULT_N_SUPERPIXELS,
                        compactness=DEFAULT_COMPACTNESS, cost="learned", edge_weight=None, texture_weight=None,
                        hist_weight=None, smooth=False):
    """The parameters of :func:`segment_regions` checked, before any image is read (a
    threshold of the other cost's scale fails at once): a dict of them, the merge
    cost's weights in ``weights`` with their defaults."""
    n_segments, threshold, min_size = _cut_params(n_segments, threshold, min_size, cost)
    n_superpixels, compactness, cost, weights = _hierarchy_params(
        n_superpixels, compactness, cost, edge_weight, texture_weight, hist_weight)
    if not isinstance(smooth, (bool, np.bool_)):
        raise v.KmsegError(f"smooth={smooth!r} must be True or False")
    return dict(n_segments=n_segments, threshold=threshold, min_size=min_size, n_superpixels=n_superpixels,
                compactness=compactness, cost=cost, weights=weights, smooth=bool(smooth))


def _cut_params(n_segments, threshold, min_size, cost):
    """Where :func:`segment_regions` cuts the merge tree: ``(n_segments, threshold,
    min_size)`` checked (``n_segments`` only without a threshold, which replaces it)."""
    cost = v.check_choice("cost", cost, COSTS)
    min_size = v.check_int("min_size", min_size, minimum=0)
    if threshold is not None:
        return n_segments, _check_threshold(threshold, cost), min_size
    return v.check_int("n_segments", n_segments), None, min_size


def _check_threshold(threshold, cost):
    """``threshold`` as a float: >= 0, and at most 1 (a probability) with the learned cost."""
    threshold = v.check_number("threshold", threshold)
    if cost == "learned" and threshold > 1:
        raise v.KmsegError(f"threshold={threshold} must be a probability, 0 to 1, with cost='learned' "
                           "(a cost per pixel is for cost='ward'; kmseg evaluate: --method regions-ward)")
    return threshold


class RegionHierarchy:
    """Superpixels and the order in which they merge: segments for any k, cheaply.

    Built by :func:`region_hierarchy`; ``regions(k)`` replays the first merges.

    Attributes
    ----------
    cost : {'learned', 'ward'}
        The merge cost.
    costs : (n_merges,) float64 ndarray
        What a threshold is compared with, merge by merge (never decreasing):
        the model's chance that the merge joins two objects (learned), or the
        scaled cost per pixel (ward); see :func:`segment_regions`.
    """

    def __init__(self, superpixels, lab, merges, costs, cost):
        self.superpixels = superpixels
        self.lab = lab
        self.merges = merges
        self.cost = cost
        self.n_superpixels = int(superpixels.max()) + 1
        self._counts, self._sums = region_stats(superpixels, lab, self.n_superpixels)
        # sum of squared colours, once: a cut's inertia then needs only its segment sums
        self._sq_total = float(np.einsum("ijk,ijk->", lab[..., :3], lab[..., :3]))
        if cost == "learned":
            self.costs = stopping_chances(costs)
        else:
            self.costs = _stopping_costs(costs, merges, self._counts, superpixels.size)

    def regions_below(self, threshold, min_size=0):
        """The :class:`Regions` left when merging stops before a cost above ``threshold``
        (see :func:`segment_regions`)."""
        threshold = _check_threshold(threshold, self.cost)
        done = int(np.searchsorted(self.costs, threshold, side="right"))
        return self.regions(max(1, self.n_superpixels - done), min_size)

    def ucm(self):
        """The hierarchy as an ultrametric contour map (UCM): a boundary strength per
        pair of 4-neighbour pixels, the level at which the segments on its two sides join.

        The map lies on BSDS500's inter-pixel grid (its ``ucm2``): pixel ``(y, x)`` is
        at ``(2y + 1, 2x + 1)`` and holds 0; the boundary between it and ``(y, x + 1)``
        at ``(2y + 1, 2x + 2)``, the one with ``(y + 1, x)`` at ``(2y + 2, 2x + 1)``;
        a grid point ``(2y + 2, 2x + 2)`` the largest of its four boundaries, and the
        outer frame the root's level. A boundary inside a superpixel is 0; one between
        two superpixels is the entry of :attr:`costs` of the merge that joins their
        segments. As :attr:`costs` is a running maximum (the ultrametric closure of the
        merge costs: each merge's level is the largest cost on the way up the tree),
        levels never decrease towards the root, and thresholding at ``t`` cuts the tree
        where :meth:`regions_below` does: the 4-connected pixels joined across
        boundaries ``<= t`` are the segments of ``regions_below(t)``, up to their
        numbering (``ucm2 <= t``, labelled, then read at the odd rows and columns).

        Returns
        -------
        (2H + 1, 2W + 1) float64 ndarray
            Chances (0 to 1) with ``cost='learned'``, scaled costs per pixel with
            ``cost='ward'``.

        Examples
        --------
        >>> import numpy as np, kmseg
        >>> img = np.zeros((40, 40, 3), np.uint8); img[:, 20:] = (200, 30, 30)
        >>> ucm = kmseg.region_hierarchy(img, n_superpixels=50).ucm()
        >>> ucm.shape, bool(ucm[1::2, 40].min() > 0.5)  # the boundary between the halves is strong
        ((81, 81), True)
        """
        from ._ucm import ucm_map

        return ucm_map(self.superpixels, self.merges, self.costs)

    def save_ucm(self, path):
        """Write :meth:`ucm` as a 16-bit PNG (``.png``) or a NumPy array (``.npy``), atomically.

        In the PNG a level ``l`` is ``round(l / scale * 65535)``: ``scale`` is 1 with
        ``cost='learned'`` (levels are chances) and the largest level with ``cost='ward'``.

        Returns
        -------
        float
            ``scale`` (1 for ``.npy``, which holds the levels themselves).

        Raises
        ------
        KmsegError
            If ``path`` ends neither in ``.png`` nor in ``.npy``.
        """
        import os

        from ..io._arrays import save_array
        from ..io._write import save_image
        from ._ucm import ucm_to_uint16

        ucm = self.ucm()
        ext = os.path.splitext(os.fspath(path))[1].lower()
        if ext == ".npy":
            save_array(path, ucm)
            return 1.0
        if ext != ".png":
            raise v.KmsegError(f"{os.fspath(path)!r}: a UCM is saved as .png (16-bit) or .npy")
        finite = ucm[np.isfinite(ucm)]
        scale = 1.0 if self.cost == "learned" else max(float(finite.max(initial=0.0)), np.finfo(float).tiny)
        save_image(path, ucm_to_uint16(ucm, scale))
        return scale

    def regions(self, n_segments, min_size=0):
        """The :class:`Regions` with ``n_segments`` segments (or all superpixels, if
        fewer), those under ``min_size`` pixels then merged into a neighbour."""
        from ..color._spaces import to_rgb8

        merged = cut_tree(self.n_superpixels, self.merges, n_segments)
        if min_size > 1:
            merged = absorb_small(merged[self.superpixels], self.lab, min_size)[merged]
        # segment statistics add up from the superpixels': no pass over the pixels
        k = int(merged.max()) + 1
        counts = np.bincount(merged, weights=self._counts, minlength=k)
        centers = np.stack([np.bincount(merged, weights=self._sums[:, f], minlength=k)
                            for f in range(3)], 1) / counts[:, None]
        inertia = self._sq_total - float(counts @ (centers ** 2).sum(axis=1))
        order, rank = size_order(counts, centers)
        centers = centers[order]
        per_superpixel = rank[merged].astype(label_dtype(k))  # composed on the small arrays
        return Regions(per_superpixel[self.superpixels], centers, to_rgb8(centers, "lab"),
                       counts[order].astype(np.int64), self.n_superpixels, max(inertia, 0.0))


def stopping_chances(costs):
    """What a threshold is compared with, merge by merge, for the learned cost: the
    chance that the merge joins two objects (the logistic of the cost, minus the
    log-odds of one), then its running maximum, so that a threshold cuts the
    sequence at one place."""
    return np.maximum.accumulate(1.0 / (1.0 + np.exp(-np.asarray(costs, dtype=np.float64))))


def _stopping_costs(costs, merges, counts, n_pixels):
    """What a threshold is compared with, merge by merge, for the hand-made cost: the
    cost per pixel of the image times ``(n_pixels / h) ** DEFAULT_STOP_SIZE_POWER``,
    ``h`` the merged pair's harmonic size ``n_a n_b / (n_a + n_b)``; then its running
    maximum, so that a threshold cuts the sequence at one place."""
    counts = counts.tolist()
    harmonic = np.empty(len(merges))
    for i, (a, b) in enumerate(merges):
        harmonic[i] = counts[a] * counts[b] / (counts[a] + counts[b])
        counts[a] += counts[b]
    scaled = np.asarray(costs, dtype=np.float64) / n_pixels * (n_pixels / harmonic) ** DEFAULT_STOP_SIZE_POWER
    return np.maximum.accumulate(scaled) if len(scaled) else scaled


def region_hierarchy(image, *, n_superpixels=DEFAULT_N_SUPERPIXELS, compactness=DEFAULT_COMPACTNESS,
                     cost="learned", edge_weight=None, texture_weight=None, hist_weight=None, smooth=False,
                     n_threads=None):
    """Superpixels of ``image`` and their full merge order, to cut at any number of segments.

    Parameters are those of :func:`segment_regions` that shape the merges; the
    cut (``n_segments``, ``threshold``, ``min_size``) is chosen afterwards, by
    :meth:`RegionHierarchy.regions` and :meth:`RegionHierarchy.regions_below`,
    each at the cost of a few array operations.

    Returns
    -------
    RegionHierarchy

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.zeros((40, 40, 3), np.uint8); img[:, 20:] = (200, 30, 30)
    >>> tree = kmseg.region_hierarchy(img, n_superpixels=50)
    >>> [tree.regions(k).n_segments for k in (1, 2)]
    [1, 2]
    """
    p = check_region_params(n_superpixels=n_superpixels, compactness=compactness, cost=cost,
                            edge_weight=edge_weight, texture_weight=texture_weight, hist_weight=hist_weight,
                            smooth=smooth)
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        return _hierarchy(image, p)


def _hierarchy(image, p):
    """The :class:`RegionHierarchy` of an image, from checked parameters (see
    :func:`check_region_params`), on the kernel threads already set."""
    lab = lab_image(read_image(image))
    if p["smooth"]:
        from ..color._smooth import edge_preserving_smooth

        lab = edge_preserving_smooth(lab)
    sp = slic_superpixels(lab, p["n_superpixels"], p["compactness"], max_iter=SLIC_ITERATIONS)
    merges, costs = merge_tree(sp, **_merge_inputs(lab, **p["weights"]), return_costs=True,
                               model=MERGE_MODEL if p["cost"] == "learned" else None)
    return RegionHierarchy(sp, lab, merges, costs, p["cost"])


def _hierarchy_params(n_superpixels, compactness, cost, edge_weight, texture_weight, hist_weight):
    """:func:`region_hierarchy`'s parameters checked, before any image is read:
    ``(n_superpixels, compactness, cost, weights)``, the weights with their defaults."""
    n_superpixels = v.check_int("n_superpixels", n_superpixels)
    compactness = v.check_number("compactness", compactness)
    cost = v.check_choice("cost", cost, COSTS)
    weights = dict(edge_weight=edge_weight, texture_weight=texture_weight, hist_weight=hist_weight)
    given = [name for name, value in weights.items() if value is not None]
    if cost == "learned" and given:
        verb, them = ("shapes", "it") if len(given) == 1 else ("shape", "them")
        raise v.KmsegError(f"{', '.join(given)} {verb} the hand-made merge cost: pass cost='ward' with {them} "
                           "(the learned cost uses the values it was learned with)")
    defaults = dict(edge_weight=DEFAULT_EDGE_WEIGHT, texture_weight=DEFAULT_TEXTURE_WEIGHT,
                    hist_weight=DEFAULT_HIST_WEIGHT)
    weights = {name: defaults[name] if value is None else v.check_number(name, value)
               for name, value in weights.items()}
    return n_superpixels, compactness, cost, weights


def _merge_inputs(lab, edge_weight=DEFAULT_EDGE_WEIGHT, texture_weight=DEFAULT_TEXTURE_WEIGHT,
                  hist_weight=DEFAULT_HIST_WEIGHT):
    """The keyword arguments of :func:`merge_tree` for a CIELAB image, but its superpixels."""
    grads = _sobel_lab(lab)
    return dict(features=_features(lab, grads, texture_weight), edges=np.sqrt((grads ** 2).sum(axis=0)),
                edge_weight=edge_weight, codes=_ab_codes(lab) if hist_weight > 0 else None,
                n_codes=HIST_BINS ** 2, hist_weight=hist_weight, share_power=DEFAULT_SHARE_POWER,
                edge_floor=EDGE_FLOOR)
