"""The one fit recipe: an image's (or many images') distinct colours -> ordered centres and palette.

Every public function that clusters colours (``segment``, ``quantize``,
``segment_large``, ``PaletteFitter``, the web page) fits through
:func:`fit_colors`: k given or 'auto', no more clusters than distinct colours,
clusters numbered largest first, the palette made from the centres.
"""

import logging
import warnings
from typing import NamedTuple

import numpy as np

from .. import _validation as v
from .._params import AUTO_K_MAX
from ..choose._sweep import sweep_colors, warn_unclear
from ..cluster._fit import fit
from ..cluster._grid import ColorCells, fit_cells, grid_source
from ..cluster._lloyd import assign
from ..color._spaces import to_rgb8
from ..labels._order import size_order

_log = logging.getLogger(__name__)


class FittedColors(NamedTuple):
    """k-means of an image's (or many images') colours, clusters numbered largest first.

    Attributes
    ----------
    centers : (k, d) float64 ndarray
    palette : (k, 3) uint8 ndarray
    counts : (k,) int64 ndarray
        Pixels of each cluster.
    color_labels : (n_colors,) int32 ndarray or None
        The cluster of each distinct colour; None when the fit ran on the pixels'
        grid cells with no colour histogram counted (see ``pixel_labels``).
    inertia : float
    n_iter : int
    elbow : Elbow or None
        The sweep that chose k, for ``n_clusters='auto'``.
    note : str or None
        Why there are fewer clusters than asked (fewer distinct colours), if there are.
    pixel_labels : callable or None
        ``pixel_labels(dtype)``: the cluster of each clustered pixel, for a fit on
        the pixels' grid cells (no colour histogram counted).
    """

    centers: np.ndarray
    palette: np.ndarray
    counts: np.ndarray
    color_labels: np.ndarray
    inertia: float
    n_iter: int
    elbow: object = None
    note: str = None
    pixel_labels: object = None


def check_n_clusters(n_clusters, name="n_clusters"):
    """``'auto'`` or an int >= 1."""
    if isinstance(n_clusters, str) and n_clusters.lower() == "auto":
        return "auto"
    return v.check_int(name, n_clusters)


def fit_colors(colors, n_clusters, params, name="n_clusters"):
    """k-means of weighted distinct colours, k given or 'auto'.

    8-bit RGB colours in 'rgb' of a large enough image are fitted by grid cells
    (:func:`~kmseg.cluster._grid.fit_cells`) where the grid serves; others on
    their distinct colours.

    Parameters
    ----------
    colors : ColorFeatures
        Features, weights, ``n_distinct``, ``space`` and ``name``.
    n_clusters : int or 'auto'
        Checked (:func:`check_n_clusters`). 'auto' sweeps k = 1..AUTO_K_MAX and
        takes the knee. More clusters than distinct colours: that many, with a note.
    params : FitParams
    name : str
        What the caller calls ``n_clusters``, for the note.

    Returns
    -------
    FittedColors
    """
    elbow, note = None, None
    if _log.isEnabledFor(logging.INFO):  # never counts a histogram the fit would not count (the grid's)
        counted = getattr(colors, "counted", True)
        size = f"{colors.n_distinct:,} distinct colours" if counted else f"{len(colors.pixels):,} pixels"
        _log.info("%s: k=%s, %s in %s", colors.name, n_clusters, size, colors.space)
    if n_clusters == "auto":
        elbow = sweep_colors(colors, range(1, AUTO_K_MAX + 1), params, silhouette_samples=0, auto=True)
        i = int(np.flatnonzero(elbow.k == elbow.knee.k)[0])  # the sweep's own fit of that k
        centers, color_labels = elbow.centers[i], None
        inertia, n_iter = elbow.wcss[i], elbow.n_iter[i]
    else:
        source = grid_source(colors)
        grid = None if source is None else fit_cells(source, n_clusters, params)
        if grid is not None:
            return _from_grid(grid, source)
        if n_clusters > colors.n_distinct:
            note = (f"{name}={n_clusters} is more than the {colors.n_distinct} distinct colours "
                    f"of {colors.name} in {colors.space}; using {name}={colors.n_distinct}")
            n_clusters = colors.n_distinct
        if n_clusters == colors.n_distinct:  # each colour its own cluster: no k-means to run
            centers, color_labels, inertia, n_iter = each_its_own(colors.features)
        else:
            km = fit(colors.features, colors.weights, n_clusters, params)
            centers, color_labels, inertia, n_iter = km.cluster_centers_, km.labels_, km.inertia_, km.n_iter_
    centers, counts, color_labels = order_clusters(colors.features, colors.weights, centers, color_labels)
    return FittedColors(centers, to_rgb8(centers, colors.space), counts, color_labels, float(inertia),
                        int(n_iter), elbow, note)


def each_its_own(features):
    """The k-means of as many clusters as distinct features, found without iterating:
    the distinct features are the centres, each sample in its feature's cluster, with
    inertia 0 (the global optimum). Returns ``(centers, labels, inertia, n_iter)``."""
    if len(features) and features.shape[1] == 1:  # 'gray': colours can share a luminance
        centers, labels = np.unique(features, axis=0, return_inverse=True)
    else:  # distinct colours: distinct features already
        centers, labels = features, np.arange(len(features))
    return np.ascontiguousarray(centers, dtype=np.float64), labels.reshape(-1).astype(np.int32), 0.0, 0


def _from_grid(grid, source):
    """:func:`fit_colors`' result of a fit by grid cells."""
    order, rank = size_order(grid.counts, grid.centers)
    centers = np.ascontiguousarray(grid.centers[order])
    counts = grid.counts[order]
    fitted = dict(centers=centers, palette=to_rgb8(centers, "rgb"), counts=counts, inertia=float(grid.inertia),
                  n_iter=int(grid.n_iter))
    if isinstance(source, ColorCells):
        return FittedColors(color_labels=grid.labels(rank, np.int32), **fitted)
    return FittedColors(color_labels=None, pixel_labels=lambda dtype: grid.labels(rank, dtype), **fitted)


def order_clusters(features, weights, centers, color_labels=None):
    """Clusters numbered largest first (see :func:`~kmseg.labels._order.size_order`).

    ``color_labels`` (a label per sample) is computed from the centres when None.
    Returns the ordered centres and weighted counts, and the new label of each sample.
    """
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    if color_labels is None:
        color_labels = assign(features, weights, centers)[0]
    counts = np.bincount(color_labels, weights=weights, minlength=len(centers))
    order, rank = size_order(counts, centers)
    return np.ascontiguousarray(centers[order]), counts[order].astype(np.int64), rank[color_labels]


def warn_fit(fitted, stacklevel):
    """The warnings of a fit, as a public function gives them: fewer clusters than
    asked (a :class:`~kmseg.KmsegWarning`), a knee that is not clear (a
    :class:`~kmseg.KneeWarning`). ``stacklevel`` 2 points at the caller's caller."""
    if fitted.note is not None:
        warnings.warn(fitted.note, v.KmsegWarning, stacklevel=stacklevel + 1)
    if fitted.elbow is not None:
        warn_unclear(fitted.elbow, stacklevel=stacklevel + 1)
