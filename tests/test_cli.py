"""The command line: outputs, exit codes, one-line errors without tracebacks."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import kmseg
from kmseg.cli import main

from images import quadrants, red_squares


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "quads.png"
    Image.fromarray(quadrants()).save(path)
    return path


def run(*args):
    """Run the installed command in a fresh process; returns (code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "kmseg", *map(str, args)], capture_output=True,
                          text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_segment_writes_outputs(photo, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["segment", str(photo), "-k", "4", "-o", str(out)]) == 0
    labels = np.asarray(Image.open(out / "quads_labels.png"))
    assert labels.dtype == np.uint8 and labels.shape == (40, 60)
    np.testing.assert_array_equal(labels, kmseg.segment(photo, 4).labels)
    recolor = np.asarray(Image.open(out / "quads_recolor.png"))
    assert recolor.shape == (40, 60, 3)
    palette = json.loads((out / "quads_palette.json").read_text())
    assert palette["n_clusters"] == 4 and len(palette["colors"]) == 4
    assert palette["colors"][0]["hex"].startswith("#")
    assert sum(c["count"] for c in palette["colors"]) == 40 * 60
    assert "quads_labels.png" in capsys.readouterr().out
    assert not [f for f in os.listdir(out) if f.startswith(".kmseg-")]  # no temporary left


def test_segment_selected_outputs_and_options(photo, tmp_path):
    out = tmp_path / "o"
    code = main(["segment", str(photo), "-k", "3", "-o", str(out), "--outputs", "labels",
                 "--color-space", "lab", "--seed", "5", "--n-init", "2", "--threads", "1"])
    assert code == 0
    assert sorted(os.listdir(out)) == ["quads_labels.png"]


def test_segment_regions_command(tmp_path, capsys):
    """--regions writes what segment_regions finds: connected segments, the same labels, and a
    --threshold that keeps as many as the image needs."""
    from scipy import ndimage

    path = tmp_path / "squares.png"
    Image.fromarray(red_squares()).save(path)  # two red squares apart: two segments
    out = tmp_path / "out"
    assert main(["segment", str(path), "--regions", "-k", "3", "-o", str(out), "--figure"]) == 0
    labels = np.asarray(Image.open(out / "squares_labels.png"))
    np.testing.assert_array_equal(labels, kmseg.segment_regions(path, 3).labels)
    assert sorted(np.unique(labels).tolist()) == [0, 1, 2] and labels[20, 20] != labels[45, 60]
    assert all(ndimage.label(labels == r)[1] == 1 for r in range(3))
    palette = json.loads((out / "squares_palette.json").read_text())
    assert palette["n_clusters"] == 3 and palette["color_space"] == "lab"
    assert sum(c["count"] for c in palette["colors"]) == 60 * 80
    assert (out / "squares_recolor.png").exists() and (out / "squares_figure.png").exists()
    assert "3 connected segments" in capsys.readouterr().out
    assert main(["segment", str(path), "--regions", "--threshold", "0.5", "-o", str(out)]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out / "squares_labels.png")),
                                  kmseg.segment_regions(path, threshold=0.5).labels)


@pytest.mark.parametrize("args, message", [
    (["--threshold", "0.5"], "--threshold goes with --regions"),
    (["--min-size", "10", "--threshold", "0.5"], "--threshold and --min-size go with --regions"),
    (["--regions", "--strips"], "--regions reads the whole image: it takes no --strips"),
    (["--regions", "-k", "auto"], "-k 'auto' must be an integer"),
    (["--regions", "--color-space", "hsv", "--n-init", "2", "--seed", "1"],
     "--regions takes no --color-space, --n-init, --seed (parameters of segment"),
    # values: checked by the library once, before any image, in one line naming the option
    (["--regions", "--threshold", "2"], "--threshold 2.0 must be a probability, 0 to 1"),
    (["--regions", "-k", "0"], "-k 0 must be >= 1"),
    (["--regions", "--min-size", "-5"], "--min-size -5 must be >= 0"),
    # -k was silently ignored beside --threshold
    (["--regions", "-k", "8", "--threshold", "0.5"], "--threshold 0.5 and -k 8: the threshold chooses"),
])
@pytest.mark.parametrize("command", ["segment", "batch"])
def test_segment_region_options_refused(photo, tmp_path, capsys, args, message, command):
    if command == "batch" and "--strips" in args:  # batch has no --strips, and a palette to share
        args = ["--regions", "--shared-palette"]
        message = "--regions has no --shared-palette"
    assert main([command, str(photo), str(photo), "-o", str(tmp_path / "o"), *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("kmseg: error: ") and message in err
    assert not (tmp_path / "o").exists()


def test_label_map_is_16_bit_above_256_clusters(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.png"
    Image.fromarray(rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)).save(path)
    assert main(["segment", str(path), "-k", "300", "-o", str(tmp_path), "--outputs", "labels",
                 "--n-init", "1"]) == 0
    im = Image.open(tmp_path / "noise_labels.png")
    assert im.mode.startswith("I")
    assert np.asarray(im).max() == 299


def test_quantize(photo, tmp_path):
    out = tmp_path / "q.png"
    assert main(["quantize", str(photo), "-n", "4", "-o", str(out), "--palette"]) == 0
    im = Image.open(out)
    assert im.mode == "P"  # an indexed PNG
    assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) == 4
    assert json.loads((tmp_path / "q_palette.json").read_text())["n_clusters"] == 4


def test_demo_says_where(tmp_path):
    code, out, err = run("demo", "-o", tmp_path / "demo")
    assert code == 0, err
    assert str(tmp_path / "demo") in out
    assert {"china_labels.png", "china_recolor.png", "china_palette.json", "china_16colors.png"} <= set(
        os.listdir(tmp_path / "demo"))


def test_version_and_help():
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"kmseg {kmseg.__version__}"
    code, out, _ = run("segment", "--help")
    assert code == 0 and "-k" in out and "--color-space" in out


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda d, p: ["segment", d / "missing.png", "-o", d], "missing.png': no such file"),
        (lambda d, p: ["segment", d / "bad.png", "-o", d], "bad.png': not an image"),
        (lambda d, p: ["segment", p, "-o", p], "output exists and is not a folder"),
        (lambda d, p: ["segment", p, "-k", "0", "-o", d], "-k 0 must be >= 1"),
        (lambda d, p: ["quantize", p, "-o", d / "nofolder" / "x.png"], "does not exist"),
        (lambda d, p: ["quantize", p, "-o", d / "x.unknown"], "unknown image extension"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, photo, make_args, message):
    (tmp_path / "bad.png").write_text("not a picture")
    code, out, err = run(*make_args(tmp_path, photo))
    assert code == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kmseg: error: ")
    assert message in lines[0]


def test_one_bad_file_among_good_ones(tmp_path, photo):
    (tmp_path / "bad.png").write_text("not a picture")
    code, out, err = run("segment", tmp_path / "bad.png", photo, "-k", "2", "-o", tmp_path / "o")
    assert code == 1
    assert "bad.png" in err and "quads.png" in out
    assert (tmp_path / "o" / "quads_labels.png").exists()


def test_usage_error_exit_2():
    code, _, err = run("segment")
    assert code == 2 and "usage:" in err


def test_segment_auto_and_figure(photo, tmp_path, capsys):
    out = tmp_path / "auto"
    assert main(["segment", str(photo), "-k", "auto", "-o", str(out), "--figure"]) == 0
    text = capsys.readouterr().out
    assert "k=auto chose k=4" in text and "knee" in text
    with Image.open(out / "quads_figure.png") as im:
        assert im.size[0] > im.size[1] > 100


def test_elbow_command(photo, tmp_path, capsys):
    plot = tmp_path / "elbow.png"
    assert main(["elbow", str(photo), "--k-max", "6", "-o", str(plot)]) == 0
    captured = capsys.readouterr()
    assert "chosen k=4" in captured.out and "WCSS" in captured.out
    assert "elbow: k=6 (6/6)" in captured.err  # progress lines
    assert plot.exists()


def test_elbow_bad_plot_name(photo, tmp_path):
    code, _, err = run("elbow", photo, "-o", tmp_path / "elbow.txt")
    assert code == 1 and "must end in .png, .svg or .pdf" in err


def test_palette_command_formats(photo, tmp_path, capsys):
    assert main(["palette", str(photo), "-n", "4", "-o", str(tmp_path)]) == 0
    assert {f"quads_palette.{e}" for e in ("png", "json", "css", "gpl")} <= set(os.listdir(tmp_path))
    assert (tmp_path / "quads_palette.gpl").read_text().startswith("GIMP Palette")
    assert "--kmseg-3: #" in (tmp_path / "quads_palette.css").read_text()
    assert "25.0%" in capsys.readouterr().out


def test_quantize_max_error(photo, tmp_path, capsys):
    out = tmp_path / "q.png"
    assert main(["quantize", str(photo), "--max-error", "10", "-o", str(out)]) == 0
    assert "mean CIEDE2000 error" in capsys.readouterr().out
    assert out.exists()


def test_bad_outputs_list_is_a_usage_error(photo):
    code, _, err = run("segment", photo, "--outputs", "labels,nope")
    assert code == 2 and "choose one or more of labels, recolor, palette" in err


def test_max_pixels_option(photo, tmp_path):
    code, out, err = run("segment", photo, "-o", tmp_path, "--max-pixels", "1000")
    assert code == 1 and "too large (60x40 = 2,400 pixels" in err and "Traceback" not in err
    code, out, err = run("batch", photo, "-o", tmp_path / "b", "--max-pixels", "1000", "--jobs", "2",
                         "--quiet")
    assert code == 1 and "too large" in err  # the limit reaches the worker processes
