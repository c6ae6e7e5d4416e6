"""kmseg.metrics: BSDS500 region and boundary scores, and the ground-truth reader.

Each score is compared with a slow, obviously correct twin in tests/naive.py (pair
loops, region masks, augmenting-path matching) on tiny maps, and with hand-computed
values on a 2 x 3 example.
"""

import math
import os
from pathlib import Path

import numpy as np
import pytest

import kmseg
from kmseg import ImageReadError, KmsegError
from kmseg.metrics import (
    boundary_map,
    boundary_scores,
    contingency,
    evaluate,
    mean_variation_of_information,
    probabilistic_rand_index,
    rand_index,
    read_bsds_ground_truth,
    segmentation_covering,
    variation_of_information,
)
from kmseg.metrics._boundary import _raw_boundaries

from images import write_ground_truth
from naive import naive_covering, naive_matching, naive_rand_index, naive_raw_boundaries, naive_voi

BSDS = Path(os.environ.get(
    "KMSEG_BSDS500", Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bsds500"))

# The hand-computed example. N = 6 pixels, 15 pairs.
#   seg = 0 0 1      gt = 0 0 0      table (seg rows, gt cols) = [[2, 2],
#         0 0 1           1 1 1                                   [1, 1]]
# Rand index: pairs together in both: C(2,2) + C(2,2) = 2; together in seg:
#   C(4,2) + C(2,2) = 7; together in gt: 2 C(3,2) = 6; apart in both:
#   15 - (7 + 6 - 2) = 4. RI = (2 + 4) / 15 = 0.4.
# VOI: the table is the product of its margins (2/6 = 4/6 * 3/6, ...), so
#   I = 0 and VOI = H(4/6, 2/6) + H(1/2, 1/2) = (log2 3 - 2/3) + 1 bits.
# Covering of gt by seg: each gt row (3 pixels) meets seg region 0 in 2 pixels
#   (union 4 + 3 - 2 = 5, IoU 0.4) and region 1 in 1 (union 4, IoU 0.25):
#   C = (3 * 0.4 + 3 * 0.4) / 6 = 0.4.
SEG = np.array([[0, 0, 1], [0, 0, 1]])
GT = np.array([[0, 0, 0], [1, 1, 1]])
VOI = 1 + math.log2(3) - 2 / 3


def blocky(rng, shape, cells, n_labels):
    """A random label map of ``cells`` blocks, each blown up to ``shape``."""
    small = rng.integers(0, n_labels, size=cells)
    reps = (-(-shape[0] // cells[0]), -(-shape[1] // cells[1]))
    return np.kron(small, np.ones(reps, dtype=int))[: shape[0], : shape[1]]


# ---------------------------------------------------------------------------
# Region scores
# ---------------------------------------------------------------------------

def test_hand_computed_example():
    table, seg_labels, gt_labels = contingency(SEG, GT)
    assert table.toarray().tolist() == [[2, 2], [1, 1]]
    assert seg_labels.tolist() == [0, 1] and gt_labels.tolist() == [0, 1]
    assert rand_index(SEG, GT) == pytest.approx(0.4)
    assert variation_of_information(SEG, GT) == pytest.approx(VOI)
    assert segmentation_covering(SEG, [GT]) == pytest.approx(0.4)


def test_means_over_ground_truths():
    gts = [GT, SEG + 1]
    assert probabilistic_rand_index(SEG, gts) == pytest.approx((0.4 + 1) / 2)
    assert mean_variation_of_information(SEG, gts) == pytest.approx(VOI / 2)
    assert segmentation_covering(SEG, gts) == pytest.approx((0.4 + 1) / 2)
    # A (G, H, W) stack and a single (H, W) map are accepted too.
    assert probabilistic_rand_index(SEG, np.stack(gts)) == pytest.approx(0.7)
    assert probabilistic_rand_index(SEG, GT) == pytest.approx(0.4)


def test_covering_is_not_symmetric():
    # seg = 0 0 0 1, gt = 0 0 1 1. Covering gt by seg: gt 0 (2 px) best IoU 2/3 (seg 0),
    # gt 1 (2 px) best 1/2 (seg 1): (2 * 2/3 + 2 * 1/2) / 4 = 7/12. Covering seg by gt:
    # seg 0 (3 px) best 2/3, seg 1 (1 px) best 1/2: (3 * 2/3 + 1/2) / 4 = 5/8.
    seg, gt = np.array([[0, 0, 0, 1]]), np.array([[0, 0, 1, 1]])
    assert segmentation_covering(seg, [gt]) == pytest.approx(7 / 12)
    assert segmentation_covering(gt, [seg]) == pytest.approx(5 / 8)


@pytest.mark.parametrize("seed", range(6))
def test_region_scores_match_naive_twins(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 7, size=2))
    seg = rng.integers(0, rng.integers(1, 5), size=shape)
    gt = rng.integers(3, 3 + rng.integers(1, 6), size=shape)
    assert rand_index(seg, gt) == pytest.approx(naive_rand_index(seg, gt), abs=1e-12)
    assert variation_of_information(seg, gt) == pytest.approx(naive_voi(seg, gt), abs=1e-12)
    assert segmentation_covering(seg, [gt]) == pytest.approx(naive_covering(seg, gt), abs=1e-12)
    table, seg_labels, gt_labels = contingency(seg, gt)
    expected = [[int(((seg == a) & (gt == b)).sum()) for b in gt_labels] for a in seg_labels]
    assert table.toarray().tolist() == expected


@pytest.mark.parametrize(
    "seg, gt",
    [
        (np.zeros((1, 1), int), np.zeros((1, 1), int)),  # one pixel: no pairs
        (np.zeros((3, 4), int), np.zeros((3, 4), int)),  # constant maps
        (np.zeros((3, 4), int), np.arange(12).reshape(3, 4)),  # one region vs all singletons
        (np.arange(12).reshape(3, 4), np.arange(12).reshape(3, 4)[::-1]),
    ],
)
def test_region_scores_edge_cases(seg, gt):
    assert rand_index(seg, gt) == pytest.approx(naive_rand_index(seg, gt), abs=1e-12)
    assert variation_of_information(seg, gt) == pytest.approx(naive_voi(seg, gt), abs=1e-12)
    assert segmentation_covering(seg, [gt]) == pytest.approx(naive_covering(seg, gt), abs=1e-12)


def test_agrees_with_skimage_variation_of_information():
    from skimage.metrics import variation_of_information as skimage_vi

    rng = np.random.default_rng(3)
    for _ in range(5):
        seg = blocky(rng, (40, 50), (5, 7), 6)
        gt = blocky(rng, (40, 50), (4, 9), 4) + 1
        # skimage returns H(gt|seg) and H(seg|gt), with log2 (its _xlogx).
        assert variation_of_information(seg, gt) == pytest.approx(skimage_vi(gt, seg).sum())


def test_identical_segmentations_score_perfectly():
    rng = np.random.default_rng(0)
    seg = blocky(rng, (30, 40), (5, 6), 7)
    relabelled = seg * 1000 + 17
    assert rand_index(seg, relabelled) == 1.0
    assert variation_of_information(seg, relabelled) == 0.0
    assert segmentation_covering(seg, [relabelled]) == 1.0
    scores = evaluate(seg, [relabelled, seg])
    assert scores == (1.0, 1.0, 0.0, 1.0, 1.0, 1.0)


def test_scores_invariant_under_label_permutation():
    rng = np.random.default_rng(1)
    seg = blocky(rng, (32, 48), (6, 8), 9)
    gts = [blocky(rng, (32, 48), (4, 6), 5) + 1 for _ in range(3)]
    permuted = rng.permutation(seg.max() + 1)[seg]
    huge = permuted.astype(np.int64) * 10**12 - 5  # sparse, negative: the np.unique path
    base = evaluate(seg, gts)
    for other in (permuted, huge):
        assert evaluate(other, gts) == pytest.approx(base)
    assert rand_index(gts[0], seg) == pytest.approx(rand_index(seg, gts[0]))
    assert variation_of_information(gts[0], seg) == pytest.approx(
        variation_of_information(seg, gts[0])
    )


def test_contingency_of_many_labels_and_bools():
    seg = np.arange(900).reshape(30, 30)  # 900 x 900 cells: the sparse path
    table, seg_labels, gt_labels = contingency(seg, seg.T)
    assert table.shape == (900, 900) and table.nnz == 900
    assert (table.sum(axis=0) == 1).all()
    table, seg_labels, _ = contingency(SEG.astype(bool), GT.astype(np.uint8))
    assert table.toarray().tolist() == [[2, 2], [1, 1]]
    assert seg_labels.tolist() == [False, True]


def test_evaluate_equals_the_separate_scores():
    rng = np.random.default_rng(2)
    seg = blocky(rng, (24, 36), (4, 6), 5)
    gts = [blocky(rng, (24, 36), (3, 4), 4) for _ in range(2)]
    scores = evaluate(seg, gts)
    assert scores.covering == pytest.approx(segmentation_covering(seg, gts))
    assert scores.pri == pytest.approx(probabilistic_rand_index(seg, gts))
    assert scores.voi == pytest.approx(mean_variation_of_information(seg, gts))
    assert scores[3:] == pytest.approx(boundary_scores(seg, gts)[:3])
    assert kmseg.evaluate_segmentation is evaluate


# ---------------------------------------------------------------------------
# Boundaries
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_raw_boundaries_match_naive_twin(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=tuple(rng.integers(1, 8, size=2)))
    assert np.array_equal(_raw_boundaries(labels), naive_raw_boundaries(labels))


def test_boundaries_one_to_one_and_tolerance():
    # 4 x 5 maps: diagonal sqrt(41) = 6.4 pixels.
    gt = np.repeat([[0, 0, 1, 1, 1]], 4, axis=0)  # boundary: column 1 (4 pixels)
    shifted = np.repeat([[0, 0, 0, 1, 1]], 4, axis=0)  # column 2, one pixel away
    assert boundary_map(gt).sum() == 4
    assert boundary_scores(shifted, [gt], tolerance=0.0)[:3] == (0.0, 0.0, 0.0)
    assert boundary_scores(shifted, [gt], tolerance=0.16)[:3] == (1.0, 1.0, 1.0)  # 1.02 px
    assert boundary_scores(shifted, [gt], tolerance=0.15)[:3] == (0.0, 0.0, 0.0)  # 0.96 px
    # Two segmentation boundaries near one ground-truth boundary: each ground-truth
    # pixel is matched once, so only half the segmentation pixels count.
    double = np.repeat([[0, 0, 1, 1, 2]], 4, axis=0)  # columns 1 and 3
    assert tuple(boundary_scores(double, [gt], tolerance=0.4)) == (0.5, 1.0, 2 / 3, 4, 8, 4, 4)


def test_boundaries_accumulate_over_ground_truths():
    gt1 = np.repeat([[0, 0, 1, 1, 1]], 4, axis=0)  # column 1
    gt3 = np.repeat([[0, 0, 0, 0, 1]], 4, axis=0)  # column 3
    double = np.repeat([[0, 0, 1, 1, 2]], 4, axis=0)  # columns 1 and 3
    # Precision: a segmentation pixel matched by any ground truth counts.
    assert tuple(boundary_scores(double, [gt1, gt3], tolerance=0.0)) == (1, 1, 1, 8, 8, 8, 8)
    # Recall pools all the ground-truth pixels.
    assert tuple(boundary_scores(gt1, [gt1, gt3], tolerance=0.0)) == (1, 0.5, 2 / 3, 4, 4, 4, 8)


def test_no_boundary_scores_zero_as_in_bsds():
    flat = np.ones((5, 6), dtype=int)
    assert tuple(boundary_scores(flat, [flat])) == (0.0, 0.0, 0.0, 0, 0, 0, 0)
    assert evaluate(flat, [flat]) == (1.0, 1.0, 0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("seed", range(8))
def test_boundary_matching_matches_naive_twin(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(6, 14)), int(rng.integers(6, 14)))
    seg = blocky(rng, shape, (3, 4), 4)
    gts = [blocky(rng, shape, (4, 3), 3) for _ in range(2)]
    tolerance = float(rng.choice([0.0, 0.05, 0.1, 0.2]))
    radius = tolerance * math.hypot(*shape)
    scores = boundary_scores(seg, gts, tolerance=tolerance)
    seg_bdry = boundary_map(seg)
    sizes = [naive_matching(seg_bdry, boundary_map(gt), radius) for gt in gts]
    assert scores.gt_matched == sum(sizes)
    assert scores.gt_total == sum(int(boundary_map(gt).sum()) for gt in gts)
    assert scores.seg_total == int(seg_bdry.sum())
    # Which segmentation pixels a maximum matching uses is not unique; the union
    # over ground truths lies between the largest match and the sum of them.
    assert max(sizes) <= scores.seg_matched <= min(scores.seg_total, sum(sizes))
    one = boundary_scores(seg, gts[:1], tolerance=tolerance)
    assert one.seg_matched == one.gt_matched == sizes[0]


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: rand_index(SEG, GT[:, :2]),
         r"gt has shape \(2, 2\), expected the shape of seg \(2, 3\)"),
        (lambda: rand_index(SEG.astype(float), GT),
         "seg must hold integer labels, got dtype float64"),
        (lambda: rand_index(SEG[None], GT),
         r"seg must be a 2-D \(H, W\) label map, got shape \(1, 2, 3\)"),
        (lambda: rand_index(np.zeros((0, 3), int), GT), "seg must not be empty"),
        (lambda: segmentation_covering(SEG, []), "gts must hold at least one"),
        (lambda: evaluate(SEG, [GT, GT[:1]]), r"gts\[1\] has shape \(1, 3\)"),
        (lambda: boundary_scores(SEG, [GT], tolerance=-1),
         "tolerance=-1.0 must be a finite number"),
    ],
)
def test_errors_name_the_parameter(call, message):
    with pytest.raises(KmsegError, match=message):
        call()


# ---------------------------------------------------------------------------
# BSDS ground-truth reader
# ---------------------------------------------------------------------------

def test_reader_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    segs = [blocky(rng, (12, 9), (3, 3), 4) + 1, blocky(rng, (12, 9), (2, 3), 3) + 1]
    path = tmp_path / "100007.mat"
    write_ground_truth(path, segs)
    read = read_bsds_ground_truth(path)
    assert len(read) == 2
    for got, want in zip(read, segs):
        assert got.dtype == np.int64 and np.array_equal(got, want)
    labels, boundaries = read_bsds_ground_truth(str(path), boundaries=True)
    assert all(np.array_equal(a, b) for a, b in zip(labels, segs))
    for bdry, seg in zip(boundaries, segs):
        assert bdry.dtype == bool and np.array_equal(bdry, boundary_map(seg))
    assert evaluate(read[0], read).covering < 1.0
    assert kmseg.read_bsds_ground_truth is read_bsds_ground_truth
    # A bare struct array (no cell) is read too.
    from scipy.io import savemat

    bare = tmp_path / "bare.mat"
    savemat(bare, {"groundTruth": {"Segmentation": np.array([[1, 2]], np.uint16)}})
    assert [s.tolist() for s in read_bsds_ground_truth(bare)] == [[[1, 2]]]


def test_reader_errors(tmp_path):
    from scipy.io import savemat

    with pytest.raises(ImageReadError, match=r"'.*missing\.mat': no such file"):
        read_bsds_ground_truth(tmp_path / "missing.mat")
    with pytest.raises(ImageReadError, match="is a folder"):
        read_bsds_ground_truth(tmp_path)
    garbage = tmp_path / "garbage.mat"
    garbage.write_bytes(b"not a MATLAB file at all")
    with pytest.raises(ImageReadError, match=r"garbage\.mat': not a MATLAB \.mat file"):
        read_bsds_ground_truth(garbage)
    other = tmp_path / "other.mat"
    savemat(other, {"x": np.arange(3)})
    with pytest.raises(ImageReadError, match=r"no 'groundTruth' variable \(variables: x\)"):
        read_bsds_ground_truth(other)
    no_field = tmp_path / "no_field.mat"
    cells = np.empty((1, 1), dtype=object)
    cells[0, 0] = {"Labels": np.ones((2, 2), np.uint16)}
    savemat(no_field, {"groundTruth": cells})
    message = r"groundTruth\{1\} has no field 'Segmentation' \(fields: Labels\)"
    with pytest.raises(ImageReadError, match=message):
        read_bsds_ground_truth(no_field)
    uneven = tmp_path / "uneven.mat"
    write_ground_truth(uneven, [np.ones((3, 4), int), np.ones((4, 3), int)])
    with pytest.raises(ImageReadError, match=r"groundTruth\{2\}.Segmentation has shape \(4, 3\)"):
        read_bsds_ground_truth(uneven)
    numbers = tmp_path / "numbers.mat"
    cells = np.empty((1, 1), dtype=object)
    cells[0, 0] = np.ones((2, 2))
    savemat(numbers, {"groundTruth": cells})
    with pytest.raises(ImageReadError, match=r"groundTruth\{1\} is not a struct"):
        read_bsds_ground_truth(numbers)
    not_cells = tmp_path / "not_cells.mat"
    savemat(not_cells, {"groundTruth": np.ones((2, 2))})
    with pytest.raises(ImageReadError, match="must be a non-empty cell array of structs"):
        read_bsds_ground_truth(not_cells)
    assert issubclass(ImageReadError, KmsegError)


@pytest.mark.skipif(not (BSDS / "groundTruth" / "val").is_dir(), reason="BSDS500 not present")
def test_real_bsds_file():
    path = sorted((BSDS / "groundTruth" / "val").glob("*.mat"))[0]
    segs, boundaries = read_bsds_ground_truth(path, boundaries=True)
    assert len(segs) >= 3
    assert segs[0].shape in ((321, 481), (481, 321)) and segs[0].min() >= 1
    for seg, bdry in zip(segs, boundaries):
        assert np.array_equal(boundary_map(seg), bdry)
    scores = evaluate(segs[0], segs[1:])
    assert 0 < scores.covering < 1 and 0.5 < scores.pri < 1 and scores.voi > 0
    assert 0 < scores.f < 1
