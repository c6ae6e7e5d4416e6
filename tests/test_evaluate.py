"""Scoring methods over a dataset: the runner and ``kmseg evaluate`` on a generated mini-BSDS."""

import numpy as np
import pytest
from PIL import Image

from kmseg.cli import main
from kmseg.metrics._dataset import evaluate_dataset, list_pairs

from images import write_ground_truth


@pytest.fixture
def dataset(tmp_path):
    """Three photos of two or three flat regions plus noise, with two 'human' segmentations each."""
    rng = np.random.default_rng(0)
    images, truths = tmp_path / "images", tmp_path / "gt"
    images.mkdir()
    truths.mkdir()
    for i in range(3):
        gt = np.ones((40, 50), np.uint16)
        gt[:, 20 + 5 * i:] = 2
        if i == 2:
            gt[30:, :] = 3
        colours = rng.integers(0, 256, size=(4, 3))
        img = np.clip(colours[gt] + rng.normal(0, 5, gt.shape + (3,)), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(images / f"{100 + i}.png")
        coarse = np.where(gt == 3, 1, gt)  # a second human who did not split the bottom
        write_ground_truth(truths / f"{100 + i}.mat", [gt, coarse])
    (images / "no_truth.png").write_bytes((images / "100.png").read_bytes())
    return images, truths


def test_runner_scores_a_perfect_method_highly(dataset):
    images, truths = dataset
    assert len(list_pairs(images, truths)) == 3  # the image without a .mat is skipped
    result = evaluate_dataset(str(images), str(truths), "kmeans", [2, 3])
    assert len(result.rows) == 6
    assert result.ods["covering"][1] > 0.8 and result.ods["pri"][1] > 0.85  # the two humans disagree
    assert result.ois["voi"] <= result.ods["voi"][1] + 1e-12  # per-image best is never worse
    assert "ODS" in result.table()


@pytest.mark.parametrize("method", ["regions", "regions-ward", "kmeans-connected", "felzenszwalb", "slic"])
def test_runner_methods(dataset, method):
    images, truths = dataset
    result = evaluate_dataset(str(images), str(truths), method, limit=2)
    assert len(result.rows) == 2 * len(result.values)
    assert 0 <= result.ods["covering"][1] <= 1


def test_default_pipeline_finds_the_flat_regions(dataset):
    """kmseg's best pipeline over its default threshold sweep: flat regions plus noise are found."""
    images, truths = dataset
    result = evaluate_dataset(str(images), str(truths))
    assert result.parameter == "threshold"
    # the two humans disagree on one photo's bottom strip, so no method scores 1 there
    assert result.ods["covering"][1] > 0.9 and result.ods["pri"][1] > 0.9 and result.ods["voi"][1] < 0.5


def test_evaluate_command(dataset, tmp_path, capsys):
    images, truths = dataset
    csv, save = tmp_path / "scores.csv", tmp_path / "maps"
    code = main(["evaluate", "--images", str(images), "--ground-truth", str(truths), "--method", "kmeans",
                 "--param", "k=2..3", "--csv", str(csv), "--save", str(save)])
    assert code == 0
    out = capsys.readouterr()
    assert "ODS" in out.out and "OIS" in out.out and "evaluate: 3/3 images" in out.err
    timing = next(line for line in out.out.splitlines() if "per image and value" in line).split()
    assert timing[1:5] == ["s", "per", "image", "and"] and timing[-5:] == ["s", "with", "reading", "and", "scoring"]
    assert 0 < float(timing[0]) <= float(timing[-6])  # the method's seconds, within the run's wall seconds
    lines = csv.read_text().splitlines()
    assert lines[0] == "image,k,covering,pri,voi,seconds,precision,recall,seg_matched,seg_total,gt_matched,gt_total"
    assert len(lines) == 1 + 3 * 2
    p, r, seg_matched, seg_total, gt_matched, gt_total = lines[1].split(",")[6:]
    assert float(p) == pytest.approx(int(seg_matched) / int(seg_total), abs=1e-6)
    assert float(r) == pytest.approx(int(gt_matched) / int(gt_total), abs=1e-6)
    assert "F_b" in out.out and "AP=" in out.out
    saved = np.asarray(Image.open(save / "100" / "2.png"))
    assert saved.shape == (40, 50) and saved.dtype == np.uint16


@pytest.mark.parametrize("param, message", [("n=2..3", "expected k=VALUES"), ("k=a..b", "must be numbers")])
def test_evaluate_bad_param(dataset, param, message, capsys):
    images, truths = dataset
    assert main(["evaluate", "--images", str(images), "--ground-truth", str(truths), "--method", "kmeans",
                 "--param", param]) == 1
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("param, message", [
    ("threshold=0.3..0.8", "values must be numbers, as 2..12 (integers) or 0.4,0.5,0.6"),
    ("threshold=30000", "threshold=30000.0 must be a probability, 0 to 1, with cost='learned'"),
])
def test_evaluate_threshold_param_of_the_learned_cost(dataset, param, message, capsys):
    """The default method's threshold is a probability: a float range or a cost per pixel is refused."""
    images, truths = dataset
    assert main(["evaluate", "--images", str(images), "--ground-truth", str(truths), "--param", param,
                 "--limit", "1"]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_evaluate_missing_folder(tmp_path, capsys):
    assert main(["evaluate", "--images", str(tmp_path / "nope"), "--ground-truth", str(tmp_path)]) == 1
    assert "nope': not a folder" in capsys.readouterr().err


def test_evaluate_command_without_boundaries(dataset, tmp_path, capsys):
    images, truths = dataset
    csv = tmp_path / "scores.csv"
    assert main(["evaluate", "--images", str(images), "--ground-truth", str(truths), "--method", "kmeans",
                 "--param", "k=2", "--csv", str(csv), "--no-boundaries"]) == 0
    assert "F_b" not in capsys.readouterr().out
    assert csv.read_text().splitlines()[0] == "image,k,covering,pri,voi,seconds"
