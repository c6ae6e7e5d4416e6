"""Judging a quantized or dithered image: MSE, PSNR, CIEDE2000 and S-CIELAB, and ``kmseg compare``."""

import json

import numpy as np
import pytest
from PIL import Image

import kmseg
from kmseg import KmsegError
from kmseg.cli import main
from kmseg.color._spaces import lab_image
from kmseg.metrics import SAMPLES_PER_DEGREE, ColorErrors, color_errors, s_cielab
from kmseg.metrics._image import _filter_opponent

import naive
from images import quadrants


def cie76(a, b):
    """Plain CIELAB Delta E*ab (1976) averaged over the pixels: no blur."""
    return float(np.linalg.norm(lab_image(a) - lab_image(b), axis=2).mean())


def checkerboard(n):
    return (np.indices((n, n)).sum(axis=0) % 2 * 255).astype(np.uint8)


def linear(srgb8):
    v = srgb8 / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def floyd_steinberg(values):
    """Floyd-Steinberg error diffusion of (H, W) values in [0, 1] onto 0 and 1 (as uint8 0 and 255)."""
    v = np.array(values, dtype=np.float64)
    h, w = v.shape
    out = np.zeros((h, w), np.uint8)
    for y in range(h):
        for x in range(w):
            q = 1.0 if v[y, x] >= 0.5 else 0.0
            out[y, x] = 255 * int(q)
            e = v[y, x] - q
            if x + 1 < w:
                v[y, x + 1] += e * 7 / 16
            if y + 1 < h:
                if x > 0:
                    v[y + 1, x - 1] += e * 3 / 16
                v[y + 1, x] += e * 5 / 16
                if x + 1 < w:
                    v[y + 1, x + 1] += e / 16
    return out


@pytest.fixture(scope="module")
def ramp():
    """A horizontal grey ramp 0..255, 96 wide, 32 high."""
    return np.tile(np.linspace(0, 255, 96).round().astype(np.uint8), (32, 1))


# ---------------------------------------------------------------------------
# S-CIELAB
# ---------------------------------------------------------------------------

def test_identical_images_score_zero():
    img = quadrants()
    assert s_cielab(img, img) == 0.0
    assert np.all(s_cielab(img, img, return_map=True) == 0)
    assert color_errors(img, img) == ColorErrors(0.0, float("inf"), 0.0, 0.0)


def test_flat_colours_score_as_plain_cielab():
    """Over flat areas S-CIELAB is CIELAB Delta E*ab: every filter sums to 1."""
    from skimage.color import deltaE_cie76, rgb2lab

    a = np.zeros((5, 7, 3), np.uint8) + np.array([200, 30, 90], np.uint8)
    b = np.zeros((5, 7, 3), np.uint8) + np.array([20, 130, 190], np.uint8)
    expected = float(deltaE_cie76(rgb2lab(a[0, 0] / 255.0), rgb2lab(b[0, 0] / 255.0)))
    np.testing.assert_allclose(s_cielab(a, b, return_map=True), expected, rtol=1e-9)


def test_no_support_is_plain_cielab():
    """At 2 samples per degree or fewer the filters are one pixel wide: no blur at all."""
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 256, (2, 6, 9, 3), dtype=np.uint8)
    assert s_cielab(a, b, samples_per_degree=2) == pytest.approx(cie76(a, b), rel=1e-9)


def test_checkerboard_looks_like_its_grey():
    """The eye blurs a 1-pixel black and white checkerboard into the grey of the same
    light (sRGB 188, half of white's): 50 Delta E*ab pixel by pixel, hardly any to S-CIELAB."""
    checker = checkerboard(32)
    same_light = np.full((32, 32), 188, np.uint8)
    assert cie76(checker, same_light) == pytest.approx(50.0, abs=0.01)
    assert s_cielab(checker, same_light) < 0.05 * cie76(checker, same_light)
    # against sRGB mid-grey 128 it differs by what that grey differs from grey 188
    mid_grey = np.full((32, 32), 128, np.uint8)
    assert s_cielab(checker, mid_grey) < 0.5 * cie76(checker, mid_grey)
    assert s_cielab(checker, mid_grey) == pytest.approx(s_cielab(same_light, mid_grey), abs=1.5)


def test_checkerboard_blurs_more_from_farther():
    checker, grey = checkerboard(32), np.full((32, 32), 188, np.uint8)
    scores = [s_cielab(checker, grey, samples_per_degree=spd) for spd in (20, 33, 60)]
    assert scores[0] > scores[1] > scores[2]


def test_a_fine_dither_beats_banding(ramp):
    """A grey ramp on two levels: Floyd-Steinberg error diffusion (in linear light) looks
    like the ramp, posterising bands it. MSE, CIEDE2000 and plain CIELAB, pixel by pixel,
    prefer the bands (posterising is the nearest two-level image, pixel by pixel);
    S-CIELAB prefers the dither, by a factor of about three."""
    dither = floyd_steinberg(linear(ramp))
    bands = np.where(ramp >= 128, 255, 0).astype(np.uint8)
    d, p = color_errors(ramp, dither), color_errors(ramp, bands)
    assert d.s_cielab < 0.5 * p.s_cielab
    assert d.mse > 1.5 * p.mse and d.psnr < p.psnr
    assert d.ciede2000 > p.ciede2000
    assert cie76(ramp, dither) > cie76(ramp, bands)
    # the eye adds light, not sRGB values: diffusing sRGB values instead makes the ramp too light
    srgb_dither = floyd_steinberg(ramp / 255.0)
    assert d.s_cielab < s_cielab(ramp, srgb_dither) < p.s_cielab


# ---------------------------------------------------------------------------
# The filters against their naive twin
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("samples_per_degree, shape", [
    (SAMPLES_PER_DEGREE, (9, 11)),    # the support (33 pixels) larger than the image
    (12, (10, 13)),
    (60.5, (40, 36)),
    (2, (4, 5)),                      # one pixel: no blur
])
def test_opponent_filter_matches_naive(samples_per_degree, shape):
    rng = np.random.default_rng(0)
    opp = rng.normal(size=shape + (3,))
    np.testing.assert_allclose(_filter_opponent(opp, samples_per_degree),
                               naive.naive_opponent_filter(opp, samples_per_degree), rtol=0, atol=1e-12)


def test_naive_kernels_sum_to_one():
    for kernel in naive.naive_scielab_kernels(SAMPLES_PER_DEGREE):
        assert kernel.shape == (33, 33) and kernel.sum() == pytest.approx(1.0, abs=1e-12)


def test_s_cielab_map_matches_naive():
    rng = np.random.default_rng(2)
    a, b = rng.integers(0, 256, (2, 9, 11, 3), dtype=np.uint8)
    np.testing.assert_allclose(s_cielab(a, b, return_map=True),
                               naive.naive_s_cielab_map(a / 255.0, b / 255.0, SAMPLES_PER_DEGREE),
                               rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------
# Inputs and the four measures
# ---------------------------------------------------------------------------

def test_grey_16_bit_and_float_read_as_8_bit():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 256, (2, 8, 10), dtype=np.uint8)
    expected = color_errors(np.dstack([a] * 3), np.dstack([b] * 3))
    for x, y in [(a, b), (a.astype(np.uint16) * 257, b.astype(np.uint16) * 257), (a / 255.0, b / 255.0),
                 (np.dstack([a, np.full_like(a, 255)]), b)]:         # grey + alpha: alpha ignored
        got = color_errors(x, y)
        np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_mse_psnr_and_ciede2000():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0] = [40, 0, 0]                  # one channel of one pixel in 16, off by 40
    errors = color_errors(a, b)
    assert errors.mse == pytest.approx(40**2 / 48)
    assert errors.psnr == pytest.approx(10 * np.log10(255**2 / (40**2 / 48)))
    assert errors.ciede2000 == pytest.approx(kmseg.color_error(a, b))


def test_files_read_like_arrays(tmp_path):
    img = quadrants()
    path = tmp_path / "q.png"
    Image.fromarray(img).save(path)
    other = img // 2
    assert color_errors(path, other) == color_errors(img, other)


def test_different_sizes_are_refused(tmp_path):
    with pytest.raises(KmsegError, match=r"the reference image is 7x5 pixels but the test image is 5x7"):
        s_cielab(np.zeros((5, 7), np.uint8), np.zeros((7, 5), np.uint8))
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(np.zeros((5, 7), np.uint8)).save(a)
    Image.fromarray(np.zeros((5, 8), np.uint8)).save(b)
    with pytest.raises(KmsegError, match=r"a\.png' is 7x5 pixels but '.*b\.png' is 8x5"):
        color_errors(a, b)


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), "33", True])
def test_bad_samples_per_degree(value):
    img = np.zeros((3, 3), np.uint8)
    with pytest.raises(KmsegError, match="samples_per_degree"):
        s_cielab(img, img, samples_per_degree=value)


def test_table_lists_four_measures():
    lines = ColorErrors(19916.5, 5.138, 40.25, 2.67).table().splitlines()
    assert [line.split("  ")[0] for line in lines] == ["MSE (RGB, 0-255)", "PSNR (dB)", "mean CIEDE2000",
                                                       "S-CIELAB (dE*ab)"]
    assert len({len(line) for line in lines}) == 1          # values right-aligned in one column
    assert ColorErrors(0.0, float("inf"), 0.0, 0.0).table().splitlines()[1].endswith("inf")


# ---------------------------------------------------------------------------
# kmseg compare
# ---------------------------------------------------------------------------

@pytest.fixture
def pair(tmp_path, ramp):
    original, dithered = tmp_path / "ramp.png", tmp_path / "dither.png"
    Image.fromarray(ramp).save(original)
    Image.fromarray(floyd_steinberg(linear(ramp))).save(dithered)
    return original, dithered


def test_compare_prints_table(pair, capsys):
    original, dithered = pair
    assert main(["compare", str(original), str(dithered)]) == 0
    out, err = capsys.readouterr()
    assert out == color_errors(original, dithered).table() + "\n"
    assert err == ""
    names = [line.rsplit(None, 1)[0] for line in out.splitlines()]
    assert names == ["MSE (RGB, 0-255)", "PSNR (dB)", "mean CIEDE2000", "S-CIELAB (dE*ab)"]


def test_compare_json(pair, capsys):
    original, dithered = pair
    assert main(["compare", str(original), str(dithered), "--json", "--samples-per-degree", "60"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record == color_errors(original, dithered, samples_per_degree=60)._asdict()
    assert main(["compare", str(original), str(original), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)   # strict JSON: an infinite PSNR is null
    assert record == {"mse": 0.0, "psnr": None, "ciede2000": 0.0, "s_cielab": 0.0}


def test_compare_different_sizes(pair, tmp_path, capsys):
    original, _ = pair
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 20), np.uint8)).save(small)
    assert main(["compare", str(original), str(small)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("kmseg: error: ")
    assert repr(str(original)) in lines[0] and repr(str(small)) in lines[0]
    assert "96x32" in lines[0] and "20x10" in lines[0]


def test_compare_missing_file(pair, tmp_path, capsys):
    original, _ = pair
    missing = tmp_path / "missing.png"
    assert main(["compare", str(original), str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.png" in err and "Traceback" not in err
