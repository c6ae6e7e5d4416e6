"""Cython kernel for the greedy merging of adjacent regions (see _merge.py).

Regions are nodes with a pixel count, feature sums, a histogram of pixel
codes and the sum of the edge map over their pixels; each edge of the region
graph carries the summed edge strength and the length of the shared boundary.
The kernel pops the cheapest edge from a heap, merges its two regions, and
re-prices every edge of the merged region; a region's incident edges are a
linked list, so a merge costs the degree of the two regions, not the number of
regions.
"""

from libc.math cimport log, log1p, pow, sqrt
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc, realloc

import numpy as np

cdef enum:
    _N_PAIR_FEATURES = 12

#: Number of pair features (see :func:`pair_features`).
N_PAIR_FEATURES = _N_PAIR_FEATURES

# The helpers below take the arrays as raw pointers (C order), a 2-D
# array as its pointer and row length: ``sums`` (m, d), ``hists`` (m, n_bins).


cdef inline (double, double, double, double, double, double) pair_terms(
        int64_t a, int64_t b, const double* counts, const double* sums, Py_ssize_t d, const double* hists,
        Py_ssize_t n_bins, double edge_sum, double edge_len, const double* interior) noexcept nogil:
    """What both costs are made of, for regions ``a`` and ``b``.

    Returns ``(d_l, d_ab, d_rest, chi, s, inner)``: the squared difference of
    the two regions' mean first feature (CIELAB's L), of the next two (a, b) and
    of the rest; half the chi-squared distance of their normalised histograms
    (0 to 1); the boundary's mean edge strength ``edge_sum / edge_len``; and the
    mean of the two regions' mean edge strength over their pixels.
    """
    cdef double na = counts[a]
    cdef double nb = counts[b]
    cdef double d_l = 0.0, d_ab = 0.0, d_rest = 0.0, chi = 0.0, t, p, q, s
    cdef Py_ssize_t f, j
    cdef const double* sa = sums + a * d
    cdef const double* sb = sums + b * d
    cdef const double* ha = hists + a * n_bins
    cdef const double* hb = hists + b * n_bins
    for f in range(d):
        t = sa[f] / na - sb[f] / nb
        if f == 0:
            d_l += t * t
        elif f < 3:
            d_ab += t * t
        else:
            d_rest += t * t
    for j in range(n_bins):
        p = ha[j] / na
        q = hb[j] / nb
        if p + q > 0.0:
            chi += (p - q) * (p - q) / (p + q)
    s = edge_sum / edge_len if edge_len > 0.0 else 0.0
    return d_l, d_ab, d_rest, 0.5 * chi, s, 0.5 * (interior[a] / na + interior[b] / nb)


cdef inline double _hand_cost(double na, double nb, double dd, double chi, double s, double inner, double shorter,
                              double edge_len, double edge_weight, double hist_weight, double size_power,
                              double share_power, double edge_floor) noexcept nogil:
    cdef double harm = na * nb / (na + nb)
    cdef double c = (harm if size_power == 1.0 else pow(harm, size_power)) * (dd + hist_weight * chi)
    if edge_weight > 0.0 and edge_len > 0.0:
        if edge_floor > 0.0:  # contrast: against the two regions' own mean edge strength
            s /= edge_floor + inner
        c *= 1.0 + edge_weight * s
    if share_power > 0.0:
        c *= pow(shorter / edge_len, share_power)
    return c


cdef inline double _min(double x, double y) noexcept nogil:
    """Python's ``min(x, y)``."""
    return y if y < x else x


cdef inline double _max(double x, double y) noexcept nogil:
    """Python's ``max(x, y)``."""
    return y if y > x else x


cdef inline double pair_cost(int64_t a, int64_t b, const double* counts, const double* sums, Py_ssize_t d,
                             const double* hists, Py_ssize_t n_bins, const double* perims, double edge_sum,
                             double edge_len, double edge_weight, double hist_weight, double size_power,
                             double share_power, const double* interior, double edge_floor) noexcept nogil:
    """Merge cost of regions ``a`` and ``b`` sharing an edge with the given sums.

    ``(n_a n_b / (n_a + n_b))^size_power * (|mu_a - mu_b|^2 + hist_weight * chi2(h_a, h_b))
    * (1 + edge_weight * s) * (min(P_a, P_b) / edge_len)^share_power``, with
    ``chi2`` half the chi-squared distance of the two normalised histograms (0
    to 1), ``P`` a region's boundary length with all others (``perims``) and
    ``s`` the boundary's mean edge strength ``edge_sum / edge_len``; with
    ``edge_floor > 0``, ``s`` is divided by ``edge_floor`` plus the mean of the
    two regions' mean edge strength over their pixels (``interior / counts``).
    """
    cdef double d_l, d_ab, d_rest, chi, s, inner
    d_l, d_ab, d_rest, chi, s, inner = pair_terms(a, b, counts, sums, d, hists, n_bins, edge_sum, edge_len,
                                                  interior)
    return _hand_cost(counts[a], counts[b], d_l + d_ab + d_rest, chi, s, inner, _min(perims[a], perims[b]),
                      edge_len, edge_weight, hist_weight, size_power, share_power, edge_floor)


cdef inline void pair_features(int64_t a, int64_t b, const double* counts, const double* sums, Py_ssize_t d,
                               const double* hists, Py_ssize_t n_bins, const double* perims, double edge_sum,
                               double edge_len, double edge_weight, double hist_weight, double size_power,
                               double share_power, const double* interior, double edge_floor, double n_pixels,
                               double* out) noexcept nogil:
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
    cdef double na = counts[a]
    cdef double nb = counts[b]
    cdef double d_l, d_ab, d_rest, chi, s, inner, shorter, hand, small, length
    d_l, d_ab, d_rest, chi, s, inner = pair_terms(a, b, counts, sums, d, hists, n_bins, edge_sum, edge_len,
                                                  interior)
    shorter = _min(perims[a], perims[b])
    hand = _hand_cost(na, nb, d_l + d_ab + d_rest, chi, s, inner, shorter, edge_len, edge_weight, hist_weight,
                      size_power, share_power, edge_floor)
    small = _min(na, nb)
    length = _max(edge_len, 1.0)
    out[0] = log1p(d_l)
    out[1] = log1p(d_ab)
    out[2] = log1p(d_rest)
    out[3] = chi
    out[4] = log1p(s)
    out[5] = log1p(s / (edge_floor + inner)) if edge_floor + inner > 0.0 else 0.0
    out[6] = log1p(inner)
    out[7] = log(na * nb / (na + nb) / n_pixels)
    out[8] = log(small / n_pixels)
    out[9] = log(_max(shorter, 1.0) / length)
    out[10] = log(length / sqrt(small))
    out[11] = log(1e-9 + hand / n_pixels)


cdef inline double learned_cost(int64_t a, int64_t b, const double* counts, const double* sums, Py_ssize_t d,
                                const double* hists, Py_ssize_t n_bins, const double* perims, double edge_sum,
                                double edge_len, double edge_weight, double hist_weight, double size_power,
                                double share_power, const double* interior, double edge_floor, double n_pixels,
                                const double* model, Py_ssize_t n_model, double* scratch) noexcept nogil:
    """The hand-made :func:`pair_cost`, or with ``model`` (intercept, then one
    weight per pair feature) minus the model's log-odds that ``a`` and ``b`` are
    one object: ``-(model[0] + model[1:] . pair_features)``."""
    cdef double z
    cdef Py_ssize_t i
    if n_model == 0:
        return pair_cost(a, b, counts, sums, d, hists, n_bins, perims, edge_sum, edge_len, edge_weight,
                         hist_weight, size_power, share_power, interior, edge_floor)
    pair_features(a, b, counts, sums, d, hists, n_bins, perims, edge_sum, edge_len, edge_weight, hist_weight,
                  size_power, share_power, interior, edge_floor, n_pixels, scratch)
    z = model[0]
    for i in range(_N_PAIR_FEATURES):
        z += model[i + 1] * scratch[i]
    return -z


# ---- the heap: CPython's heapq algorithm, on (cost, a, b, va, vb) tuples ----------------------

cdef struct Entry:
    double c
    int64_t a
    int64_t b
    int64_t va
    int64_t vb


cdef inline bint _lt(const Entry* x, const Entry* y) noexcept nogil:
    """``x < y`` as tuples: the first unequal items decide; all equal: False."""
    if x.c != y.c:
        return x.c < y.c
    if x.a != y.a:
        return x.a < y.a
    if x.b != y.b:
        return x.b < y.b
    if x.va != y.va:
        return x.va < y.va
    if x.vb != y.vb:
        return x.vb < y.vb
    return False


cdef inline void _siftdown(Entry* heap, Py_ssize_t startpos, Py_ssize_t pos) noexcept nogil:
    cdef Entry newitem = heap[pos]
    cdef Py_ssize_t parentpos
    while pos > startpos:
        parentpos = (pos - 1) >> 1
        if _lt(&newitem, &heap[parentpos]):
            heap[pos] = heap[parentpos]
            pos = parentpos
            continue
        break
    heap[pos] = newitem


cdef inline void _siftup(Entry* heap, Py_ssize_t endpos, Py_ssize_t pos) noexcept nogil:
    cdef Py_ssize_t startpos = pos
    cdef Entry newitem = heap[pos]
    cdef Py_ssize_t childpos = 2 * pos + 1, rightpos
    while childpos < endpos:
        rightpos = childpos + 1
        if rightpos < endpos and not _lt(&heap[childpos], &heap[rightpos]):
            childpos = rightpos
        heap[pos] = heap[childpos]
        pos = childpos
        childpos = 2 * pos + 1
    heap[pos] = newitem
    _siftdown(heap, startpos, pos)


cdef struct Heap:
    Entry* items
    Py_ssize_t size
    Py_ssize_t capacity


cdef inline void _heapify(Heap* h) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(h.size // 2 - 1, -1, -1):
        _siftup(h.items, h.size, i)


cdef inline int _heappush(Heap* h, double c, int64_t a, int64_t b, int64_t va, int64_t vb) noexcept nogil:
    """Append, then sift down; 0, or -1 when out of memory."""
    cdef Py_ssize_t cap
    cdef Entry* grown
    if h.size == h.capacity:
        cap = 2 * h.capacity if h.capacity > 0 else 16
        grown = <Entry*>realloc(h.items, cap * sizeof(Entry))
        if grown == NULL:
            return -1
        h.items = grown
        h.capacity = cap
    h.items[h.size].c = c
    h.items[h.size].a = a
    h.items[h.size].b = b
    h.items[h.size].va = va
    h.items[h.size].vb = vb
    h.size += 1
    _siftdown(h.items, 0, h.size - 1)
    return 0


cdef inline Entry _heappop(Heap* h) noexcept nogil:
    """Pop the last item; if the heap is not empty then, return its top, the last item
    put at the top and sifted up (the heap must not be empty)."""
    h.size -= 1
    cdef Entry lastelt = h.items[h.size]
    cdef Entry returnitem
    if h.size > 0:
        returnitem = h.items[0]
        h.items[0] = lastelt
        _siftup(h.items, h.size, 0)
        return returnitem
    return lastelt


cdef Py_ssize_t _merge(Py_ssize_t m, Py_ssize_t n_edges, double* counts, double* sums, Py_ssize_t d,
                       double* hists, Py_ssize_t n_bins, int64_t* eu, int64_t* ev, double* edge_sum,
                       double* edge_len, double edge_weight, double hist_weight, double size_power,
                       double share_power, Py_ssize_t n_regions, int64_t* merged_into, int64_t* merged_from,
                       double* costs, double* interior, double edge_floor, double n_pixels, const double* model,
                       Py_ssize_t n_model, double* merge_features, Py_ssize_t n_record,
                       unsigned char* alive_edge, int64_t* node_edge, int64_t* node_next, int64_t* head,
                       int64_t* tail, double* perims, int64_t* version, int64_t* seen, int64_t* seen_edge,
                       double* scratch) noexcept nogil:
    """The work of :func:`merge_regions` (``eu``, ``ev`` its own copies of the edges, the
    other scratch arrays allocated and initialised as there); the number of merges done,
    or -1 when out of memory."""
    cdef Py_ssize_t e, s, node, r, f, j, k, done, alive, prev, nxt
    cdef int64_t a, b, va, vb, other, lo, hi
    cdef double c
    cdef bint record = n_record > 0, keep
    cdef Entry top
    cdef Heap heap
    heap.capacity = n_edges if n_edges > 16 else 16
    heap.size = 0
    heap.items = <Entry*>malloc(heap.capacity * sizeof(Entry))
    if heap.items == NULL:
        return -1
    # incidence lists: node 2e is edge e seen from u, node 2e+1 from v
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
    for e in range(n_edges):
        perims[eu[e]] += edge_len[e]
        perims[ev[e]] += edge_len[e]

    for e in range(n_edges):
        heap.items[e].c = learned_cost(eu[e], ev[e], counts, sums, d, hists, n_bins, perims, edge_sum[e],
                                       edge_len[e], edge_weight, hist_weight, size_power, share_power, interior,
                                       edge_floor, n_pixels, model, n_model, scratch)
        heap.items[e].a = eu[e]
        heap.items[e].b = ev[e]
        heap.items[e].va = 0
        heap.items[e].vb = 0
    heap.size = n_edges
    _heapify(&heap)

    alive = 0
    for r in range(m):
        if counts[r] > 0:
            alive += 1
    done = 0
    while alive > n_regions and heap.size > 0:
        top = _heappop(&heap)
        c = top.c
        a = top.a
        b = top.b
        va = top.va
        vb = top.vb
        if version[a] != va or version[b] != vb:
            continue  # stale: one side has merged since
        if record:  # the pair as it is now, before the merge (find its edge: a's list holds it)
            node = head[a]
            while node >= 0:
                e = node_edge[node]
                if alive_edge[e] and (eu[e] == b or ev[e] == b):
                    break
                node = node_next[node]
            e = node_edge[node] if node >= 0 else node_edge[2 * n_edges - 1]  # index -1: the last, as Python indexes
            pair_features(a, b, counts, sums, d, hists, n_bins, perims, edge_sum[e], edge_len[e], edge_weight,
                          hist_weight, size_power, share_power, interior, edge_floor, n_pixels,
                          merge_features + done * _N_PAIR_FEATURES)
        counts[a] += counts[b]
        for f in range(d):
            sums[a * d + f] += sums[b * d + f]
        for j in range(n_bins):
            hists[a * n_bins + j] += hists[b * n_bins + j]
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
            lo = a if a < other else other
            hi = a if a > other else other
            if _heappush(&heap, learned_cost(lo, hi, counts, sums, d, hists, n_bins, perims, edge_sum[e],
                                             edge_len[e], edge_weight, hist_weight, size_power, share_power,
                                             interior, edge_floor, n_pixels, model, n_model, scratch),
                         lo, hi, version[lo], version[hi]) < 0:
                free(heap.items)
                return -1
            node = node_next[node]
    free(heap.items)
    return done


def merge_regions(double[::1] counts, double[:, ::1] sums, double[:, ::1] hists, const int64_t[::1] edge_u,
                  const int64_t[::1] edge_v, double[::1] edge_sum, double[::1] edge_len, double edge_weight,
                  double hist_weight, double size_power, double share_power, Py_ssize_t n_regions,
                  int64_t[::1] merged_into, int64_t[::1] merged_from, double[::1] costs, double[::1] interior,
                  double edge_floor, double n_pixels, const double[::1] model, double[:, ::1] merge_features):
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
    cdef Py_ssize_t m = counts.shape[0]
    cdef Py_ssize_t n_edges = edge_u.shape[0]
    cdef Py_ssize_t done
    eu_a = np.array(edge_u, dtype=np.int64)  # copies: the kernel relabels its edges
    ev_a = np.array(edge_v, dtype=np.int64)
    alive_edge_a = np.ones(n_edges, dtype=np.uint8)
    node_edge_a = np.empty(2 * n_edges, dtype=np.int64)
    node_next_a = np.full(2 * n_edges, -1, dtype=np.int64)
    head_a = np.full(m, -1, dtype=np.int64)
    tail_a = np.full(m, -1, dtype=np.int64)
    perims_a = np.zeros(m)
    version_a = np.zeros(m, dtype=np.int64)
    seen_a = np.full(m, -1, dtype=np.int64)
    seen_edge_a = np.zeros(m, dtype=np.int64)
    scratch_a = np.empty(_N_PAIR_FEATURES)
    cdef int64_t[::1] eu = eu_a, ev = ev_a, node_edge = node_edge_a, node_next = node_next_a
    cdef int64_t[::1] head = head_a, tail = tail_a, version = version_a, seen = seen_a, seen_edge = seen_edge_a
    cdef unsigned char[::1] alive_edge = alive_edge_a
    cdef double[::1] perims = perims_a, scratch = scratch_a
    cdef double* p_counts = &counts[0]
    cdef double* p_sums = &sums[0, 0]
    cdef double* p_hists = &hists[0, 0]
    cdef int64_t* p_eu = &eu[0]
    cdef int64_t* p_ev = &ev[0]
    cdef double* p_edge_sum = &edge_sum[0]
    cdef double* p_edge_len = &edge_len[0]
    cdef int64_t* p_into = &merged_into[0]
    cdef int64_t* p_from = &merged_from[0]
    cdef double* p_costs = &costs[0]
    cdef double* p_interior = &interior[0]
    cdef const double* p_model = &model[0]
    cdef double* p_feats = &merge_features[0, 0]
    with nogil:
        done = _merge(m, n_edges, p_counts, p_sums, sums.shape[1], p_hists, hists.shape[1], p_eu, p_ev,
                      p_edge_sum, p_edge_len, edge_weight, hist_weight, size_power, share_power, n_regions,
                      p_into, p_from, p_costs, p_interior, edge_floor, n_pixels, p_model, model.shape[0],
                      p_feats, merge_features.shape[0], &alive_edge[0], &node_edge[0], &node_next[0],
                      &head[0], &tail[0], &perims[0], &version[0], &seen[0], &seen_edge[0], &scratch[0])
    if done < 0:
        raise MemoryError()
    return done
