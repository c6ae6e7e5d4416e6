"""Each kernel against its naive twin (tests/naive.py), edge cases included."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import naive
from kmseg.cluster import _kernels as K
from kmseg.cluster._seeding import kmeans_plusplus
from kmseg.histogram import _kernels as H


def _data(n, d, k, seed=0, zero_weights=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 10
    w = rng.integers(1, 5, size=n).astype(np.float64)
    if zero_weights:
        w[rng.random(n) < 0.2] = 0.0
    C = X[rng.choice(n, k, replace=False)] + 0.5
    return np.ascontiguousarray(X), w, np.ascontiguousarray(C)


# sizes around the chunk length, one sample, one cluster, many features
CASES = [(1, 3, 1), (7, 3, 2), (K.CHUNK - 1, 3, 5), (K.CHUNK + 1, 3, 16), (3 * K.CHUNK + 5, 2, 7),
         (300, 64, 10), (50, 1, 4)]


@pytest.mark.parametrize("n,d,k", CASES)
@pytest.mark.parametrize("zero_weights", [False, True])
def test_lloyd_step_matches_naive(n, d, k, zero_weights):
    X, w, C = _data(n, d, k, zero_weights=zero_weights)
    nc = K.n_chunks(n)
    labels = np.empty(n, np.int32)
    dists = np.empty(n)
    sums = np.empty((nc, k, d))
    wsums = np.empty((nc, k))
    K.lloyd_step(X, w, C, labels, dists, sums, wsums)
    el, ed, es, ew = naive.lloyd_step(X, w, C)
    assert_array_equal(labels, el)
    assert_allclose(dists, ed, rtol=1e-12)
    assert_allclose(sums.sum(0), es, rtol=1e-10, atol=1e-9)
    assert_allclose(wsums.sum(0), ew)


def test_lloyd_step_ties_go_to_first_centre():
    X = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    C = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [-5.0, 0.0, 0.0]])
    labels, dists = np.empty(2, np.int32), np.empty(2)
    K.lloyd_step(X, np.ones(2), C, labels, dists, np.empty((1, 3, 3)), np.empty((1, 3)))
    assert_array_equal(labels, [0, 0])


def _half_separation(C):
    out = np.empty(len(C))
    K.half_separation(C, out)
    return out


def _hamerly_step(X, w, C, drift, max_drift, labels, upper, lower, dsums, dwsums):
    """hamerly_chunk over every chunk, as lloyd_run's parallel loop runs it."""
    half = _half_separation(C)
    return sum(K.hamerly_chunk(c, X, w, C, half, drift, max_drift, labels, upper, lower, dsums, dwsums)
               for c in range(dsums.shape[0]))


def test_half_separation_matches_naive():
    _, _, C = _data(50, 3, 6)
    gaps = np.sqrt(naive.sq_distances(C, C))
    np.fill_diagonal(gaps, np.inf)
    assert_allclose(_half_separation(C), 0.5 * gaps.min(1), rtol=1e-12)
    assert _half_separation(C[:1])[0] == np.inf


@pytest.mark.parametrize("n,d,k", CASES)
def test_hamerly_iterations_match_naive_lloyd(n, d, k):
    """Several bounded iterations give the labels and sums of plain Lloyd."""
    X, w, C = _data(n, d, k, seed=1)
    nc = K.n_chunks(n)
    labels = np.zeros(n, np.int32)
    upper, lower = np.full(n, np.inf), np.zeros(n)
    drift, max_drift = np.zeros(k), 0.0
    S, W = np.zeros((k, d)), np.zeros(k)
    S[0], W[0] = w @ X, w.sum()  # all samples start in cluster 0
    dsums, dwsums = np.empty((nc, k, d)), np.empty((nc, k))
    for _ in range(6):
        _hamerly_step(X, w, C, drift, max_drift, labels, upper, lower, dsums, dwsums)
        S += dsums.sum(0)
        W += dwsums.sum(0)
        el, ed, es, ew = naive.lloyd_step(X, w, C)
        assert_array_equal(labels, el)
        assert_allclose(S, es, rtol=1e-9, atol=1e-7)
        assert_allclose(W, ew, atol=1e-9)
        assert np.all(upper + drift[labels] >= np.sqrt(ed) - 1e-9)  # bounds stay valid
        new = C.copy()
        new[W > 0] = S[W > 0] / W[W > 0, None]
        shift = np.sqrt(((new - C) ** 2).sum(1))
        drift += shift
        max_drift += shift.max()
        C = np.ascontiguousarray(new)


def test_hamerly_counts_changes():
    X, w, C = _data(500, 3, 4, seed=2)
    n = len(X)
    labels = np.zeros(n, np.int32)
    args = (np.full(n, np.inf), np.zeros(n), np.empty((1, 4, 3)), np.empty((1, 4)))
    changed = _hamerly_step(X, w, C, np.zeros(4), 0.0, labels, *args)
    assert changed == np.count_nonzero(naive.lloyd_step(X, w, C)[0] != 0)


# many clusters: each sample's search starts among its centre's nearest neighbours
# (all of them at k = 16 and 30, a list shorter than k at 40 and 100)
MANY = [(5000, 3, 30), (3 * K.CHUNK + 5, 3, 40), (4000, 3, 100), (1500, 5, 40)]


@pytest.mark.parametrize("n,d,k", CASES + MANY)
@pytest.mark.parametrize("max_iter", [1, 2, 5, 300])
def test_lloyd_run_matches_naive_lloyd(n, d, k, max_iter):
    """The whole bounded run gives the centres of plain Lloyd iterations, labels
    nearest to them and their inertia."""
    X, w, C = _data(n, d, k, seed=1)
    centers, labels = C.copy(), np.empty(n, np.int32)
    inertia, n_iter = K.lloyd_run(X, w, centers, labels, max_iter, 0.0)
    assert 1 <= n_iter <= max_iter
    expected = naive.lloyd(X, w, C, n_iter)
    assert_allclose(centers, expected, rtol=1e-9, atol=1e-9)
    el, ed, _, _ = naive.lloyd_step(X, w, centers)
    assert_array_equal(labels, el)
    assert_allclose(inertia, (w * ed).sum(), rtol=1e-9)
    if n_iter < max_iter:  # stopped early: converged, a fixed point of Lloyd's step
        assert_allclose(naive.lloyd(X, w, centers, 1), centers, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("max_iter", [1, 2, 3, 6])
def test_lloyd_run_with_clusters_emptied_matches_naive(max_iter):
    """Centres that lose every sample (one starts far away, two start on top of
    each other) are refilled as the naive loop refills them."""
    X, w, _ = _data(300, 2, 1, seed=3)
    C = np.ascontiguousarray(np.vstack([X[:3], [[500.0, 500.0]], X[3:4], X[3:4]]))
    centers, labels = C.copy(), np.empty(300, np.int32)
    _, n_iter = K.lloyd_run(X, w, centers, labels, max_iter, 0.0)
    assert_allclose(centers, naive.lloyd_refilled(X, w, C, n_iter), rtol=1e-9, atol=1e-9)
    assert np.all(np.isfinite(centers)) and len(np.unique(labels)) == 6


@pytest.mark.parametrize("n_threads", [1, 2])
def test_kernels_give_the_same_bits_on_any_number_of_threads(n_threads):
    """Sums are added per chunk in chunk order: one thread or two, the same result."""
    from kmseg._parallel import team_for
    from kmseg._validation import thread_limit

    n, k = 100 * K.CHUNK + 17, 12  # enough work for every thread to join (team_for)
    X, w, C = _data(n, 3, k, seed=4)
    results = []
    for threads in (1, n_threads):
        with thread_limit(threads):
            assert team_for(n * k * 3) == threads and team_for(n * (2 + int(np.log(k))) * 3) == threads
            centers, labels = C.copy(), np.empty(len(X), np.int32)
            inertia, n_iter = K.lloyd_run(X, w, centers, labels, 50, 0.0)
            seeds = kmeans_plusplus(X, w, k, np.random.default_rng(0))
        results.append((centers, labels, inertia, n_iter, *seeds))
    for a, b in zip(*results):
        assert_array_equal(a, b)


def test_refill_empty_matches_naive():
    rng = np.random.default_rng(7)
    X = np.ascontiguousarray(rng.normal(size=(40, 2)))
    w = rng.integers(0, 3, size=40).astype(np.float64)
    w[0] = 0.0
    X[0] = 100.0  # the farthest sample has no weight: never moved
    C = np.array([[0.0, 0.0], [50.0, 50.0], [0.5, 0.5], [-60.0, 0.0]])
    labels = np.zeros(40, np.int32)
    labels[rng.random(40) < 0.5] = 2  # clusters 1 and 3 are empty
    sums, wsums = np.empty((4, 2)), np.empty(4)
    expected = naive.refill_empty(X, w, C, labels.copy())
    moved = K.refill_empty(X, w, C, labels, sums, wsums)
    assert moved == 2
    assert_array_equal(labels, expected[0])
    assert_allclose(sums, expected[1], rtol=1e-12, atol=1e-12)
    assert_allclose(wsums, expected[2])
    assert labels[0] == 0 and wsums[1] > 0 and wsums[3] > 0


@pytest.mark.parametrize("m,n,d", [(1, 1, 1), (3, K.CHUNK + 3, 3), (5, 40, 64)])
def test_sq_distances_matches_naive(m, n, d):
    rng = np.random.default_rng(3)
    A, X = rng.normal(size=(m, d)), rng.normal(size=(n, d))
    out = np.empty((m, n))
    K.sq_distances(A, X, out)
    assert_allclose(out, naive.sq_distances(A, X), rtol=1e-12)


def test_assigned_sq_dist_matches_naive():
    X, w, C = _data(1000, 3, 5)
    labels = np.random.default_rng(0).integers(0, 5, 1000).astype(np.int32)
    out = np.empty(1000)
    K.assigned_sq_dist(X, C, labels, out)
    assert_allclose(out, ((X - C[labels]) ** 2).sum(1), rtol=1e-12)


@pytest.mark.parametrize("d,bins", [(1, 4), (2, 5), (3, 16)])
def test_grid_pool_matches_naive(d, bins):
    X, w, _ = _data(3000, d, 1, zero_weights=True)
    lo, hi = X.min(0), X.max(0)
    means, totals = K.grid_pool(X, w, lo, bins / (hi - lo), bins)
    em, et = naive.grid_pool(X, w, lo, hi, bins)
    assert_allclose(totals, et)
    assert_allclose(means, em, rtol=1e-10)


def test_weighted_summary_matches_naive():
    X, w, _ = _data(2000, 3, 1, zero_weights=True)
    X[w == 0] = 1e6  # zero-weight samples must not count, not even in the box
    out = [np.empty(3) for _ in range(4)]
    K.weighted_summary(X, w, *out)
    for got, expected in zip(out, naive.weighted_summary(X, w)):
        assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize("n", [1, 5, 100_000])
def test_rgb8_histogram_and_lookup_match_naive(n):
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 8, size=(n, 3)).astype(np.uint8) * 36
    if n > 1:
        pixels[0] = (255, 255, 255)
        pixels[1] = (0, 0, 0)
    table = np.zeros(H.N_CODES, np.uint32)
    marks = np.zeros(H.N_CODES // 64, np.uint64)
    H.count_rgb8(pixels, table, marks, 3)  # parts need not match threads (nor 64-code words)
    codes, counts, colors_out = H.compact_rgb8(table, marks)
    colors, ecounts = naive.rgb_histogram(pixels)
    ecodes = (colors[:, 0].astype(np.uint32) << 16) | (colors[:, 1].astype(np.uint32) << 8) | colors[:, 2]
    assert_array_equal(codes, ecodes)
    assert_array_equal(counts, ecounts)
    assert_array_equal(colors_out, colors)
    assert_array_equal(np.flatnonzero(np.unpackbits(marks.view(np.uint8), bitorder="little")), ecodes)
    values = np.arange(len(codes), dtype=np.uint32) * 7 % 251
    table[codes] = values
    out = np.empty(n, np.uint16)
    H.lookup_rgb8(pixels, table, out)
    index = {tuple(c): i for i, c in enumerate(colors)}
    assert_array_equal(out, [values[index[tuple(p)]] for p in pixels])


@pytest.mark.parametrize("n, spread", [(1, 1), (7, 1), (20_000, 2**24), (20_000, 4096), (50_000, 64)])
def test_unique_codes_matches_numpy(n, spread):
    """The bucketed count equals np.unique's distinct codes, counts and inverse."""
    rng = np.random.default_rng(7)
    codes = rng.integers(0, spread, size=n).astype(np.uint32)
    if n > 2:
        codes[:2] = (0, H.N_CODES - 1)  # both ends of the code range
    distinct, counts, inverse = H.unique_codes(codes)
    e_distinct, e_inverse, e_counts = np.unique(codes, return_inverse=True, return_counts=True)
    assert_array_equal(distinct, e_distinct)
    assert_array_equal(counts, e_counts)
    assert_array_equal(inverse, e_inverse)


def test_add_counts_matches_naive():
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 200, size=400).astype(np.int64)  # many repeats
    counts = rng.integers(1, 1000, size=400).astype(np.int64)
    table = np.arange(256, dtype=np.int64)
    marks = np.zeros(4, np.uint64)
    marks[3] = 1 << 63  # marks already set stay set
    expected, expected_marks = naive.naive_add_counts(table, marks, codes, counts)
    H.add_counts(table, marks, codes, counts)
    assert_array_equal(table, expected)
    assert_array_equal(marks, expected_marks)


@pytest.mark.parametrize("k", [1, 3, 8])
@pytest.mark.parametrize("n", [200, 3 * K.CHUNK + 5])
def test_kmeans_plusplus_matches_naive(k, n):
    X, w, _ = _data(n, 3, 1, zero_weights=True)
    got, idx = kmeans_plusplus(X, w, k, np.random.default_rng(5))
    trials = 2 + int(np.log(k))
    expected = naive.kmeans_plusplus(X, w, k, np.random.default_rng(5), trials)
    assert_allclose(got, expected)
    assert np.all(w[idx] > 0)  # zero-weight samples are never drawn


FORK_SCRIPT = """
import multiprocessing, numpy as np, kmseg
img = (np.random.default_rng(0).random((200, 300, 3)) * 255).astype(np.uint8)
def run(_):
    return kmseg.segment(img, 6).inertia
if __name__ == "__main__":
    here = run(0)  # OpenMP threads exist in the parent from now on
    with multiprocessing.get_context("fork").Pool(2) as pool:
        print(pool.map(run, range(3)) == [here] * 3)
"""


def test_forked_children_run_the_kernels(tmp_path):
    """GNU OpenMP's threads do not survive fork: a forked child of a process that
    ran a parallel kernel runs them on one thread, with the same answer, instead
    of waiting for ever."""
    import subprocess
    import sys

    script = tmp_path / "fork.py"
    script.write_text(FORK_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_kmeans_plusplus_of_fewer_distinct_points_than_centres():
    X = np.ascontiguousarray(np.repeat([[0.0, 0.0], [3.0, 4.0]], 50, axis=0))
    w = np.ones(100)
    got, _ = kmeans_plusplus(X, w, 4, np.random.default_rng(2))
    expected = naive.kmeans_plusplus(X, w, 4, np.random.default_rng(2), 2 + int(np.log(4)))
    assert_allclose(got, expected)
    assert {tuple(c) for c in got} == {(0.0, 0.0), (3.0, 4.0)}


def test_histogram_paths_agree():
    """The table (large images) and bucketed codes (small ones) give the same histogram and labels."""
    from kmseg.histogram import _histogram

    rng = np.random.default_rng(6)
    pixels = (rng.integers(0, 16, size=(5000, 3)) * 17).astype(np.uint8)
    small = _histogram.ColorHistogram(pixels)
    old = _histogram.TABLE_MIN_PIXELS
    _histogram.TABLE_MIN_PIXELS = 0
    try:
        big = _histogram.ColorHistogram(pixels)
    finally:
        _histogram.TABLE_MIN_PIXELS = old
    assert big._inverse is None and small._inverse is not None  # the table path keeps no index
    assert_array_equal(small.colors, big.colors)
    assert_array_equal(small.counts, big.counts)
    labels = np.arange(len(small)) % 7
    for dtype in (np.uint8, np.uint16, np.uint32):
        assert_array_equal(small.to_pixels(labels, pixels, np.dtype(dtype)),
                           big.to_pixels(labels, pixels, np.dtype(dtype)))


def test_a_kernel_module_alone_registers_the_fork_handler():
    """Importing a kernel module (not kmseg's public functions, which import the
    thread helpers themselves) is enough for a forked child not to hang."""
    import subprocess
    import sys

    code = ("import os, numpy as np\n"
            "from kmseg.cluster import _kernels as K\n"
            "X = np.random.default_rng(0).random((200_000, 3)); w = np.ones(len(X)); C = X[:4].copy()\n"
            "def run():\n"
            "    nc = K.n_chunks(len(X))\n"
            "    L = np.empty(len(X), np.int32); D = np.empty(len(X))\n"
            "    K.lloyd_step(X, w, C, L, D, np.empty((nc, 4, 3)), np.empty((nc, 4)))\n"
            "    return D.sum()\n"
            "here = run()\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os._exit(0 if run() == here else 1)\n"
            "print(os.waitpid(pid, 0)[1] == 0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("label_type", [np.uint8, np.uint16, np.uint32])
@pytest.mark.parametrize("value_type", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("n", [0, 1, 3 * K.CHUNK + 7])
def test_paint_matches_naive(label_type, value_type, n):
    from kmseg.labels._kernels import paint

    rng = np.random.default_rng(n)
    table = (rng.random((5, 4)) * 200).astype(value_type)
    labels = rng.integers(0, 5, n).astype(label_type)
    out = np.empty((n, 4), value_type)
    assert paint(labels, table, out) == 0
    assert_array_equal(out, naive.naive_paint(labels, table))
    for threads in (1, 2):
        from kmseg._validation import thread_limit

        again = np.empty_like(out)
        with thread_limit(threads):
            paint(labels, table, again)
        assert_array_equal(again, out)


def test_paint_counts_labels_past_the_table_and_leaves_their_rows():
    from kmseg.labels._kernels import paint
    from kmseg.labels._order import paint_labels

    table = np.array([[1, 2, 3], [4, 5, 6]], np.uint8)
    labels = np.array([0, 2, 1, 7], np.uint8)
    out = np.full((4, 3), 9, np.uint8)
    assert paint(labels, table, out) == 2
    assert out.tolist() == [[1, 2, 3], [9, 9, 9], [4, 5, 6], [9, 9, 9]]
    with pytest.raises(IndexError, match="2 labels are not rows of the 2-colour table"):
        paint_labels(table, labels.reshape(2, 2))


# ---------------------------------------------------------------------------
# Grid cells: kmseg.histogram._cells and kmseg.cluster._kernels.cell_owner
# ---------------------------------------------------------------------------

def _cell_pixels(n, seed):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(n, 3)).astype(np.uint8)
    if n > 4:
        pixels[: n // 3] = pixels[0]  # one colour many times
        pixels[1] = (255, 255, 255)
        pixels[2] = (0, 0, 0)
    return pixels


@pytest.mark.parametrize("bits", [1, 3, 5, 6, 7])
@pytest.mark.parametrize("n", [1, 3, 2_500])
def test_cell_kernels_match_naive(bits, n):
    from kmseg.histogram import _cells as Cells

    pixels = _cell_pixels(n, bits)
    cells, stats, sum_sq = Cells.cell_stats(pixels, bits)
    e_cells, e_stats, e_sum_sq = naive.naive_cell_stats(pixels, bits)
    assert_array_equal(cells, e_cells)
    assert_array_equal(stats, e_stats)
    assert sum_sq == e_sum_sq
    slot_of = np.full(1 << (3 * bits), -1, np.int32)
    chosen = cells[::2]
    slot_of[chosen] = np.arange(len(chosen))
    corners = np.stack([chosen >> (2 * bits), (chosen >> bits) & ((1 << bits) - 1),
                        chosen & ((1 << bits) - 1)], axis=1) << (8 - bits)
    index, counts, colors, sq = Cells.count_in_cells(pixels, bits, slot_of, np.ascontiguousarray(corners))
    e_index, e_counts, e_colors, e_sq = naive.naive_count_in_cells(pixels, bits, slot_of)
    assert_array_equal(index, e_index)
    assert_array_equal(counts, e_counts)
    assert_array_equal(colors, e_colors)
    assert sq == e_sq
    per = 1 << (3 * (8 - bits))
    rng = np.random.default_rng(n)
    cell_index = (2 * rng.integers(0, 4, size=len(slot_of))).astype(np.int32)
    cell_index[chosen] = 2 * (4 + np.arange(len(chosen)) * per) + 1
    for dtype in (np.uint8, np.uint16):
        labels = rng.integers(0, 200, size=4 + len(chosen) * per).astype(dtype)
        out = np.empty(n, dtype)
        Cells.label_cells(pixels, bits, cell_index, labels, out)
        assert_array_equal(out, naive.naive_label_cells(pixels, bits, cell_index, labels))


def test_cell_stats_of_many_pixels_in_one_cell_on_one_or_two_threads():
    """Exact integer sums for many pixels of a cell, the same on 1 or 2 threads."""
    from kmseg import _parallel
    from kmseg.histogram import _cells as Cells

    pixels = np.full((300_000, 3), 7, np.uint8)
    pixels[::2] = (255, 250, 249)
    _, stats, sum_sq = Cells.cell_stats(pixels, 5)
    assert stats.tolist() == [[150_000, 150_000 * 7, 150_000 * 7, 150_000 * 7],
                              [150_000, 150_000 * 7, 150_000 * 2, 150_000 * 1]]
    assert sum_sq == 150_000 * (3 * 49) + 150_000 * (49 + 4 + 1)
    photo = _cell_pixels(100_000, 1)
    before = _parallel.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            _parallel.set_num_threads(threads)
            results.append(Cells.cell_stats(photo, 6))
    finally:
        _parallel.set_num_threads(before)
    assert_array_equal(results[0][0], results[1][0])
    assert_array_equal(results[0][1], results[1][1])
    assert results[0][2] == results[1][2]


@pytest.mark.parametrize("k", [1, 2, 7, 40])
@pytest.mark.parametrize("margin", [0.0, 3.0])
def test_cell_owner_matches_naive(k, margin):
    rng = np.random.default_rng(k)
    centers = rng.uniform(0, 255, size=(k, 3))
    if k > 2:
        centers[2] = centers[1]  # two equal centres: no box is inside either
    lo = rng.integers(0, 32, size=(400, 3)) * 8.0
    near, gap = naive.neighbours(centers, k - 1)
    out = np.empty(len(lo), np.int32)
    K.cell_owner(lo, 7.0, centers, near.astype(np.intc), gap, margin, out)
    assert_array_equal(out, naive.naive_cell_owner(lo, 7.0, centers, margin))
    if k > 2:
        assert not np.isin(out, [1, 2]).any()


@pytest.mark.parametrize("k,m", [(2, 1), (17, 16), (40, 32), (100, 32)])
def test_neighbours_match_naive(k, m):
    _, _, C = _data(400, 3, k, seed=k)
    near, gap = np.empty((k, m), np.intc), np.empty((k, m))
    K.neighbours(C, near, gap)
    e_near, e_gap = naive.neighbours(C, m)
    assert_allclose(gap, e_gap, rtol=1e-12)
    assert_array_equal(near, e_near)
