"""What the image functions return: segmentations and quantized images, and
labelling an image with centres already fitted."""

from typing import NamedTuple

import numpy as np

from .. import _validation as v
from ..cluster._lloyd import assign
from ..color._spaces import to_unit_rgb_centers
from ..labels._order import label_dtype, paint_labels
from ._arrays import read_values
from ._prepare import as_prepared


class ColorClusters:
    """Colour clusters fitted on an image's (or many images') pixels: what every result shares.

    Attributes
    ----------
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
        Lloyd iterations of the exact fit (on all distinct colours, or on the grid
        cells and opened colours of an 8-bit RGB image).
    color_space : str or None
        The working colour space: 'rgb', 'lab', 'hsv' or 'gray'; None for the
        values of an array (a volume, a multi-band raster) clustered as they are.
    elbow : Elbow or None
        The :class:`~kmseg.Elbow` sweep that chose k, for ``n_clusters='auto'``.
    """

    def __init__(self, centers, palette, counts, inertia, n_iter, color_space, elbow=None):
        self.centers = centers
        self.palette = palette
        self.counts = counts
        self.inertia = inertia
        self.n_iter = n_iter
        self.color_space = color_space
        self.elbow = elbow

    @property
    def n_clusters(self):
        """Number of clusters ``k``."""
        return len(self.centers)

    def _describe(self, shape):
        what = "pixels" if len(shape) == 2 else "elements"
        return (f"{type(self).__name__}({'x'.join(map(str, shape))} {what}, n_clusters={self.n_clusters}, "
                f"color_space={self.color_space!r}, inertia={self.inertia:.6g})")


class Segmentation(ColorClusters):
    """A k-means segmentation of an image.

    Attributes
    ----------
    labels : (H, W) ndarray
        Cluster of each pixel, 0 for the largest cluster; uint8 for up to 256
        labels, else uint16 (uint32 beyond 65,536). Pixels left out of the
        clustering (see ``mask``) have the label ``n_clusters``, one past the
        last cluster. For an array's values (``channel_axis``): the array's
        spatial shape, of any number of dimensions, and a Dask array when the
        input was one.
    centers, palette, counts, inertia, n_iter, color_space, elbow
        See :class:`ColorClusters`.
    mask : (H, W) bool ndarray or None (the labels' shape)
        True where pixels were clustered; None when all were. Fully transparent
        pixels (alpha 0), NaN or infinite values (with ``nan='mask'``) and pixels
        outside a ``mask=`` argument are left out.
    """

    def __init__(self, labels, centers, palette, counts, inertia, n_iter, color_space, grey,
                 mask=None, alpha=None, dtype=np.uint8, elbow=None):
        super().__init__(centers, palette, counts, inertia, n_iter, color_space, elbow)
        self.labels = labels
        self.mask = mask
        self._grey = grey
        self._alpha = alpha
        self._dtype = np.dtype(dtype)

    @classmethod
    def of_values(cls, values, labels, centers, counts, inertia, n_iter, elbow=None):
        """The segmentation of an array's values (an :class:`~kmseg.pipeline._arrays.ArrayValues`)
        by a label per row of ``values.features``: no colour space, display colours
        for the palette, labels of the array's spatial shape."""
        seg = cls(values.label_map(labels, len(centers)), centers, values.display(centers), counts, inertia,
                  n_iter, None, grey=False, mask=None if values.keep is None else values.keep.reshape(values.shape),
                  dtype=np.uint8, elbow=elbow)
        seg.channel_axis, seg.value_dtype = values.channel_axis, values.dtype
        return seg

    @classmethod
    def of(cls, prep, fitted, labels=None):
        """The segmentation of a prepared image by :class:`~kmseg.pipeline._fit.FittedColors`;
        ``labels``: the label map, when not that of the fitted colour labels."""
        if labels is None and fitted.color_labels is None:
            k = len(fitted.centers)
            labels = prep.to_label_map(fitted.pixel_labels(label_dtype(k)), k, per_pixel=True)
        elif labels is None:
            labels = prep.to_label_map(fitted.color_labels, len(fitted.centers))
        return cls(labels, fitted.centers, fitted.palette, fitted.counts, fitted.inertia, fitted.n_iter,
                   prep.space, elbow=fitted.elbow, **prep.result_fields(prep.space))

    def __repr__(self):
        return self._describe(self.labels.shape)

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
        return self.painted(self.labels)

    def painted(self, labels):
        """An ``(H, W)`` map of indices into the palette (``n_clusters`` for left-out
        pixels) painted as :meth:`recolor` paints the labels."""
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
        return paint_labels(table[:, :1] if self._grey else table, labels, alpha)

    def apply(self, image, *, mask=None, nan="raise", n_threads=None):
        """Label a new image with these centres.

        Parameters
        ----------
        image : str, os.PathLike, PIL.Image.Image, ndarray or Prepared
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
        if self.color_space is None:  # values of an array, clustered as they are
            return label_values(image, self, mask=mask, nan=nan, n_threads=n_threads)
        return label_with(image, self.centers, self.palette, self.color_space, n_threads=n_threads,
                          mask=mask, nan=nan)


class LargeSegmentation(ColorClusters):
    """A k-means segmentation of an image processed in bands.

    Like :class:`Segmentation`, without the label array: the labels are in
    the file ``labels_path``.

    Attributes
    ----------
    shape : (int, int)
        Image height and width.
    centers, palette, counts, inertia, n_iter, color_space, elbow
        See :class:`ColorClusters`.
    n_left_out : int
        Pixels left out of the clustering (alpha 0); their label is ``n_clusters``.
    labels_path, recolor_path : str or None
        The TIFF files written.
    """

    def __init__(self, shape, fitted, color_space, n_left_out=0):
        super().__init__(fitted.centers, fitted.palette, fitted.counts, fitted.inertia, fitted.n_iter,
                         color_space, fitted.elbow)
        self.shape = tuple(shape)
        self.n_left_out = n_left_out
        self.labels_path = None
        self.recolor_path = None

    def __repr__(self):
        return self._describe(self.shape)


def label_values(array, seg, *, mask=None, nan="raise", n_threads=None):
    """:meth:`Segmentation.apply` of an array's segmentation: another array (its
    channels on the same axis) labelled by its nearest centres."""
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        values = read_values(array, seg.channel_axis, mask, nan)
        if values.features.shape[1] != seg.centers.shape[1]:
            raise v.KmsegError(f"{values.name} has {values.features.shape[1]} channels; the centres have "
                               f"{seg.centers.shape[1]}")
        k = len(seg.centers)
        labels, _, inertia = assign(values.features, values.weights, np.ascontiguousarray(seg.centers))
    counts = np.bincount(labels, weights=values.weights, minlength=k).astype(np.int64)
    return Segmentation.of_values(values, labels, seg.centers, counts, inertia, 0)


def label_with(image, centers, palette, space, *, n_threads=None, mask=None, nan="raise"):
    """The :class:`Segmentation` of ``image`` by its nearest of the given centres (no fitting):
    label i is centre i."""
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        prep = as_prepared(image, space, mask, nan)
        k = len(centers)
        if centers.shape[1] != prep.features.shape[1]:
            raise v.KmsegError(
                f"centres have {centers.shape[1]} features but {prep.name} gives {prep.features.shape[1]} "
                "colour features: a segmentation made with spatial_weight cannot label another image"
            )
        color_labels, _, inertia = assign(prep.features, prep.weights, np.ascontiguousarray(centers))
        labels = prep.to_label_map(color_labels, k)
    counts = np.bincount(color_labels, weights=prep.weights, minlength=k).astype(np.int64)
    return Segmentation(labels, centers, palette, counts, inertia, 0, space, **prep.result_fields(space))


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
        RGB palette, most used colour first; ``(n_colors, 4)`` RGBA for an 8-bit
        image with partly transparent pixels: the opaque pixels' colours first
        (alpha 255), then the entries of the partly transparent ones.
    indices : (H, W) uint8 or uint16 ndarray
        The palette entry of each pixel (``n_colors`` for pixels left out of the
        clustering, which are transparent): the segmentation's labels, or the
        dithered choice.
    segmentation : Segmentation
        The full result: labels, centres, counts, inertia (of the opaque pixels
        only, with an RGBA palette; None if there are none).
    mean_error : float or None
        Mean CIEDE2000 colour difference between the pixels and their palette
        colour, when ``max_error`` was given.
    """

    indices = None
    segmentation = None
    mean_error = None

    @property
    def fits_palette(self):
        """Whether a palette image (:meth:`to_pil`) holds this image without loss: 8-bit
        colours, at most 256 entries (with one more for left-out pixels), and alpha
        either in the palette (an RGBA palette) or only opaque and fully
        transparent. 16-bit and float images keep their depth only in a
        full-colour file."""
        seg = self.segmentation
        return (seg is None or seg._dtype == np.uint8) and self._palette_problem() is None

    def _palette_problem(self):
        n = len(self.palette) + bool(self.indices is not None and self.indices.size
                                     and int(self.indices.max()) >= len(self.palette))
        if n > 256:
            return "entries"
        seg = self.segmentation
        alpha = None if self.palette.shape[1] == 4 or seg is None else seg._alpha
        if alpha is None:
            return None
        full = 1.0 if alpha.dtype.kind == "f" else np.iinfo(alpha.dtype).max
        return None if np.all((alpha if seg.mask is None else alpha[seg.mask]) == full) else "alpha"

    def to_pil(self):
        """The image as a palette image, a ``PIL.Image`` in mode "P".

        Pixels left out of the clustering take one more, transparent entry (its
        index in ``info["transparency"]``); the palette is 8-bit whatever the image's depth. Saved as PNG or GIF it is an indexed
        file; :func:`kmseg.io.save_indexed` writes one small.

        Raises
        ------
        KmsegError
            More than 256 entries, or alpha values a palette of opaque colours
            cannot hold (see ``fits_palette``).

        Examples
        --------
        >>> import numpy as np, kmseg
        >>> img = np.zeros((2, 3, 3), np.uint8); img[:, 2] = 255
        >>> im = kmseg.quantize(img, 2).to_pil()
        >>> im.mode, im.getpalette()[:6], np.asarray(im).tolist()
        ('P', [0, 0, 0, 255, 255, 255], [[0, 0, 1], [0, 0, 1]])
        """
        from ..io._write import palette_image

        if self._palette_problem() == "alpha":
            raise v.KmsegError("the image has partly transparent pixels, which a palette of opaque "
                               "colours cannot hold")
        return palette_image(self.indices, self.palette)
