"""One palette for many images, fitted exactly on their added colour histograms."""

import numpy as np

from .. import _validation as v


#: Merge pending histograms of images that are not 8-bit once they hold this many
#: rows (keeps memory bounded); 8-bit colours are counted in one 2**24 table.
COMPACT_ROWS = 4_000_000


def image_histogram(image):
    """An image's colour histogram in a form that adds across images.

    Returns
    -------
    (kind, keys, counts)
        ``kind`` 'rgb8' with ``keys`` the 24-bit codes of 8-bit colours (grey
        replicated), or 'unit' with ``keys`` the colours as (m, 3) float64 RGB
        in [0, 1] (other dtypes); ``counts`` int64.
    """
    from .._segment import clustered_pixels
    from ..color._spaces import unit_rgb
    from ..histogram._histogram import ColorHistogram, rgb8_codes
    from ..io._read import describe, read_image

    # colours only (no features needed here); transparent pixels left out
    hist = ColorHistogram(clustered_pixels(read_image(image), name=describe(image))[0])
    if hist.codes is not None:
        return "rgb8", hist.codes.astype(np.int64), hist.counts
    if hist.colors.dtype == np.uint8:  # grey
        grey = hist.colors.reshape(len(hist), 1)
        return "rgb8", rgb8_codes(np.repeat(grey, 3, axis=1)).astype(np.int64), hist.counts
    return "unit", unit_rgb(hist.colors), hist.counts


#: Errors of an image that cannot be read or segmented (a batch reports them per image).
IMAGE_ERRORS = (v.KmsegError, OSError, ValueError, MemoryError)


def _image_histograms(config, image, skip_bad=False):
    """``[image_histogram(image)]`` under the given settings (for workers). With
    ``skip_bad``, an image that cannot be read gives ``[]``: it adds nothing to a
    palette (a batch reports it in its own record); else its error is raised."""
    from .._config import config_context

    try:
        with config_context(**config):
            return [image_histogram(image)]
    except IMAGE_ERRORS:
        if skip_bad:
            return []
        raise


def _add(keys, counts):
    """Add the counts of equal keys (1-D codes or rows)."""
    if keys.ndim == 1:
        keys, inverse = np.unique(keys, return_inverse=True)
    else:
        keys, inverse = np.unique(keys, axis=0, return_inverse=True)
    return keys, np.bincount(inverse.reshape(-1), weights=counts, minlength=len(keys)).astype(np.int64)


class Palette:
    """Centres shared by a set of images; ``apply`` labels any image with them.

    Attributes
    ----------
    centers : (k, d) float64 ndarray
        In the working colour space.
    palette : (k, 3) uint8 ndarray
        RGB colours, most used (over all images) first.
    counts : (k,) int64 ndarray
        Pixels of each colour over all images.
    color_space : str
    inertia : float
        Over all pixels of all images.
    """

    def __init__(self, centers, palette, counts, color_space, inertia):
        self.centers = centers
        self.palette = palette
        self.counts = counts
        self.color_space = color_space
        self.inertia = inertia

    @property
    def n_colors(self):
        return len(self.centers)

    def __repr__(self):
        return f"Palette(n_colors={self.n_colors}, color_space={self.color_space!r})"

    def apply(self, image, *, n_threads=None):
        """The :class:`Segmentation` of ``image`` with these centres (label i = colour i)."""
        from .._segment import label_with

        return label_with(image, self.centers, self.palette, self.color_space, n_threads)


class PaletteFitter:
    """Fit one palette over images given one at a time (``partial_fit``), exactly.

    Histograms add: after any number of ``partial_fit`` calls, ``fit`` clusters
    the merged colour histogram, the same objective as clustering every pixel of
    every image together.

    Parameters
    ----------
    n_colors : int or 'auto', default=8
    color_space, n_init, max_iter, tol, random_state, n_threads
        As for :func:`kmseg.segment`.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> fitter = kmseg.PaletteFitter(2)
    >>> for shade in (0, 100, 200):
    ...     fitter = fitter.partial_fit(np.full((2, 2, 3), shade, np.uint8))
    >>> fitter.n_images, fitter.fit().palette.tolist()
    (3, [[150, 150, 150], [0, 0, 0]])
    """

    def __init__(self, n_colors=8, *, color_space="rgb", n_init=4, max_iter=300, tol=1e-4,
                 random_state=0, n_threads=None):
        self.n_colors = n_colors
        self.color_space = color_space
        self.params = dict(n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state,
                           n_threads=n_threads)
        self._table = None  # counts of 8-bit colours by 24-bit code, allocated on first use
        self._pending = []  # (colours, counts) of other images, merged now and then
        self._rows = 0
        self.n_images = 0

    def partial_fit(self, image=None, *, histogram=None):
        """Add an image (or its histogram from :func:`image_histogram`)."""
        kind, keys, counts = image_histogram(image) if histogram is None else histogram
        if kind == "rgb8":
            from ..histogram._kernels import N_CODES, add_counts

            if self._table is None:
                self._table = np.zeros(N_CODES, dtype=np.int64)  # 128 MB, pages touched as used
            add_counts(self._table, np.ascontiguousarray(keys, dtype=np.int64),
                       np.ascontiguousarray(counts, dtype=np.int64))
        else:
            self._pending.append((keys, counts))
            self._rows += len(counts)
            if self._rows > COMPACT_ROWS:
                self._compact()
        self.n_images += 1
        return self

    def _compact(self):
        """Merge the pending histograms of images that are not 8-bit into one."""
        if len(self._pending) > 1:
            self._pending[:] = [_add(np.concatenate([k for k, _ in self._pending]),
                                     np.concatenate([c for _, c in self._pending]))]
        self._rows = sum(len(c) for _, c in self._pending)

    def histogram(self):
        """The merged histogram: distinct colours as (m, 3) float64 RGB in [0, 1]
        (in ascending order), and counts."""
        from ..histogram._histogram import _decode

        self._compact()
        colors, counts = [], []
        if self._table is not None:
            codes = np.flatnonzero(self._table)
            colors.append(_decode(codes) / 255.0)
            counts.append(self._table[codes])
        colors += [k for k, _ in self._pending]
        counts += [c for _, c in self._pending]
        if not colors:
            return np.empty((0, 3)), np.empty(0, np.int64)
        if len(colors) == 1:  # already distinct and sorted
            return colors[0], counts[0]
        return _add(np.concatenate(colors), np.concatenate(counts))

    def fit(self):
        """Cluster the merged histogram; returns the :class:`Palette`."""
        from .._segment import fit
        from ..color._spaces import to_features, to_rgb8
        from ..labels._order import size_order

        if self.n_images == 0:
            raise v.KmsegError("no image given: call partial_fit first")
        space = v.check_choice("color_space", self.color_space, v.COLOR_SPACES)
        colors, counts = self.histogram()
        feats = to_features(colors, space)
        weights = counts.astype(np.float64)
        # distinct colours stay distinct in RGB and CIELAB; grey and HSV may merge some
        n_distinct = len(feats) if space in ("rgb", "lab") else len(np.unique(feats, axis=0))
        if isinstance(self.n_colors, str) and self.n_colors.lower() == "auto":
            from .._segment import AUTO_K_MAX
            from ..choose._sweep import sweep
            from ..cluster._lloyd import assign

            curve = sweep(feats, weights, list(range(1, min(AUTO_K_MAX, n_distinct) + 1)), self.params, 0,
                          space, False)
            i = int(np.flatnonzero(curve.k == curve.best_k)[0])  # the sweep's own fit of that k
            k, centers, inertia = curve.best_k, curve.centers[i], curve.wcss[i]
            labels = assign(feats, weights, np.ascontiguousarray(centers, dtype=np.float64))[0]
        else:
            k = min(v.check_int("n_colors", self.n_colors), n_distinct)
            km = fit(feats, weights, k, self.params)
            centers, labels, inertia = km.cluster_centers_, km.labels_, km.inertia_
        counts = np.bincount(labels, weights=weights, minlength=k)
        order, _ = size_order(counts, centers)
        centers = np.ascontiguousarray(centers[order])
        return Palette(centers, to_rgb8(centers, space), counts[order].astype(np.int64), space,
                       float(inertia))


def _fitter(n_colors=8, *, color_space=None, n_init=4, max_iter=300, tol=1e-4, random_state=0,
            n_threads=None):
    """The :class:`PaletteFitter` that :func:`fit_palette` fills."""
    return PaletteFitter(n_colors, color_space=color_space or "rgb", n_init=n_init, max_iter=max_iter,
                         tol=tol, random_state=random_state, n_threads=n_threads)


def fit_palette(images, n_colors=8, *, jobs=1, workers="threads", scheduler=None, color_space=None,
                n_init=4, max_iter=300, tol=1e-4, random_state=0, n_threads=None):
    """One palette for a set of images, fitted exactly on all their pixels.

    Each image's colour histogram is computed (by ``jobs`` local workers, or on
    a Dask cluster), the histograms are added, and k-means runs once on the
    merged histogram: the centres are those of clustering every pixel of every
    image together.

    Parameters
    ----------
    images : iterable
        Paths, PIL images or arrays.
    n_colors : int or 'auto', default=8
    jobs : int, default=1
        Workers computing histograms (local ones, or the processes of ``scheduler='local'``).
    workers : {'threads', 'processes'}, default='threads'
        Local workers: threads of this process or spawned processes, as for
        :func:`segment_many`.
    scheduler : None, str or dask.distributed.Client, default=None
        None for local workers; else a Dask cluster as for
        :func:`segment_many`: histograms are computed on its workers and added
        by a tree reduction, and the k-means runs once on a worker. The
        centres are the same as without it.
    color_space : str or None, default=None
        'rgb' when None.
    n_init, max_iter, tol, random_state, n_threads
        As for :func:`kmseg.segment`.

    Returns
    -------
    Palette
        ``apply(image)`` labels any image with the shared centres.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> a = np.zeros((4, 4, 3), np.uint8); a[:, 2:] = 200
    >>> b = np.full((4, 4, 3), 200, np.uint8); b[0, 0] = 0
    >>> palette = kmseg.fit_palette([a, b], 2)
    >>> palette.palette.tolist(), palette.counts.tolist()
    ([[200, 200, 200], [0, 0, 0]], [23, 9])
    >>> palette.apply(b).labels[0, :2].tolist()
    [1, 0]
    """
    from .._config import get_config
    from ._run import _executor

    fitter = _fitter(n_colors, color_space=color_space, n_init=n_init, max_iter=max_iter, tol=tol,
                     random_state=random_state, n_threads=n_threads)
    images = list(images)
    jobs = v.check_int("jobs", jobs)
    with _executor(jobs, scheduler, workers) as executor:
        return executor.fit_palette(images, fitter, get_config())
