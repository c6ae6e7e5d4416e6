"""The merge hierarchy as a UCM, and boundary scores pooled over a data set (ODS, OIS, AP)."""

import os

import numpy as np
import pytest
from PIL import Image

import kmseg
from kmseg.cli import main
from kmseg.metrics import average_precision, boundary_scores, summarize_boundaries
from kmseg.regions._merge import cut_tree, region_graph
from kmseg.regions._ucm import join_levels, ucm_labels

from images import quadrants, red_squares


def same_partition(a, b):
    """Two label maps are the same segments, numbered in any way."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1).shape[1]
    return pairs == len(np.unique(a)) == len(np.unique(b))


def naive_join_levels(merges, levels, pairs, n):
    """Cut the merge tree after each merge, and note when each pair first shares a segment."""
    out = np.full(len(pairs), np.inf)
    for done in range(1, len(merges) + 1):
        region = cut_tree(n, merges, n - done)
        fresh = (region[pairs[:, 0]] == region[pairs[:, 1]]) & np.isinf(out)
        out[fresh] = levels[done - 1]
    return out


def test_join_levels_match_cutting_the_tree():
    rng = np.random.default_rng(3)
    leaves = np.repeat(np.repeat(np.arange(20).reshape(4, 5), 3, axis=0), 3, axis=1)
    pairs, _ = region_graph(leaves)
    tree = kmseg.region_hierarchy(quadrants(60, 80, noise=20), n_superpixels=60)
    for merges, n in [(tree.merges, tree.n_superpixels), (None, 20)]:
        if merges is None:  # a random merge tree of the 20 blocks: adjacent segments joined at random
            region, merges = np.arange(n), []
            while len(merges) < n - 1:
                a, b = pairs[rng.integers(len(pairs))]
                if region[a] != region[b]:
                    merges.append((int(region[a]), int(region[b])))  # as merge_tree: the segments' labels
                    region[region == region[b]] = region[a]
            graph = pairs
        else:
            graph = region_graph(tree.superpixels)[0]
        levels = np.sort(rng.random(len(merges)))
        np.testing.assert_array_equal(join_levels(merges, levels, graph, n),
                                      naive_join_levels(merges, levels, graph, n))


def test_unjoined_pairs_are_infinite():
    pairs = np.array([[0, 1], [1, 2]])
    np.testing.assert_array_equal(join_levels([(0, 1)], [0.5], pairs, 3), [0.5, np.inf])


def test_ucm_layout():
    tree = kmseg.region_hierarchy(red_squares(), n_superpixels=40)
    ucm = tree.ucm()
    h, w = tree.superpixels.shape
    assert ucm.shape == (2 * h + 1, 2 * w + 1)
    assert not ucm[1::2, 1::2].any()  # pixels
    top = tree.costs[-1]
    assert (ucm[0] == top).all() and (ucm[:, -1] == top).all() and ucm.max() == top
    sp = tree.superpixels
    inside = sp[:, :-1] == sp[:, 1:]
    assert not ucm[1::2, 2:-1:2][inside].any() and (ucm[1::2, 2:-1:2][~inside] > 0).all()
    # a grid point is the largest of its four edges
    y, x = 10, 20
    g = ucm[2 * y + 2, 2 * x + 2]
    assert g == max(ucm[2 * y + 1, 2 * x + 2], ucm[2 * y + 3, 2 * x + 2],
                    ucm[2 * y + 2, 2 * x + 1], ucm[2 * y + 2, 2 * x + 3])


@pytest.mark.parametrize("photo", ["chelsea", "coffee", "astronaut"])
@pytest.mark.parametrize("cost", ["learned", "ward"])
def test_thresholding_the_ucm_cuts_the_tree(photo, cost):
    """{ucm <= t} split into 4-connected pieces is regions_below(t), at every level tried."""
    from skimage import data

    img = getattr(data, photo)()[::2, ::2]
    tree = kmseg.region_hierarchy(img, n_superpixels=300, cost=cost)
    ucm = tree.ucm()
    levels = np.unique(tree.costs)
    for t in [0.0, *np.quantile(levels, [0.1, 0.5, 0.9, 0.97]), levels[-2], levels[-1]]:
        expected = tree.regions_below(t).labels
        got = ucm_labels(ucm, t)
        assert got.max() + 1 == len(np.unique(expected))
        assert same_partition(got, expected), (photo, cost, t)


def test_save_ucm(tmp_path):
    tree = kmseg.region_hierarchy(quadrants(), n_superpixels=40)
    ucm = tree.ucm()
    assert tree.save_ucm(tmp_path / "u.npy") == 1.0
    np.testing.assert_array_equal(np.load(tmp_path / "u.npy"), ucm)
    assert tree.save_ucm(tmp_path / "u.png") == 1.0  # learned: chances, scale 1
    png = np.asarray(Image.open(tmp_path / "u.png"))
    assert png.dtype == np.uint16 and png.shape == ucm.shape
    np.testing.assert_array_equal(png, np.round(ucm * 65535).astype(np.uint16))
    ward = kmseg.region_hierarchy(quadrants(), n_superpixels=40, cost="ward")
    scale = ward.save_ucm(tmp_path / "w.png")
    assert scale == ward.costs[-1] and np.asarray(Image.open(tmp_path / "w.png")).max() == 65535
    with pytest.raises(kmseg.KmsegError, match=r"'.*u.tif': a UCM is saved as .png \(16-bit\) or .npy"):
        tree.save_ucm(tmp_path / "u.tif")


def test_segment_command_writes_the_ucm(tmp_path, capsys):
    path = tmp_path / "squares.png"
    Image.fromarray(red_squares()).save(path)
    out = tmp_path / "out"
    assert main(["segment", str(path), "--regions", "--ucm", "-o", str(out)]) == 0
    assert "squares_ucm.png" in capsys.readouterr().out
    png = np.asarray(Image.open(out / "squares_ucm.png"))
    tree = kmseg.region_hierarchy(path)
    np.testing.assert_array_equal(png, np.round(tree.ucm() * 65535).astype(np.uint16))
    # the documented reading: pixels joined across values <= 65535 t are --threshold t's segments
    assert main(["segment", str(path), "--regions", "--threshold", "0.5", "-o", str(out)]) == 0
    labels = np.asarray(Image.open(out / "squares_labels.png"))
    assert same_partition(ucm_labels(png, 0.5 * 65535), labels)


def test_ucm_is_the_tree_the_segments_come_from(tmp_path):
    # one run writes both, from one tree: the labels are the UCM cut at --threshold
    path = tmp_path / "squares.png"
    Image.fromarray(red_squares()).save(path)
    out = tmp_path / "out"
    assert main(["segment", str(path), "--regions", "--ucm", "--threshold", "0.4", "-o", str(out)]) == 0
    png = np.asarray(Image.open(out / "squares_ucm.png"))
    labels = np.asarray(Image.open(out / "squares_labels.png"))
    assert same_partition(ucm_labels(png, 0.4 * 65535), labels)


def test_segment_many_ucm_output(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(red_squares()).save(folder / "a.png")
    summary = kmseg.segment_many([folder], 3, tmp_path / "out", outputs=("labels", "ucm"), regions=True, jobs=1)
    assert summary.count("ok") == 1
    assert sorted(os.listdir(tmp_path / "out")) == ["a_labels.png", "a_ucm.png", "manifest.jsonl"]
    with pytest.raises(kmseg.KmsegError, match="the 'ucm' output is the merge hierarchy of connected regions: "
                                               "it needs regions=True"):
        kmseg.segment_many([folder], 3, tmp_path / "o2", outputs=("ucm",), jobs=1)
    assert not (tmp_path / "o2").exists()


def test_ucm_needs_regions(tmp_path, capsys):
    path = tmp_path / "squares.png"
    Image.fromarray(red_squares()).save(path)
    assert main(["segment", str(path), "--ucm", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "kmseg segment: error: --ucm goes with --regions"
    assert "Traceback" not in err and not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------
# ODS, OIS, AP
# ---------------------------------------------------------------------------

def test_ods_pools_counts_before_the_ratios():
    # counts (seg_matched, seg_total, gt_matched, gt_total): two images, two values
    counts = np.array([[[9, 10, 5, 10], [1, 1, 1, 10]],
                       [[1, 100, 1, 100], [50, 100, 50, 100]]])
    s = summarize_boundaries(counts, ["a", "b"])
    # value a: P = 10/110, R = 6/110; value b: P = 51/101, R = 51/110
    pb, rb = 51 / 101, 51 / 110
    assert s.ods_value == "b" and s.ods_precision == pytest.approx(pb) and s.ods_recall == pytest.approx(rb)
    assert s.ods_f == pytest.approx(2 * pb * rb / (pb + rb))
    # each image's best: image 0 at a (F = 0.6428 > 0.18), image 1 at b
    po, ro = 59 / 110, 55 / 110
    assert (s.ois_precision, s.ois_recall) == (pytest.approx(po), pytest.approx(ro))
    assert s.ois_f == pytest.approx(2 * po * ro / (po + ro)) and s.ois_f >= s.ods_f
    assert s.ap == pytest.approx(average_precision([10 / 110, pb], [6 / 110, rb]))


def test_average_precision():
    # precision 1 from recall 0.2 to 0.6: 41 grid points of 0.01
    assert average_precision([1.0, 1.0], [0.2, 0.6]) == pytest.approx(0.41)
    # the whole range at precision 1: 101 points
    assert average_precision([1.0, 1.0, 1.0], [1.0, 0.0, 0.5]) == pytest.approx(1.01)
    # linear from (0, 1) to (1, 0): the trapezoid sums to 0.505
    assert average_precision([1.0, 0.0], [0.0, 1.0]) == pytest.approx(0.505)
    assert average_precision([0.7], [0.4]) == 0.0  # one point is no curve


def test_dataset_boundary_scores_are_the_image_scores_pooled(tmp_path):
    from images import write_ground_truth

    from kmseg.metrics import evaluate_dataset

    rng = np.random.default_rng(1)
    images, truths = tmp_path / "images", tmp_path / "gt"
    images.mkdir()
    truths.mkdir()
    for i in range(2):
        gt = np.ones((40, 50), np.uint16)
        gt[:, 15 + 10 * i:] = 2
        colours = rng.integers(0, 256, size=(3, 3))
        img = np.clip(colours[gt] + rng.normal(0, 5, gt.shape + (3,)), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(images / f"{i}.png")
        write_ground_truth(truths / f"{i}.mat", [gt])
    result = evaluate_dataset(str(images), str(truths), "kmeans", [2, 4])
    for row in result.rows:
        labels = kmseg.segment(np.asarray(Image.open(images / f"{row[0]}.png")), row[1]).labels
        from kmseg.metrics import read_bsds_ground_truth

        b = boundary_scores(labels, read_bsds_ground_truth(str(truths / f"{row[0]}.mat")))
        assert row[6:] == (b.seg_matched, b.seg_total, b.gt_matched, b.gt_total)
    expected = summarize_boundaries([r[6:] for r in result.rows], result.values)
    assert result.boundary == expected and result.boundary.ods_value == 2  # two flat regions
    assert result.boundary.ods_f > 0.9
    assert "F_b" in result.table() and f"AP={expected.ap:.4f}" in result.table()
    plain = evaluate_dataset(str(images), str(truths), "kmeans", [2, 4], boundaries=False)
    assert plain.boundary is None and len(plain.rows[0]) == 6 and "F_b" not in plain.table()
