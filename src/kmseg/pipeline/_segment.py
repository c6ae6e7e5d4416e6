"""segment(): the pipeline, stage by stage, owning no maths.

image -> features of distinct colours -> weighted k-means -> ordered labels -> outputs
"""

import warnings

import numpy as np

from .. import _validation as v
from .._params import (DEFAULT_MAX_ITER, DEFAULT_N_CLUSTERS, DEFAULT_N_INIT, DEFAULT_RANDOM_STATE,
                       DEFAULT_TOL, FitParams)
from ..cluster._fit import fit
from ..cluster._lloyd import summary
from ..color._spaces import to_rgb8
from ._fit import FittedColors, check_n_clusters, fit_colors, order_clusters, warn_fit
from ._arrays import fit_values, is_image, read_values
from ._prepare import as_prepared
from ._result import Segmentation


def segment(
    image,
    n_clusters=DEFAULT_N_CLUSTERS,
    *,
    color_space=None,
    spatial_weight=0.0,
    n_init=DEFAULT_N_INIT,
    max_iter=DEFAULT_MAX_ITER,
    tol=DEFAULT_TOL,
    random_state=DEFAULT_RANDOM_STATE,
    n_threads=None,
    mask=None,
    nan="raise",
    channel_axis=-1,
):
    """Segment an image into ``n_clusters`` colour classes by k-means over every pixel.

    An 8-bit RGB image of at least 250,000 pixels clustered in 'rgb' with at most
    16 clusters is fitted by
    the cells of a grid over the colour cube (a cell inside one cluster is one
    sample of its exact statistics; only cells near a boundary are opened colour
    by colour); any other is reduced to its distinct colours and their pixel
    counts, clustered as weighted samples. Either way the objective is exactly
    that of clustering all pixels, at a fraction of the cost.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image, ndarray or Prepared
        A file, a PIL image, or an ``(H, W)`` grey, ``(H, W, 2)`` grey+alpha or
        ``(H, W, 3|4)`` RGB(A) array of uint8, uint16 or float in [0, 1]. Fully
        transparent pixels (alpha 0) are left out of the clustering; other
        alpha values do not weigh the pixels. Or an image read once by
        :func:`prepare`, to cluster it again without a pass over its pixels.
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
        k-means++ restarts, each started on a coarse pooling of the colours
        and refined on the finer ones; the best is refined exactly, over all
        pixels.
    max_iter : int, default=300
        Maximum Lloyd iterations per run.
    tol : float, default=1e-4
        Relative tolerance on the centre shift (see :class:`kmseg.KMeans`).
    random_state : int, Generator, RandomState or None, default=0
        Seed; the default makes results reproducible, byte for byte.
    n_threads : int or None, default=None
        Threads of the kernels, for every stage (colour counting included);
        None uses all cores. Results do not depend on it.
    mask : (H, W) bool ndarray, optional
        True where pixels are clustered (as scikit-image's ``slic``); pixels
        where it is False are left out, as transparent ones are.
    nan : {'raise', 'mask'}, default='raise'
        Float images holding NaN or infinite values: refused, or those pixels
        left out.
    channel_axis : int or None, default=-1
        The axis of the channels, as in scikit-image. -1 keeps the image
        meaning above for ``(H, W)`` and ``(H, W, 2|3|4)`` arrays; any other
        array (a volume, a stack, a raster of any number of bands: channels on
        this axis, or with None every axis spatial and one channel), a ``.npy``
        or NIfTI file, a TIFF of more than 4 samples a pixel, or a TIFF with
        ``channel_axis`` other than -1 (its stack of pages), is clustered on
        its values as they are, with no colour space: distinct values with
        their counts for integers (one channel: the optimal partition), every
        element for floats. Labels have the spatial shape, ``color_space`` is
        None and the palette holds display colours of the centres. A Dask
        array of that kind is reduced and labelled block by block (its labels
        a Dask array).

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
    params = FitParams.check(n_init, max_iter, tol, random_state, n_threads)
    n_clusters = check_n_clusters(n_clusters)
    spatial_weight = v.check_number("spatial_weight", spatial_weight)
    if n_clusters == "auto" and spatial_weight > 0:
        raise v.KmsegError("n_clusters='auto' chooses k on colours alone: give an integer "
                           "n_clusters with spatial_weight > 0")
    from ._lazy import lazy_values, segment_dask  # Dask itself loads only for a Dask array

    if lazy_values(image, channel_axis):  # a Dask array of values: reduced and labelled block by block
        return segment_dask(image, n_clusters, channel_axis, color_space, spatial_weight, params, mask, nan)
    if not is_image(image, channel_axis):
        return _segment_array(image, n_clusters, channel_axis, color_space, spatial_weight, params, mask, nan)
    with v.thread_limit(params.n_threads):
        prep = as_prepared(image, color_space, mask, nan)
        if spatial_weight > 0:
            return _segment_spatial(prep, n_clusters, spatial_weight, params)
        fitted = fit_colors(prep, n_clusters, params)
        warn_fit(fitted, stacklevel=2)
        return Segmentation.of(prep, fitted)


def _segment_array(array, n_clusters, channel_axis, color_space, spatial_weight, params, mask, nan):
    """A volume, a stack or a multi-band raster: its values clustered as they are."""
    if color_space is not None or spatial_weight > 0:
        given = "color_space" if color_space is not None else "spatial_weight"
        raise v.KmsegError(f"{given} applies to images of 1 to 4 channels with channel_axis=-1; the "
                           f"values of an array of another kind are clustered as they are")
    with v.thread_limit(params.n_threads):
        values = read_values(array, channel_axis, mask, nan)
        *fitted, note = fit_values(values, n_clusters, params)
        seg = Segmentation.of_values(values, *fitted)
    if note is not None:
        warnings.warn(note, v.KmsegWarning, stacklevel=3)
    return seg


def _segment_spatial(prep, n_clusters, spatial_weight, params):
    """Colour plus scaled position, every pixel a sample."""
    index = prep.hist.to_pixels(np.arange(len(prep.hist)), prep.pixels, np.dtype(np.uint32))
    colour = prep.features[index]
    h, w = prep.image.shape[:2]
    colour_var = float(summary(prep.features, prep.weights)[3].sum())
    position_var = ((h * h - 1) + (w * w - 1)) / 12.0
    scale = spatial_weight * np.sqrt(colour_var / position_var) if position_var > 0 else 0.0
    flat = np.arange(h * w) if prep.keep is None else np.flatnonzero(prep.keep)
    rows, cols = np.divmod(flat.astype(np.float64), w)
    X = np.column_stack([colour, rows * scale, cols * scale])
    weights = np.ones(len(X))
    km = fit(X, weights, min(n_clusters, len(X)), params)
    centers, counts, labels = order_clusters(X, weights, km.cluster_centers_, km.labels_)
    d = prep.features.shape[1]
    fitted = FittedColors(centers, to_rgb8(centers[:, :d], prep.space), counts, labels, km.inertia_,
                          km.n_iter_)
    return Segmentation.of(prep, fitted, prep.to_label_map(labels, len(centers), per_pixel=True))
