"""Numba kernel for the greedy merging of adjacent regions (see _merge.py).

Regions are nodes with a pixel count, feature sums, a histogram of pixel
codes and the sum of the edge map over their pixels; each edge of the region
graph carries the summed edge strength and the length of the shared boundary.
The kernel pops the cheapest edge from a heap, merges its two regions, and
re-prices every edge of the merged region; a region's incident edges are a
linked list, so a merge costs the degree of the two regions, not the number of
regions.
"""

import heapq

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def pair_terms(a, b, counts, sums, hists, edge_sum, edge_len, interior):
    """What both costs are made of, for regions ``a`` and ``b``.

    Returns ``(d_l, d_ab, d_rest, chi, s, inner)``: the squared difference of
    the two regions' mean first feature (CIELAB's L), of the next two (a, b) and
    of the rest; half the chi-squared distance of their normalised histograms
    (0 to 1); the boundary's mean edge strength ``edge_sum / edge_len``; and the
    mean of the two regions' mean edge strength over their pixels.
    """
    na = counts[a]
    nb = counts[b]
    d_l = 0.0
    d_ab = 0.0
    d_rest = 0.0
    for f in range(sums.shape[1]):
        t = sums[a, f] / na - sums[b, f] / nb
        if f == 0:
            d_l += t * t
        elif f < 3:
            d_ab += t * t
        else:
            d_rest += t * t
    chi = 0.0
    for j in range(hists.shape[1]):
        p = hists[a, j] / na
        q = hists[b, j] / nb
        if p + q > 0.0:
            chi += (p - q) * (p - q) / (p + q)
    s = edge_sum / edge_len if edge_len > 0.0 else 0.0
    return d_l, d_ab, d_rest, 0.5 * chi, s, 0.5 * (interior[a] / na + interior[b] / nb)


@njit(cache=True, nogil=True)
def _hand_cost(na, nb, dd, chi, s, inner, shorter, edge_len, edge_weight, hist_weight, size_power, share_power,
               edge_floor):
    harm = na * nb / (na + nb)
    c = (harm if size_power == 1.0 else harm ** size_power) * (dd + hist_weight * chi)
    if edge_weight > 0.0 and edge_len > 0.0:
        if edge_floor > 0.0:  # contrast: against the two regions' own mean edge strength
            s /= edge_floor + inner
        c *= 1.0 + edge_weight * s
    if share_power > 0.0:
        c *= (shorter / edge_len) ** share_power
    return c


@njit(cache=True, nogil=True)
def pair_cost(a, b, counts, sums, hists, perims, edge_sum, edge_len, edge_weight, hist_weight, size_power,
              share_power, interior, edge_floor):
    """Merge cost of regions ``a`` and ``b`` sharing an edge with the given sums.

    ``(n_a n_b / (n_a + n_b))^size_power * (|mu_a - mu_b|^2 + hist_weight * chi2(h_a, h_b))
    * (1 + edge_weight * s) * (min(P_a, P_b) / edge_len)^share_power``, with
    ``chi2`` half the chi-squared distance of the two normalised histograms (0
    to 1), ``P`` a region's boundary length with all others (``perims``) and
    ``s`` the boundary's mean edge strength ``edge_sum / edge_len``; with
    ``edge_floor > 0``, ``s`` is divided by ``edge_floor`` plus the mean of the
    two regions' mean edge strength over their pixels (``interior / counts``).
    """
    d_l, d_ab, d_rest, chi, s, inner = pair_terms(a, b, counts, sums, hists, edge_sum, edge_len, interior)
    return _hand_cost(counts[a], counts[b], d_l + d_ab + d_rest, chi, s, inner, min(perims[a], perims[b]),
                      edge_len, edge_weight, hist_weight, size_power, share_power, edge_floor)


#: Number of pair features (see :func:`pair_features`).
N_PAIR_FEATURES = 12


@njit(cache=True, nogil=True)
def pair_features(a, b, counts, sums, hists, perims, edge_sum, edge_len, edge_weight, hist_weight, size_power,
                  share_power, interior, edge_floor, n_pixels, out):
    """Describe the pair ``a``, ``b`` by ``N_PAIR_FEATURES`` numbers, written to ``out``.

    0 ``log(1 + dL^2)``, 1 ``log(1 + da^2 + db^2)`` (the first three features are
    CIELAB), 2 ``log(1 + |d rest|^2)`` (the features after those three), 3 ``chi2``
    of the two histograms (0 to 1), 4 ``log(1 + s)`` with ``s`` the boundary's mean
    edge strength, 5 ``log(1 + s / (edge_floor + e))`` with ``e`` the mean of the
    two regions' mean edge strength over their pixels (0 if both are 0), 6 ``log(1 + e)``, 7
    ``log(h / N)`` with ``h`` the harmonic size ``n_a n_b / (n_a + n_b)`` and
    ``N`` the image's pixels (``n_pixels``), 8 ``log(min(n_a, n_b) / N)``, 9
    ``log(min(P_a, P_b) / L)``, 10 ``log(L / sqrt(min(n_a, n_b)))`` (``L`` the
    shared boundary's length, at least 1), 11 ``log(1e-9 + c / N)`` with ``c``
    the hand-made :func:`pair_cost`.
    """
    na = counts[a]
    nb = counts[b]
    d_l, d_ab, d_rest, chi, s, inner = pair_terms(a, b, counts, sums, hists, edge_sum, edge_len, interior)
    shorter = min(perims[a], perims[b])
    hand = _hand_cost(na, nb, d_l + d_ab + d_rest, chi, s, inner, shorter, edge_len, edge_weight, hist_weight,
                      size_power, share_power, edge_floor)
    small = min(na, nb)
    length = max(edge_len, 1.0)
    out[0] = np.log1p(d_l)
    out[1] = np.log1p(d_ab)
    out[2] = np.log1p(d_rest)
    out[3] = chi
    out[4] = np.log1p(s)
    out[5] = np.log1p(s / (edge_floor + inner)) if edge_floor + inner > 0.0 else 0.0
    out[6] = np.log1p(inner)
    out[7] = np.log(na * nb / (na + nb) / n_pixels)
    out[8] = np.log(small / n_pixels)
    out[9] = np.log(max(shorter, 1.0) / length)
    out[10] = np.log(length / np.sqrt(small))
    out[11] = np.log(1e-9 + hand / n_pixels)


@njit(cache=True, nogil=True)
def learned_cost(a, b, counts, sums, hists, perims, edge_sum, edge_len, edge_weight, hist_weight, size_power,
                 share_power, interior, edge_floor, n_pixels, model, scratch):
    """The hand-made :func:`pair_cost`, or with ``model`` (intercept, then one
    weight per pair feature) minus the model's log-odds that ``a`` and ``b`` are
    one object: ``-(model[0] + model[1:] . pair_features)``."""
    if model.shape[0] == 0:
        return pair_cost(a, b, counts, sums, hists, perims, edge_sum, edge_len, edge_weight, hist_weight,
                         size_power, share_power, interior, edge_floor)
    pair_features(a, b, counts, sums, hists, perims, edge_sum, edge_len, edge_weight, hist_weight, size_power,
                  share_power, interior, edge_floor, n_pixels, scratch)
    z = model[0]
    for i in range(scratch.shape[0]):
        z += model[i + 1] * scratch[i]
    return -z


@njit(cache=True, nogil=True)
def merge_regions(counts, sums, hists, edge_u, edge_v, edge_sum, edge_len, edge_weight, hist_weight,
                  size_power, share_power, n_regions, merged_into, merged_from, costs, interior,
                  edge_floor, n_pixels, model, merge_features):
    """Merge adjacent regions, cheapest pair first, until ``n_regions`` are left.

    Parameters
    ----------
    counts : (m,) float64, updated in place.
    sums : (m, d) float64, updated in place.
    hists : (m, B) float64, updated in place (``B`` may be 0 with ``hist_weight=0``).
    edge_u, edge_v : (E,) int64
        The two regions of each edge, ``u < v``, each pair once.
    edge_sum, edge_len : (E,) float64
        Summed edge strength along each boundary, and its length; updated in place.
    edge_weight, hist_weight, size_power, share_power : float
        See :func:`pair_cost`.
    n_regions : int
    merged_into, merged_from : (m,) int64, output
        Merge ``i`` puts region ``merged_from[i]`` into ``merged_into[i]``
        (the smaller label of the two survives).
    costs : (m,) float64, output
        The cost of each merge.
    interior : (m,) float64
        Sum of the edge strength over each region's pixels, updated in place.
    edge_floor : float
        See :func:`pair_cost` (0: the boundary's edge strength as it is).
    n_pixels : float
        Pixels of the image (sizes in :func:`pair_features` are fractions of it).
    model : (0,) or (1 + N_PAIR_FEATURES,) float64
        Empty: the hand-made cost; else see :func:`learned_cost`.
    merge_features : (m, N_PAIR_FEATURES) or (0, N_PAIR_FEATURES) float64, output
        If not empty, the pair features of each merge done, as it was done.

    Returns
    -------
    int
        The number of merges done.
    """
    m = counts.shape[0]
    n_edges = edge_u.shape[0]
    eu = edge_u.copy()
    ev = edge_v.copy()
    alive_edge = np.ones(n_edges, dtype=np.bool_)
    # incidence lists: node 2e is edge e seen from u, node 2e+1 from v
    node_edge = np.empty(2 * n_edges, dtype=np.int64)
    node_next = np.full(2 * n_edges, -1, dtype=np.int64)
    head = np.full(m, -1, dtype=np.int64)
    tail = np.full(m, -1, dtype=np.int64)
    for e in range(n_edges):
        for s in range(2):
            node = 2 * e + s
            r = eu[e] if s == 0 else ev[e]
            node_edge[node] = e
            if head[r] < 0:
                head[r] = node
            else:
                node_next[tail[r]] = node
            tail[r] = node
    perims = np.zeros(m)
    for e in range(n_edges):
        perims[eu[e]] += edge_len[e]
        perims[ev[e]] += edge_len[e]
    version = np.zeros(m, dtype=np.int64)
    seen = np.full(m, -1, dtype=np.int64)
    seen_edge = np.zeros(m, dtype=np.int64)

    scratch = np.empty(N_PAIR_FEATURES)
    record = merge_features.shape[0] > 0
    heap = [(0.0, 0, 0, 0, 0)]
    heap.pop()
    for e in range(n_edges):
        heap.append((learned_cost(eu[e], ev[e], counts, sums, hists, perims, edge_sum[e], edge_len[e], edge_weight,
                                  hist_weight, size_power, share_power, interior, edge_floor, n_pixels, model,
                                  scratch), eu[e], ev[e], 0, 0))
    heapq.heapify(heap)

    alive = 0
    for r in range(m):
        if counts[r] > 0:
            alive += 1
    done = 0
    while alive > n_regions and len(heap) > 0:
        c, a, b, va, vb = heapq.heappop(heap)
        if version[a] != va or version[b] != vb:
            continue  # stale: one side has merged since
        if record:  # the pair as it is now, before the merge (find its edge: a's list holds it)
            node = head[a]
            while node >= 0:
                e = node_edge[node]
                if alive_edge[e] and (eu[e] == b or ev[e] == b):
                    break
                node = node_next[node]
            e = node_edge[node]
            pair_features(a, b, counts, sums, hists, perims, edge_sum[e], edge_len[e], edge_weight, hist_weight,
                          size_power, share_power, interior, edge_floor, n_pixels, merge_features[done])
        counts[a] += counts[b]
        for f in range(sums.shape[1]):
            sums[a, f] += sums[b, f]
        for j in range(hists.shape[1]):
            hists[a, j] += hists[b, j]
        counts[b] = 0.0
        interior[a] += interior[b]
        perims[a] += perims[b]
        merged_into[done] = a
        merged_from[done] = b
        costs[done] = c
        done += 1
        alive -= 1
        version[a] += 1
        version[b] = -1
        # b's incidences join a's
        if head[b] >= 0:
            if head[a] < 0:
                head[a] = head[b]
            else:
                node_next[tail[a]] = head[b]
            tail[a] = tail[b]
        head[b] = -1
        tail[b] = -1
        # walk a's list: relabel b -> a, drop the a-b edge, fold parallel edges together
        prev = -1
        node = head[a]
        while node >= 0:
            e = node_edge[node]
            nxt = node_next[node]
            keep = alive_edge[e]
            if keep:
                if eu[e] == b:
                    eu[e] = a
                if ev[e] == b:
                    ev[e] = a
                other = ev[e] if eu[e] == a else eu[e]
                if other == a:
                    perims[a] -= 2.0 * edge_len[e]
                    alive_edge[e] = False
                    keep = False
                elif seen[other] == done:
                    k = seen_edge[other]
                    edge_sum[k] += edge_sum[e]
                    edge_len[k] += edge_len[e]
                    alive_edge[e] = False
                    keep = False
                else:
                    seen[other] = done
                    seen_edge[other] = e
            if keep:
                prev = node
            else:
                if prev < 0:
                    head[a] = nxt
                else:
                    node_next[prev] = nxt
                if nxt < 0:
                    tail[a] = prev
            node = nxt
        node = head[a]
        while node >= 0:
            e = node_edge[node]
            other = ev[e] if eu[e] == a else eu[e]
            lo = min(a, other)
            hi = max(a, other)
            heapq.heappush(heap, (learned_cost(lo, hi, counts, sums, hists, perims, edge_sum[e], edge_len[e],
                                               edge_weight, hist_weight, size_power, share_power, interior,
                                               edge_floor, n_pixels, model, scratch),
                                  lo, hi, version[lo], version[hi]))
            node = node_next[node]
    return done
