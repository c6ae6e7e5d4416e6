"""segment() and quantize(): the pipeline, stage by stage, owning no maths.

image -> features of distinct colours -> weighted k-means -> ordered labels -> outputs
"""

import warnings
from typing import NamedTuple

import numpy as np

from . import _validation as v
from .color._spaces import to_features, to_rgb8
from .histogram._histogram import ColorHistogram
from .io._read import describe, read_image
from .labels._order import label_dtype, size_order

#: Defaults shared by the library and the command line.
DEFAULT_N_CLUSTERS = 8
DEFAULT_N_COLORS = 16
DEFAULT_N_INIT = 4
DEFAULT_RANDOM_STATE = 0


class KmsegWarning(UserWarning):
    """A result that differs from what was asked, such as fewer clusters than k."""


def _pixels(img):
    """The pixels of an image as rows (grey: a flat vector), alpha dropped."""
    if img.ndim == 2:
        return img.reshape(-1)
    return img[:, :, :3].reshape(-1, 3)


class Segmentation:
    """A k-means segmentation of an image.

    Attributes
    ----------
    labels : (H, W) ndarray
        Cluster of each pixel, 0 for the largest cluster; uint8 for up to 256
        clusters, else uint16.
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
    """

    def __init__(self, labels, centers, palette, counts, inertia, n_iter, color_space, grey):
        self.labels = labels
        self.centers = centers
        self.palette = palette
        self.counts = counts
        self.inertia = inertia
        self.n_iter = n_iter
        self.color_space = color_space
        self._grey = grey

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

        Returns
        -------
        image : (H, W, 3) uint8 ndarray, or (H, W) for a grey image in 'gray' space.
        """
        painted = self.palette[self.labels]
        return painted[:, :, 0] if self._grey else painted

    def apply(self, image, *, n_threads=None):
        """Label a new image with these centres.

        Parameters
        ----------
        image : str, os.PathLike, PIL.Image.Image or ndarray
            As for :func:`segment`.
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
        img = read_image(image)
        return _label(img, self.centers, self.palette, self.color_space, n_threads, n_iter=0)


def _label(img, centers, palette, space, n_threads, n_iter):
    """Segmentation of ``img`` by nearest centre (no fitting)."""
    from .cluster._lloyd import assign

    hist = ColorHistogram(_pixels(img))
    feats = to_features(hist.colors, space)
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        color_labels, _, inertia = assign(feats, hist.counts.astype(np.float64), centers)
        labels = hist.to_pixels(color_labels, _pixels(img), label_dtype(len(centers)))
    counts = np.bincount(color_labels, weights=hist.counts, minlength=len(centers))
    return Segmentation(
        labels.reshape(img.shape[:2]),
        centers,
        palette,
        counts.astype(np.int64),
        inertia,
        n_iter,
        space,
        grey=img.ndim == 2 and space == "gray",
    )


def segment(
    image,
    n_clusters=DEFAULT_N_CLUSTERS,
    *,
    color_space=None,
    n_init=DEFAULT_N_INIT,
    max_iter=300,
    tol=1e-4,
    random_state=DEFAULT_RANDOM_STATE,
    n_threads=None,
):
    """Segment an image into ``n_clusters`` colour classes by k-means over every pixel.

    The image is reduced to its distinct colours and their pixel counts, which
    are clustered as weighted samples: the objective is exactly that of
    clustering all pixels, at a fraction of the cost.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        A file, a PIL image, or an ``(H, W)`` grey / ``(H, W, 3|4)`` RGB(A) array
        of uint8, uint16 or float in [0, 1]. Alpha is ignored.
    n_clusters : int, default=8
        Number of colour classes k.
    color_space : {'rgb', 'lab', 'hsv', 'gray'} or None, default=None
        Space the colours are clustered in; None means 'gray' for grey images
        and 'rgb' otherwise. Features: R, G, B in [0, 255]; luminance in
        [0, 255]; CIELAB; HSV as ``(S cos 2piH, S sin 2piH, V)`` so hue wraps.
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

    Returns
    -------
    Segmentation
        Labels (largest cluster first), centres, palette, counts, inertia.

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
    """
    from .cluster._estimator import KMeans

    name = describe(image)
    img = read_image(image)
    grey = img.ndim == 2
    space = v.check_choice(
        "color_space", "gray" if color_space is None and grey else color_space or "rgb",
        v.COLOR_SPACES,
    )
    n_clusters = v.check_int("n_clusters", n_clusters)
    n_init = v.check_int("n_init", n_init)
    n_threads = v.resolve_n_threads(n_threads)

    pixels = _pixels(img)
    hist = ColorHistogram(pixels)
    feats = to_features(hist.colors, space)
    n_distinct = len(np.unique(feats, axis=0)) if space == "gray" else len(hist)
    if n_clusters > n_distinct:
        warnings.warn(
            f"n_clusters={n_clusters} is more than the {n_distinct} distinct colours "
            f"of {name}; using n_clusters={n_distinct}",
            KmsegWarning,
            stacklevel=2,
        )
        n_clusters = n_distinct

    km = KMeans(
        n_clusters,
        n_init=n_init,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
        n_threads=n_threads,
    ).fit(feats, sample_weight=hist.counts)

    centers = km.cluster_centers_
    counts = np.bincount(km.labels_, weights=hist.counts, minlength=n_clusters)
    order, rank = size_order(counts, centers)
    centers = np.ascontiguousarray(centers[order])
    with v.thread_limit(n_threads):
        labels = hist.to_pixels(rank[km.labels_], pixels, label_dtype(n_clusters))
    return Segmentation(
        labels.reshape(img.shape[:2]),
        centers,
        to_rgb8(centers, space),
        counts[order].astype(np.int64),
        km.inertia_,
        km.n_iter_,
        space,
        grey=grey and space == "gray",
    )


class Quantized(NamedTuple):
    """An image reduced to a few colours: ``image, palette = kmseg.quantize(...)``."""

    #: (H, W, 3) uint8 image (or (H, W) for grey input) painted with the palette.
    image: np.ndarray
    #: (n_colors, 3) uint8 RGB palette, most used colour first.
    palette: np.ndarray


def quantize(image, n_colors=DEFAULT_N_COLORS, **kwargs):
    """Reduce an image to ``n_colors`` colours by k-means over every pixel.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        As for :func:`segment`.
    n_colors : int, default=16
        Number of colours of the palette.
    **kwargs
        ``color_space``, ``n_init``, ``max_iter``, ``tol``, ``random_state``,
        ``n_threads`` as for :func:`segment`.

    Returns
    -------
    Quantized
        ``(image, palette)``: the recoloured uint8 image and its ``(n_colors, 3)``
        RGB palette, most used colour first.

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
    seg = segment(image, n_colors, **kwargs)
    return Quantized(seg.recolor(), seg.palette)
