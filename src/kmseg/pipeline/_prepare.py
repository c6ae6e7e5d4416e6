"""Stages 0 to 2 of an image: read, validated, reduced to the weighted features of its distinct colours."""

import numpy as np

from .. import _validation as v
from ..color._features import ColorFeatures
from ..histogram._histogram import ColorHistogram
from ..io._read import describe, excluded_pixels, read_image
from ..labels._order import label_dtype


def image_pixels(img):
    """The pixels of an image as rows (grey: a flat vector), alpha dropped."""
    if img.ndim == 2:
        return img.reshape(-1)
    if img.shape[2] == 2:
        return img[:, :, 0].reshape(-1)
    return img[:, :, :3].reshape(-1, 3)


def clustered_pixels(img, mask=None, name="the image"):
    """``(pixels, keep)``: the rows of the pixels that are clustered, and the flat
    boolean index of them in the image (None when every pixel is)."""
    pixels = image_pixels(img)
    excluded = excluded_pixels(img, mask, name)
    if excluded is None:
        return pixels, None
    keep = ~excluded.reshape(-1)
    return pixels[keep], keep


def check_space(color_space, grey):
    """The colour space to cluster in: as given (checked), or the image's default."""
    default = "gray" if grey else "rgb"
    return v.check_choice("color_space", default if color_space is None else color_space, v.COLOR_SPACES)


class Prepared(ColorFeatures):
    """An image read, validated and reduced to the features of its distinct colours.

    Built by :func:`prepare`; :func:`kmseg.segment`, :func:`kmseg.quantize` and
    :func:`kmseg.elbow` take it in place of an image, so that an image read once
    can be clustered for many k, or in many colour spaces, without a second pass
    over its pixels.

    Attributes
    ----------
    image : ndarray
        The validated image.
    space : str
        The working colour space.
    n_distinct : int
        Distinct colours (in 'gray': distinct luminances).
    name : str
        What the image is called in messages.
    """

    #: What the colour histogram gives: counted on first use, so that a fit on the
    #: pixels' grid cells (8-bit RGB, see :mod:`kmseg.cluster._grid`) never counts it.
    _FROM_HISTOGRAM = frozenset({"hist", "colors", "counts", "weights", "features", "n_distinct"})

    def __init__(self, image, color_space=None, mask=None, nan="raise"):
        self.image = read_image(image, nan=nan)
        self.grey = self.image.ndim == 2 or self.image.shape[2] == 2
        self.space = check_space(color_space, self.grey)
        self.name = describe(image)
        self.pixels, self.keep = clustered_pixels(self.image, mask, self.name)

    def __getattr__(self, attr):
        if attr not in Prepared._FROM_HISTOGRAM or "pixels" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
        self.hist = ColorHistogram(self.pixels)
        ColorFeatures.__init__(self, self.hist.colors, self.hist.counts, self.space, self.name)
        return getattr(self, attr)

    @property
    def counted(self):
        """Whether the colour histogram is counted already."""
        return "hist" in self.__dict__

    @property
    def rgb8(self):
        """Whether the clustered pixels are 8-bit RGB (an (n, 3) uint8 array)."""
        return self.pixels.dtype == np.uint8 and self.pixels.ndim == 2 and self.pixels.shape[1] == 3

    def __repr__(self):
        h, w = self.image.shape[:2]
        return f"Prepared({h}x{w} pixels, {len(self.hist)} distinct colours, color_space={self.space!r})"

    def in_space(self, color_space):
        """The same image and colour histogram with features in another colour space
        (no pass over the pixels); None means the image's default space."""
        self.hist  # counted once, shared by the copy
        return super().in_space(check_space(color_space, self.grey))

    def to_label_map(self, labels, k, per_pixel=False):
        """The (H, W) label map from a label per distinct colour (or per clustered
        pixel), with ``k`` where pixels were left out."""
        h, w = self.image.shape[:2]
        dtype = label_dtype(k if self.keep is None else k + 1)
        kept = (np.asarray(labels).astype(dtype, copy=False) if per_pixel
                else self.hist.to_pixels(labels, self.pixels, dtype))
        if self.keep is None:
            return kept.reshape(h, w)
        full = np.full(h * w, k, dtype=dtype)
        full[self.keep] = kept
        return full.reshape(h, w)

    def result_fields(self, space):
        """Keyword arguments of :class:`~kmseg.Segmentation` that come from the image."""
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


def prepare(image, color_space=None, *, mask=None, nan="raise", n_threads=None):
    """Read an image once and reduce it to the weighted features of its distinct colours.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image, ndarray or Prepared
        As for :func:`segment`; a Prepared image is returned as it is, in
        ``color_space`` when one is given.
    color_space, mask, nan
        As for :func:`segment`.
    n_threads : int or None, default=None
        Threads that count the colours; None uses all cores.

    Returns
    -------
    Prepared
        Pass it to :func:`segment`, :func:`quantize` or :func:`elbow` in place of
        the image: every call then clusters its colour histogram, never its pixels.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.zeros((4, 6, 3), np.uint8); img[:, 4:] = (255, 0, 0)
    >>> prep = kmseg.prepare(img)
    >>> prep.n_distinct, [kmseg.segment(prep, k).n_clusters for k in (1, 2)]
    (2, [1, 2])
    """
    with v.thread_limit(v.resolve_n_threads(n_threads)):
        prep = as_prepared(image, color_space, mask, nan)
        prep.hist  # counted here, on these threads: later calls cluster it without a pass over the pixels
        return prep


def as_prepared(image, color_space, mask, nan):
    """The Prepared image of a public function's ``image`` argument, on the kernel
    threads already set: a Prepared one as it is (in ``color_space`` when given;
    ``mask`` and ``nan`` then refused), any other read and reduced."""
    if not isinstance(image, Prepared):
        return Prepared(image, color_space, mask, nan)
    if mask is not None or nan != "raise":
        raise v.KmsegError("mask and nan apply when the image is read: pass them to kmseg.prepare")
    return image if color_space is None else image.in_space(color_space)
