"""Stage 4: labels in a deterministic order, and painted with colours."""

import numpy as np


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
    once (not painted, then copied beside the alpha channel).
    """
    if alpha is not None:
        table = np.concatenate([table, np.zeros((len(table), 1), table.dtype)], axis=1)
    out = np.take(table, labels, axis=0)
    if alpha is not None:
        out[..., -1] = alpha
    return out[..., 0] if out.shape[-1] == 1 else out
