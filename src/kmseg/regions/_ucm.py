"""The merge hierarchy as a boundary map: its ultrametric contour map (UCM).

Every boundary between two 4-neighbour pixels gets the level at which the
segments on its two sides join in the merge tree; thresholding the map at ``t``
then gives the segmentation of the tree stopped at ``t`` (Arbelaez et al.,
"Contour Detection and Hierarchical Image Segmentation", TPAMI 2011, section
4.2: a UCM is the boundary map of a hierarchy whose levels are its regions'
merge heights). The map lies on the inter-pixel grid of BSDS500's ``ucm2``:
``(2H + 1, 2W + 1)``, pixel ``(y, x)`` at ``(2y + 1, 2x + 1)``.
"""

import numpy as np

#: 16-bit PNG of a UCM: a level ``l`` is written as ``round(l / scale * UCM_MAX)``.
UCM_MAX = 65535


def join_levels(merges, levels, pairs, n):
    """The level at which each adjacent pair of the ``n`` leaves joins in the merge tree.

    ``merges[i] = (a, b)`` merges the segment holding leaf ``b`` into the one holding
    leaf ``a`` at ``levels[i]``; ``pairs`` are ``(n_pairs, 2)`` leaves. Pairs that
    never join get ``inf``. Each merge visits the smaller segment's leaves and their
    pairs (smaller into larger), so the work is ``O(n_pairs log n)``.
    """
    out = np.full(len(pairs), np.inf)
    if len(pairs) == 0:
        return out
    touching = [[] for _ in range(n)]  # leaf -> pair indices
    for p, (a, b) in enumerate(pairs.tolist()):
        touching[a].append(p)
        touching[b].append(p)
    root = list(range(n))
    members = [[i] for i in range(n)]
    for (a, b), level in zip(merges, np.asarray(levels, dtype=np.float64).tolist()):
        ra, rb = root[a], root[b]
        if ra == rb:  # not a merge tree's merge: nothing joins
            continue
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra
        small = members[rb]
        for leaf in small:  # pairs from the smaller segment into the larger one join here
            for p in touching[leaf]:
                u, w = pairs[p]
                if out[p] == np.inf and root[u if w == leaf else w] == ra:
                    out[p] = level
        for leaf in small:
            root[leaf] = ra
        members[ra].extend(small)
        members[rb] = []
    return out


def ucm_map(leaves, merges, levels):
    """The ``(2H + 1, 2W + 1)`` UCM of a merge tree over a connected ``leaves`` label map.

    Edges (odd row and even column, or even row and odd column) hold the level at
    which the leaves of their two pixels join (0 inside a leaf); grid points (even,
    even) the largest level of their edges; the outer frame the root's level (the
    largest), so that it joins nothing before everything is joined.
    """
    from ._merge import region_graph

    h, w = leaves.shape
    n = int(leaves.max()) + 1
    pairs, _ = region_graph(leaves)
    joined = join_levels(merges, levels, pairs, n)
    top = float(np.max(levels)) if len(levels) else 0.0
    codes = pairs[:, 0] * n + pairs[:, 1]
    lab = leaves.astype(np.int64, copy=False)

    def level_of(x, y):
        lo, hi = np.minimum(x, y), np.maximum(x, y)
        out = np.zeros(x.shape)
        cut = lo != hi
        out[cut] = joined[np.searchsorted(codes, lo[cut] * n + hi[cut])]
        return out

    ucm = np.zeros((2 * h + 1, 2 * w + 1))
    ucm[1:-1:2, 2:-1:2] = level_of(lab[:, :-1], lab[:, 1:])  # between (y, x) and (y, x + 1)
    ucm[2:-1:2, 1:-1:2] = level_of(lab[:-1, :], lab[1:, :])  # between (y, x) and (y + 1, x)
    ucm[0, :] = ucm[-1, :] = top
    ucm[:, 0] = ucm[:, -1] = top
    corners = ucm[1:-1:2, 2:-1:2]  # grid points: the largest of the four edges around them
    ucm[2:-1:2, 2:-1:2] = np.maximum.reduce([corners[:-1], corners[1:], ucm[2:-1:2, 1:-2:2], ucm[2:-1:2, 3::2]])
    return ucm


def ucm_labels(ucm, threshold):
    """The segments of a UCM at ``threshold``: pixels joined across edges of level
    ``<= threshold`` (4-connected), labelled 0..k-1; ``(H, W)``."""
    from scipy import ndimage

    comp, _ = ndimage.label(ucm <= threshold)
    return comp[1::2, 1::2] - 1


def ucm_to_uint16(ucm, scale):
    """A UCM as 16-bit integers: ``round(level / scale * 65535)``, capped at 65535."""
    return np.round(np.minimum(ucm / scale, 1.0) * UCM_MAX).astype(np.uint16)
