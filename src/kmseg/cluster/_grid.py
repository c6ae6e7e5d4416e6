"""Exact k-means of 8-bit RGB pixels by the cells of a grid.

Pixels are gathered by the cells of a regular grid over the RGB cube (cells of
4x4x4 colours), each cell keeping its pixel count and colour sums. While every
point of a cell is nearer one centre than any other, the cell's pixels all
belong to that centre, and the cell's statistics give their exact share of the
centre's sum and (with the pixels' total sum of squares) of the inertia: such a
*closed* cell is one weighted sample at its mean. Only the cells that a boundary
between two centres crosses, or comes near, are *opened*: their distinct colours
are counted in a second pass over the pixels, and each is a sample of its own.

Lloyd iterations on these samples are Lloyd iterations on every pixel as long as
the closed cells stay inside one centre's side. The fit runs them from the centres
fitted on the cell means, checks every closed cell against the converged centres
(a box lies inside one centre's side when its corners do), and where one is
crossed opens the cells that a move as large again could cross, and iterates
again. The result is a converged Lloyd solution of the exact objective over all
pixels, with its exact inertia, without a 2**24-entry colour table and without
visiting every distinct colour at every iteration.

The pixels come from a :class:`PixelCells` (an image's pixels, read by compiled
kernels) or a :class:`ColorCells` (a colour histogram already counted); both
give the same cells, the same colours in the same order, and the same fit.
"""

import numpy as np

from .. import _validation as v
from ..histogram._cells import N_STATS, cell_stats, count_in_cells, label_cells
from ._kernels import cell_owner, neighbours
from ._lloyd import best_of, lloyd
from ._coarse import coarse_to_fine

#: Image fits by grid cells up to this many clusters; beyond, on the distinct colours
#: (with more clusters, the exact iterations move the centres across most cells).
GRID_MAX_K = 16
#: ... and from this many pixels on: below, fitting the few distinct colours costs less
#: than the grid's passes and tables (BSDS500 train photos: the grid 1.2-1.3x slower at
#: 0.15 MP, 1.1-1.3x faster at 0.35 MP, 1.3-2.2x at 1 MP, k = 4..16).
GRID_MIN_PIXELS = 250_000
#: Cells per axis: ``2**GRID_BITS`` (64 cells of 4x4x4 colours).
GRID_BITS = 6
#: Cells that a centre's boundary comes nearer than this (colour units, to the
#: bisecting plane) after the fit on cell means are opened at once, so that the
#: small moves of the exact iterations seldom need a second pass over the pixels.
MARGIN = 2.0
#: The cell-mean fit runs coarse-to-fine from this many occupied cells on.
COARSE_MIN_CELLS = 2_000


def grid_source(colors):
    """The pixels (or colour histogram) of a :class:`~kmseg.color._features.ColorFeatures`
    to fit by grid cells (see :func:`fit_cells`), or None where fits run on its
    distinct colours: not 8-bit RGB in 'rgb', or fewer than :data:`GRID_MIN_PIXELS`
    pixels (the same rule for an image's pixels and its histogram, so both give the
    same fit). An image whose histogram is not counted yet (a
    :class:`~kmseg.pipeline._prepare.Prepared`) gives its pixels."""
    if colors.space != "rgb":
        return None
    if getattr(colors, "rgb8", False) and not colors.counted:
        return PixelCells(colors.pixels) if len(colors.pixels) >= GRID_MIN_PIXELS else None
    rgb = colors.colors
    if rgb.dtype == np.uint8 and rgb.ndim == 2 and rgb.shape[1] == 3 and colors.counts.sum() >= GRID_MIN_PIXELS:
        return ColorCells(rgb, colors.counts)
    return None


def fit_cells(source, n_clusters, params):
    """:func:`grid_kmeans` of a :func:`grid_source` with the settings of a
    :class:`~kmseg._params.FitParams`; None where the grid does not serve: more
    than :data:`GRID_MAX_K` clusters, or fewer occupied cells than clusters (the
    caller then fits the distinct colours)."""
    if n_clusters > GRID_MAX_K:
        return None
    return grid_kmeans(source, n_clusters, n_init=params.n_init, max_iter=params.max_iter, tol=params.tol,
                       rng=v.make_rng(params.random_state))


def cell_corners(cells, bits):
    """The lowest corner (r, g, b) of each cell, int64 (m, 3)."""
    s = 8 - bits
    mask = (1 << bits) - 1
    cells = np.asarray(cells, dtype=np.int64)
    return np.stack([cells >> (2 * bits), (cells >> bits) & mask, cells & mask], axis=1) << s


class PixelCells:
    """(n, 3) uint8 pixels, gathered and labelled by the compiled cell kernels."""

    def __init__(self, pixels):
        self.pixels = np.ascontiguousarray(pixels, dtype=np.uint8)

    def stats(self, bits):
        return cell_stats(self.pixels, bits)

    def colors_in(self, bits, slot_of, slot_corner):
        return count_in_cells(self.pixels, bits, slot_of, slot_corner)

    def labels(self, bits, cell_index, labels):
        out = np.empty(len(self.pixels), dtype=labels.dtype)
        label_cells(self.pixels, bits, cell_index, labels, out)
        return out


class ColorCells:
    """Distinct (m, 3) uint8 colours and their pixel counts: the same cells and
    colours as the pixels they count, and a label per distinct colour."""

    def __init__(self, colors, counts):
        self.colors = np.asarray(colors, dtype=np.uint8)
        self.counts = np.asarray(counts, dtype=np.int64)
        self._memo = {}  # per bits: the cells and statistics, the same for every fit (a sweep's k)

    def _cells(self, bits):
        if ("cells", bits) not in self._memo:
            self._memo["cells", bits] = self._cells_of(bits)
        return self._memo["cells", bits]

    def _cells_of(self, bits):
        s = 8 - bits
        c = self.colors.astype(np.int64)
        cell = ((c[:, 0] >> s) << (2 * bits)) | ((c[:, 1] >> s) << bits) | (c[:, 2] >> s)
        off = c & ((1 << s) - 1)
        sub = (off[:, 0] << (2 * s)) | (off[:, 1] << s) | off[:, 2]
        return cell, sub, off

    def stats(self, bits):
        if ("stats", bits) not in self._memo:
            self._memo["stats", bits] = self._stats_of(bits)
        return self._memo["stats", bits]

    def _stats_of(self, bits):
        cell, _, off = self._cells(bits)
        cells, inverse = np.unique(cell, return_inverse=True)
        stats = np.empty((len(cells), N_STATS), dtype=np.int64)
        stats[:, 0] = np.bincount(inverse, weights=self.counts, minlength=len(cells))
        for f in range(3):
            stats[:, 1 + f] = np.bincount(inverse, weights=self.counts * off[:, f], minlength=len(cells))
        return cells, stats, int((self.counts * (off * off).sum(axis=1)).sum())

    def colors_in(self, bits, slot_of, slot_corner):
        cell, sub, off = self._cells(bits)
        slot = slot_of[cell].astype(np.int64)
        keep = np.flatnonzero(slot >= 0)
        index = slot[keep] * (1 << (3 * (8 - bits))) + sub[keep]
        order = np.argsort(index, kind="stable")  # as the kernel finds them: by slot, then sub-code
        keep = keep[order]
        sum_sq = int((self.counts[keep] * (off[keep] * off[keep]).sum(axis=1)).sum())
        return index[order], self.counts[keep].astype(np.float64), self.colors[keep].astype(np.float64), sum_sq

    def labels(self, bits, cell_index, labels):
        cell, sub, _ = self._cells(bits)
        v = cell_index[cell].astype(np.int64)
        return labels[(v >> 1) + np.where(v & 1, sub, 0)]


class GridFit:
    """A grid k-means fit: what :func:`grid_kmeans` returns.

    Attributes
    ----------
    centers : (k, 3) float64
    counts : (k,) int64, pixels of each cluster.
    inertia : float, exact, over all pixels.
    n_iter : int, exact Lloyd iterations (all rounds).
    n_open : int, cells opened (colour by colour).
    n_cells : int, occupied cells.
    n_rounds : int, exact Lloyd runs (one, and one more each time cells had to be opened).
    """

    def __init__(self, source, bits, cells, cell_center, open_slot, color_index, color_center, centers,
                 inertia, n_iter, n_rounds, counts):
        self._source = source
        self._bits = bits
        self._cells = cells
        self._cell_center = cell_center  # per occupied cell: its centre, or -1 if opened
        self._open_slot = open_slot  # per occupied cell: its slot if opened, else -1
        self._color_index = color_index  # the opened cells' colours, slot * per + sub
        self._color_center = color_center
        self.centers = centers
        self.inertia = inertia
        self.n_iter = n_iter
        self.n_rounds = n_rounds
        self.counts = counts
        self.n_cells = len(cells)
        self.n_open = int(np.count_nonzero(open_slot >= 0))

    def labels(self, relabel, dtype):
        """A label per pixel (or per colour of a :class:`ColorCells`): centre ``j``
        gets ``relabel[j]``."""
        relabel = np.asarray(relabel)
        bits = self._bits
        k = len(relabel)
        per = 1 << (3 * (8 - bits))
        # labels[0:k]: the closed cells' labels; then each opened cell's colours
        cell_index = np.zeros(1 << (3 * bits), dtype=np.int32)
        inside = self._cell_center >= 0
        cell_index[self._cells[inside]] = 2 * self._cell_center[inside]
        opened = ~inside
        cell_index[self._cells[opened]] = 2 * (k + self._open_slot[opened] * per) + 1
        labels = np.zeros(k + int(opened.sum()) * per, dtype=dtype)
        labels[:k] = relabel
        labels[k + self._color_index] = relabel[self._color_center]
        return self._source.labels(bits, cell_index, labels)


def grid_kmeans(source, n_clusters, *, n_init, max_iter, tol, rng, margin=MARGIN):
    """Exact weighted k-means of 8-bit RGB colours by grid cells (see the module).

    Parameters
    ----------
    source : PixelCells or ColorCells
    n_clusters : int, at most the number of occupied cells.
    n_init, max_iter : int
    tol : float, relative to the mean variance of the three features.
    rng : numpy.random.Generator
    margin : float

    Returns
    -------
    GridFit or None
        None when fewer cells than ``n_clusters`` hold pixels.
    """
    bits = GRID_BITS
    span = float((1 << (8 - bits)) - 1)
    cells, stats, sq_offsets = source.stats(bits)
    if len(cells) < n_clusters:
        return None
    corners = cell_corners(cells, bits)
    lo = corners.astype(np.float64)
    n = stats[:, 0]
    weights = n.astype(np.float64)
    offsets = stats[:, 1:4]
    sums = offsets + n[:, None] * corners  # exact, in integers
    means = np.ascontiguousarray(sums / weights[:, None])
    # the variance of all pixels, for the tolerance: their sum of squares is each
    # cell's n |corner|^2 + 2 corner . offset sums, plus the squared offsets
    total = float(weights.sum())
    sum_sq = float((n * (corners * corners).sum(axis=1)).sum() + 2 * (corners * offsets).sum()) + sq_offsets
    var_sum = sum_sq / total - float(((sums.sum(axis=0) / total) ** 2).sum())
    tol_abs = max(var_sum, 0.0) / 3.0 * tol

    fit = coarse_to_fine if len(cells) >= COARSE_MIN_CELLS else best_of
    centers = fit(means, weights, n_clusters, "k-means++", n_init, max_iter, tol_abs, rng)[0]

    owner = np.empty(len(cells), dtype=np.int32)
    _owners(lo, span, centers, margin, owner)
    open_slot = np.full(len(cells), -1, dtype=np.int64)
    slot_of = np.full(1 << (3 * bits), -1, dtype=np.int32)
    color_index = np.empty(0, np.int64)
    color_counts = np.empty(0, np.float64)
    colors = np.empty((0, 3), np.float64)
    sq_opened = 0  # the opened pixels' squared offsets
    n_iter = 0
    n_rounds = 0
    n_open = 0
    per = 1 << (3 * (8 - bits))
    while True:
        newly = np.flatnonzero((owner < 0) & (open_slot < 0))
        if len(newly):
            slot_of[:] = -1
            slot_of[cells[newly]] = np.arange(len(newly), dtype=np.int32)
            index, counts, found, sq = source.colors_in(bits, slot_of, corners[newly])
            sq_opened += sq
            open_slot[newly] = np.arange(n_open, n_open + len(newly))
            color_index = np.concatenate([color_index, index + n_open * per])
            color_counts = np.concatenate([color_counts, counts])
            colors = np.concatenate([colors, found])
            n_open += len(newly)
        closed = np.flatnonzero(open_slot < 0)
        X = np.concatenate([means[closed], colors])
        w = np.concatenate([weights[closed], color_counts])
        start = centers
        centers, labels, inertia, it = lloyd(X, w, centers, max(0, max_iter - n_iter), tol_abs)
        n_iter += it
        n_rounds += 1
        check = np.empty(len(closed), dtype=np.int32)
        _owners(lo[closed], span, centers, 0.0, check)
        if np.array_equal(check, labels[: len(closed)]):
            break
        # some closed cell is crossed: the centres moved farther than the margin
        # foresaw; open every cell that a move as large again could cross
        moved = float(np.sqrt(((centers - start) ** 2).sum(axis=1)).max())
        _owners(lo[closed], span, centers, margin + moved, check)
        owner[closed[check < 0]] = -1
        owner[closed[check != labels[: len(closed)]]] = -1
    cell_center = np.full(len(cells), -1, dtype=np.int64)
    cell_center[closed] = labels[: len(closed)]
    color_center = labels[len(closed):]
    counts = np.bincount(labels, weights=w, minlength=n_clusters).astype(np.int64)
    # the closed cells' scatter about their means, which Lloyd on the means leaves out,
    # in offsets from the cells' corners (small numbers): their squared offsets less
    # |offset sums|^2 / n of each
    off = offsets[closed].astype(np.float64)
    scatter = (sq_offsets - sq_opened) - float(((off * off).sum(axis=1) / weights[closed]).sum())
    inertia += max(scatter, 0.0)
    return GridFit(source, bits, cells, cell_center, open_slot, color_index, color_center, centers, inertia,
                   n_iter, n_rounds, counts)


def _owners(lo, span, centers, margin, out):
    """:func:`~kmseg.cluster._kernels.cell_owner` of the cells' boxes."""
    k = len(centers)
    near, gap = np.empty((k, k - 1), dtype=np.intc), np.empty((k, k - 1))
    neighbours(centers, near, gap)
    cell_owner(np.ascontiguousarray(lo), span, centers, near, gap, margin, out)
