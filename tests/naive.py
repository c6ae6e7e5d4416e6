"""Slow, obviously correct NumPy twins of the kernels and scores, for the tests.

Grouped by the stage of the code they mirror; each one's docstring names its twin."""

import math

import numpy as np


# ---------------------------------------------------------------------------
# Cluster: kmseg.cluster._kernels and kmseg.cluster._seeding
# ---------------------------------------------------------------------------

def sq_distances(A, X):
    """Twin of ``_kernels.sq_distances``: (m, n) squared distances."""
    return ((A[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)


def lloyd_step(X, weights, centers):
    """Twin of ``_kernels.lloyd_step``: labels (first nearest on ties), squared distances, sums.

    Returns labels, squared distances, weighted sums, sums of weights."""
    d2 = sq_distances(centers, X)
    labels = np.argmin(d2, axis=0)
    dists = d2[labels, np.arange(len(X))]
    return labels, dists, *cluster_sums(X, weights, labels, len(centers))


def cluster_sums(X, weights, labels, k):
    """Twin of the sums ``_kernels.lloyd_step`` adds up, cluster by cluster.

    Weighted sums and sums of weights of the samples of each cluster."""
    sums = np.zeros((k, X.shape[1]))
    wsums = np.zeros(k)
    for i in range(len(X)):
        sums[labels[i]] += weights[i] * X[i]
        wsums[labels[i]] += weights[i]
    return sums, wsums


def lloyd(X, weights, centers, n_iter):
    """Twin of ``_kernels.lloyd_run``: ``n_iter`` plain weighted Lloyd iterations.

    No empty clusters expected (see :func:`lloyd_refilled`)."""
    for _ in range(n_iter):
        _, _, sums, wsums = lloyd_step(X, weights, centers)
        centers = sums / wsums[:, None]
    return centers


def lloyd_refilled(X, weights, centers, n_iter):
    """Twin of ``_kernels.lloyd_run`` when clusters empty: Lloyd iterations with refills.

    ``n_iter`` weighted Lloyd iterations in which a cluster left empty takes the
    farthest samples (:func:`refill_empty`) before the centres move."""
    for _ in range(n_iter):
        labels, _, sums, wsums = lloyd_step(X, weights, centers)
        if np.any(wsums <= 0):
            labels, sums, wsums = refill_empty(X, weights, centers, labels)
        full = wsums > 0
        centers = centers.copy()
        centers[full] = sums[full] / wsums[full, None]
    return centers


def refill_empty(X, weights, centers, labels):
    """Twin of ``_kernels.refill_empty``: empty clusters take the farthest samples.

    Sums from the labels, then the clusters empty at the start each take the
    farthest sample of positive weight (farthest first, lowest index on ties).
    Returns labels, sums, sums of weights."""
    k = len(centers)
    sums, wsums = cluster_sums(X, weights, labels, k)
    dist = {i: ((X[i] - centers[labels[i]]) ** 2).sum() for i in range(len(X)) if weights[i] > 0}
    far = sorted(dist, key=lambda i: (-dist[i], i))
    for j, i in zip([j for j in range(k) if wsums[j] <= 0], far):
        if dist[i] <= 0:
            break
        sums[labels[i]] -= weights[i] * X[i]
        wsums[labels[i]] -= weights[i]
        sums[j], wsums[j] = weights[i] * X[i], weights[i]
        labels[i] = j
    return labels, sums, wsums


def neighbours(centers, m):
    """Twin of ``_kernels.neighbours``: each centre's m nearest others, by a full sort."""
    gap = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gap, np.inf)
    order = np.argsort(gap, axis=1, kind="stable")[:, :m]
    return order, np.take_along_axis(gap, order, axis=1)


def grid_pool(X, weights, lo, hi, bins):
    """Twin of ``_kernels.grid_pool``: weighted means and totals of non-empty cells, in C order."""
    span = np.where(hi - lo == 0, 1.0, hi - lo)
    cells = {}
    for x, w in zip(X, weights):
        if w == 0:
            continue
        idx = tuple(int(min(max(int((x[f] - lo[f]) * (bins / span[f])), 0), bins - 1)) for f in range(len(x)))
        s, t = cells.get(idx, (0.0, 0.0))
        cells[idx] = (s + w * x, t + w)
    keys = sorted(cells)
    means = np.array([cells[c][0] / cells[c][1] for c in keys])
    totals = np.array([cells[c][1] for c in keys])
    return means, totals


def weighted_summary(X, weights):
    """Twin of ``_kernels.weighted_summary``: box, weighted mean and variance, positive weights only."""
    act = weights > 0
    Xa, wa = X[act], weights[act]
    mean = (wa[:, None] * Xa).sum(0) / wa.sum()
    var = (wa[:, None] * (Xa - mean) ** 2).sum(0) / wa.sum()
    return Xa.min(0), Xa.max(0), mean, var


def kmeans_plusplus(X, weights, k, rng, n_trials):
    """Twin of ``_seeding.kmeans_plusplus``: greedy weighted k-means++, inverse-CDF draws, plainly."""

    def draw(p, u):
        c = np.cumsum(p)
        for i in range(len(c)):
            if c[i] > u * c[-1]:
                return i
        return len(c) - 1

    first = draw(weights, rng.uniform(size=1)[0])
    centers = [X[first]]
    closest = ((X - X[first]) ** 2).sum(1)
    for _ in range(1, k):
        us = rng.uniform(size=n_trials)
        # every sample already on a centre: candidates drawn by weight alone
        p = weights * closest if (weights * closest).sum() > 0 else weights
        cands = [draw(p, u) for u in us]
        pots = []
        for c in cands:
            pots.append((np.minimum(closest, ((X - X[c]) ** 2).sum(1)) * weights).sum())
        best = cands[int(np.argmin(pots))]
        centers.append(X[best])
        closest = np.minimum(closest, ((X - X[best]) ** 2).sum(1))
    return np.array(centers)


# ---------------------------------------------------------------------------
# Histogram: kmseg.histogram._kernels
# ---------------------------------------------------------------------------

def rgb_histogram(pixels):
    """Twin of ``_kernels.count_rgb8`` and ``compact_rgb8``: distinct colours and their counts.

    Colours ascending by r, g, b."""
    colors, counts = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0, return_counts=True)
    return colors, counts


def naive_add_counts(table, marks, codes, counts):
    """Twin of ``_kernels.add_counts``: each code's count added to the table, and its bit
    set in the bitmap, one code at a time."""
    table, marks = table.copy(), marks.copy()
    for code, count in zip(codes, counts):
        table[code] += count
        marks[code // 64] |= np.uint64(1) << np.uint64(code % 64)
    return table, marks


def _cell_and_sub(color, bits):
    s = 8 - bits
    r, g, b = (int(c) for c in color)
    m = (1 << s) - 1
    cell = (r >> s) << (2 * bits) | (g >> s) << bits | (b >> s)
    sub = (r & m) << (2 * s) | (g & m) << s | (b & m)
    return cell, sub, (r & m, g & m, b & m)


def naive_cell_stats(pixels, bits):
    """Twin of ``_cells.cell_stats``: each occupied cell's pixels and offset sums, and
    the pixels' sum of squared offsets, one pixel at a time in Python integers."""
    stats = {}
    sum_sq = 0
    for p in pixels:
        cell, _, off = _cell_and_sub(p, bits)
        row = stats.setdefault(cell, [0, 0, 0, 0])
        row[0] += 1
        for f in range(3):
            row[1 + f] += off[f]
        sum_sq += sum(o * o for o in off)
    cells = sorted(stats)
    return np.array(cells, np.int64), np.array([stats[c] for c in cells], np.int64).reshape(-1, 4), sum_sq


def naive_count_in_cells(pixels, bits, slot_of):
    """Twin of ``_cells.count_in_cells``: the pixels of each colour of the chosen cells,
    keyed ``slot * 2**(3 s) + sub-code``, the colours, and their squared offsets."""
    per = 1 << (3 * (8 - bits))
    found = {}
    sum_sq = 0
    for p in pixels:
        cell, sub, _ = _cell_and_sub(p, bits)
        slot = int(slot_of[cell])
        if slot >= 0:
            key = slot * per + sub
            count, _ = found.get(key, (0, None))
            found[key] = (count + 1, [int(v) for v in p])
            sum_sq += sum(o * o for o in _cell_and_sub(p, bits)[2])
    index = sorted(found)
    return (np.array(index, np.int64), np.array([found[i][0] for i in index], np.float64),
            np.array([found[i][1] for i in index], np.float64).reshape(-1, 3), sum_sq)


def naive_label_cells(pixels, bits, cell_index, labels):
    """Twin of ``_cells.label_cells``: each pixel's label ``labels[base]``, or
    ``labels[base + sub-code]`` in an opened cell (``cell_index = 2 * base + opened``)."""
    out = np.zeros(len(pixels), labels.dtype)
    for i, p in enumerate(pixels):
        cell, sub, _ = _cell_and_sub(p, bits)
        base, opened = divmod(int(cell_index[cell]), 2)
        out[i] = labels[base + sub] if opened else labels[base]
    return out


def naive_cell_owner(lo, span, centers, margin):
    """Twin of ``_kernels.cell_owner``: the centre nearer every corner of the box than
    any other by more than ``margin`` from the bisecting plane (a box is convex and
    each side of a plane too, so its corners decide), else -1."""
    out = np.full(len(lo), -1, np.int32)
    for b, corner in enumerate(lo):
        middle = corner + span / 2
        j = int(np.argmin(((centers - middle) ** 2).sum(axis=1)))
        corners = [corner + span * np.array(bits_) for bits_ in np.ndindex(2, 2, 2)]
        ok = True
        for i in range(len(centers)):
            if i == j:
                continue
            gap = np.linalg.norm(centers[i] - centers[j])
            if gap == 0:  # an equal centre: every point is as near it
                ok = False
                continue
            for x in corners:
                # distance of x from the bisecting plane, positive on j's side
                side = (((x - centers[i]) ** 2).sum() - ((x - centers[j]) ** 2).sum()) / (2 * gap)
                ok &= side > margin + 1e-9
        if ok:
            out[b] = j
    return out


# ---------------------------------------------------------------------------
# Labels: kmseg.labels._kernels
# ---------------------------------------------------------------------------

def naive_paint(labels, table):
    """Twin of ``_kernels.paint``: each label's row of the table, one pixel at a time."""
    out = np.zeros((len(labels), table.shape[1]), table.dtype)
    for i, label in enumerate(labels):
        out[i] = table[label]
    return out


# ---------------------------------------------------------------------------
# Colour: kmseg.color._smooth
# ---------------------------------------------------------------------------

def naive_bilateral(image, radius, sigma):
    """Twin of ``_smooth.bilateral_pass``: one bilateral pass, every window summed plainly."""
    h, w, _ = image.shape
    out = np.empty_like(image)
    for y in range(h):
        for x in range(w):
            total, acc = 0.0, np.zeros(image.shape[2])
            for yy in range(max(0, y - radius), min(h, y + radius + 1)):
                for xx in range(max(0, x - radius), min(w, x + radius + 1)):
                    wgt = np.exp(-((image[yy, xx] - image[y, x]) ** 2).sum() / (2 * sigma ** 2)
                                 - ((yy - y) ** 2 + (xx - x) ** 2) / (2 * radius ** 2))
                    total += wgt
                    acc += wgt * image[yy, xx]
            out[y, x] = acc / total
    return out


# ---------------------------------------------------------------------------
# Regions: kmseg.regions._merge and kmseg.regions._slic_kernels
# ---------------------------------------------------------------------------

def naive_graph(labels):
    """Twin of ``_merge.region_graph``: each pair of adjacent labels and its boundary length."""
    found = {}
    h, w = labels.shape
    for y in range(h):
        for x in range(w):
            for dy, dx in ((0, 1), (1, 0)):
                if y + dy < h and x + dx < w and labels[y, x] != labels[y + dy, x + dx]:
                    key = tuple(sorted((int(labels[y, x]), int(labels[y + dy, x + dx]))))
                    found[key] = found.get(key, 0) + 1
    return found


def naive_ward(labels, features, n_regions, edges=None, edge_weight=0.0, codes=None, n_codes=0,
               hist_weight=0.0, share_power=0.0, edge_floor=0.0, model=None):
    """Twin of ``_merge.ward_merge`` (and ``merge_tree``): brute-force merging, cheapest pair first.

    Recompute every adjacent pair's cost from the pixels, merge the cheapest, repeat.
    With ``model``, the cost is minus the logistic model's log-odds over the pair's features
    (as listed in ``_merge_kernels.pair_features``), the hand-made cost one of them."""
    region = labels.copy()
    h, w = labels.shape
    while len(np.unique(region)) > n_regions:
        best = None
        graph = naive_graph(region)
        perimeter = naive_perimeters(graph)
        for (a, b) in graph:
            c = naive_pair(region, a, b, graph, perimeter, features, edges, edge_weight, codes, n_codes,
                           hist_weight, share_power, edge_floor, model)
            if best is None or c < best[0]:
                best = (c, a, b)
        region[region == best[2]] = best[1]
    return region


def naive_perimeters(graph):
    """Twin of the perimeters ``_merge.merge_tree`` keeps: each region's boundary with all others."""
    perimeter = {}
    for (a, b), length in graph.items():
        perimeter[a] = perimeter.get(a, 0) + length
        perimeter[b] = perimeter.get(b, 0) + length
    return perimeter


def naive_pair(region, a, b, graph, perimeter, features, edges=None, edge_weight=0.0, codes=None, n_codes=0,
               hist_weight=0.0, share_power=0.0, edge_floor=0.0, model=None, return_features=False):
    """Twin of the merge kernel's pair cost and ``_merge_kernels.pair_features``, from the pixels.

    The cost of merging regions ``a`` and ``b`` (with ``model``, the learned one), or
    with ``return_features`` the pair's features."""
    h, w = region.shape
    fa, fb = features[region == a], features[region == b]
    na, nb = len(fa), len(fb)
    diff = fa.mean(0) - fb.mean(0)
    dd = float(diff @ diff)
    chi = 0.0
    if hist_weight:
        p = np.bincount(codes[region == a], minlength=n_codes) / na
        q = np.bincount(codes[region == b], minlength=n_codes) / nb
        both = p + q > 0
        chi = 0.5 * float(((p - q)[both] ** 2 / (p + q)[both]).sum())
    c = na * nb / (na + nb) * (dd + hist_weight * chi)
    mean_edge, inner = 0.0, 0.0
    if edge_weight:
        total, length = 0.0, 0
        for y in range(h):
            for x in range(w):
                for dy, dx in ((0, 1), (1, 0)):
                    if y + dy < h and x + dx < w and {region[y, x], region[y + dy, x + dx]} == {a, b}:
                        total += (edges[y, x] + edges[y + dy, x + dx]) / 2
                        length += 1
        mean_edge = contrast = total / length
        if edge_floor:
            inner = (edges[region == a].mean() + edges[region == b].mean()) / 2
            contrast /= edge_floor + inner
        c *= 1 + edge_weight * contrast
    shared, shorter = graph[(a, b)], min(perimeter[a], perimeter[b])
    if share_power:
        c *= (shorter / shared) ** share_power
    if model is None and not return_features:
        return c
    n = region.size
    phi = np.array([
        np.log1p(diff[0] ** 2), np.log1p(diff[1] ** 2 + diff[2] ** 2), np.log1p((diff[3:] ** 2).sum()), chi,
        np.log1p(mean_edge), np.log1p(mean_edge / (edge_floor + inner)) if edge_floor + inner else 0.0,
        np.log1p(inner), np.log(na * nb / (na + nb) / n), np.log(min(na, nb) / n), np.log(shorter / shared),
        np.log(shared / np.sqrt(min(na, nb))), np.log(1e-9 + c / n)])
    if return_features:
        return phi
    return -(model[0] + model[1:] @ phi)


def naive_slic_assign(lab, centers, cell_of, step, spatial):
    """Twin of ``_slic_kernels.slic_assign``: each pixel against the centres of its 3x3 grid cells."""
    h, w, _ = lab.shape
    ny, nx = cell_of.shape
    labels = np.zeros((h, w), int)
    for y in range(h):
        for x in range(w):
            gy, gx = min(ny - 1, int(y * ny / h)), min(nx - 1, int(x * nx / w))
            inside, outside = [], []
            for cy in range(max(0, gy - 1), min(ny, gy + 2)):
                for cx in range(max(0, gx - 1), min(nx, gx + 2)):
                    c = cell_of[cy, cx]
                    d = ((lab[y, x] - centers[c, :3]) ** 2).sum() + spatial * (
                        (y - centers[c, 3]) ** 2 + (x - centers[c, 4]) ** 2)
                    window = abs(y - centers[c, 3]) <= step and abs(x - centers[c, 4]) <= step
                    (inside if window else outside).append((d, c))
            labels[y, x] = min(inside or outside)[1]
    return labels


# ---------------------------------------------------------------------------
# I/O, PNG: kmseg.io._png
# ---------------------------------------------------------------------------

def naive_unfilter(raw, h, stride, bpp):
    """Twin of ``_png_kernels.unfilter_rows``: PNG rows unfiltered one byte at a time.

    ``raw`` is a list of ints, each row its filter type then its bytes."""
    out = [[0] * stride for _ in range(h)]
    for y in range(h):
        kind, row = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        for x in range(stride):
            a = out[y][x - bpp] if x >= bpp else 0
            b = out[y - 1][x] if y else 0
            c = out[y - 1][x - bpp] if (y and x >= bpp) else 0
            p = a + b - c
            pred = [0, a, b, (a + b) // 2,
                    min((abs(p - a), 0, a), (abs(p - b), 1, b), (abs(p - c), 2, c))[2]][kind]
            out[y][x] = (row[x] + pred) % 256
    return np.array(out, dtype=np.uint8)


# ---------------------------------------------------------------------------
# Metrics: kmseg.metrics._region
# ---------------------------------------------------------------------------

def naive_rand_index(seg, gt):
    """Twin of ``rand_index``: the share of pixel pairs both maps agree on, pair by pair."""
    s, g = seg.ravel().tolist(), gt.ravel().tolist()
    n = len(s)
    if n < 2:
        return 1.0
    agree = sum(
        (s[i] == s[j]) == (g[i] == g[j]) for i in range(n) for j in range(i + 1, n)
    )
    return agree / (n * (n - 1) / 2)


def naive_entropy(values):
    """Twin of the entropies in ``variation_of_information``: Shannon entropy (bits) of a list."""
    n = len(values)
    return -sum(c / n * math.log2(c / n) for c in (values.count(v) for v in set(values)))


def naive_voi(seg, gt):
    """Twin of ``variation_of_information``: H(seg) + H(gt) - 2 I(seg; gt), in bits."""
    s, g = seg.ravel().tolist(), gt.ravel().tolist()
    joint = list(zip(s, g))
    mutual = naive_entropy(s) + naive_entropy(g) - naive_entropy(joint)
    return naive_entropy(s) + naive_entropy(g) - 2 * mutual


def naive_covering(seg, gt):
    """Twin of ``segmentation_covering`` for one ground truth, from region masks.

    Each ground-truth region's best overlap (IoU) with a segment, weighted by its size."""
    total = 0.0
    for r in np.unique(gt):
        region = gt == r
        best = max(
            (region & (seg == q)).sum() / (region | (seg == q)).sum() for q in np.unique(seg)
        )
        total += region.sum() * best
    return total / seg.size


def naive_raw_boundaries(labels):
    """Twin of ``_raw_boundaries``: a pixel is on a boundary if the 2x2 block it starts holds two labels.

    The block is clipped at the image's edges."""
    h, w = labels.shape
    out = np.zeros((h, w), dtype=bool)
    for y in range(h):
        for x in range(w):
            out[y, x] = len(set(labels[y:y + 2, x:x + 2].ravel().tolist())) > 1
    return out


def naive_matching(bdry1, bdry2, radius):
    """Twin of ``_matched`` (match sizes in ``boundary_scores``): maximum one-to-one matching.

    Pixels within ``radius`` of each other, matched by augmenting paths (Kuhn)."""
    p1, p2 = np.argwhere(bdry1).tolist(), np.argwhere(bdry2).tolist()
    near = [
        [j for j, q in enumerate(p2) if (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 <= radius**2]
        for p in p1
    ]
    owner = [-1] * len(p2)

    def augment(i, seen):
        for j in near[i]:
            if j not in seen:
                seen.add(j)
                if owner[j] < 0 or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return sum(augment(i, set()) for i in range(len(p1)))


# ---------------------------------------------------------------------------
# Metrics: kmseg.metrics._image (S-CIELAB)
# ---------------------------------------------------------------------------

#: S-CIELAB's filters as Zhang and Wandell's ``separableFilters.m`` writes them, one row per
#: opponent channel: [spread, weight, spread, weight, ...], spreads (full widths at half
#: maximum) in degrees of visual angle.
SCIELAB_FILTERS = (
    [0.05, 1.00327, 0.225, 0.114416, 7.0, -0.117686],
    [0.0685, 0.616725, 0.826, 0.383275],
    [0.0920, 0.567885, 0.6451, 0.432115],
)
#: XYZ to opponent colours, ``cmatrix('xyz2opp')`` of the same code (2-degree observer).
SCIELAB_XYZ2OPP = np.array([[278.7336, 721.8031, -106.5520],
                            [-448.7736, 289.8056, 77.1569],
                            [85.9513, -589.9859, 501.1089]]) / 1000


def naive_scielab_kernels(samples_per_degree):
    """The three 2-D S-CIELAB kernels, each a weighted sum of Gaussians on a square support
    of one degree (an odd number of pixels), every Gaussian built point by point and
    normalised to sum 1 before it is weighted."""
    radius = max(0, math.ceil(samples_per_degree / 2) - 1)
    kernels = []
    for row in SCIELAB_FILTERS:
        kernel = np.zeros((2 * radius + 1, 2 * radius + 1))
        for spread, weight in zip(row[0::2], row[1::2]):
            fwhm = spread * samples_per_degree
            g = np.empty_like(kernel)
            for i in range(2 * radius + 1):
                for j in range(2 * radius + 1):
                    r2 = (i - radius) ** 2 + (j - radius) ** 2
                    g[i, j] = math.exp(-4 * math.log(2) * r2 / fwhm**2)  # half its peak at r = fwhm / 2
            kernel += weight * g / g.sum()
        kernels.append(kernel)
    return kernels


def naive_convolve_reflect(channel, kernel):
    """Direct 2-D convolution of ``channel`` with an odd square ``kernel``, edges reflected
    (``d c b a | a b c d``, repeated for kernels larger than the image)."""
    r = kernel.shape[0] // 2
    h, w = channel.shape
    padded = np.pad(channel, r, mode="symmetric")
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            window = padded[y:y + 2 * r + 1, x:x + 2 * r + 1]
            out[y, x] = (window * kernel[::-1, ::-1]).sum()
    return out


def naive_opponent_filter(opp, samples_per_degree):
    """Twin of ``_image._filter_opponent``: each opponent channel of an (H, W, 3) array
    convolved with its S-CIELAB kernel."""
    kernels = naive_scielab_kernels(samples_per_degree)
    return np.stack([naive_convolve_reflect(opp[:, :, c], kernels[c]) for c in range(3)], axis=2)


def naive_s_cielab_map(rgb_a, rgb_b, samples_per_degree):
    """Twin of ``s_cielab(..., return_map=True)`` for (H, W, 3) sRGB arrays in [0, 1]:
    scikit-image's sRGB -> XYZ and XYZ -> CIELAB around the naive opponent filter,
    then Delta E*ab (1976) per pixel."""
    from skimage.color import rgb2xyz, xyz2lab

    labs = []
    for rgb in (rgb_a, rgb_b):
        opp = rgb2xyz(rgb) @ SCIELAB_XYZ2OPP.T
        xyz = naive_opponent_filter(opp, samples_per_degree) @ np.linalg.inv(SCIELAB_XYZ2OPP).T
        labs.append(xyz2lab(xyz))
    return np.sqrt(((labs[0] - labs[1]) ** 2).sum(axis=2))


# ---------------------------------------------------------------------------
# Labels: dithering onto a palette (kmseg.labels._kernels.diffuse and pattern)
# ---------------------------------------------------------------------------

def naive_nearest(value, palette):
    """Twin of the kernels' nearest-entry search: float32 squared distances summed
    channel by channel, the lowest index of equals."""
    best, best_d = 0, None
    for i, p in enumerate(palette):
        d = np.float32(0)
        for j in range(len(value)):
            t = np.float32(value[j] - p[j])
            d = np.float32(d + np.float32(t * t))
        if best_d is None or d < best_d:
            best, best_d = i, d
    return best


def naive_diffuse(image, keep, palette, strength, lo=0.0, hi=255.0):
    """Twin of ``_kernels.diffuse``: serpentine Floyd-Steinberg in float32, pixel by pixel."""
    f = np.float32
    image = np.asarray(image, np.float32)
    palette = np.asarray(palette, np.float32)
    h, w, c = image.shape
    err = np.zeros((h + 1, w + 2, c), np.float32)  # error carried into each pixel (one pixel of margin)
    out = np.zeros((h, w), np.int64)
    weights = {7: f(7 / 16), 3: f(3 / 16), 5: f(5 / 16), 1: f(1 / 16)}
    for y in range(h):
        step = 1 if y % 2 == 0 else -1
        for x in (range(w) if step == 1 else range(w - 1, -1, -1)):
            if keep is not None and not keep[y, x]:
                out[y, x] = len(palette)
                continue
            value = np.clip(image[y, x] + err[y, x + 1], f(lo), f(hi)).astype(np.float32)
            best = naive_nearest(value, palette)
            out[y, x] = best
            e = ((value - palette[best]) * f(strength[y, x])).astype(np.float32)
            for dy, dx, wt in ((0, step, 7), (1, -step, 3), (1, 0, 5), (1, step, 1)):
                err[y + dy, x + 1 + dx] = (err[y + dy, x + 1 + dx] + (e * weights[wt]).astype(np.float32))
        err[y + 1, 0] = err[y + 1, w + 1] = 0  # the margins carry nothing on
    return out


def naive_pattern(colors, palette, luma, gain, m):
    """Twin of ``_kernels.pattern``: for each colour, ``m`` nearest entries picked with the
    error so far carried on (float32), then stably ordered by ``luma``."""
    f = np.float32
    palette = np.asarray(palette, np.float32)
    out = np.zeros((len(colors), m), np.int64)
    for i, x in enumerate(np.asarray(colors, np.float32)):
        err = np.zeros(len(x), np.float32)
        picks = []
        for _ in range(m):
            attempt = (x + (err * f(gain)).astype(np.float32)).astype(np.float32)
            best = naive_nearest(attempt, palette)
            picks.append(best)
            err = (err + (x - palette[best]).astype(np.float32)).astype(np.float32)
        out[i] = sorted(picks, key=lambda b: luma[b])  # sorted() is stable
    return out


def naive_lloyd_held(X, weights, centers, n_held, n_iter):
    """Twin of ``cluster._held.lloyd_held`` for a fixed number of steps without empty
    clusters: plain Lloyd that moves only the centres after the first ``n_held``."""
    centers = np.array(centers, dtype=np.float64)
    for _ in range(n_iter):
        labels = np.argmin(sq_distances(centers, X), axis=0)
        for j in range(n_held, len(centers)):
            w = weights[labels == j]
            if w.sum() > 0:
                centers[j] = (X[labels == j] * w[:, None]).sum(0) / w.sum()
    return centers


def naive_minibatch_step(X, batch, weights, centers, counts):
    """Twin of ``cluster._kernels.minibatch_step``: nearest centres (first of equals), then
    each centre to the running weighted mean of what it has seen. Returns the new
    centres and counts, the batch inertia, weight and squared shift."""
    centers, counts = np.array(centers, dtype=np.float64), np.array(counts, dtype=np.float64)
    Xb, wb = X[batch], weights[batch]
    d2 = sq_distances(centers, Xb)
    labels = np.argmin(d2, axis=0)
    inertia = float((d2[labels, np.arange(len(Xb))] * wb).sum())
    new = centers.copy()
    for j in range(len(centers)):
        w = wb[labels == j].sum()
        if w > 0:
            counts[j] += w
            new[j] = centers[j] + ((Xb[labels == j] * wb[labels == j, None]).sum(0) - w * centers[j]) / counts[j]
    return new, counts, inertia, float(wb.sum()), float(((new - centers) ** 2).sum())


def naive_optimal_1d(values, weights, k):
    """Twin of ``cluster._optimal.optimal_1d``'s optimum: the plain O(k n^2) dynamic
    programme over the sorted distinct values; returns the least sum of squares."""
    x, inverse = np.unique(values, return_inverse=True)
    w = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(x))
    n = len(x)
    k = min(k, n)

    def cost(i, j):
        ww = w[i:j]
        mean = (ww * x[i:j]).sum() / ww.sum()
        return float((ww * (x[i:j] - mean) ** 2).sum())

    D = np.full((k + 1, n + 1), np.inf)
    D[0, 0] = 0.0
    for m in range(1, k + 1):
        for j in range(m, n + 1):
            D[m, j] = min(D[m - 1, i] + cost(i, j) for i in range(m - 1, j))
    return float(D[k, n])
