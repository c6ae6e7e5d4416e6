"""Stage 4: labels in a deterministic order, and painted with colours."""

import numpy as np

from ._kernels import paint


def size_order(counts, centers):
    """Order of clusters: most pixels first, ties by centre coordinates.

    Returns
    -------
    order : (k,) int ndarray
        ``order[new] = old``.
    rank : (k,) int ndarray
        ``rank[old] = new``, the inverse permutation.
    """
    keys = [centers[:, f] for f in range(centers.shape[1] - 1, -1, -1)]
    order = np.lexsort(keys + [-np.asarray(counts)])
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return order, rank


def label_dtype(n_labels):
    """Smallest unsigned integer dtype that holds ``n_labels`` labels."""
    if n_labels <= 256:
        return np.dtype(np.uint8)
    if n_labels <= 65536:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


def paint_labels(table, labels, alpha=None):
    """Labels painted with the rows of ``table`` ((n_labels, c)), then ``alpha``
    as one more channel; (H, W) when that makes one channel.

    The table gets the alpha column before painting, so the image is written
    once (not painted, then copied beside the alpha channel); the painting is a
    compiled kernel (:func:`~kmseg.labels._kernels.paint`) for the label and
    colour types the pipeline makes.
    """
    if alpha is not None:
        table = np.concatenate([table, np.zeros((len(table), 1), table.dtype)], axis=1)
    table = np.ascontiguousarray(table)
    out = np.empty(labels.shape + table.shape[1:], dtype=table.dtype)
    if labels.dtype in _LABEL_TYPES and table.dtype in _VALUE_TYPES and out.size:
        bad = paint(np.ascontiguousarray(labels).reshape(-1), table, out.reshape(-1, table.shape[1]))
        if bad:
            raise IndexError(f"{bad} labels are not rows of the {len(table)}-colour table")
    else:
        np.take(table, labels, axis=0, out=out)
    if alpha is not None:
        out[..., -1] = alpha
    return out[..., 0] if out.shape[-1] == 1 else out


#: Types :func:`~kmseg.labels._kernels.paint` takes.
_LABEL_TYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.uint32))
_VALUE_TYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))
