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
    (["--regions", "--threshold", "2"], "argument --threshold: 2 must be a probability, 0 to 1"),
    (["--regions", "-k", "0"], "argument -k/--n-clusters: 0 must be >= 1"),
    (["--regions", "--min-size", "-5"], "argument --min-size: -5 must be >= 0"),
    # -k was silently ignored beside --threshold
    (["--regions", "-k", "8", "--threshold", "0.5"], "--threshold 0.5 and -k 8: the threshold chooses"),
])
@pytest.mark.parametrize("command", ["segment", "batch"])
def test_segment_region_options_refused(photo, tmp_path, capsys, args, message, command):
    if command == "batch" and "--strips" in args:  # batch has no --strips, and a palette to share
        args = ["--regions", "--shared-palette"]
        message = "--regions has no --shared-palette"
    assert main([command, str(photo), str(photo), "-o", str(tmp_path / "o"), *args]) == 2  # a usage error
    err = capsys.readouterr().err
    assert err.startswith(f"usage: kmseg {command} ")  # the sub-command's usage
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"kmseg {command}: error: ") and message in last
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


@pytest.mark.parametrize("args, message", [
    (["segment", "{missing}", "-k", "0"], "argument -k/--n-clusters: 0 must be >= 1"),
    (["segment", "{missing}", "-k", "many"], "argument -k/--n-clusters: 'many' is neither an integer nor 'auto'"),
    (["segment", "{missing}", "--threads", "0"], "argument --threads: 0 must be >= 1"),
    (["segment", "{missing}", "--threads", "100000"], "argument --threads: 100000 must be in [1, "),
    (["segment", "{missing}", "--seed", "-1"], "argument --seed: -1 must be >= 0"),
    (["segment", "{missing}", "--n-init", "0"], "argument --n-init: 0 must be >= 1"),
    (["segment", "{missing}", "--regions", "-k", "8", "--threshold", "0.5"],
     "--threshold 0.5 and -k 8: the threshold chooses the number of segments"),
    (["segment", "{missing}", "--regions", "--threshold", "-0.5"], "argument --threshold: -0.5 must be a probability"),
    (["segment", "{missing}", "--k", "8"], "unrecognized arguments: --k 8 (did you mean -k?)"),
    (["elbow", "{missing}", "--k-max", "0"], "argument --k-max: 0 must be >= 1"),
    (["elbow", "{missing}", "--k-min", "5", "--k-max", "3"], "--k-min 5 must be <= --k-max 3"),
    (["quantize", "{missing}", "-n", "0", "-o", "{out}/q.png"], "argument -n/--n-colors: 0 must be >= 1"),
    (["quantize", "{missing}", "--dither-strength", "2", "-o", "{out}/q.png"],
     "argument --dither-strength: 2 must be a share, 0 to 1"),
    (["palette", "{missing}", "-n", "0"], "argument -n/--n-colors: 0 must be >= 1"),
    (["batch", "{missing}", "-o", "{out}/b", "--jobs", "0"], "argument --jobs: 0 must be >= 1"),
])
def test_usage_errors_name_the_option_before_any_image(tmp_path, capsys, args, message):
    """Exit 2, the sub-command's usage, then one line naming the option and the value; the
    image (a file that does not exist) is never looked at."""
    args = [a.format(missing=tmp_path / "missing.png", out=tmp_path) for a in args]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.startswith(f"usage: kmseg {args[0]} ")
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith(f"kmseg {args[0]}: error: ") and message in last
    assert "missing.png" not in last and not (tmp_path / "b").exists()


def test_usage_error_exit_code_of_the_command():
    code, out, err = run("segment", "nothere.png", "--k", "8")
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("usage: kmseg segment ") and err.strip().endswith("(did you mean -k?)")


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


def test_label_map_opens_as_the_segmentation(photo, tmp_path):
    """The label PNG is indexed with the clusters' colours: a viewer shows the segmentation,
    and its pixel values are still the labels."""
    out = tmp_path / "out"
    assert main(["segment", str(photo), "-k", "4", "-o", str(out)]) == 0
    seg = kmseg.segment(photo, 4)
    with Image.open(out / "quads_labels.png") as im:
        assert im.mode == "P"
        np.testing.assert_array_equal(np.asarray(im), seg.labels)
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), seg.recolor())
    colors = json.loads((out / "quads_palette.json").read_text())["colors"]
    assert [c["rgb"] for c in colors] == seg.palette.tolist()


def test_label_map_left_out_pixels_transparent(tmp_path):
    from kmseg.io import save_segmentation

    img = quadrants()
    mask = np.ones(img.shape[:2], bool)
    mask[:5, :5] = False
    seg = kmseg.segment(img, 3, mask=mask)
    save_segmentation(seg, {"labels": tmp_path / "m_labels.png"})
    with Image.open(tmp_path / "m_labels.png") as im:
        assert im.mode == "P"
        np.testing.assert_array_equal(np.asarray(im), seg.labels)  # the left-out label is 3
        rgba = np.asarray(im.convert("RGBA"))
    assert np.all(rgba[:5, :5, 3] == 0) and np.all(rgba[mask][:, 3] == 255)
    np.testing.assert_array_equal(rgba[mask][:, :3], seg.palette[seg.labels[mask]])


def test_gif_beyond_256_colours_refused_before_work(tmp_path, capsys):
    assert main(["quantize", str(tmp_path / "missing.png"), "-n", "300", "-o", str(tmp_path / "q.gif")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == ("kmseg quantize: error: -n 300: a GIF holds at most 256 colours; "
                                             "give -n 256 or fewer, or write a .png (full colour beyond 256)")
    assert not (tmp_path / "q.gif").exists()


def test_gif_of_256_colours_says_what_it_wrote(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.png"
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(path)
    assert main(["quantize", str(path), "-n", "256", "-o", str(tmp_path / "q.gif"), "--n-init", "1"]) == 0
    assert "256 colours -> " in capsys.readouterr().out
    with Image.open(tmp_path / "q.gif") as im:
        assert len(im.convert("RGB").getcolors(1 << 16)) == 256


@pytest.mark.parametrize("existed", [False, True])
def test_interrupt_removes_the_empty_folder_it_created(photo, tmp_path, monkeypatch, capsys, existed):
    out = tmp_path / "new" / "out"
    if existed:
        out.mkdir(parents=True)

    def interrupted(images, n_clusters, out_dir, **kwargs):
        os.makedirs(os.path.join(out_dir, "sub"), exist_ok=True)  # as the batch makes them, then Ctrl+C
        raise KeyboardInterrupt

    monkeypatch.setattr(kmseg, "segment_many", interrupted)
    assert main(["segment", str(photo), "-o", str(out)]) == 130
    assert "kmseg: interrupted" in capsys.readouterr().err
    if existed:
        assert out.is_dir()  # not this run's to remove
    else:
        assert not (tmp_path / "new").exists()


def test_private_helpers_not_in_the_namespace():
    assert not hasattr(kmseg, "os") and not hasattr(kmseg, "import_module")
    assert "os" not in dir(kmseg) and "import_module" not in dir(kmseg)
    assert set(kmseg.__all__) <= set(dir(kmseg))


def test_quantize_reads_stdin_and_writes_stdout(photo, tmp_path):
    data = photo.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "kmseg", "quantize", "-", "-n", "4", "-o", str(tmp_path / "q.png")],
                          input=data, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == f"<stdin>: 4 colours -> {tmp_path / 'q.png'}"
    expected = kmseg.quantize(photo, 4).image
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "q.png").convert("RGB")), expected)
    for args, fmt in ([], "PNG"), (["--format", "gif"], "GIF"):
        proc = subprocess.run([sys.executable, "-m", "kmseg", "quantize", "-", "-n", "4", "-o", "-", *args],
                              input=data, capture_output=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.decode().strip() == "<stdin>: 4 colours -> <stdout>"  # stdout holds the image
        import io

        with Image.open(io.BytesIO(proc.stdout)) as im:
            assert im.format == fmt and im.mode == "P"
            np.testing.assert_array_equal(np.asarray(im.convert("RGB")), expected)


def test_stdin_errors_name_stdin(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kmseg", "quantize", "-", "-o", str(tmp_path / "q.png")],
                          input=b"not a picture", capture_output=True, text=False, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.decode().strip() == "kmseg: error: '<stdin>': not an image (no decoder recognises it)"


@pytest.mark.parametrize("args, message", [
    (["-o", "-", "--format", "nope"], "--format 'nope': not an image format"),
    (["-o", "-", "--palette"], "--palette writes FILE's stem + _palette.json: give -o FILE, not -o -"),
    (["-o", "-", "--json"], "--json prints to standard output, where -o - writes the image"),
    (["-o", "{out}/q.png", "--format", "gif"], "--format gif goes with -o -"),
])
def test_stdio_usage_errors(tmp_path, capsys, args, message):
    args = [a.format(out=tmp_path) for a in args]
    assert main(["quantize", str(tmp_path / "missing.png"), *args]) == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_segment_refuses_stdin(tmp_path, capsys):
    assert main(["segment", "-", "-o", str(tmp_path)]) == 2
    assert "IMAGE '-': kmseg segment names its outputs after the image files" in capsys.readouterr().err


def test_json_records(photo, tmp_path, capsys):
    q = tmp_path / "q.png"
    assert main(["quantize", str(photo), "-n", "4", "-o", str(q), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["input"] == str(photo) and record["outputs"] == [str(q)] and record["n_colors"] == 4
    assert record["n_clusters"] == 4 and record["inertia"] > 0 and record["seconds"] >= 0
    assert sum(c["share"] for c in record["colors"]) == pytest.approx(1, abs=1e-5)

    assert main(["palette", str(photo), "-n", "4", "-o", str(tmp_path), "--formats", "json", "--json",
                 "--sort", "lightness"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["outputs"] == [str(tmp_path / "quads_palette.json")] and len(record["colors"]) == 4

    assert main(["elbow", str(photo), "--k-max", "5", "--json", "--quiet"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["chosen_k"] == 4 and record["k"] == [1, 2, 3, 4, 5] and len(record["wcss"]) == 5
    assert record["silhouette"][0] is None  # not defined for k=1: null, not NaN

    assert main(["segment", str(photo), str(tmp_path / "missing.png"), "-k", "4", "-o", str(tmp_path / "s"),
                 "--json"]) == 1
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["status"] for r in records] == ["ok", "failed"] and records[0]["k"] == 4
    assert records[1]["reason"].endswith("missing.png': no such file")


def test_json_errors_are_json(tmp_path, capsys):
    assert main(["quantize", str(tmp_path / "missing.png"), "-o", str(tmp_path / "q.png"), "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"status": "failed", "error": f"{str(tmp_path / 'missing.png')!r}: no such file"}


@pytest.mark.parametrize("command", [["segment", "{photo}", "-o", "{file}/sub/out"],
                                     ["palette", "{photo}", "-o", "{file}/out"],
                                     ["batch", "{photo}", "-o", "{file}/out"],
                                     ["quantize", "{photo}", "-o", "{file}/q.png"]])
def test_a_file_where_a_folder_should_be(photo, tmp_path, capsys, command):
    (tmp_path / "notes.txt").write_text("a file")
    args = [a.format(photo=photo, file=tmp_path / "notes.txt") for a in command]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err == f"kmseg: error: {args[-1]!r}: {str(tmp_path / 'notes.txt')!r} is a file, not a folder\n"


class _Terminal:
    """A text stream that says it is a terminal, keeping what was written."""

    def __init__(self, tty=True):
        self.text, self.tty = "", tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return self.tty


def test_progress_line_shows_what_the_library_announces():
    """After its delay, the line shows the last INFO record of the kmseg logger and
    the seconds so far; it is cleared before other output and at the end."""
    import logging
    import time

    from kmseg.cli import _Ticker

    terminal = _Terminal()
    with _Ticker(True, stream=terminal, delay=0.05, interval=0.02):
        logging.getLogger("kmseg.cluster._lloyd").info("k-means restart %d of %d", 2, 4)
        time.sleep(0.3)
        shown = terminal.text
        print("a result", file=sys.stderr)  # sys.stderr is not the terminal here: the line is cleared first
    assert "\rkmseg: k-means restart 2 of 4 (0 s)" in shown
    line = len("kmseg: k-means restart 2 of 4 (0 s)")
    assert terminal.text.endswith("\r" + " " * line + "\r")  # cleared at the end
    assert logging.getLogger("kmseg").level == logging.NOTSET  # the logger as it was


@pytest.mark.parametrize("tty,enabled", [(False, True), (True, False)])
def test_no_progress_line_off_a_terminal_or_when_quiet(tty, enabled):
    import logging
    import time

    from kmseg.cli import _Ticker

    terminal = _Terminal(tty)
    with _Ticker(enabled, stream=terminal, delay=0.0, interval=0.01):
        logging.getLogger("kmseg").info("fitting")
        time.sleep(0.1)
    assert terminal.text == ""


def test_fits_announce_the_image_and_each_restart(caplog):
    import logging

    img = np.zeros((40, 50, 3), np.uint8)
    img[:, 25:] = 200
    img[10:20] += 30
    with caplog.at_level(logging.INFO, logger="kmseg"):
        kmseg.segment(img, 3, n_init=2)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["the image: k=3, 2,000 pixels in rgb",
                        "k-means restart 1 of 2: k=3, 4 samples", "k-means restart 2 of 2: k=3, 4 samples"]
