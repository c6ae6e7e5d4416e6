"""Merging adjacent regions: spatially constrained Ward clustering on a region graph.

Each region is a node with its pixel count and the sum of its pixels' features;
adjacent regions (sharing a 4-connected boundary) are joined by an edge. The pair
of adjacent regions whose merge raises the k-means objective (the within-region
sum of squares) the least is merged, ``n_a n_b / (n_a + n_b) |mu_a - mu_b|^2``
(Ward's criterion), optionally with a histogram distance added and scaled up
by the mean edge strength of their shared boundary and by how small a part of
the shorter outline that boundary is (the edge strength optionally taken
relative to the regions' own), until the requested number of regions is left.
Or the cost is learned: minus a logistic model's log-odds that the pair is one
object, from features of the pair (``model``; see ``_merge_kernels.pair_features``).
Merging only adjacent regions keeps every region connected. The loop is a
compiled kernel (_merge_kernels.pyx).
"""

import heapq

import numpy as np


def region_graph(labels, edges=None):
    """Adjacent label pairs ``(a < b)`` of a label map, their boundary lengths and edge sums.

    Parameters
    ----------
    labels : (H, W) int ndarray
    edges : (H, W) float ndarray or tuple of two, optional
        Edge strength per pixel, e.g. a gradient magnitude; or per pair of
        4-neighbour pixels, as ``(across_columns, across_rows)`` of shapes
        ``(H, W - 1)`` (pixel ``(y, x)`` with ``(y, x + 1)``) and ``(H - 1, W)``
        (pixel ``(y, x)`` with ``(y + 1, x)``).

    Returns
    -------
    pairs : (m, 2) int64 ndarray
    lengths : (m,) int64 ndarray
        Number of 4-neighbour pixel pairs across each boundary.
    strength : (m,) float64 ndarray
        With ``edges``: the sum over those pixel pairs of their strength (for a
        map per pixel, the mean of the two pixels'; see :func:`boundary_strength`).
    """
    n = int(labels.max()) + 1
    flat = labels.astype(np.int64, copy=False)
    a = np.concatenate([flat[:, :-1].ravel(), flat[:-1, :].ravel()])
    b = np.concatenate([flat[:, 1:].ravel(), flat[1:, :].ravel()])
    cut = np.flatnonzero(a != b)
    a, b = a[cut], b[cut]
    codes, inverse, lengths = np.unique(np.minimum(a, b) * n + np.maximum(a, b), return_inverse=True,
                                        return_counts=True)
    pairs = np.stack([codes // n, codes % n], axis=1)
    if edges is None:
        return pairs, lengths.astype(np.int64)
    across_columns, across_rows = _pair_edges(edges)
    e = np.concatenate([across_columns.ravel(), across_rows.ravel()])
    strength = np.bincount(inverse.ravel(), weights=e[cut], minlength=len(codes))
    return pairs, lengths.astype(np.int64), strength


def _pair_edges(edges):
    """Strength of each 4-neighbour pixel pair, ``(across_columns, across_rows)``,
    from a map per pixel (the mean of the two) or as given."""
    if isinstance(edges, tuple):
        return edges
    return (edges[:, :-1] + edges[:, 1:]) / 2, (edges[:-1, :] + edges[1:, :]) / 2


def boundary_strength(labels, edges, pairs):
    """Sum of an edge map over each boundary (both pixels of each 4-neighbour pair).

    Parameters
    ----------
    labels : (H, W) int ndarray
    edges : (H, W) float ndarray or tuple of two
        Edge strength per pixel or per pixel pair, as for :func:`region_graph`.
    pairs : (m, 2) int ndarray
        From :func:`region_graph`.

    Returns
    -------
    (m,) float ndarray, aligned with ``pairs``.
    """
    found, _, strength = region_graph(labels, edges)
    n = int(labels.max()) + 1
    return strength[np.searchsorted(found[:, 0] * n + found[:, 1], pairs[:, 0] * n + pairs[:, 1])]


def region_stats(labels, features, m=None):
    """Pixel count and feature sums of each region.

    Returns
    -------
    counts : (m,) float64 ndarray, sums : (m, d) float64 ndarray
    """
    flat = labels.ravel()
    m = int(flat.max()) + 1 if m is None else m
    counts = np.bincount(flat, minlength=m).astype(np.float64)
    sums = np.stack([np.bincount(flat, weights=features[..., f].ravel(), minlength=m)
                     for f in range(features.shape[-1])], 1)
    return counts, sums


def ward_merge(labels, features, n_regions, edges=None, edge_weight=0.0, **options):
    """Merge adjacent regions greedily by Ward's criterion down to ``n_regions``.

    The final region of each input label; see :func:`merge_tree` for the parameters.
    """
    return cut_tree(int(labels.max()) + 1,
                    merge_tree(labels, features, edges, edge_weight, n_regions, **options), n_regions)


def cut_tree(m, merges, n_regions):
    """The regions left after the first ``m - n_regions`` merges of :func:`merge_tree`.

    Returns
    -------
    (m,) int64 ndarray
        Region (0..n-1, numbered in order of their smallest input label) of each input label.
    """
    parent = np.arange(m)
    for a, b in merges[: max(0, m - n_regions)]:
        parent[b] = a
    return _compact_roots(parent)


def _compact_roots(parent):
    """Final region (0..n-1, in order of their root label) of each label of a merge forest."""
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    return np.unique(root, return_inverse=True)[1].astype(np.int64)


def merge_tree(labels, features, edges=None, edge_weight=0.0, n_regions=1, return_costs=False, *,
               codes=None, n_codes=0, hist_weight=0.0, size_power=1.0,
               share_power=0.0, edge_floor=0.0, model=None, return_features=False):
    """The order in which adjacent regions merge, cheapest first.

    The cost of merging regions ``a`` and ``b`` is Ward's criterion (the rise of
    the within-region sum of squares), with the histogram distance added to the
    squared distance of the means and the whole scaled up by the boundary's
    edge strength::

        n_a n_b / (n_a + n_b) * (|mu_a - mu_b|^2 + hist_weight * chi2(h_a, h_b))
        * (1 + edge_weight * mean edge strength along the shared boundary)

    where ``chi2`` is half the chi-squared distance (0 to 1) of the two regions'
    normalised histograms of pixel ``codes``. ``size_power`` replaces the
    exponent 1 of the first factor, and with ``share_power > 0`` the cost is also
    multiplied by ``(min(P_a, P_b) / L_ab)^share_power``, ``P`` a region's
    boundary length with all other regions and ``L_ab`` the shared one. With
    ``edge_floor > 0`` the boundary's edge strength is taken as a contrast: its
    mean divided by ``edge_floor`` plus the mean of the two regions' mean edge
    strength over their pixels, so that a boundary through texture (strong
    edges everywhere) resists less than one as strong between plain regions.

    Parameters
    ----------
    labels : (H, W) int ndarray
        Connected regions labelled 0..m-1.
    features : (H, W, d) float ndarray
        Per-pixel features (e.g. CIELAB).
    edges : (H, W) float ndarray or tuple of two, optional
        Edge strength per pixel or per pixel pair (see :func:`region_graph`);
        used with ``edge_weight > 0``.
    edge_weight : float, default=0
    n_regions : int, default=1
        Stop once this many regions are left.
    return_costs : bool, default=False
        Also return the cost of each merge.
    codes : (H, W) int ndarray, optional
        A histogram bin (0..n_codes-1) per pixel; used with ``hist_weight > 0``.
    n_codes : int, default=0
    hist_weight : float, default=0
    size_power : float, default=1
    share_power : float, default=0
    edge_floor : float, default=0
        Needs ``edges`` as a map per pixel.
    model : (1 + N_PAIR_FEATURES,) array-like, optional
        A logistic model (intercept, then a weight per feature of
        ``_merge_kernels.pair_features``, which include the cost above): the
        cost of a pair is then minus the model's log-odds that it is one object.
        The features come from the inputs above: without ``edges`` and
        ``edge_weight > 0`` the boundary's edge strength (features 4 and 5) is 0,
        without ``edge_floor > 0`` too the regions' own (5 and 6), and without
        ``hist_weight > 0`` the histogram distance (3); so pass the inputs the
        model was fitted with (``_pipeline._merge_inputs``).
    return_features : bool, default=False
        Also return the pair features of each merge, as it was done.

    Returns
    -------
    merges : list of (a, b)
        In order: region ``b`` merged into ``a`` (labels of the input).
    costs : list of float
        With ``return_costs``: the cost of each merge.
    features : (n_merges, N_PAIR_FEATURES) float64 ndarray
        With ``return_features``.
    """
    from ._merge_kernels import N_PAIR_FEATURES, merge_regions

    m = int(labels.max()) + 1
    counts, sums = region_stats(labels, features, m)
    use_edges = edges is not None and edge_weight > 0
    if use_edges:
        pairs, lengths, strength = region_graph(labels, edges)
    else:
        pairs, lengths = region_graph(labels)
        strength = np.zeros(len(pairs))
    if codes is not None and hist_weight > 0:
        hists = np.bincount(labels.ravel().astype(np.int64) * n_codes + codes.ravel(),
                            minlength=m * n_codes).astype(np.float64).reshape(m, n_codes)
    else:
        hists, hist_weight = np.zeros((m, 0)), 0.0
    if use_edges and edge_floor > 0:
        if isinstance(edges, tuple):
            raise ValueError("edge_floor needs an edge map per pixel")
        interior = np.bincount(labels.ravel(), weights=edges.ravel(), minlength=m)
    else:
        interior, edge_floor = np.zeros(m), 0.0
    into = np.empty(m, np.int64)
    frm = np.empty(m, np.int64)
    cost = np.empty(m)
    model = np.zeros(0) if model is None else np.ascontiguousarray(model, dtype=np.float64)
    if model.size and model.shape != (1 + N_PAIR_FEATURES,):  # the kernel would read past its end
        raise ValueError(f"model has shape {model.shape}: expected ({1 + N_PAIR_FEATURES},), an intercept "
                         "and a weight per pair feature")
    feats = np.zeros((m if return_features else 0, N_PAIR_FEATURES))
    done = merge_regions(counts, np.ascontiguousarray(sums), hists, np.ascontiguousarray(pairs[:, 0]),
                         np.ascontiguousarray(pairs[:, 1]), strength.astype(np.float64),
                         lengths.astype(np.float64), float(edge_weight) if use_edges else 0.0,
                         float(hist_weight), float(size_power),
                         float(share_power), int(n_regions), into, frm, cost, interior, float(edge_floor),
                         float(labels.size), model, feats)
    merges = list(zip(into[:done].tolist(), frm[:done].tolist()))
    out = (merges,)
    if return_costs:
        out += (cost[:done].tolist(),)
    if return_features:
        out += (feats[:done],)
    return out if len(out) > 1 else merges


def absorb_small(labels, features, min_size):
    """Merge every region smaller than ``min_size`` pixels into an adjacent one.

    The smallest region goes first, into the neighbour whose merge raises the
    within-region sum of squares least (Ward's criterion); repeated until every
    region has at least ``min_size`` pixels or one region is left.

    Parameters
    ----------
    labels : (H, W) int ndarray
        Connected regions labelled 0..m-1.
    features : (H, W, d) float ndarray
    min_size : int

    Returns
    -------
    (m,) int64 ndarray
        The final region (0..n-1) of each input label.
    """
    m = int(labels.max()) + 1
    counts, sums = region_stats(labels, features, m)
    neighbours = [set() for _ in range(m)]
    for a, b in region_graph(labels)[0].tolist():
        neighbours[a].add(b)
        neighbours[b].add(a)
    parent = np.arange(m)
    alive = {r for r in range(m) if counts[r] > 0}
    heap = [(counts[r], r) for r in alive]
    heapq.heapify(heap)
    while heap and len(alive) > 1:
        size, r = heapq.heappop(heap)
        if r not in alive or size != counts[r]:
            continue
        if size >= min_size:
            break
        best = min(neighbours[r], key=lambda nb: counts[nb] * size / (counts[nb] + size) * float(
            ((sums[nb] / counts[nb] - sums[r] / size) ** 2).sum()))
        counts[best] += size
        sums[best] += sums[r]
        parent[r] = best
        alive.discard(r)
        for nb in neighbours[r]:
            neighbours[nb].discard(r)
            if nb != best:
                neighbours[nb].add(best)
                neighbours[best].add(nb)
        heapq.heappush(heap, (counts[best], best))
    return _compact_roots(parent)
