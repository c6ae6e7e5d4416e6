"""The quantizer people ship: indexed files, dithering, fixed and mapped palettes, weights."""

import io
import json

import numpy as np
import pytest
from PIL import Image

import kmseg
from kmseg.cli import EXIT_QUALITY, main
from kmseg.cluster._held import fit_held, lloyd_held
from kmseg.io import encode_indexed, read_palette
from kmseg.labels._dither import bayer_matrix, palette_indices, pattern_indices
from kmseg.metrics import s_cielab

from images import quadrants
from naive import naive_diffuse, naive_lloyd_held, naive_nearest, naive_pattern, sq_distances


def _photo():
    from skimage import data

    return data.astronaut()[::2, ::2]  # 256 x 256, about 60,000 distinct colours


def _ramp(h=16, w=96):
    """A horizontal grey ramp, as RGB uint8."""
    row = np.linspace(0, 255, w)
    return np.repeat(np.tile(row, (h, 1))[:, :, None], 3, axis=2).round().astype(np.uint8)


# --- the kernels against their twins ---------------------------------------------------

@pytest.mark.parametrize("c, n", [(3, 1), (3, 2), (3, 7), (3, 40), (1, 5)])
def test_diffusion_is_its_naive_twin(c, n):
    rng = np.random.default_rng(c * 100 + n)
    image = rng.uniform(0, 255, (9, 13, c)).astype(np.float32)
    palette = rng.integers(0, 256, (n, c)).astype(np.float32)
    keep = rng.random((9, 13)) > 0.15
    strength = rng.uniform(0, 1, (9, 13)).astype(np.float32)
    from kmseg.labels import _dither

    order = np.argsort(palette[:, 0], kind="stable")
    out = np.empty((9, 13), np.uint16)
    _dither.diffuse(image, keep.view(np.uint8), np.ascontiguousarray(palette[order]), order.astype(np.int64),
                    strength, 0.0, 255.0, out)
    got = np.append(order, n)[out]
    np.testing.assert_array_equal(got, naive_diffuse(image, keep, palette, strength))


def test_error_diffusion_ties_go_to_the_lowest_index():
    # 127.5 is as near 0 as 255: both orders of the palette give the first entry listed
    image = np.full((1, 1, 1), 127.5, np.float32)
    assert palette_indices(image, None, [[255], [0]], "floyd-steinberg").tolist() == [[0]]
    assert palette_indices(image, None, [[0], [255]], "floyd-steinberg").tolist() == [[0]]
    assert naive_nearest(image[0, 0], np.array([[255], [0]], np.float32)) == 0


@pytest.mark.parametrize("c, gain", [(3, 1.0), (3, 0.5), (1, 1.0)])
def test_patterns_are_their_naive_twin(c, gain):
    rng = np.random.default_rng(5 + c)
    colors = rng.uniform(0, 255, (60, c)).astype(np.float32)
    palette = rng.integers(0, 256, (23, c)).astype(np.float32)
    palette[3] = palette[4]  # a tie in luma, and in distance
    from kmseg.labels import _kernels
    from kmseg.labels._dither import LUMA, PATTERN_SIZE

    luma = (palette[:, 0] if c == 1 else palette @ LUMA.astype(np.float32)).astype(np.float32)
    order = np.argsort(palette[:, 0], kind="stable")
    out = np.empty((60, PATTERN_SIZE), np.int64)
    _kernels.pattern(colors, np.ascontiguousarray(palette[order]), order.astype(np.int64),
                     np.ascontiguousarray(luma[order]), gain, out)
    np.testing.assert_array_equal(out, naive_pattern(colors, palette, luma, gain, PATTERN_SIZE))


def test_pattern_keeps_palette_colours_and_averages_the_others():
    palette = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.float32)
    colors = np.array([[255, 0, 0], [64, 64, 64]], np.float32)
    index = np.zeros((8, 8), int)
    index[4:] = 1
    out = pattern_indices(colors, index, None, palette)
    assert (out[:4] == 2).all()  # red is in the palette: left alone
    grey = palette[out[4:]].mean(axis=(0, 1))
    np.testing.assert_allclose(grey, 64, atol=4)  # a quarter of the pixels white


def test_bayer_matrix_is_a_permutation_of_its_levels():
    m = bayer_matrix(8)
    assert sorted((m * 64 - 0.5).round().astype(int).ravel().tolist()) == list(range(64))
    # a mid grey turns on half the pixels as a checkerboard, the finest pattern there is
    yy, xx = np.mgrid[:8, :8]
    np.testing.assert_array_equal(m < 0.5, (yy + xx) % 2 == 0)
    # and a quarter as every other pixel of every other row
    assert (m < 0.25).sum() == 16 and np.all((m < 0.25)[::2, ::2] | (m < 0.25)[1::2, 1::2])


def test_held_lloyd_is_its_naive_twin_and_holds():
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(m, 5, (200, 3)) for m in (20, 120, 220)])
    w = rng.integers(1, 5, len(X)).astype(float)
    start = np.array([[0.0, 0, 0], [100, 100, 100], [200, 200, 200], [250, 250, 250]])
    for steps in (1, 2, 5):
        centers = lloyd_held(X, w, start, 1, steps, tol_abs=-1.0)[0]
        np.testing.assert_allclose(centers, naive_lloyd_held(X, w, start, 1, steps), rtol=0, atol=1e-9)
        assert centers[0].tolist() == [0.0, 0.0, 0.0]


def test_held_fit_is_a_fixed_point_with_the_held_centres_in_place():
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 255, (3000, 3))
    w = rng.integers(1, 9, 3000).astype(float)
    held = np.array([[255.0, 255, 255], [0, 0, 0]])
    params = kmseg._params.FitParams.check(n_init=2, tol=0)
    centers, labels, inertia, _ = fit_held(X, w, held, 6, params)
    np.testing.assert_array_equal(centers[:2], held)
    np.testing.assert_array_equal(labels, np.argmin(sq_distances(centers, X), axis=0))
    for j in range(2, 6):  # every free centre is the weighted mean of its samples
        mine = labels == j
        np.testing.assert_allclose(centers[j], np.average(X[mine], axis=0, weights=w[mine]), atol=1e-6)
    d2 = sq_distances(centers, X).min(axis=0)
    assert inertia == pytest.approx(float(d2 @ w), rel=1e-9)


# --- quantize() -------------------------------------------------------------------------

@pytest.mark.parametrize("k", [16, 64, 256])
def test_exactly_k_colours(k):
    q = kmseg.quantize(_photo(), k)
    assert len(q.palette) == k == len(np.unique(q.palette, axis=0))
    assert len(np.unique(q.image.reshape(-1, 3), axis=0)) == k
    np.testing.assert_array_equal(q.palette[q.indices], q.image)


def test_palette_colours_that_round_alike_are_moved_apart():
    # two clusters whose centres both round to (10, 10, 10) would give k-1 colours
    from kmseg.pipeline._fit import FittedColors
    from kmseg.pipeline._quantize import _distinct

    fitted = FittedColors(np.zeros((3, 3)), np.array([[10, 10, 10], [10, 10, 10], [0, 0, 0]], np.uint8),
                          np.ones(3), None, 0.0, 0)
    palette = _distinct(fitted).palette
    assert len(np.unique(palette, axis=0)) == 3
    assert palette[0].tolist() == [10, 10, 10] and np.abs(palette[1].astype(int) - 10).max() == 1


@pytest.mark.parametrize("space", ["rgb", "lab"])
def test_mapping_onto_a_palette_is_brute_force_nearest(space):
    img = _photo()
    palette = np.random.default_rng(1).integers(0, 256, (24, 3)).astype(np.uint8)
    q = kmseg.quantize(img, palette=palette, color_space=space)
    from kmseg.color._spaces import to_features

    feats = to_features(img.reshape(-1, 3), space)
    want = np.argmin(sq_distances(to_features(palette, space), feats), axis=0).reshape(img.shape[:2])
    np.testing.assert_array_equal(q.indices, want)
    np.testing.assert_array_equal(q.image, palette[want])
    np.testing.assert_array_equal(q.palette, palette)


def test_fixed_colours_are_kept_byte_for_byte():
    img = _photo()
    fixed = ["#ffffff", "#d52b1e", (0, 0, 0)]
    q = kmseg.quantize(img, 12, fixed=fixed)
    rows = {tuple(c) for c in q.palette.tolist()}
    assert {(255, 255, 255), (213, 43, 30), (0, 0, 0)} <= rows
    assert len(q.palette) == 12 == len(rows)
    # the learned colours lower the error against the fixed ones alone
    alone = kmseg.quantize(img, palette=fixed)
    assert q.segmentation.inertia < alone.segmentation.inertia / 4


def test_fixed_colours_in_lab_stay_exact():
    q = kmseg.quantize(quadrants(), 5, fixed=["#123456"], color_space="lab")
    assert [0x12, 0x34, 0x56] in q.palette.tolist()


def test_weights_count_as_repeated_pixels():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:, 2:] = 200
    img[0, 0] = (100, 100, 100)
    w = np.ones((4, 4))
    w[0, 0] = 3
    # the same image with the grey pixel three times and no weights: a 2 x 8 strip, one column of doubled pixels
    strip = np.concatenate([img.reshape(-1, 3), [(100, 100, 100)] * 2]).reshape(2, 9, 3)
    a = kmseg.quantize(img, 2, weights=w, n_init=1)
    b = kmseg.quantize(strip, 2, n_init=1)
    assert a.palette.tolist() == b.palette.tolist()
    # scaling the weights changes nothing; counts stay those of the pixels
    assert kmseg.quantize(img, 2, weights=w * 7.5, n_init=1).palette.tolist() == a.palette.tolist()
    assert a.segmentation.counts.sum() == 16


def test_weight_zero_leaves_pixels_out_of_the_fit_but_not_the_image():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:, :2] = (200, 0, 0)
    img[:, 2:] = (0, 0, 200)
    w = np.ones((4, 4))
    w[:, 2:] = 0
    q = kmseg.quantize(img, 1, weights=w)
    assert q.palette.tolist() == [[200, 0, 0]] and q.image.shape == img.shape


def test_bad_arguments_are_refused_before_any_image():
    with pytest.raises(kmseg.KmsegError, match="dither='fs' must be one of"):
        kmseg.quantize("no-such-file.png", dither="fs")
    with pytest.raises(kmseg.KmsegError, match="dither_strength=2.0 must be in"):
        kmseg.quantize("no-such-file.png", dither_strength=2)
    with pytest.raises(kmseg.KmsegError, match="leave out n_colors"):
        kmseg.quantize("no-such-file.png", 8, palette=["#000"])
    with pytest.raises(kmseg.KmsegError, match="'#12' is not a colour"):
        kmseg.quantize("no-such-file.png", fixed=["#12"])
    with pytest.raises(kmseg.KmsegError, match="n_colors must be an integer >= 3"):
        kmseg.quantize("no-such-file.png", 2, fixed=["#000", "#fff", "#f00"])
    with pytest.raises(kmseg.KmsegError, match="do not match the 40x60 image"):
        kmseg.quantize(quadrants(), 2, weights=np.ones((3, 3)))
    with pytest.raises(kmseg.KmsegError, match="not all 0"):
        kmseg.quantize(quadrants(), 2, weights=np.zeros((40, 60)))


# --- dithering --------------------------------------------------------------------------

def test_dithering_a_ramp_looks_closer_to_it():
    ramp = _ramp(32, 128)
    flat = kmseg.quantize(ramp, palette=["#000000", "#555555", "#aaaaaa", "#ffffff"])
    for method in ("floyd-steinberg", "adaptive", "ordered"):
        dithered = kmseg.quantize(ramp, palette=flat.palette, dither=method)
        assert s_cielab(ramp, dithered.image) < 0.6 * s_cielab(ramp, flat.image), method
    # strength 0 is no dithering
    none = kmseg.quantize(ramp, palette=flat.palette, dither="floyd-steinberg", dither_strength=0)
    np.testing.assert_array_equal(none.indices, flat.indices)


def test_adaptive_dithering_keeps_flat_ground_and_edges_clean():
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, :40] = (30, 60, 200)  # flat blue ...
    img[:, 40:] = (230, 210, 40)  # ... against flat yellow: one sharp edge
    img[20:, :] = _ramp(20, 80)  # and a ramp below
    palette = ["#1e3cc8", "#e6d228", "#000000", "#808080", "#ffffff"]
    fs = kmseg.quantize(img, palette=palette, dither="floyd-steinberg")
    ad = kmseg.quantize(img, palette=palette, dither="adaptive")
    top = slice(0, 20)
    np.testing.assert_array_equal(ad.image[top], img[top])  # exact colours, and no dots at the edge
    assert len(np.unique(ad.indices[20:].reshape(-1))) == 3  # the ramp is dithered over the greys
    assert s_cielab(img, ad.image) <= s_cielab(img, fs.image) * 1.25


def test_dithering_skips_transparent_pixels():
    img = np.zeros((6, 6, 4), np.uint8)
    img[..., :3] = 120
    img[..., 3] = 255
    img[2:4, 2:4, 3] = 0
    q = kmseg.quantize(img, palette=["#000", "#fff"], dither="floyd-steinberg")
    assert (q.indices[2:4, 2:4] == 2).all() and (q.image[2:4, 2:4, 3] == 0).all()
    assert set(np.unique(q.indices[q.image[..., 3] > 0])) == {0, 1}


# --- indexed files ----------------------------------------------------------------------

@pytest.mark.parametrize("k, bits", [(2, 1), (4, 2), (16, 4), (17, 8), (256, 8)])
def test_indexed_png_has_the_fewest_bits_and_the_same_pixels(k, bits):
    q = kmseg.quantize(_photo(), k)
    data = encode_indexed(q.indices, q.palette, "PNG")
    assert data[24] == bits  # IHDR bit depth
    im = Image.open(io.BytesIO(data))
    assert im.mode == "P"
    np.testing.assert_array_equal(np.asarray(im.convert("RGB")), q.image)


def test_indexed_png_beats_pillow_on_the_same_pixels():
    q = kmseg.quantize(_photo(), 64)
    pil = Image.fromarray(q.image).quantize(64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    pil.save(buf, "PNG")
    assert len(encode_indexed(q.indices, q.palette, "PNG")) < len(buf.getvalue())


def test_transparent_pixels_take_one_entry_first():
    img = np.zeros((8, 8, 4), np.uint8)
    img[..., :3] = quadrants(8, 8, noise=0)
    img[..., 3] = 255
    img[:2, :2, 3] = 0
    q = kmseg.quantize(img, 4)
    assert q.fits_palette
    for fmt in ("PNG", "GIF"):
        im = Image.open(io.BytesIO(encode_indexed(q.indices, q.palette, fmt)))
        assert im.info["transparency"] == 0
        rgba = np.asarray(im.convert("RGBA"))
        np.testing.assert_array_equal(rgba[..., 3], img[..., 3])
        np.testing.assert_array_equal(rgba[2:, 2:, :3], q.image[2:, 2:, :3])


def test_to_pil_refuses_what_no_palette_holds():
    many = np.arange(300 * 3, dtype=np.uint8).reshape(1, 300, 3)
    many[0, :, 0] = np.arange(300) % 256
    many[0, :, 1] = np.arange(300) // 256
    with pytest.raises(kmseg.KmsegError, match="256 at most"):
        kmseg.quantize(many, 300).to_pil()
    assert not kmseg.quantize(many, 300).fits_palette


def _logo():
    """A red disc with soft (partly transparent) edges on a transparent ground, a white bar."""
    yy, xx = np.mgrid[:48, :64]
    r = np.hypot(yy - 24, xx - 24)
    img = np.zeros((48, 64, 4), np.uint8)
    img[..., :3] = (213, 43, 30)
    img[..., 3] = np.clip((20 - r) * 64, 0, 255).astype(np.uint8)
    img[10:38, 50:58] = (255, 255, 255, 255)
    return img


def test_partly_transparent_edges_get_entries_of_their_own():
    img = _logo()
    q = kmseg.quantize(img, 8)
    assert q.palette.shape == (8, 4) and q.fits_palette
    alpha = q.palette[:, 3]
    assert (alpha == 255).sum() >= 1 and ((alpha > 0) & (alpha < 255)).sum() >= 1
    opaque = img[..., 3] == 255
    np.testing.assert_array_equal(q.image[opaque], img[opaque])  # two flat colours, exact
    assert (q.image[img[..., 3] == 0] == 0).all()  # fully transparent: one entry after the palette
    edge = (img[..., 3] > 0) & (img[..., 3] < 255)
    assert np.abs(q.image[edge][:, 3].astype(int) - img[edge][:, 3]).mean() < 20
    data = encode_indexed(q.indices, q.palette, "PNG")
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "P"
        np.testing.assert_array_equal(np.asarray(im.convert("RGBA")), q.image)
    with pytest.raises(kmseg.KmsegError, match="GIF holds no partly transparent"):
        encode_indexed(q.indices, q.palette, "GIF")


def test_opaque_colours_never_move_for_transparency_elsewhere():
    img = quadrants(48, 64).copy()
    rgba = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    rgba[:8, :, 3] = 100  # a partly transparent band ...
    other = rgba.copy()
    other[:8, :, :3] = np.random.default_rng(0).integers(0, 256, (8, 64, 3))  # ... of any colour
    a, b = kmseg.quantize(rgba, 6), kmseg.quantize(other, 6)
    solid = rgba[..., 3] == 255
    np.testing.assert_array_equal(a.image[solid], b.image[solid])
    assert (a.image[~solid][:, 3] == 100).all()


# --- palette files ----------------------------------------------------------------------

def test_read_palette_formats(tmp_path):
    (tmp_path / "p.gpl").write_text("GIMP Palette\nName: x\nColumns: 2\n#\n255 0 0 red\n0 0 255\tblue\n")
    (tmp_path / "p.hex").write_text("ff0000\n0000ff\n")
    (tmp_path / "p.json").write_text(json.dumps(["#ff0000", [0, 0, 255]]))
    seg = kmseg.segment(quadrants(noise=0), 4)
    from kmseg.io import palette_record

    (tmp_path / "rec.json").write_text(json.dumps(palette_record(seg)))
    Image.fromarray(np.array([[[255, 0, 0], [0, 0, 255], [255, 0, 0]]], np.uint8)).save(tmp_path / "p.png")
    for name in ("p.gpl", "p.hex", "p.json", "p.png"):
        assert read_palette(tmp_path / name).tolist() == [[255, 0, 0], [0, 0, 255]], name
    assert read_palette(tmp_path / "rec.json").tolist() == seg.palette.tolist()


@pytest.mark.parametrize("name, text, message", [
    ("a.gpl", "Paint Palette\n", "not a GIMP palette"),
    ("b.gpl", "GIMP Palette\n255 0\n", "line 2 is not 'R G B"),
    ("c.gpl", "GIMP Palette\n300 0 0\n", "is not a colour"),
    ("d.json", "{", "not JSON"),
    ("e.hex", "", "holds no colours"),
])
def test_bad_palette_files_say_why(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(kmseg.KmsegError, match=message) as info:
        read_palette(tmp_path / name)
    assert name in str(info.value)


# --- the command line -------------------------------------------------------------------

@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(_photo()).save(path)
    return path


def test_cli_writes_indexed_png_and_gif(photo, tmp_path):
    for name in ("q.png", "q.gif"):
        out = tmp_path / name
        assert main(["quantize", str(photo), "-n", "16", "--dither", "floyd-steinberg", "-o", str(out)]) == 0
        with Image.open(out) as im:
            assert im.mode == "P" and len(np.unique(np.asarray(im))) == 16


def test_cli_fixed_map_and_importance(photo, tmp_path):
    out = tmp_path / "q.png"
    assert main(["quantize", str(photo), "-n", "6", "--fixed", "#ffffff,#000000", "-o", str(out)]) == 0
    colours = np.asarray(Image.open(out).convert("RGB")).reshape(-1, 3)
    assert {(255, 255, 255), (0, 0, 0)} <= {tuple(c) for c in np.unique(colours, axis=0).tolist()}
    (tmp_path / "bw.gpl").write_text("GIMP Palette\n0 0 0\n255 255 255\n")
    assert main(["quantize", str(photo), "--map", str(tmp_path / "bw.gpl"), "--dither", "ordered",
                 "-o", str(out)]) == 0
    assert set(np.unique(np.asarray(Image.open(out).convert("L")))) == {0, 255}
    weights = np.zeros((256, 256), np.uint8)
    weights[:128] = 255
    Image.fromarray(weights).save(tmp_path / "w.png")
    assert main(["quantize", str(photo), "-n", "4", "--importance", str(tmp_path / "w.png"), "-o", str(out)]) == 0


def test_cli_map_with_n_is_a_usage_error(photo, tmp_path, capsys):
    (tmp_path / "bw.gpl").write_text("GIMP Palette\n0 0 0\n255 255 255\n")
    assert main(["quantize", str(photo), "-n", "4", "--map", str(tmp_path / "bw.gpl"), "-o",
                 str(tmp_path / "q.png")]) == 2
    assert "--map maps onto the palette given" in capsys.readouterr().err


def test_cli_unmet_max_error_has_its_own_exit_status_and_writes_nothing(photo, tmp_path, capsys):
    out = tmp_path / "q.png"
    assert main(["quantize", str(photo), "--max-error", "0.01", "-n", "4", "-o", str(out)]) == EXIT_QUALITY
    err = capsys.readouterr().err
    assert "--max-error 0.01 is not reached with 4 colours" in err and "nothing written" in err
    assert err.count("\n") == 1 and not out.exists()


def test_cli_writes_a_logo_with_soft_edges_indexed(tmp_path, capsys):
    src, out = tmp_path / "logo.png", tmp_path / "logo8.png"
    Image.fromarray(_logo()).save(src)
    assert main(["quantize", str(src), "-n", "8", "-o", str(out), "--palette"]) == 0
    assert "8 colours" in capsys.readouterr().out
    with Image.open(out) as im:
        assert im.mode == "P" and "transparency" in im.info
    record = json.loads((tmp_path / "logo8_palette.json").read_text())
    assert len(record["entries"]) == 8 and record["entries"][-1]["hex"].startswith("#")
    assert main(["quantize", str(src), "-n", "8", "-o", str(tmp_path / "logo.gif")]) == 1
    assert "a GIF holds no partly transparent colours" in capsys.readouterr().err
