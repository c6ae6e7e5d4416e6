"""Connected segments: the region graph, Ward merging (against a brute-force twin), the pipeline."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage

import kmseg
from kmseg.regions._merge import boundary_strength, region_graph, ward_merge

from images import quadrants, red_squares
from naive import naive_bilateral, naive_graph, naive_pair, naive_perimeters, naive_slic_assign, naive_ward


def _tiles(seed=0, n=6, size=4):
    """An n x n grid of size x size tiles with random colours: every tile a region."""
    rng = np.random.default_rng(seed)
    labels = np.kron(np.arange(n * n).reshape(n, n), np.ones((size, size), int))
    colours = rng.normal(size=(n * n, 3)) * 10
    return labels, colours[labels] + rng.normal(size=labels.shape + (3,)) * 0.1


def test_region_graph_matches_naive():
    labels, _ = _tiles()
    pairs, lengths = region_graph(labels)
    assert dict(zip(map(tuple, pairs.tolist()), lengths.tolist())) == naive_graph(labels)


def test_boundary_strength_sums_edges_along_each_boundary():
    labels = np.array([[0, 0, 1], [0, 0, 1], [2, 2, 1]])
    edges = np.arange(9, dtype=float).reshape(3, 3)
    pairs, lengths = region_graph(labels)
    got = dict(zip(map(tuple, pairs.tolist()), boundary_strength(labels, edges, pairs).tolist()))
    # (0,1): pixel pairs (0,1)-(0,2) and (1,1)-(1,2): (1+2)/2 + (4+5)/2
    assert got[(0, 1)] == pytest.approx(1.5 + 4.5)
    # (0,2): (1,0)-(2,0), (1,1)-(2,1): (3+6)/2 + (4+7)/2
    assert got[(0, 2)] == pytest.approx(4.5 + 5.5)
    # (1,2): (2,1)-(2,2): (7+8)/2
    assert got[(1, 2)] == pytest.approx(7.5)


@pytest.mark.parametrize("n_regions", [1, 5, 12, 30])
@pytest.mark.parametrize("seed", [0, 1])
def test_ward_merge_matches_brute_force(n_regions, seed):
    labels, features = _tiles(seed)
    merged = ward_merge(labels, features, n_regions)[labels]
    expected = naive_ward(labels, features, n_regions)
    assert len(np.unique(merged)) == n_regions
    # same partition, up to label names
    pairs = set(zip(merged.ravel().tolist(), expected.ravel().tolist()))
    assert len(pairs) == n_regions


@pytest.mark.parametrize("share_power", [0.0, 0.5])
@pytest.mark.parametrize("n_regions", [1, 6, 20])
def test_merge_with_histograms_and_edges_matches_brute_force(n_regions, share_power):
    labels, features = _tiles(seed=4, n=5)
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 7, labels.shape)
    edges = rng.random(labels.shape) * 3
    merged = ward_merge(labels, features, n_regions, edges=edges, edge_weight=0.7, codes=codes, n_codes=7,
                        hist_weight=40.0, share_power=share_power)[labels]
    expected = naive_ward(labels, features, n_regions, edges, 0.7, codes, 7, 40.0, share_power)
    assert len(np.unique(merged)) == n_regions
    assert len(set(zip(merged.ravel().tolist(), expected.ravel().tolist()))) == n_regions


@pytest.mark.parametrize("n_regions", [1, 6, 20])
def test_merge_with_boundary_contrast_matches_brute_force(n_regions):
    labels, features = _tiles(seed=6, n=5)
    rng = np.random.default_rng(7)
    edges = rng.random(labels.shape) * rng.random(25)[labels] * 4  # some tiles busier than others
    merged = ward_merge(labels, features, n_regions, edges=edges, edge_weight=5.0, share_power=0.25,
                        edge_floor=0.5)[labels]
    expected = naive_ward(labels, features, n_regions, edges, 5.0, share_power=0.25, edge_floor=0.5)
    assert len(np.unique(merged)) == n_regions
    assert len(set(zip(merged.ravel().tolist(), expected.ravel().tolist()))) == n_regions


def _busy_tiles(seed):
    """Tiles with four features (CIELAB-like and a texture one), codes and an edge map; some tiles busier."""
    labels, features = _tiles(seed=seed, n=5)
    rng = np.random.default_rng(seed + 1)
    busy = rng.random(25)[labels]
    features = np.concatenate([features, (busy * 5 + rng.random(labels.shape) * 0.1)[:, :, None]], axis=2)
    return labels, features, dict(edges=rng.random(labels.shape) * busy * 4, edge_weight=5.0,
                                  codes=rng.integers(0, 7, labels.shape), n_codes=7, hist_weight=40.0,
                                  share_power=0.25, edge_floor=0.5)


@pytest.mark.parametrize("n_regions", [3, 6, 20])
def test_learned_merge_matches_brute_force(n_regions):
    from kmseg.regions._pipeline import MERGE_MODEL

    labels, features, options = _busy_tiles(seed=8)
    model = np.array(MERGE_MODEL)
    merged = ward_merge(labels, features, n_regions, model=model, **options)[labels]
    expected = naive_ward(labels, features, n_regions, model=model, **options)
    assert len(np.unique(merged)) == n_regions
    assert len(set(zip(merged.ravel().tolist(), expected.ravel().tolist()))) == n_regions
    # and the learned order is not the hand-made one here (the test would not see a model ignored)
    hand = ward_merge(labels, features, 6, **options)[labels]
    learned = ward_merge(labels, features, 6, model=model, **options)[labels]
    assert len(set(zip(hand.ravel().tolist(), learned.ravel().tolist()))) > 6


def test_merge_model_of_the_wrong_length_is_refused():
    from kmseg.regions._merge import merge_tree
    from kmseg.regions._pipeline import MERGE_MODEL

    labels, features, options = _busy_tiles(seed=8)
    for model in (MERGE_MODEL[:-1], MERGE_MODEL + (0.0,), np.ones((1, 13))):
        with pytest.raises(ValueError, match="expected \\(13,\\), an intercept and a weight per pair feature"):
            merge_tree(labels, features, model=model, **options)


@pytest.mark.parametrize("learned", [False, True])
def test_merge_features_are_those_of_each_pair_as_merged(learned):
    """Merge by merge, the kernel's pair features and cost against the brute-force twin's,
    for the hand-made cost and for the learned one (its heap priced by the model)."""
    from kmseg.regions._merge import merge_tree
    from kmseg.regions._merge_kernels import N_PAIR_FEATURES
    from kmseg.regions._pipeline import MERGE_MODEL

    labels, features, options = _busy_tiles(seed=10)
    model = np.array(MERGE_MODEL) if learned else None
    merges, costs, feats = merge_tree(labels, features, return_costs=True, return_features=True, model=model,
                                      **options)
    assert feats.shape == (24, N_PAIR_FEATURES) and len(costs) == 24
    region = labels.copy()
    for (a, b), cost, got in zip(merges, costs, feats):
        graph = naive_graph(region)
        perimeter = naive_perimeters(graph)
        expected = naive_pair(region, a, b, graph, perimeter, features, return_features=True, **options)
        assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
        if learned:  # minus the log-odds, and the cheapest pair of all
            assert cost == pytest.approx(-(model[0] + model[1:] @ expected), rel=1e-9, abs=1e-12)
            cheapest = min(naive_pair(region, u, w, graph, perimeter, features, model=model, **options)
                           for (u, w) in graph)
            assert cost == pytest.approx(cheapest, rel=1e-9, abs=1e-12)
        else:
            assert np.log(1e-9 + cost / labels.size) == pytest.approx(expected[-1])  # the hand-made cost
        region[region == b] = a


def test_boundary_contrast_lets_texture_merge_first():
    """Two pairs of tiles, the same colour gap and the same gradient on both boundaries:
    between busy tiles that boundary is no contrast, between plain ones it is."""
    labels = np.kron(np.arange(4).reshape(1, 4), np.ones((6, 6), int))  # tiles 0-1 plain, 2-3 busy
    features = np.kron(np.array([[0.0, 1.0, 5.0, 6.0]]), np.ones((6, 6)))[:, :, None]  # 1|2 far apart
    edges = np.zeros(labels.shape)
    edges[:, 12:] = 4.0             # busy tiles: strong gradient everywhere
    edges[:, 5:7] = 3.9             # the plain pair's boundary: a little weaker than the busy pair's
    plain = ward_merge(labels, features, 3, edges=edges, edge_weight=1.0)
    relative = ward_merge(labels, features, 3, edges=edges, edge_weight=1.0, edge_floor=0.1)
    assert plain[0] == plain[1] and len(set(plain[[1, 2, 3]].tolist())) == 3
    assert relative[2] == relative[3] and len(set(relative[[0, 1, 2]].tolist())) == 3


def test_region_graph_takes_an_edge_strength_per_pixel_pair():
    labels, _ = _tiles(seed=2, n=3, size=3)
    rng = np.random.default_rng(3)
    across_columns, across_rows = rng.random((9, 8)), rng.random((8, 9))
    pairs, lengths, strength = region_graph(labels, (across_columns, across_rows))
    expected = {}
    for y in range(9):
        for x in range(9):
            for dy, dx, value in ((0, 1, across_columns), (1, 0, across_rows)):
                if y + dy < 9 and x + dx < 9 and labels[y, x] != labels[y + dy, x + dx]:
                    key = tuple(sorted((int(labels[y, x]), int(labels[y + dy, x + dx]))))
                    expected[key] = expected.get(key, 0.0) + value[y, x]
    got = dict(zip(map(tuple, pairs.tolist()), strength.tolist()))
    assert got.keys() == expected.keys()
    assert all(got[k] == pytest.approx(expected[k]) for k in got)
    # a map per pixel is the same as pairs holding the mean of their two pixels
    edges = rng.random((9, 9))
    assert_array_equal(region_graph(labels, edges)[2], region_graph(
        labels, ((edges[:, :-1] + edges[:, 1:]) / 2, (edges[:-1] + edges[1:]) / 2))[2])


def test_merge_kernel_folds_parallel_boundaries():
    """A ring around a centre: once two ring pieces merge, their two boundaries with the centre are one."""
    from kmseg.regions._merge import merge_tree

    labels = np.zeros((5, 5), int)
    labels[:, 3:] = 1
    labels[1:4, 1:4] = 2
    features = np.zeros((5, 5, 1))
    features[labels == 1] = 0.1
    features[labels == 2] = 5.0
    edges = np.arange(25.0).reshape(5, 5) / 10
    merges, costs = merge_tree(labels, features, edges, 1.0, return_costs=True)
    assert merges == [(0, 1), (0, 2)]
    # the last merge: the 16 ring pixels against the 9 centre ones, across the whole ring's boundary
    ring = (labels != 2).astype(int)
    pairs, lengths = region_graph(ring)
    mean_edge = boundary_strength(ring, edges, pairs)[0] / lengths[0]
    ring_mean = features[labels != 2].mean()
    assert costs[1] == pytest.approx(16 * 9 / 25 * (5.0 - ring_mean) ** 2 * (1 + mean_edge))


def test_merged_regions_stay_connected():
    labels, features = _tiles(seed=3, n=8)
    merged = ward_merge(labels, features, 7)[labels]
    for r in np.unique(merged):
        assert ndimage.label(merged == r)[1] == 1


def test_strong_boundaries_merge_last():
    labels = np.kron(np.arange(3).reshape(1, 3), np.ones((4, 4), int))  # three tiles in a row
    features = np.zeros(labels.shape + (1,))
    features[:, 4:8] = 1.0
    features[:, 8:] = 2.1  # Ward alone merges 0 with 1 first (closer means)
    edges = np.zeros(labels.shape)
    edges[:, 3:5] = 100.0  # but a strong edge lies between tiles 0 and 1
    plain = ward_merge(labels, features, 2)
    weighted = ward_merge(labels, features, 2, edges=edges, edge_weight=1.0)
    assert plain[0] == plain[1] != plain[2]
    assert weighted[1] == weighted[2] != weighted[0]


def test_segment_regions_finds_separate_objects():
    img = red_squares()  # two red squares apart: two segments, though the same colour
    regions = kmseg.segment_regions(img, 3, n_superpixels=200)
    assert regions.n_segments == 3
    a, b, bg = regions.labels[20, 20], regions.labels[45, 60], regions.labels[5, 5]
    assert len({a, b, bg}) == 3 and bg == 0  # background is the largest
    for r in range(3):
        assert ndimage.label(regions.labels == r)[1] == 1
    assert regions.recolor().shape == img.shape
    assert np.all(np.diff(regions.counts) <= 0)
    assert "n_segments=3" in repr(regions)


def test_segment_regions_grey_and_errors():
    img = np.zeros((30, 30), np.uint8)
    img[:, 15:] = 200
    regions = kmseg.segment_regions(img, 2, n_superpixels=30)
    assert regions.n_segments == 2
    assert_array_equal(regions.labels[:, :14] == regions.labels[0, 0], True)
    with pytest.raises(kmseg.KmsegError, match="n_segments=0 must be >= 1"):
        kmseg.segment_regions(img, 0)


@pytest.mark.parametrize("cost, threshold", [("learned", 0.7), ("ward", 20000)])
def test_threshold_keeps_more_segments_in_busier_images(cost, threshold):
    rng = np.random.default_rng(1)
    plain = np.full((60, 60, 3), 120, np.uint8)
    plain[:, 30:] = 30
    busy = plain.copy()
    busy[5:25, 5:25] = (220, 30, 30)
    busy[35:55, 35:55] = (30, 30, 220)
    noise = lambda img: np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)  # noqa: E731
    a = kmseg.segment_regions(noise(plain), threshold=threshold, n_superpixels=100, cost=cost)
    b = kmseg.segment_regions(noise(busy), threshold=threshold, n_superpixels=100, cost=cost)
    assert a.n_segments == 2 and b.n_segments == 4
    with pytest.raises(kmseg.KmsegError, match="threshold=-1.0 must be a finite number >= 0"):
        kmseg.segment_regions(noise(plain), threshold=-1, cost=cost)


def test_learned_cost_checks_its_threshold_and_weights():
    img = np.zeros((30, 30, 3), np.uint8)
    img[:, 15:] = 200
    with pytest.raises(kmseg.KmsegError, match="threshold=20000.0 must be a probability, 0 to 1, with "
                                               "cost='learned'"):
        kmseg.segment_regions(img, threshold=20000, n_superpixels=30)
    with pytest.raises(kmseg.KmsegError, match="edge_weight, hist_weight shape the hand-made merge cost: "
                                               "pass cost='ward' with them"):
        kmseg.segment_regions(img, n_superpixels=30, edge_weight=10, hist_weight=0)
    with pytest.raises(kmseg.KmsegError, match="cost='kmeans' must be one of 'learned', 'ward'"):
        kmseg.segment_regions(img, n_superpixels=30, cost="kmeans")
    with pytest.raises(kmseg.KmsegError, match="texture_weight shapes the hand-made merge cost: pass cost='ward' "
                                               "with it"):
        kmseg.segment_regions(img, n_superpixels=30, texture_weight=0)
    # the weights do shape the hand-made cost
    from kmseg.regions._pipeline import region_hierarchy

    plain, edged = (region_hierarchy(img, n_superpixels=30, cost="ward", edge_weight=w, hist_weight=0)
                    for w in (0, 10))
    assert plain.merges == edged.merges and np.all(edged.costs[-1:] > 2 * plain.costs[-1:])
    # probability 1: every merge done (one segment); 0: none beyond those certain
    assert kmseg.segment_regions(img, threshold=1.0, n_superpixels=30).n_segments == 1
    assert kmseg.segment_regions(img, threshold=0.0, n_superpixels=30).n_segments > 2


def test_learned_threshold_stops_before_the_first_merge_likelier_two_objects():
    """``regions_below(t)`` with the learned cost does the merges before the first one whose
    chance of joining two objects, the logistic of its cost, exceeds ``t``."""
    from kmseg.regions._merge import merge_tree
    from kmseg.regions._pipeline import MERGE_MODEL, _merge_inputs, region_hierarchy

    tree = region_hierarchy(quadrants(60, 80, noise=20), n_superpixels=60)
    merges, costs = merge_tree(tree.superpixels, **_merge_inputs(tree.lab), model=MERGE_MODEL,
                               return_costs=True)
    assert merges == tree.merges
    two = 1 / (1 + np.exp(-np.array(costs)))
    assert two.min() < 0.2 and two.max() > 0.8
    for t in (0.2, 0.5, 0.8):
        done = int(np.argmax(two > t))
        assert tree.regions_below(t).n_segments == tree.n_superpixels - done


@pytest.mark.parametrize("kwargs, message", [
    (dict(threshold=30000), "threshold=30000.0 must be a probability"),
    (dict(threshold=-1, cost="ward"), "threshold=-1.0 must be a finite number >= 0"),
    (dict(threshold=0.5, cost="kmeans"), "cost='kmeans' must be one of"),
    (dict(n_segments=0), "n_segments=0 must be >= 1"),
    (dict(min_size=-1), "min_size=-1 must be >= 0"),
])
def test_segment_regions_checks_before_the_work(monkeypatch, kwargs, message):
    """A threshold of the other cost's scale (an old ``threshold=30000``) fails before superpixels are made."""
    from kmseg.regions import _pipeline

    def no_work(*args, **kw):
        raise AssertionError("the hierarchy was built before the parameters were checked")

    monkeypatch.setattr(_pipeline, "region_hierarchy", no_work)
    with pytest.raises(kmseg.KmsegError, match=message):
        kmseg.segment_regions(np.zeros((20, 20, 3), np.uint8), **kwargs)


def test_absorb_small_regions():
    from kmseg.regions._merge import absorb_small

    labels = np.zeros((10, 10), int)
    labels[:, 5:] = 1
    labels[2:4, 2:4] = 2          # 4 pixels inside region 0
    labels[7, 7] = 3              # 1 pixel inside region 1
    features = np.zeros((10, 10, 1))
    features[:, 5:] = 5.0
    merged = absorb_small(labels, features, min_size=5)[labels]
    assert len(np.unique(merged)) == 2
    assert merged[2, 2] == merged[0, 0] and merged[7, 7] == merged[0, 9]
    kept = absorb_small(labels, features, min_size=1)
    assert len(np.unique(kept)) == 4


def test_segment_regions_min_size():
    rng = np.random.default_rng(2)
    img = np.clip(rng.normal(128, 40, (40, 40, 3)), 0, 255).astype(np.uint8)  # noise: many small segments
    regions = kmseg.segment_regions(img, 30, n_superpixels=100, min_size=80)
    assert regions.counts.min() >= 80


def test_slic_assign_matches_naive():
    from kmseg.regions._slic_kernels import ROW_BLOCK, slic_assign

    rng = np.random.default_rng(0)
    h, w, ny, nx = 37, 29, 4, 3
    lab = rng.normal(size=(h, w, 3)) * 20
    step = np.sqrt(h * w / (ny * nx))
    centers = np.column_stack([rng.normal(size=(ny * nx, 3)) * 20,
                               np.repeat((np.arange(ny) + 0.5) * h / ny, nx) + rng.normal(0, 3, ny * nx),
                               np.tile((np.arange(nx) + 0.5) * w / nx, ny) + rng.normal(0, 3, ny * nx)])
    cell_of = np.arange(ny * nx).reshape(ny, nx)
    labels = np.empty((h, w), np.int64)
    sums = np.empty(((h + ROW_BLOCK - 1) // ROW_BLOCK, ny * nx, 6))
    slic_assign(lab, centers, cell_of, step, 0.3, labels, sums)
    assert_array_equal(labels, naive_slic_assign(lab, centers, cell_of, step, 0.3))
    total = sums.sum(0)
    assert_array_equal(total[:, 5], np.bincount(labels.ravel(), minlength=ny * nx))
    np.testing.assert_allclose(total[:, 0], np.bincount(labels.ravel(), weights=lab[:, :, 0].ravel(),
                                                        minlength=ny * nx), atol=1e-9)


def test_connected_relabel():
    from kmseg.regions._slic_kernels import connected_relabel

    labels = np.array([[0, 0, 1, 1],
                       [2, 0, 1, 0],
                       [2, 2, 2, 0],
                       [0, 0, 2, 0]], np.int64)
    out = np.empty_like(labels)
    n = connected_relabel(labels, 1, out)
    # components in raster order: 0 (top-left), 1, 2 (the lone 0 at (1,3) joins the right column), ...
    assert n == 5
    assert_array_equal(out, [[0, 0, 1, 1], [2, 0, 1, 3], [2, 2, 2, 3], [4, 4, 2, 3]])
    n = connected_relabel(labels, 3, out)  # pieces under 3 pixels join the piece before them
    assert n == 4  # only the 2-pixel piece at the bottom left goes, into the piece above it
    assert out[3, 0] == out[3, 1] == out[2, 0]
    for r in range(n):
        assert ndimage.label(out == r)[1] == 1


def test_slic_superpixels_connected_and_sized():
    from kmseg.regions._superpixels import slic_superpixels

    rng = np.random.default_rng(1)
    lab = rng.normal(50, 10, (60, 80, 3))
    sp = slic_superpixels(lab, 48, 20)
    n = sp.max() + 1
    assert 30 <= n <= 70
    for r in range(n):
        assert ndimage.label(sp == r)[1] == 1
    assert np.bincount(sp.ravel()).min() >= int(60 * 80 / 48 / 4)


@pytest.mark.parametrize("radius", [1, 2])
def test_bilateral_pass_matches_naive(radius):
    from kmseg.color._smooth import bilateral_pass

    rng = np.random.default_rng(0)
    image = rng.normal(50, 15, (9, 11, 3))
    out = np.empty_like(image)
    bilateral_pass(image, radius, 10.0, out)
    np.testing.assert_allclose(out, naive_bilateral(image, radius, 10.0), rtol=1e-12)


def test_edge_preserving_smooth_keeps_steps_and_flattens_noise():
    from kmseg.color._smooth import edge_preserving_smooth

    rng = np.random.default_rng(1)
    image = np.zeros((30, 30, 3))
    image[:, 15:] = 60.0
    noisy = image + rng.normal(0, 2, image.shape)
    smooth = edge_preserving_smooth(noisy, radius=2, sigma=8.0, n_passes=3)
    assert np.abs(smooth - image).std() < 0.5 * np.abs(noisy - image).std()
    # the step stays a step: no blending across it
    assert np.abs(smooth[:, 14] - image[:, 14]).max() < 3 and np.abs(smooth[:, 15] - image[:, 15]).max() < 3
    assert_array_equal(edge_preserving_smooth(noisy, n_passes=0), noisy)


def _same_mean_halves(right_values, seed=0):
    """Left half flat at the mean colour of the right half, whose pixels take the given values at random."""
    rng = np.random.default_rng(seed)
    values = np.asarray(right_values, float)
    img = np.empty((60, 80, 3))
    img[:, :40] = values.mean(0)
    img[:, 40:] = values[rng.integers(0, len(values), (60, 40))]
    return np.clip(img + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)


def _split_score(labels):
    """Share of each half's pixels on its own side of a two-segment map, the worse of the two."""
    left = labels[0, 0]
    return min((labels[:, :38] == left).mean(), (labels[:, 42:] != left).mean())


def test_texture_feature_parts_plain_from_speckled_grey():
    img = _same_mean_halves([(83, 83, 83), (173, 173, 173)])  # same mean grey, same (grey) histogram
    with_texture = kmseg.segment_regions(img, 2, n_superpixels=120, cost="ward", texture_weight=3, hist_weight=0)
    without = kmseg.segment_regions(img, 2, n_superpixels=120, cost="ward", texture_weight=0, hist_weight=0)
    assert _split_score(with_texture.labels) > 0.9
    assert _split_score(without.labels) < 0.5


def test_histogram_term_parts_flat_from_mixed_colours():
    img = _same_mean_halves([(200, 40, 40), (40, 40, 200)])  # purple beside a red and blue speckle
    with_hist = kmseg.segment_regions(img, 2, n_superpixels=120, cost="ward", texture_weight=0, hist_weight=1000)
    without = kmseg.segment_regions(img, 2, n_superpixels=120, cost="ward", texture_weight=0, hist_weight=0)
    assert _split_score(with_hist.labels) > 0.9
    assert _split_score(without.labels) < 0.5


@pytest.mark.parametrize("colours", [[(83, 83, 83), (173, 173, 173)], [(200, 40, 40), (40, 40, 200)]])
def test_learned_cost_parts_plain_from_speckled(colours):
    """The learned cost sees texture and histograms too: both pairs of halves that Ward's
    criterion alone cannot tell apart (tests above) come out as two segments."""
    assert _split_score(kmseg.segment_regions(_same_mean_halves(colours), 2, n_superpixels=120).labels) > 0.9


def test_segment_regions_with_smoothing():
    rng = np.random.default_rng(3)
    img = np.full((50, 60, 3), (40, 120, 40), float)
    img[10:35, 15:40] = (220, 40, 40)
    img = np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    regions = kmseg.segment_regions(img, 2, n_superpixels=80, smooth=True)
    inside = regions.labels[12:33, 17:38]
    assert regions.n_segments == 2 and np.all(inside == inside[0, 0]) and regions.labels[0, 0] != inside[0, 0]


@pytest.mark.parametrize("k, min_size", [(1, 0), (5, 0), (5, 30)])
def test_regions_inertia_is_the_sum_of_squared_distances(k, min_size):
    """A cut's inertia from segment sums equals the sum over the pixels."""
    from kmseg.regions._pipeline import region_hierarchy

    tree = region_hierarchy(quadrants(60, 80, noise=20), n_superpixels=60)
    regions = tree.regions(k, min_size)
    direct = float(((tree.lab[..., :3] - regions.centers[regions.labels]) ** 2).sum())
    assert regions.inertia == pytest.approx(direct, rel=1e-9)
