"""Stage 4: deterministic label order."""

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
