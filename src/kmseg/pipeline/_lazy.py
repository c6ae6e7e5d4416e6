"""Dask arrays of values (volumes, multi-band rasters), segmented block by block.

dask array -> per-block statistics, merged by a tree of tasks -> the fit -> labels
as a Dask array, each block labelled on its own

No block is held beyond the task that reduces it, so an array larger than memory
runs on a LocalCluster or a real cluster in the memory of a few blocks. What is
reduced depends on the values, as for the in-memory arrays
(:class:`~kmseg.pipeline._arrays.ArrayValues`):

* uint8 and uint16 with one channel: a histogram of every level (a bincount per
  block, summed). The fit is that of the in-memory path on the same histogram,
  so centres, counts, inertia and labels are the same, byte for byte; labels go
  through a table of levels.
* other integers whose channels pack into 64 bits: the distinct packed rows with
  their counts, merged. Again the in-memory fit, the same result; labels by a
  search among the distinct codes.
* floats and wider integers (every element a sample): a summary (count, mean,
  variance, range) and a uniform sample of 65,536 elements. An array of no more
  elements than that is the sample itself, fitted as in memory (the same
  result). A larger one is fitted by k-means++ and Lloyd iterations on the
  sample, then by exact Lloyd iterations over all blocks, each pass one
  reduction of the per-cluster counts and sums, until the centres move by at
  most ``tol`` (relative to the mean variance, as in memory; ``tol=0``: until
  they stop, a Lloyd fixed point). That is a local optimum of the same
  objective, not necessarily the one the in-memory fit finds; labels are each
  element's nearest centre.

Dask is imported only when a Dask array is passed; the reductions run on
whatever scheduler Dask is configured with (a distributed Client, if one is
active), through :func:`dask.compute`. Kernels run one thread per task: the
blocks are the parallelism.
"""

import warnings

import numpy as np

from .. import _validation as v
from ..cluster._fit import fit_weighted
from ..cluster._lloyd import assign
from ..labels._order import label_dtype, size_order
from ._arrays import (ArrayValues, check_channel_axis, fit_values, is_image, pack_rows, unpack_rows,
                      value_kind, value_table)
from ._result import Quantized, Segmentation

#: Partial results merged per task of the reduction tree.
SPLIT_EVERY = 8
#: Elements sampled (uniformly, without replacement) from float arrays to seed the fit;
#: arrays of no more elements are fitted on all of them, as in memory.
SAMPLE_SIZE = 1 << 16


def is_dask_array(x):
    """Whether ``x`` is a Dask array, told without importing Dask."""
    return type(x).__module__.startswith("dask.") and hasattr(x, "chunks") and hasattr(x, "dtype")


def lazy_values(image, channel_axis):
    """Whether ``image`` is a Dask array of values (not of the shape of an image, which is
    read into memory and takes the image path): what :func:`segment_dask` segments."""
    if not is_dask_array(image):
        return False
    shape = tuple(image.shape)
    if any(s != s for s in shape):  # unknown chunk sizes: segment_dask says so
        return True
    return not is_image(np.broadcast_to(np.zeros((), np.uint8), shape), channel_axis)


def segment_dask(array, n_clusters, channel_axis, color_space, spatial_weight, params, mask, nan):
    """:func:`kmseg.segment` of a Dask array of values: a :class:`Segmentation` whose
    ``labels`` (and ``mask``) are Dask arrays of the spatial shape and chunks."""
    if color_space is not None or spatial_weight > 0:
        given = "color_space" if color_space is not None else "spatial_weight"
        raise v.KmsegError(f"{given} applies to images of 1 to 4 channels with channel_axis=-1; the "
                           f"values of an array of another kind are clustered as they are")
    seg, note = _segmentation(_Blocks(array, channel_axis, mask, nan), n_clusters, params)
    if note is not None:
        warnings.warn(note, v.KmsegWarning, stacklevel=3)
    return seg


def quantize_dask(array, n_colors, channel_axis, params, mask, nan, **options):
    """:func:`kmseg.quantize` of a Dask array of values: the array painted with its
    centres, as a Dask array (``options``: quantize's image-only options, refused)."""
    given = [name for name, value in options.items() if value is not None and value != "none"]
    if given:
        raise v.KmsegError(f"{', '.join(given)} apply to images of 1 to 4 channels with channel_axis=-1; "
                           "the values of an array of another kind are clustered as they are")
    blocks = _Blocks(array, channel_axis, mask, nan)
    seg, note = _segmentation(blocks, n_colors, params)
    if note is not None:
        warnings.warn(note.replace("n_clusters", "n_colors"), v.KmsegWarning, stacklevel=3)
    out = Quantized(blocks.painted(seg), seg.palette)
    out.indices, out.segmentation = seg.labels, seg
    return out


class _Values:
    """What :func:`fit_values` and :meth:`ArrayValues.display` read of an array's values,
    gathered by a reduction."""

    display = ArrayValues.display

    def __init__(self, features, weights, name, dtype, lo, hi):
        self.features, self.weights, self.n_distinct = features, weights, len(features)
        self.name, self.dtype, self.lo, self.hi = name, dtype, lo, hi


class _Blocks:
    """A Dask array as blocks of rows: its channels last, in one chunk, and the mask
    (if any) in the spatial chunks.

    Attributes
    ----------
    x : dask array of shape ``shape + (c,)``
    shape, chunks : the spatial shape and chunks (the labels').
    mask : dask bool array of the spatial shape, or None
    kind : 'levels', 'codes' or 'rows': what is reduced.
    """

    def __init__(self, array, channel_axis, mask, nan, name="the array"):
        import dask.array as da

        shape = tuple(array.shape)
        if any(s != s for s in shape):
            raise v.KmsegError(f"{name}: a Dask array of unknown chunk sizes (shape {shape}); call its "
                               "compute_chunk_sizes() first")
        dtype = np.dtype(array.dtype)
        if dtype.kind not in "uif" or array.ndim == 0 or array.size == 0:
            raise v.KmsegError(f"{name}: an array of numbers with at least one element is needed, got "
                               f"shape {shape} of {dtype}")
        self.axis = check_channel_axis(channel_axis, array.ndim)
        x = array[..., None] if self.axis is None else da.moveaxis(array, self.axis, -1)
        if x.ndim < 2:
            raise v.KmsegError(f"{name}: channel_axis={channel_axis} leaves no spatial axis")
        self.x = x.rechunk({x.ndim - 1: -1})
        self.name, self.dtype, self.channel_axis = name, dtype, channel_axis
        self.shape, self.chunks = self.x.shape[:-1], self.x.chunks[:-1]
        self.nan = v.check_choice("nan", nan, ("raise", "mask"))
        self.mask = None if mask is None else self._mask(mask)
        c = self.x.shape[-1]
        self.kind = value_kind(dtype, c)

    def _mask(self, mask):
        import dask.array as da

        mask = mask if is_dask_array(mask) else np.asarray(mask)
        if tuple(mask.shape) != self.shape:
            raise v.KmsegError(f"mask has shape {tuple(mask.shape)}; {self.name} has the spatial shape {self.shape}")
        if is_dask_array(mask):
            return mask.astype(bool).rechunk(self.chunks)
        return da.from_array(mask.astype(bool), chunks=self.chunks)

    def reduce(self, per_block, merge, *args):
        """``per_block(block, mask_block, origin, *args)`` of every block, merged by
        ``merge(*parts)`` in a tree of tasks, computed: one result."""
        import dask
        from dask import delayed

        xs = self.x.to_delayed().reshape(-1)
        ms = [None] * len(xs) if self.mask is None else self.mask.to_delayed().reshape(-1)
        starts = [np.concatenate([[0], np.cumsum(c)[:-1]]) for c in self.chunks]
        numblocks = tuple(len(c) for c in self.chunks)
        task, combine = delayed(per_block, pure=True), delayed(merge, pure=True)
        parts = [task(xb, mb, tuple(int(s[j]) for s, j in zip(starts, np.unravel_index(i, numblocks))), *args)
                 for i, (xb, mb) in enumerate(zip(xs, ms))]
        while len(parts) > 1:
            parts = [combine(*parts[i:i + SPLIT_EVERY]) for i in range(0, len(parts), SPLIT_EVERY)]
        return dask.compute(parts[0])[0]

    def map(self, per_block, dtype, *args):
        """A Dask array of the spatial shape and chunks: ``per_block(block, mask_block,
        origin, *args)`` of each block (``args`` arrays travel once, as tasks of their own)."""
        import dask.array as da
        from dask import delayed

        n = len(self.shape)
        arrays = [self.x] if self.mask is None else [self.x, self.mask[..., None]]
        consts = [delayed(a) if isinstance(a, np.ndarray) else a for a in args]
        return da.map_blocks(_located, per_block, len(arrays), *arrays, *consts, drop_axis=n, dtype=dtype,
                             meta=np.empty((0,) * n, dtype))

    def painted(self, seg):
        """The array with each element's values replaced by its cluster's centre, as
        :func:`~kmseg.pipeline._arrays.painted_values` paints them: a Dask array of the
        input's shape and dtype, made from the labels (the input is not read again)."""
        import dask.array as da

        table = value_table(seg.centers, self.dtype)
        n = len(self.shape)
        out = seg.labels.map_blocks(_paint, table, dtype=self.dtype, new_axis=n,
                                    chunks=seg.labels.chunks + ((table.shape[1],),),
                                    meta=np.empty((0,) * (n + 1), self.dtype))
        return out[..., 0] if self.axis is None else da.moveaxis(out, -1, self.axis)


def _segmentation(blocks, n_clusters, params):
    """The :class:`Segmentation` of a :class:`_Blocks` and the note of the fit (or None)."""
    fit = {"levels": _fit_levels, "codes": _fit_codes, "rows": _fit_rows}[blocks.kind]
    labels, centers, counts, inertia, n_iter, elbow, note, values, mask = fit(blocks, n_clusters, params)
    seg = Segmentation(labels, centers, values.display(centers), counts, inertia, n_iter, None, grey=False,
                       mask=mask, dtype=np.uint8, elbow=elbow)
    seg.channel_axis = blocks.channel_axis
    return seg, note


def _fitted(values, n_clusters, params):
    """:func:`fit_values` of distinct values, on the caller's kernel threads."""
    with v.thread_limit(params.n_threads):
        return fit_values(values, n_clusters, params)


def _fit_levels(blocks, n_clusters, params):
    size = 1 << (8 * blocks.dtype.itemsize)
    hist = blocks.reduce(_level_counts, _added, size)
    levels = np.flatnonzero(hist)
    if len(levels) == 0:
        raise v.KmsegError(f"{blocks.name}: no element is left to cluster")
    lo, hi = np.array([levels[0]], np.float64), np.array([levels[-1]], np.float64)
    values = _Values(levels.astype(np.float64)[:, None], hist[levels].astype(np.float64), blocks.name,
                     blocks.dtype, lo, hi)
    labels, centers, counts, inertia, n_iter, elbow, note = _fitted(values, n_clusters, params)
    k = len(centers)
    dtype = label_dtype(k if blocks.mask is None else k + 1)
    table = np.zeros(size, dtype)
    table[levels] = labels
    return (blocks.map(_label_levels, dtype, table, k), centers, counts, inertia, n_iter, elbow, note, values,
            blocks.mask)


def _fit_codes(blocks, n_clusters, params):
    codes, counts = blocks.reduce(_distinct_codes, _merged_codes)
    if len(codes) == 0:
        raise v.KmsegError(f"{blocks.name}: no element is left to cluster")
    features = unpack_rows(codes, blocks.dtype, blocks.x.shape[-1])
    values = _Values(features, counts.astype(np.float64), blocks.name, blocks.dtype, features.min(axis=0),
                     features.max(axis=0))
    labels, centers, k_counts, inertia, n_iter, elbow, note = _fitted(values, n_clusters, params)
    k = len(centers)
    dtype = label_dtype(k if blocks.mask is None else k + 1)
    return (blocks.map(_label_codes, dtype, codes, labels.astype(dtype), k), centers, k_counts, inertia, n_iter,
            elbow, note, values, blocks.mask)


def _fit_rows(blocks, n_clusters, params):
    import dask.array as da

    seed = int(v.make_rng(params.random_state).integers(1 << 62))
    s = blocks.reduce(_summary, _merged_summaries, blocks.nan, blocks.shape, seed)
    if s["bad"] and blocks.nan == "raise":
        raise v.KmsegError(f"{blocks.name}: {s['bad']:,} elements are NaN or infinite; "
                           "pass nan='mask' to leave them out")
    if s["n"] == 0:
        raise v.KmsegError(f"{blocks.name}: no element is left to cluster")
    nan = "mask" if s["bad"] else "raise"  # finite checks only where there is something to leave out
    mask = blocks.mask
    if s["bad"]:
        finite = da.isfinite(blocks.x).all(axis=-1)
        mask = finite if mask is None else mask & finite
    fill_needed = mask is not None
    order = np.argsort(s["flat"], kind="stable")
    sample, flat = s["rows"][order], s["flat"][order]
    if s["n"] <= SAMPLE_SIZE:  # the sample is every element: the in-memory fit
        values = ArrayValues(sample, 1, name=blocks.name)
        labels, centers, counts, inertia, n_iter, elbow, note = _fitted(values, n_clusters, params)
        k = len(centers)
        dtype = label_dtype(k + 1 if fill_needed else k)
        labels = blocks.map(_label_by_index, dtype, flat, labels.astype(dtype), k, nan, blocks.shape)
        return labels, centers, counts, inertia, n_iter, elbow, note, values, mask
    if n_clusters == "auto":
        raise v.KmsegError(f"n_clusters='auto' sweeps k on the distinct values; {blocks.name} holds "
                           f"{s['n']:,} float samples, clustered by Lloyd iterations over its blocks: "
                           "give an integer n_clusters")
    if n_clusters > SAMPLE_SIZE:
        raise v.KmsegError(f"n_clusters={n_clusters} must be <= {SAMPLE_SIZE:,} for {blocks.name}, whose "
                           f"centres are seeded on a sample of {SAMPLE_SIZE:,} elements")
    centers, st, n_iter = _lloyd(blocks, np.ascontiguousarray(sample, dtype=np.float64), n_clusters,
                                 float(np.mean(s["m2"] / s["n"]) * params.tol), nan, params)
    order, rank = size_order(st["counts"], centers)
    k = int(np.count_nonzero(st["counts"]))  # empty clusters (repeated values) are last: dropped, with a note
    note = None if k == len(centers) else (
        f"n_clusters={len(centers)} left {len(centers) - k} clusters empty: {blocks.name} has fewer distinct "
        f"values; using n_clusters={k}")
    dtype = label_dtype(k + 1 if fill_needed else k)
    labels = blocks.map(_label_nearest, dtype, centers, rank.astype(dtype), k, nan)
    values = _Values(centers, st["counts"], blocks.name, blocks.dtype, s["lo"], s["hi"])
    return (labels, np.ascontiguousarray(centers[order][:k]), st["counts"][order][:k].astype(np.int64),
            float(st["inertia"]), n_iter, None, note, values, mask)


def _lloyd(blocks, sample, n_clusters, tol_abs, nan, params):
    """Lloyd iterations over all blocks from centres fitted on ``sample``, until the
    total squared centre shift is at most ``tol_abs``; then the statistics of the
    final centres. Empty clusters take the elements farthest from their centres.
    Returns ``(centers, stats, n_iter)``."""
    with v.thread_limit(params.n_threads):
        centers = fit_weighted(sample, np.ones(len(sample)), n_clusters, n_init=params.n_init,
                               max_iter=params.max_iter, tol=params.tol, rng=params.random_state).cluster_centers_
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    shift, n_iter, st = np.inf, 0, None
    while n_iter < params.max_iter:
        n_iter += 1
        st = blocks.reduce(_lloyd_pass, _merged_passes, nan, centers)
        new = centers.copy()
        full = st["counts"] > 0
        new[full] = st["sums"][full] / st["counts"][full, None]
        for j, row in zip(np.flatnonzero(~full), st["far"]):
            new[j] = row
        shift = float(np.einsum("ij,ij->", new - centers, new - centers))
        centers = new
        if shift <= tol_abs:
            break
    if shift > 0:  # the counts, inertia and labels of the final centres
        st = blocks.reduce(_lloyd_pass, _merged_passes, nan, centers)
    return centers, st, n_iter


# Per-block tasks. Each gets a block of shape (..., c) with its channels last, its
# block of the mask (or None), and the arguments given.

def _kept(block, mask, nan):
    """The block's rows, and the flat spatial positions kept (None: all)."""
    rows = block.reshape(-1, block.shape[-1])
    keep = None if mask is None else mask.reshape(-1)
    if nan == "mask" and rows.dtype.kind == "f":
        finite = np.isfinite(rows).all(axis=1)
        keep = finite if keep is None else keep & finite
    return rows, keep


def _level_counts(block, mask, origin, size):
    rows, keep = _kept(block, mask, "raise")
    return np.bincount(rows[:, 0] if keep is None else rows[keep, 0], minlength=size)


def _added(*parts):
    total = parts[0].copy()
    for p in parts[1:]:
        total += p
    return total


def _distinct_codes(block, mask, origin):
    rows, keep = _kept(block, mask, "raise")
    codes, counts = np.unique(pack_rows(rows if keep is None else rows[keep]), return_counts=True)
    return codes, counts.astype(np.int64)


def _merged_codes(*parts):
    codes = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([p[1] for p in parts])
    if len(codes) == 0:
        return codes, counts
    order = np.argsort(codes, kind="stable")
    codes, counts = codes[order], counts[order]
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    return codes[starts], np.add.reduceat(counts, starts)


def _summary(block, mask, origin, nan, shape, seed):
    """Count, mean, sum of squared deviations and range of the kept rows, the rows
    that are not finite, and the kept rows of the smallest random keys (with their
    flat positions): a uniform sample once merged."""
    rows, keep = _kept(block, mask, nan)
    bad = int((~np.isfinite(rows).all(axis=1)).sum()) if rows.dtype.kind == "f" else 0
    index = np.arange(len(rows)) if keep is None else np.flatnonzero(keep)
    rows = rows if keep is None else rows[keep]
    n, c = rows.shape
    if n == 0:
        return dict(n=0, bad=bad, mean=np.zeros(c), m2=np.zeros(c), lo=np.full(c, np.inf), hi=np.full(c, -np.inf),
                    keys=np.empty(0), flat=np.empty(0, np.int64), rows=rows)
    X = rows.astype(np.float64)
    mean = X.mean(axis=0)
    keys = np.random.default_rng([seed, *origin]).random(n)
    take = np.arange(n) if n <= SAMPLE_SIZE else np.argpartition(keys, SAMPLE_SIZE - 1)[:SAMPLE_SIZE]
    where = np.unravel_index(index[take], block.shape[:-1])
    flat = np.ravel_multi_index(tuple(w + o for w, o in zip(where, origin)), shape).astype(np.int64)
    return dict(n=n, bad=bad, mean=mean, m2=((X - mean) ** 2).sum(axis=0), lo=X.min(axis=0), hi=X.max(axis=0),
                keys=keys[take], flat=flat, rows=rows[take])


def _merged_summaries(*parts):
    out = dict(parts[0])
    for p in parts[1:]:
        n = out["n"] + p["n"]
        if p["n"]:  # Chan et al.'s pairwise update of the mean and squared deviations
            delta = p["mean"] - out["mean"]
            out["m2"] = out["m2"] + p["m2"] + delta ** 2 * (out["n"] * p["n"] / n)
            out["mean"] = out["mean"] + delta * (p["n"] / n)
        out.update(n=n, bad=out["bad"] + p["bad"], lo=np.minimum(out["lo"], p["lo"]), hi=np.maximum(out["hi"], p["hi"]))
        for key in ("keys", "flat", "rows"):
            out[key] = np.concatenate([out[key], p[key]])
    if len(out["keys"]) > SAMPLE_SIZE:
        take = np.lexsort((out["flat"], out["keys"]))[:SAMPLE_SIZE]
        for key in ("keys", "flat", "rows"):
            out[key] = out[key][take]
    return out


def _nearest(rows, centers):
    """Nearest-centre labels and squared distances of float rows (one kernel thread)."""
    X = np.ascontiguousarray(rows, dtype=np.float64)
    with v.thread_limit(1):
        labels, dists, inertia = assign(X, np.ones(len(X)), centers)
    return X, labels, dists, inertia


def _lloyd_pass(block, mask, origin, nan, centers):
    """Per-cluster counts and sums of the kept rows under their nearest centres, the
    inertia, and the k rows farthest from their centres (to refill empty clusters)."""
    rows, keep = _kept(block, mask, nan)
    X, labels, dists, inertia = _nearest(rows if keep is None else rows[keep], centers)
    k, d = centers.shape
    sums = np.empty((k, d))
    for j in range(d):
        sums[:, j] = np.bincount(labels, weights=X[:, j], minlength=k)
    far = np.argsort(-dists, kind="stable")[:k] if len(dists) <= k else np.argpartition(-dists, k - 1)[:k]
    far = far[np.argsort(-dists[far], kind="stable")]
    return dict(counts=np.bincount(labels, minlength=k), sums=sums, inertia=inertia, far=X[far],
                far_d=dists[far])


def _merged_passes(*parts):
    k = len(parts[0]["counts"])
    far = np.concatenate([p["far"] for p in parts])
    far_d = np.concatenate([p["far_d"] for p in parts])
    top = np.argsort(-far_d, kind="stable")[:k]
    return dict(counts=_added(*[p["counts"] for p in parts]), sums=_added(*[p["sums"] for p in parts]),
                inertia=sum(p["inertia"] for p in parts), far=far[top], far_d=far_d[top])


def _located(per_block, n_arrays, *args, block_info=None):
    """A :meth:`_Blocks.map` task: ``per_block`` given the block, its mask (or None)
    and the block's spatial origin."""
    mask = args[1].reshape(args[1].shape[:-1]) if n_arrays == 2 else None
    origin = tuple(start for start, _ in block_info[None]["array-location"])
    return per_block(args[0], mask, origin, *args[n_arrays:])


def _filled(labels, keep, fill):
    if keep is not None:
        labels[~keep] = fill
    return labels


def _label_levels(block, mask, origin, table, fill):
    return _filled(table[block[..., 0]], mask, fill)


def _label_codes(block, mask, origin, codes, labels, fill):
    rows, keep = _kept(block, mask, "raise")
    at = np.minimum(np.searchsorted(codes, pack_rows(rows)), len(codes) - 1)
    return _filled(labels[at], keep, fill).reshape(block.shape[:-1])


def _label_by_index(block, mask, origin, flat, labels, fill, nan, shape):
    rows, keep = _kept(block, mask, nan)
    where = np.unravel_index(np.arange(len(rows)) if keep is None else np.flatnonzero(keep), block.shape[:-1])
    at = np.searchsorted(flat, np.ravel_multi_index(tuple(w + o for w, o in zip(where, origin)), shape))
    out = np.full(len(rows), fill, dtype=labels.dtype)
    out[slice(None) if keep is None else keep] = labels[at]
    return out.reshape(block.shape[:-1])


def _label_nearest(block, mask, origin, centers, rank, fill, nan):
    rows, keep = _kept(block, mask, nan)
    out = np.full(len(rows), fill, dtype=rank.dtype)
    inside = slice(None) if keep is None else keep
    out[inside] = rank[_nearest(rows[inside], centers)[1]]
    return out.reshape(block.shape[:-1])


def _paint(labels, table):
    return table[labels]
