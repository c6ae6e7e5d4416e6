"""Palette extraction: the order a palette is listed in, a background left out, and
the palette's files and terminal table (``kmseg palette``)."""

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab

import kmseg
from kmseg.cli import main

#: Three flat squares on white: what a logo or a product shot on a white page looks like.
SQUARES = np.array([[200, 30, 30], [30, 160, 60], [40, 60, 200]], np.uint8)
SQUARE_PIXELS = [15 * 15, 20 * 20, 30 * 30]
ESC = "\x1b["


def squares_on_white(noise=True):
    """60 x 80 uint8 RGB: three squares on a white background that, with ``noise``,
    wavers by up to 3 levels (as a JPEG's would), every pixel within CIEDE2000 3 of white."""
    img = np.full((60, 80, 3), 255, np.uint8)
    if noise:
        rng = np.random.default_rng(0)
        img -= rng.integers(0, 4, img.shape, dtype=np.uint8)
    img[5:20, 5:20] = SQUARES[0]
    img[30:50, 10:30] = SQUARES[1]
    img[10:40, 45:75] = SQUARES[2]
    return img


#: Eight colours of different lightness, hue and share (a stripe each, of its own width).
STRIPES = np.array([[250, 240, 20], [20, 20, 90], [200, 30, 30], [30, 160, 60], [40, 200, 220],
                    [120, 40, 160], [240, 150, 30], [128, 128, 128]], np.uint8)


def stripes():
    widths = [3, 5, 7, 9, 11, 4, 6, 8]
    return np.repeat(STRIPES[None, :, :], 10, axis=0).repeat(widths, axis=1)


@pytest.fixture
def squares(tmp_path):
    path = tmp_path / "logo.png"
    Image.fromarray(squares_on_white()).save(path)
    return path


def lab(rgb):
    return rgb2lab(np.asarray(rgb, np.uint8)[:, None, :] / 255.0)[:, 0, :]


def naive_order(palette, counts, by):
    """palette_order's twin: Python's sort on the keys the docstring names."""
    L, a, b = lab(palette).T
    chroma, hue = np.hypot(a, b), np.degrees(np.arctan2(b, a)) % 360

    def key(i):
        if by == "share":
            return (-counts[i], i)
        if by == "lightness":
            return (L[i], -counts[i], i)
        grey = chroma[i] < 2.3
        return (grey, L[i] if grey else hue[i], -counts[i], i)

    return sorted(range(len(palette)), key=key)


# --- the library ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("by", ["share", "lightness", "hue"])
def test_palette_order_matches_its_twin(by):
    rng = np.random.default_rng(1)
    palette = np.concatenate([STRIPES, rng.integers(0, 256, (20, 3)).astype(np.uint8), [[0, 0, 0], [255] * 3]])
    counts = rng.integers(1, 5, len(palette))  # ties in share, broken by index
    order = kmseg.palette_order(palette, counts, by=by)
    assert order.tolist() == naive_order(palette, counts, by)
    assert sorted(order.tolist()) == list(range(len(palette)))


def test_palette_order_ties_go_to_the_larger_share():
    palette = [[200, 0, 0], [200, 0, 0], [10, 10, 10]]
    assert kmseg.palette_order(palette, [1, 5, 2], by="lightness").tolist() == [2, 1, 0]
    assert kmseg.palette_order(palette, [1, 5, 2], by="hue").tolist() == [1, 0, 2]  # the grey last


@pytest.mark.parametrize("kwargs, message", [
    (dict(by="size"), "by='size' must be one of 'share', 'lightness', 'hue'"),
    (dict(counts=[1, 2]), r"counts has shape \(2,\); expected \(3,\)"),
    (dict(palette=[[0, 0, 300], [0, 0, 0], [1, 1, 1]]), "palette: .* is not a colour"),
])
def test_palette_order_refuses(kwargs, message):
    args = dict(palette=[[0, 0, 0], [9, 9, 9], [1, 1, 1]], counts=[1, 2, 3]) | kwargs
    with pytest.raises(kmseg.KmsegError, match=message):
        kmseg.palette_order(**args)


def test_mask_colors_matches_every_pixel_compared():
    img = squares_on_white()
    for distance in (0, 1.5, 5, 40):
        keep = kmseg.mask_colors(img, ["#fff", (200, 30, 30)], distance)
        flat = lab(img.reshape(-1, 3))
        near = np.zeros(len(flat), bool)
        for colour in ([255, 255, 255], [200, 30, 30]):
            near |= deltaE_ciede2000(flat, lab([colour])) <= distance
        np.testing.assert_array_equal(keep, ~near.reshape(60, 80))


def test_mask_colors_grey_and_transparent():
    grey = np.full((4, 4), 255, np.uint8)
    grey[0] = 0
    assert kmseg.mask_colors(grey, ["#ffffff"]).sum() == 4
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 255, 255, 255)  # white; the others black but transparent
    with pytest.raises(kmseg.KmsegError, match="no pixels left to cluster: every one is within 5 "
                       r"\(CIEDE2000\) of #ffffff or transparent"):
        kmseg.mask_colors(rgba, ["#ffffff"])


@pytest.mark.parametrize("colors, distance, message", [
    (["zzz"], 5, "colors: 'zzz' is not a colour"),
    ([], 5, "colors is empty"),
    (["#fff"], -1, "distance=-1.0 must be a finite number >= 0"),
])
def test_mask_colors_refuses(colors, distance, message):
    with pytest.raises(kmseg.KmsegError, match=message):
        kmseg.mask_colors(squares_on_white(), colors, distance)


def test_palette_text_lists_in_the_order_given():
    seg = kmseg.segment(stripes(), 8)
    order = kmseg.palette_order(seg.palette, seg.counts, by="lightness")
    record = json.loads(kmseg.io.palette_text(seg, "json", order=order))
    assert [c["label"] for c in record["colors"]] == order.tolist()
    rows = list(csv.DictReader(io.StringIO(kmseg.io.palette_text(seg, "csv", order=order))))
    assert [r["hex"] for r in rows] == [c["hex"] for c in record["colors"]]
    gpl = kmseg.io.palette_text(seg, "gpl", order=order).splitlines()[4:]
    assert [line.split()[3] for line in gpl] == [c["hex"] for c in record["colors"]]
    assert all(line.endswith("%") for line in gpl)


# --- kmseg palette -----------------------------------------------------------------------------------

def palette_json(tmp_path, image, *args):
    out = tmp_path / "out"
    assert main(["palette", str(image), "-o", str(out), "--formats", "json,csv", *args]) == 0
    stem = image.stem
    record = json.loads((out / f"{stem}_palette.json").read_text())
    with open(out / f"{stem}_palette.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return record, rows


@pytest.fixture
def striped(tmp_path):
    path = tmp_path / "stripes.png"
    Image.fromarray(stripes()).save(path)
    return path


def test_sort_share_lightness_hue(striped, tmp_path, capsys):
    record, _ = palette_json(tmp_path, striped, "-n", "8")
    shares = [c["share"] for c in record["colors"]]
    assert shares == sorted(shares, reverse=True) and len(shares) == 8

    record, _ = palette_json(tmp_path, striped, "-n", "8", "--sort", "lightness")
    lightness = lab([c["rgb"] for c in record["colors"]])[:, 0]
    assert np.all(np.diff(lightness) > 0)

    record, _ = palette_json(tmp_path, striped, "-n", "8", "--sort", "hue")
    L, a, b = lab([c["rgb"] for c in record["colors"]]).T
    chromatic = np.hypot(a, b) >= 2.3
    assert chromatic.tolist() == [True] * 7 + [False]  # the grey stripe last
    assert np.all(np.diff(np.degrees(np.arctan2(b, a))[chromatic] % 360) > 0)
    assert record["colors"][-1]["hex"] == "#808080"


def test_exclude_background(squares, tmp_path, capsys):
    record, rows = palette_json(tmp_path, squares, "-n", "3", "--exclude", "#ffffff")
    assert sorted(c["hex"] for c in record["colors"]) == sorted(kmseg.io.hex_color(c) for c in SQUARES)
    assert [c["count"] for c in record["colors"]] == sorted(SQUARE_PIXELS, reverse=True)
    assert sum(c["share"] for c in record["colors"]) == pytest.approx(1.0, abs=1e-5)
    assert record["left_out"] == 60 * 80 - sum(SQUARE_PIXELS)
    out = capsys.readouterr().out
    assert f"{60 * 80 - sum(SQUARE_PIXELS):,} of 4,800 pixels left out" in out and "#ffffff" not in out
    assert sum(float(line.split()[2].rstrip("%")) for line in out.splitlines()[2:5]) == pytest.approx(100, abs=0.2)

    # without --exclude the white page is the first colour; with a distance of 0 only exact white goes
    record, _ = palette_json(tmp_path, squares, "-n", "4")
    assert record["colors"][0]["rgb"][0] >= 250
    record, _ = palette_json(tmp_path, squares, "-n", "3", "--exclude", "#fff", "--exclude-distance", "0")
    assert any(c["rgb"][0] >= 250 for c in record["colors"])  # the off-white noise is kept


def test_csv_matches_json(squares, tmp_path, capsys):
    record, rows = palette_json(tmp_path, squares, "-n", "4", "--sort", "hue")
    assert list(rows[0]) == ["index", "hex", "r", "g", "b", "share", "pixels"]
    assert len(rows) == len(record["colors"]) == 4
    for i, (row, colour) in enumerate(zip(rows, record["colors"])):
        assert int(row["index"]) == i and row["hex"] == colour["hex"]
        assert [int(row[c]) for c in "rgb"] == colour["rgb"]
        assert float(row["share"]) == colour["share"] and int(row["pixels"]) == colour["count"]


def test_every_output_states_the_shares(squares, tmp_path, capsys):
    assert main(["palette", str(squares), "-n", "3", "--exclude", "#fff", "-o", str(tmp_path)]) == 0
    for ext in ("css", "gpl"):
        text = (tmp_path / f"logo_palette.{ext}").read_text()
        expected = [f"{100 * n / sum(SQUARE_PIXELS):.1f}%" for n in sorted(SQUARE_PIXELS, reverse=True)]
        assert all(share in text for share in expected), (ext, text)
    assert (tmp_path / "logo_palette.csv").exists() and (tmp_path / "logo_palette.png").exists()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("env, flag, swatches", [({}, [], True), ({"NO_COLOR": "1"}, [], False),
                                                 ({"NO_COLOR": ""}, [], True), ({}, ["--no-color"], False)])
def test_table_swatches_on_a_terminal_only(squares, tmp_path, monkeypatch, env, flag, swatches):
    monkeypatch.delenv("NO_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["palette", str(squares), "-n", "3", "--exclude", "#fff", "--formats", "json",
                 "-o", str(tmp_path), *flag]) == 0
    lines = terminal.getvalue().splitlines()[2:5]
    if swatches:
        r, g, b = SQUARES[2]
        assert lines[0].startswith(f"\x1b[48;2;{r};{g};{b}m  \x1b[0m ")
        assert all(line.startswith("\x1b[48;2;") for line in lines)
    else:
        assert ESC not in terminal.getvalue()


def test_table_has_no_escapes_when_piped(squares, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kmseg", "palette", str(squares), "-n", "3", "--exclude", "#fff",
                           "--formats", "json", "-o", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and ESC not in proc.stdout and "#283cc8" in proc.stdout


@pytest.mark.parametrize("args, code, message", [
    (["--exclude", "zzz"], 2, "argument --exclude: 'zzz': not a colour (#rrggbb)"),
    (["--exclude", "#fff,#12"], 2, "argument --exclude: '#12': not a colour (#rrggbb)"),
    (["--exclude", "#fff", "--exclude-distance", "-1"], 2, "--exclude-distance: '-1': not a number >= 0"),
    (["--sort", "size"], 2, "argument --sort: invalid choice: 'size' (choose from 'share', 'lightness', 'hue')"),
    (["--exclude", "#fff", "--exclude-distance", "300"], 1,
     "'logo.png': the image has no pixels left to cluster: every one is within 300 (CIEDE2000) of #ffffff"),
])
def test_palette_options_refused(squares, tmp_path, args, code, message):
    proc = subprocess.run([sys.executable, "-m", "kmseg", "palette", squares.name, "-o", str(tmp_path / "o"),
                           *args], capture_output=True, text=True, timeout=300, cwd=squares.parent)
    assert proc.returncode == code and message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(message)
