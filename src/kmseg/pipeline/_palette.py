"""One palette for many images, fitted exactly on their added colour counts."""

import inspect
import os

import numpy as np

from .. import _validation as v
from .._params import (DEFAULT_MAX_ITER, DEFAULT_N_CLUSTERS, DEFAULT_N_INIT, DEFAULT_RANDOM_STATE, DEFAULT_TOL,
                       FitParams)
from ..color._features import ColorFeatures
from ..color._spaces import unit_rgb
from ..histogram._histogram import ColorCounts, ColorHistogram
from ..io._read import describe, read_image
from ._fit import check_n_clusters, fit_colors, warn_fit
from ._prepare import clustered_pixels
from ._result import ColorClusters, label_with


class PaletteColors:
    """The colour counts of some images, in a form that adds across images and workers.

    8-bit images (grey replicated to RGB) are counted by 24-bit code; others as
    float RGB in [0, 1]. ``a += b`` adds ``b``'s images to ``a``'s.

    Attributes
    ----------
    n_images : int
    """

    def __init__(self):
        self.n_images = 0
        self._rgb8 = ColorCounts("rgb8")
        self._unit = ColorCounts("rows")

    @classmethod
    def of_image(cls, image):
        """The colours of one image (path, PIL image or array), transparent pixels left out."""
        hist = ColorHistogram(clustered_pixels(read_image(image), name=describe(image))[0])
        out = cls()
        if hist.codes is not None:
            out._rgb8.add_keys(hist.codes, hist.counts)
        elif hist.colors.dtype == np.uint8:  # grey: as RGB
            out._rgb8.add(np.repeat(hist.colors[:, None], 3, axis=1), hist.counts)
        else:
            out._unit.add(unit_rgb(hist.colors), hist.counts)
        out.n_images = 1
        return out

    def __iadd__(self, other):
        self._rgb8 += other._rgb8
        self._unit += other._unit
        self.n_images += other.n_images
        return self

    def histogram(self):
        """Distinct colours, as (m, 3) uint8 RGB when every image was 8-bit, else
        float64 RGB in [0, 1] (ascending), and their counts."""
        rgb8, rgb8_counts = self._rgb8.histogram()
        unit, unit_counts = self._unit.histogram()
        if not len(unit_counts):
            return rgb8, rgb8_counts
        merged = ColorCounts("rows").add(rgb8 / 255.0, rgb8_counts).add(unit, unit_counts)
        return merged.histogram()


class Palette(ColorClusters):
    """Centres shared by a set of images; ``apply`` labels any image with them.

    Attributes
    ----------
    centers, palette, counts, inertia, n_iter, color_space, elbow
        As for :class:`~kmseg.Segmentation`, over all pixels of all images;
        colours most used (over all images) first.
    """

    @property
    def n_colors(self):
        """Number of colours."""
        return self.n_clusters

    def __repr__(self):
        return f"Palette(n_colors={self.n_colors}, color_space={self.color_space!r})"

    def apply(self, image, *, n_threads=None):
        """The :class:`~kmseg.Segmentation` of ``image`` with these centres (label i = colour i)."""
        return label_with(image, self.centers, self.palette, self.color_space, n_threads=n_threads)


class PaletteFitter:
    """Fit one palette over images given one at a time, exactly.

    The images' colour counts add: after any number of :meth:`partial_fit`
    calls, the palette is the k-means of the merged colour histogram, the same
    objective as clustering every pixel of every image together. The k-means
    runs once, when a fitted attribute is first read after the last image.

    Parameters
    ----------
    n_colors : int or 'auto', default=8
    color_space : {'rgb', 'lab', 'hsv', 'gray'}, default='rgb'
    n_init, max_iter, tol, random_state, n_threads
        As for :func:`kmseg.segment`.

    Attributes
    ----------
    n_images_ : int
        Images added.
    cluster_centers_ : (k, d) float64 ndarray
        Centres in the working colour space, most used colour first.
    palette_ : (k, 3) uint8 ndarray
        The centres as RGB colours.
    counts_ : (k,) int64 ndarray
        Pixels of each colour over all images.
    inertia_ : float
        Over all pixels of all images.
    n_iter_ : int

    See Also
    --------
    fit_palette : the same fit over a list of images, on local workers or a Dask cluster.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> fitter = kmseg.PaletteFitter(2)
    >>> for shade in (0, 100, 200):
    ...     fitter = fitter.partial_fit(np.full((2, 2, 3), shade, np.uint8))
    >>> fitter.n_images_, fitter.palette_.tolist()
    (3, [[150, 150, 150], [0, 0, 0]])
    >>> fitter.predict(np.full((1, 2, 3), 180, np.uint8)).tolist()
    [[0, 0]]
    """

    def __init__(self, n_colors=DEFAULT_N_CLUSTERS, *, color_space="rgb", n_init=DEFAULT_N_INIT,
                 max_iter=DEFAULT_MAX_ITER, tol=DEFAULT_TOL, random_state=DEFAULT_RANDOM_STATE, n_threads=None):
        self.n_colors = n_colors
        self.color_space = color_space
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_threads = n_threads

    def get_params(self, deep=True):
        """The parameters, as scikit-learn's ``get_params`` gives them."""
        return {name: getattr(self, name) for name in _PARAMS}

    def set_params(self, **params):
        """Set parameters (``clone`` and grid searches use this); returns self."""
        for name, value in params.items():
            if name not in _PARAMS:
                raise v.KmsegError(f"PaletteFitter has no parameter {name!r}; it has {', '.join(_PARAMS)}")
            setattr(self, name, value)
        self._fitted = None
        return self

    def __repr__(self):
        changed = [f"{name}={value!r}" for name, value in self.get_params().items()
                   if value != type(self)().get_params()[name]]
        return f"PaletteFitter({', '.join(changed)})"

    def check(self):
        """The parameters checked, before any image is read: ``(n_colors, color_space,
        FitParams)``, or a :class:`~kmseg.KmsegError` naming the first bad one."""
        return (check_n_clusters(self.n_colors, "n_colors"),
                v.check_choice("color_space", self.color_space, v.COLOR_SPACES), self._params())

    def _params(self):
        return FitParams.check(self.n_init, self.max_iter, self.tol, self.random_state, self.n_threads)

    def partial_fit(self, X, y=None):
        """Add one image's colours.

        Parameters
        ----------
        X : str, os.PathLike, PIL.Image.Image, ndarray or PaletteColors
            An image, or the colour counts of images made elsewhere (on workers).
        y : Ignored

        Returns
        -------
        self : PaletteFitter
        """
        n_threads = self._params().n_threads
        if not hasattr(self, "n_images_"):
            self._colors = PaletteColors()
            self.n_images_ = 0
        if not isinstance(X, PaletteColors):
            with v.thread_limit(n_threads):
                X = PaletteColors.of_image(X)
        self._colors += X
        self.n_images_ = self._colors.n_images
        self._fitted = None
        return self

    def fit(self, X, y=None):
        """Fit the palette of a set of images, from scratch.

        Parameters
        ----------
        X : iterable of images
            Paths, PIL images or arrays (one image alone: :meth:`partial_fit`).
        y : Ignored

        Returns
        -------
        self : PaletteFitter
        """
        if isinstance(X, (str, os.PathLike, np.ndarray)) or type(X).__module__.startswith("PIL."):
            raise v.KmsegError(f"fit takes an iterable of images, got {describe(X)}: for one image, "
                               "call partial_fit")
        self.check()
        for name in ("n_images_", "_colors", "_fitted"):
            self.__dict__.pop(name, None)
        for image in X:
            self.partial_fit(image)
        self._fitted_colors(stacklevel=2)
        return self

    def _fit(self):
        """The k-means of the merged colours, once per change (its warnings are the
        caller's to give, once: see :meth:`_fitted_colors`)."""
        if not getattr(self, "n_images_", 0):
            raise v.NotFittedError("no image given: partial_fit or fit the PaletteFitter first")
        if self._fitted is None:
            n_colors, space, params = self.check()
            colors, counts = self._colors.histogram()
            with v.thread_limit(params.n_threads):
                self._fitted = fit_colors(ColorFeatures(colors, counts, space, "the images"), n_colors, params,
                                          "n_colors")
            self._space = space
            self._warned = False
        return self._fitted

    def _fitted_colors(self, stacklevel):
        """The fit, its warnings given once (``stacklevel`` 2: the caller's caller)."""
        fitted = self._fit()
        if not self._warned:
            self._warned = True
            warn_fit(fitted, stacklevel=stacklevel + 1)
        return fitted

    cluster_centers_ = property(lambda self: self._fitted_colors(2).centers, doc="Centres, most used first.")
    palette_ = property(lambda self: self._fitted_colors(2).palette, doc="The centres as RGB colours.")
    counts_ = property(lambda self: self._fitted_colors(2).counts, doc="Pixels of each colour.")
    inertia_ = property(lambda self: self._fitted_colors(2).inertia, doc="Over all pixels of all images.")
    n_iter_ = property(lambda self: self._fitted_colors(2).n_iter, doc="Lloyd iterations.")

    def to_palette(self, stacklevel=2):
        """The fitted :class:`Palette` (``stacklevel``: where its warnings point, as for
        :func:`warnings.warn` called here: 2 is the caller)."""
        fitted = self._fitted_colors(stacklevel)
        return Palette(fitted.centers, fitted.palette, fitted.counts, fitted.inertia, fitted.n_iter,
                       self._space, fitted.elbow)

    def predict(self, X):
        """The label map of an image: each pixel's colour of the palette ((H, W) ndarray)."""
        return self.to_palette(stacklevel=3).apply(X, n_threads=self.n_threads).labels


#: The parameters of a PaletteFitter, as its ``__init__`` names them (``get_params``).
_PARAMS = tuple(inspect.signature(PaletteFitter.__init__).parameters)[1:]
