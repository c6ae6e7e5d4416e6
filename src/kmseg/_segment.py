"""segment() and quantize(): the pipeline, stage by stage, owning no maths.

image -> features of distinct colours -> weighted k-means -> ordered labels -> outputs
"""

import copy
import warnings
from typing import NamedTuple

import numpy as np

from . import _validation as v
from ._validation import KmsegWarning
from .color._spaces import to_features, to_rgb8, to_unit_rgb_centers
from .histogram._histogram import ColorHistogram
from .io._read import describe, excluded_pixels, read_image
from .labels._order import label_dtype, size_order

#: Defaults shared by the library and the command line.
DEFAULT_N_CLUSTERS = 8
DEFAULT_N_COLORS = 16
DEFAULT_N_INIT = 4
DEFAULT_RANDOM_STATE = 0
#: ``n_clusters="auto"`` chooses k among 1..AUTO_K_MAX by the knee of the WCSS curve.
AUTO_K_MAX = 10


def _pixels(img):
    """The pixels of an image as rows (grey: a flat vector), alpha dropped."""
    if img.ndim == 2:
        return img.reshape(-1)
    if img.shape[2] == 2:
        return img[:, :, 0].reshape(-1)
    return img[:, :, :3].reshape(-1, 3)


def paint_labels(table, labels, alpha=None):
    """Labels painted with the rows of ``table`` ((n_labels, c)), then ``alpha``
    as one more channel; (H, W) when that makes one channel.

    The table gets the alpha column before painting, so the image is written
    once (not painted, then copied beside the alpha channel).
    """
    if alpha is not None:
        table = np.concatenate([table, np.zeros((len(table), 1), table.dtype)], axis=1)
    out = np.take(table, labels, axis=0)
    if alpha is not None:
        out[..., -1] = alpha
    return out[..., 0] if out.shape[-1] == 1 else out


def clustered_pixels(img, mask=None, name="the image"):
    """``(pixels, keep)``: the rows of the pixels that are clustered, and the flat
    boolean index of them in the image (None when every pixel is)."""
    pixels = _pixels(img)
    excluded = excluded_pixels(img, mask, name)
    if excluded is None:
        return pixels, None
    keep = ~excluded.reshape(-1)
    return pixels[keep], keep


class Segmentation:
    """A k-means segmentation of an image.

    Attributes
    ----------
    labels : (H, W) ndarray
        Cluster of each pixel, 0 for the largest cluster; uint8 for up to 256
        labels, else uint16. Pixels left out of the clustering (see ``mask``)
        have the label ``n_clusters``, one past the last cluster.
    centers : (k, d) float64 ndarray
        Cluster centres in the working colour space (see ``color_space``).
    palette : (k, 3) uint8 ndarray
        Centres as displayable RGB colours.
    counts : (k,) int64 ndarray
        Pixels in each cluster.
    inertia : float
        Sum over all pixels of the squared distance to their centre, in the
        working colour space.
    n_iter : int
        Lloyd iterations on all distinct colours.
    color_space : str
        The working colour space: 'rgb', 'lab', 'hsv' or 'gray'.
    mask : (H, W) bool ndarray or None
        True where pixels were clustered; None when all were. Fully transparent
        pixels (alpha 0), NaN or infinite values (with ``nan='mask'``) and pixels
        outside a ``mask=`` argument are left out.
    """

    def __init__(self, labels, centers, palette, counts, inertia, n_iter, color_space, grey,
                 mask=None, alpha=None, dtype=np.uint8):
        self.labels = labels
        self.centers = centers
        self.palette = palette
        self.counts = counts
        self.inertia = inertia
        self.n_iter = n_iter
        self.color_space = color_space
        self.mask = mask
        self._grey = grey
        self._alpha = alpha
        self._dtype = np.dtype(dtype)
        #: The :class:`~kmseg.Elbow` sweep that chose k, for ``n_clusters='auto'``; else None.
        self.elbow = None

    @property
    def n_clusters(self):
        """Number of clusters ``k``."""
        return len(self.centers)

    def __repr__(self):
        h, w = self.labels.shape
        return (
            f"Segmentation({h}x{w} pixels, n_clusters={self.n_clusters}, "
            f"color_space={self.color_space!r}, inertia={self.inertia:.6g})"
        )

    def recolor(self):
        """The image painted with its cluster colours.

        The bit depth follows the input: uint8 images give uint8, uint16 images
        (16-bit PNG or TIFF files) uint16, float images float32 in [0, 1]. An
        image with alpha keeps its alpha channel, and pixels left out of the
        clustering are transparent (alpha 0, colour 0).

        Returns
        -------
        image : (H, W, 3) ndarray, (H, W, 4) with alpha or a mask
            Or (H, W) / (H, W, 2) for a grey image in 'gray' space.

        Examples
        --------
        >>> import numpy as np, kmseg
        >>> img = np.array([[[9, 9, 9, 255], [200, 0, 0, 255], [50, 50, 50, 0]]], np.uint8)
        >>> kmseg.segment(img, 2).recolor()[0].tolist()
        [[9, 9, 9, 255], [200, 0, 0, 255], [0, 0, 0, 0]]
        """
        if self._dtype == np.uint8:
            table = self.palette
        else:
            unit = to_unit_rgb_centers(self.centers[:, : 1 if self._grey else 3],
                                       "gray" if self._grey else self.color_space)
            table = (np.rint(unit * 65535).astype(np.uint16) if self._dtype == np.uint16
                     else unit.astype(np.float32))
        table = np.concatenate([table, np.zeros((1, 3), table.dtype)])  # left-out pixels
        alpha = self._alpha
        if alpha is None and self.mask is not None:
            full = 1.0 if table.dtype.kind == "f" else np.iinfo(table.dtype).max
            alpha = self.mask.astype(table.dtype) * table.dtype.type(full)
        return paint_labels(table[:, :1] if self._grey else table, self.labels, alpha)

    def apply(self, image, *, mask=None, nan="raise", n_threads=None):
        """Label a new image with these centres.

        Parameters
        ----------
        image : str, os.PathLike, PIL.Image.Image or ndarray
            As for :func:`segment`.
        mask, nan
            As for :func:`segment`: pixels left out get the label ``n_clusters``.
        n_threads : int or None, default=None

        Returns
        -------
        Segmentation
            Same centres and palette; labels, counts and inertia of ``image``.

        Examples
        --------
        >>> import numpy as np, kmseg
        >>> img = np.zeros((4, 4, 3), np.uint8); img[:, 2:] = 200
        >>> seg = kmseg.segment(img, 2)
        >>> seg.apply(img[:, ::-1]).labels[0].tolist()
        [1, 1, 0, 0]
        """
        return label_with(image, self.centers, self.palette, self.color_space, n_threads,
                          mask=mask, nan=nan)


def label_with(image, centers, palette, space, n_threads=None, mask=None, nan="raise"):
    """Segmentation of ``image`` by its nearest of the given centres (no fitting)."""
    from .cluster._lloyd import assign

    prep = prepare(image, space, mask=mask, nan=nan, n_threads=n_threads)
    k = len(centers)
    if centers.shape[1] != prep.features.shape[1]:
        raise v.KmsegError(
            f"centres have {centers.shape[1]} features but {prep.name} gives {prep.features.shape[1]} "
            "colour features: a segmentation made with spatial_weight cannot label another image"
        )
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        color_labels, _, inertia = assign(prep.features, prep.weights, np.ascontiguousarray(centers))
        labels = prep.to_label_map(color_labels, k)
    counts = np.bincount(color_labels, weights=prep.weights, minlength=k).astype(np.int64)
    return Segmentation(labels, centers, palette, counts, inertia, 0, space,
                        **prep.result_fields(space))


def segment(
    image,
    n_clusters=DEFAULT_N_CLUSTERS,
    *,
    color_space=None,
    spatial_weight=0.0,
    n_init=DEFAULT_N_INIT,
    max_iter=300,
    tol=1e-4,
    random_state=DEFAULT_RANDOM_STATE,
    n_threads=None,
    mask=None,
    nan="raise",
):
    """Segment an image into ``n_clusters`` colour classes by k-means over every pixel.

    The image is reduced to its distinct colours and their pixel counts, which
    are clustered as weighted samples: the objective is exactly that of
    clustering all pixels, at a fraction of the cost.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        A file, a PIL image, or an ``(H, W)`` grey, ``(H, W, 2)`` grey+alpha or
        ``(H, W, 3|4)`` RGB(A) array of uint8, uint16 or float in [0, 1]. Fully
        transparent pixels (alpha 0) are left out of the clustering; other
        alpha values do not weigh the pixels.
    n_clusters : int or 'auto', default=8
        Number of colour classes k. 'auto' sweeps k = 1..10 and takes the knee
        of the WCSS curve (see :func:`elbow`); the sweep, with the chosen k and
        the reason, is kept as the result's ``elbow`` attribute.
    color_space : {'rgb', 'lab', 'hsv', 'gray'} or None, default=None
        Space the colours are clustered in; None means 'gray' for grey images
        and 'rgb' otherwise. Features: R, G, B in [0, 255]; luminance in
        [0, 255]; CIELAB; HSV as ``(S cos 2piH, S sin 2piH, V)`` so hue wraps.
    spatial_weight : float, default=0
        Add each pixel's position (row, column) to its colour features, scaled
        so that the positions' total variance is ``spatial_weight**2`` times the
        colours' total variance: 0 is colour alone, 1 weighs where a pixel is as
        much as what colour it has, larger values give compact, blob-like
        clusters. Positions make every pixel distinct, so all pixels are
        clustered (no colour histogram): slower on large images. ``centers``
        then hold the colour features followed by the scaled row and column.
    n_init : int, default=4
        k-means++ restarts, run on a coarse pooling of the colours; the best
        is refined on all colours.
    max_iter : int, default=300
        Maximum Lloyd iterations per run.
    tol : float, default=1e-4
        Relative tolerance on the centre shift (see :class:`kmseg.KMeans`).
    random_state : int, Generator, RandomState or None, default=0
        Seed; the default makes results reproducible, byte for byte.
    n_threads : int or None, default=None
        Threads of the kernels; None uses all cores. Results do not depend on it.
    mask : (H, W) bool ndarray, optional
        True where pixels are clustered (as scikit-image's ``slic``); pixels
        where it is False are left out, as transparent ones are.
    nan : {'raise', 'mask'}, default='raise'
        Float images holding NaN or infinite values: refused, or those pixels
        left out.

    Returns
    -------
    Segmentation
        Labels (largest cluster first), centres, palette, counts, inertia.
        Pixels left out of the clustering get the label ``n_clusters`` (one past
        the last cluster, so label maps stay unsigned) and are transparent in
        :meth:`Segmentation.recolor`; ``mask`` says which pixels were clustered.

    Raises
    ------
    ImageReadError
        ``image`` is a file that cannot be read.
    KmsegError
        A parameter or array out of range.

    Warns
    -----
    KmsegWarning
        The image has fewer distinct colours than ``n_clusters``; that many
        clusters are returned.

    See Also
    --------
    quantize : the recoloured image and its palette.
    KMeans : the estimator underneath, for any ``(n_samples, n_features)`` data.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.zeros((4, 6, 3), dtype=np.uint8)
    >>> img[:, 4:] = (255, 0, 0)
    >>> seg = kmseg.segment(img, 2)
    >>> seg.labels[0].tolist()
    [0, 0, 0, 0, 1, 1]
    >>> seg.palette.tolist(), seg.counts.tolist()
    ([[0, 0, 0], [255, 0, 0]], [16, 8])

    Pixels outside ``mask`` (or transparent, or NaN with ``nan='mask'``) get
    the label ``n_clusters``:

    >>> keep = np.ones((4, 6), bool); keep[0, 0] = False
    >>> seg = kmseg.segment(img, 2, mask=keep)
    >>> seg.labels[0].tolist(), seg.counts.tolist()
    ([2, 0, 0, 0, 1, 1], [15, 8])
    """
    n_threads = v.resolve_n_threads(n_threads)
    prep = prepare(image, color_space, mask=mask, nan=nan, n_threads=n_threads)
    n_init = v.check_int("n_init", n_init)
    fit_params = dict(n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state,
                      n_threads=n_threads)
    spatial_weight = v.check_number("spatial_weight", spatial_weight)
    if isinstance(n_clusters, str) and n_clusters.lower() == "auto" and spatial_weight > 0:
        raise v.KmsegError("n_clusters='auto' chooses k on colours alone: give an integer "
                           "n_clusters with spatial_weight > 0")
    if spatial_weight > 0:
        return _segment_spatial(prep, v.check_int("n_clusters", n_clusters), spatial_weight, fit_params)
    centers, color_labels, inertia, n_iter, curve = fit_colors(prep, n_clusters, fit_params, stacklevel=2)
    seg = build(prep, centers, color_labels, inertia, n_iter, n_threads)
    seg.elbow = curve
    return seg


def fit_colors(prep, n_clusters, fit_params, stacklevel=2):
    """k-means of a prepared image's distinct colours, k given or 'auto'.

    ``prep`` is anything with ``features``, ``weights``, ``n_distinct``, ``space``
    and ``name``. More clusters than distinct colours: a warning and that many.

    Returns
    -------
    centers, color_labels (None for 'auto': the sweep keeps none), inertia, n_iter,
    elbow (the :class:`~kmseg.Elbow` sweep for 'auto', else None)
    """
    if isinstance(n_clusters, str) and n_clusters.lower() == "auto":
        from .choose._sweep import sweep_prepared, warn_unclear

        curve = sweep_prepared(prep, range(1, AUTO_K_MAX + 1), fit_params, silhouette_samples=0,
                               auto=True)
        warn_unclear(curve, stacklevel=stacklevel + 1)
        i = int(np.flatnonzero(curve.k == curve.knee.k)[0])
        return curve.centers[i], None, curve.wcss[i], curve.n_iter[i], curve
    n_clusters = v.check_int("n_clusters", n_clusters)
    if n_clusters > prep.n_distinct:
        warnings.warn(
            f"n_clusters={n_clusters} is more than the {prep.n_distinct} distinct colours "
            f"of {prep.name}; using n_clusters={prep.n_distinct}",
            KmsegWarning,
            stacklevel=stacklevel + 1,
        )
        n_clusters = prep.n_distinct
    km = fit(prep.features, prep.weights, n_clusters, fit_params)
    return km.cluster_centers_, km.labels_, km.inertia_, km.n_iter_, None


def order_clusters(features, weights, centers, color_labels, n_threads):
    """Clusters numbered largest first (see :func:`~kmseg.labels._order.size_order`).

    ``color_labels`` (a label per distinct colour) is computed from the centres
    when None. Returns the ordered centres and pixel counts, and the new label of
    each distinct colour.
    """
    from .cluster._lloyd import assign

    centers = np.ascontiguousarray(centers, dtype=np.float64)
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        if color_labels is None:
            color_labels = assign(features, weights, centers)[0]
    counts = np.bincount(color_labels, weights=weights, minlength=len(centers))
    order, rank = size_order(counts, centers)
    return np.ascontiguousarray(centers[order]), counts[order].astype(np.int64), rank[color_labels]


def _segment_spatial(prep, n_clusters, spatial_weight, fit_params):
    """Colour plus scaled position, every pixel a sample."""
    index = prep.hist.to_pixels(np.arange(len(prep.hist)), prep.pixels, np.dtype(np.uint32))
    colour = prep.features[index]
    h, w = prep.image.shape[:2]
    from .cluster._lloyd import summary

    colour_var = float(summary(prep.features, prep.weights)[3].sum())
    position_var = ((h * h - 1) + (w * w - 1)) / 12.0
    scale = spatial_weight * np.sqrt(colour_var / position_var) if position_var > 0 else 0.0
    flat = np.arange(h * w) if prep.keep is None else np.flatnonzero(prep.keep)
    rows, cols = np.divmod(flat.astype(np.float64), w)
    X = np.column_stack([colour, rows * scale, cols * scale])
    weights = np.ones(len(X))
    km = fit(X, weights, min(n_clusters, len(X)), fit_params)
    centers, counts, labels = order_clusters(X, weights, km.cluster_centers_, km.labels_,
                                             fit_params["n_threads"])
    d = prep.features.shape[1]
    return Segmentation(
        prep.to_label_map(labels, len(centers), per_pixel=True), centers,
        to_rgb8(centers[:, :d], prep.space), counts, km.inertia_,
        km.n_iter_, prep.space, **prep.result_fields(prep.space),
    )


class Prepared:
    """An image read, validated and reduced to the features of its distinct colours."""

    def __init__(self, image, color_space, mask=None, nan="raise"):
        self.name = describe(image)
        self.image = read_image(image, nan=nan)
        self.grey = self.image.ndim == 2 or self.image.shape[2] == 2
        space = self._check_space(color_space)
        self.pixels, self.keep = clustered_pixels(self.image, mask, self.name)
        self.hist = ColorHistogram(self.pixels)
        self.weights = self.hist.counts.astype(np.float64)
        self._set_space(space)

    def _check_space(self, color_space):
        default = "gray" if self.grey else "rgb"
        return v.check_choice(
            "color_space", default if color_space is None else color_space, v.COLOR_SPACES
        )

    def _set_space(self, space):
        self.space = space
        self.features, self.n_distinct = distinct_features(self.hist.colors, space)

    def in_space(self, color_space):
        """The same image and colour histogram with features in another colour space
        (no pass over the pixels); None means the image's default space."""
        other = copy.copy(self)
        other._set_space(self._check_space(color_space))
        return other

    def to_label_map(self, labels, k, per_pixel=False):
        """The (H, W) label map from a label per distinct colour (or per clustered
        pixel), with ``k`` where pixels were left out."""
        h, w = self.image.shape[:2]
        dtype = label_dtype(k if self.keep is None else k + 1)
        kept = (np.asarray(labels).astype(dtype) if per_pixel
                else self.hist.to_pixels(labels, self.pixels, dtype))
        if self.keep is None:
            return kept.reshape(h, w)
        full = np.full(h * w, k, dtype=dtype)
        full[self.keep] = kept
        return full.reshape(h, w)

    def result_fields(self, space):
        """Keyword arguments of :class:`Segmentation` that come from the image."""
        img = self.image
        has_alpha = img.ndim == 3 and img.shape[2] in (2, 4)
        return dict(
            grey=self.grey and space == "gray",
            mask=None if self.keep is None else self.keep.reshape(img.shape[:2]),
            # a copy of the alpha channel (not a view that would keep the image alive)
            alpha=(None if not has_alpha else img[:, :, -1].copy() if img.dtype.kind != "f"
                   else np.where(np.isfinite(img[:, :, -1]), img[:, :, -1], 0)),
            dtype=img.dtype,
        )


def distinct_features(colors, space):
    """Features of distinct colours in ``space`` and how many of them differ:
    in 'gray', distinct colours can share one luminance."""
    features = to_features(colors, space)
    return features, len(np.unique(features[:, 0])) if space == "gray" else len(features)


def prepare(image, color_space=None, mask=None, nan="raise", n_threads=None):
    """Read ``image`` and reduce it to weighted features of its distinct colours,
    counting them on ``n_threads`` kernel threads (None: all)."""
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        return Prepared(image, color_space, mask, nan)


def fit(features, weights, n_clusters, fit_params):
    """k-means of weighted features, as :class:`~kmseg.KMeans` fits them (same
    result), without the estimator's input checks and scikit-learn import.

    Returns a :class:`~kmseg.cluster._fit.Fit` (``cluster_centers_``, ``labels_``,
    ``inertia_``, ``n_iter_``)."""
    from .cluster._fit import fit_weighted

    p = dict(fit_params)
    X = np.ascontiguousarray(features, dtype=np.float64)
    k = v.check_n_clusters(n_clusters, X.shape[0], what=f"samples, n_samples={X.shape[0]}")
    return fit_weighted(
        X, np.ascontiguousarray(weights, dtype=np.float64), k,
        n_init=v.check_int("n_init", p.pop("n_init", DEFAULT_N_INIT)),
        max_iter=v.check_int("max_iter", p.pop("max_iter", 300)),
        tol=v.check_number("tol", p.pop("tol", 1e-4)),
        rng=p.pop("random_state", DEFAULT_RANDOM_STATE),
        n_threads=p.pop("n_threads", None),
        **p,
    )


def build(prep, centers, color_labels, inertia, n_iter, n_threads):
    """The Segmentation of a prepared image from centres (labels largest first).

    ``color_labels`` (a label per distinct colour) is computed from the centres
    when None.
    """
    centers, counts, color_labels = order_clusters(prep.features, prep.weights, centers, color_labels,
                                                   n_threads)
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        labels = prep.to_label_map(color_labels, len(centers))
    return Segmentation(
        labels,
        centers,
        to_rgb8(centers, prep.space),
        counts,
        float(inertia),
        int(n_iter),
        prep.space,
        **prep.result_fields(prep.space),
    )


class _QuantizedPair(NamedTuple):
    image: np.ndarray
    palette: np.ndarray


class Quantized(_QuantizedPair):
    """An image reduced to a few colours: ``image, palette = kmseg.quantize(...)``.

    Attributes
    ----------
    image : (H, W, 3) ndarray
        The image painted with the palette ((H, W) for a grey image in 'gray'
        space; with an alpha channel when the input has one or pixels were left
        out); the input's bit depth (see :meth:`Segmentation.recolor`).
    palette : (n_colors, 3) uint8 ndarray
        RGB palette, most used colour first.
    segmentation : Segmentation
        The full result: labels, centres, counts, inertia.
    mean_error : float or None
        Mean CIEDE2000 colour difference between the pixels and their palette
        colour, when ``max_error`` was given.
    """

    segmentation = None
    mean_error = None


def _search_max_error(prep, max_error, n_max, fit_params):
    """Fewest colours whose mean CIEDE2000 error is at most ``max_error``.

    Doubles n until the target is met, then bisects, assuming the error falls as
    n grows. Returns ``(km, error)`` of the chosen n.
    """
    from .color._error import lab_colors, mean_delta_e

    tried = {}
    # CIELAB of the distinct colours, once: in 'lab' space (the default here) they are the features
    colors_lab = prep.features if prep.space == "lab" else lab_colors(prep.hist.colors)

    def error_of(n):
        if n not in tried:
            km = fit(prep.features, prep.weights, n, fit_params)
            palette = to_rgb8(km.cluster_centers_, prep.space)
            tried[n] = (km, mean_delta_e(prep.hist.colors, prep.hist.counts, palette, km.labels_,
                                         colors_lab))
        return tried[n][1]

    lo, hi = 0, 1
    while error_of(hi) > max_error and hi < n_max:
        lo, hi = hi, min(2 * hi, n_max)
    if error_of(hi) > max_error:
        warnings.warn(
            f"max_error={max_error:g} is not reached with n_colors={n_max} "
            f"(mean error {error_of(hi):.3g}); using {n_max} colours",
            KmsegWarning,
            stacklevel=3,
        )
        return tried[hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if error_of(mid) <= max_error:
            hi = mid
        else:
            lo = mid
    return tried[hi]


def quantize(image, n_colors=None, *, max_error=None, color_space=None, n_init=DEFAULT_N_INIT,
             max_iter=300, tol=1e-4, random_state=DEFAULT_RANDOM_STATE, n_threads=None,
             mask=None, nan="raise"):
    """Reduce an image to ``n_colors`` colours by k-means over every pixel.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        As for :func:`segment`.
    n_colors : int, 'auto' or None, default=None
        Number of colours: 16 when None; 'auto' takes the knee of the elbow
        curve. With ``max_error``, the largest number of colours tried (256 when None).
    max_error : float, optional
        Use the fewest colours whose mean colour error is at most this:
        CIEDE2000 (Delta E 2000, where about 2.3 is a just-noticeable difference)
        between each pixel's colour and its palette colour, averaged over all
        pixels. Colours are clustered in CIELAB unless ``color_space`` says otherwise.
    color_space, n_init, max_iter, tol, random_state, n_threads, mask, nan
        As for :func:`segment`.

    Returns
    -------
    Quantized
        ``(image, palette)``: the recoloured image (the input's bit depth and
        alpha, see :meth:`Segmentation.recolor`) and its ``(n_colors, 3)`` uint8
        RGB palette, most used colour first; also ``.segmentation`` and
        ``.mean_error`` (with ``max_error``).

    Warns
    -----
    KmsegWarning
        ``max_error`` is not reached with the most colours allowed.

    See Also
    --------
    segment : the full result, labels and centres included.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.array([[[0, 0, 0], [10, 10, 10], [250, 250, 250]]], dtype=np.uint8)
    >>> out, palette = kmseg.quantize(img, 2)
    >>> palette.tolist()
    [[5, 5, 5], [250, 250, 250]]
    >>> out[0, :, 0].tolist()
    [5, 5, 250]
    """
    params = dict(n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state,
                  n_threads=n_threads)
    if max_error is None:
        seg = segment(image, DEFAULT_N_COLORS if n_colors is None else n_colors,
                      color_space=color_space, mask=mask, nan=nan, **params)
        error = None
    else:
        max_error = v.check_number("max_error", max_error)
        n_max = 256 if n_colors is None else v.check_int("n_colors", n_colors)
        params["n_threads"] = v.resolve_n_threads(n_threads)
        prep = prepare(image, color_space if color_space is not None else "lab", mask, nan,
                       n_threads=params["n_threads"])
        params["n_init"] = v.check_int("n_init", n_init)
        km, error = _search_max_error(prep, max_error, min(n_max, prep.n_distinct), params)
        seg = build(prep, km.cluster_centers_, km.labels_, km.inertia_, km.n_iter_, params["n_threads"])
    out = Quantized(seg.recolor(), seg.palette)
    out.segmentation = seg
    out.mean_error = error
    return out
