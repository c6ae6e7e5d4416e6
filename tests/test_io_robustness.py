"""Reading and writing files, robustly: a generated corpus of broken and awkward files,
strict mode, size limits and decompression bombs, modes kept at their precision,
transparency read as alpha, and outputs that never end half-written."""

import errno
import io
import os
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from PIL import Image

import kmseg
from kmseg import ImageReadError, KmsegError, KmsegWarning
from kmseg.cli import main
from kmseg.io._png import png_bytes

from bombs import bomb_png, bomb_tiff
from images import RGB16, encoded, quadrants


def _exif_rotated_jpeg():
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :20] = (250, 10, 10)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    return buf.getvalue()


def _bad_exif_jpeg():
    buf = io.BytesIO()
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05" + b"\xff" * 30  # entries cut short
    Image.fromarray(quadrants(8, 8)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def _frames_gif():
    frames = [Image.fromarray(np.full((10, 12, 3), c, np.uint8)) for c in (0, 120, 240)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    return buf.getvalue()


def _apng():
    frames = [Image.fromarray(np.full((8, 8, 3), c, np.uint8)) for c in (10, 200)]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def _tiff(array, **options):
    import tifffile

    buf = io.BytesIO()
    tifffile.imwrite(buf, array, **options)
    return buf.getvalue()


def _palette_with_transparency():
    im = Image.fromarray(quadrants(12, 16)).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    arr = np.asarray(im).copy()
    arr[:3] = 0  # the top rows take palette entry 0, which is made transparent
    out = Image.fromarray(arr, mode="P")
    out.putpalette(im.getpalette())
    buf = io.BytesIO()
    out.save(buf, format="PNG", transparency=0)
    return buf.getvalue()


PLANAR = np.random.default_rng(5).random((3, 6, 7))  # float RGB, one plane per channel


def _png_chunks(data):
    """``[(type, data)]`` of a PNG file's chunks."""
    import struct

    pos, chunks = 8, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunks.append((kind, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def _png_of(chunks):
    from kmseg.io._png import _chunk

    return b"\x89PNG\r\n\x1a\n" + b"".join(_chunk(kind, body) for kind, body in chunks)


def _bad_crc(png, kind, extra=None, before=b"IEND"):
    """``png`` with the CRC of its first ``kind`` chunk off by one bit (``extra``: a
    chunk of that kind inserted before the first ``before`` chunk first)."""
    chunks = _png_chunks(png)
    if extra is not None:
        at = next(i for i, (k, _) in enumerate(chunks) if k == before)
        chunks.insert(at, (kind, extra))
    data = bytearray(_png_of(chunks))
    pos = 8
    for k, body in chunks:
        if k == kind:
            data[pos + 8 + len(body) + 3] ^= 1  # the CRC's last byte
            return bytes(data)
        pos += 12 + len(body)
    raise ValueError(kind)


def _corpus_bytes():
    rgb = quadrants(24, 32)
    png = encoded(rgb, "PNG")
    jpeg = encoded(rgb, "JPEG", quality=90)
    corrupt_png = bytearray(png)
    corrupt_png[len(png) // 2:len(png) // 2 + 16] = b"\xff" * 16
    bad = {
        "empty.png": (b"", "not an image"),
        "text.png": (b"hello, I am not a picture\n", "not an image"),
        "header_only.png": (png[:33], "truncated|corrupt"),
        "corrupt.png": (bytes(corrupt_png), "corrupt"),
        "bad_crc.png": (_bad_crc(png, b"IDAT"), r"corrupt \(CRC mismatch in IDAT\)$"),
        "bomb.png": (bomb_png(), "too large"),
        "bomb.tif": (bomb_tiff(), r"too large \(65535x65535"),
        "nan.tif": (_tiff(np.array([[0.1, np.nan], [0.5, 0.9]], np.float32)), "NaN or infinite"),
    }
    for cut in (0.1, 0.5, 0.9):
        bad[f"cut{int(cut * 100)}.png"] = (png[:int(len(png) * cut)], "truncated|corrupt")
    for cut in (0.1, 0.5, 0.9, 0.99):
        bad[f"cut{int(cut * 100)}.jpg"] = (jpeg[:int(len(jpeg) * cut)], "truncated|corrupt")
    bw = (np.arange(48).reshape(6, 8) % 3 == 0)
    good = {
        "rgb.png": png,
        "jpeg_named.png": jpeg,  # a wrong extension: the content decides
        "rgb.bmp": encoded(rgb, "BMP"),
        "rgb.webp": encoded(rgb, "WEBP", lossless=True),
        "rgb.tif": encoded(rgb, "TIFF"),
        "one.png": encoded(np.array([[[10, 20, 30]]], np.uint8), "PNG"),
        "row.png": encoded(np.arange(9, dtype=np.uint8).reshape(1, 9) * 20, "PNG"),
        "column.png": encoded(np.arange(9, dtype=np.uint8).reshape(9, 1) * 20, "PNG"),
        "palette_alpha.png": _palette_with_transparency(),
        "la.png": encoded(np.dstack([np.arange(30, dtype=np.uint8).reshape(5, 6) * 8,
                                      np.full((5, 6), 255, np.uint8)]), "PNG"),
        "cmyk.jpg": _encoded_cmyk(rgb),
        "bilevel.png": _encoded_mode(bw, "1"),
        "grey16.png": encoded(np.arange(30, dtype=np.uint16).reshape(5, 6) * 2000, "PNG"),
        "rgb16.png": png_bytes(RGB16),
        "rgba16.png": png_bytes(np.dstack([RGB16, np.full(RGB16.shape[:2], 65535, np.uint16)])),
        "rgb16.tif": _tiff(RGB16, photometric="rgb"),
        "float.tif": _tiff(np.linspace(-3, 40, 30, dtype=np.float32).reshape(5, 6)),
        "int32.tif": _tiff(np.arange(30, dtype=np.int32).reshape(5, 6) * 100_000),
        "planar_float.tif": _tiff(PLANAR, photometric="rgb", planarconfig="separate"),
        "exif_rotated.jpg": _exif_rotated_jpeg(),
        "frames.gif": _frames_gif(),
        "frames.png": _apng(),
        "pages.tif": _tiff(np.stack([rgb[:8, :8], rgb[8:16, :8]]), photometric="rgb"),
        "no_iend.png": png[:-2],  # decodes; only strict mode refuses it
        "bad_exif.jpg": _bad_exif_jpeg(),
    }
    return bad, good


def _encoded_cmyk(rgb):
    buf = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buf, format="JPEG")
    return buf.getvalue()


def _encoded_mode(arr, mode):
    buf = io.BytesIO()
    Image.fromarray(arr).convert(mode).save(buf, format="PNG")
    return buf.getvalue()


#: Valid files that decode only with a warning (an error in strict mode).
WARNED = {"frames.gif", "frames.png", "pages.tif", "no_iend.png", "bad_exif.jpg"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    bad, good = _corpus_bytes()
    for name, (data, _) in bad.items():
        (folder / name).write_bytes(data)
    for name, data in good.items():
        (folder / name).write_bytes(data)
    (folder / "folder.png").mkdir()
    reasons = {name: reason for name, (_, reason) in bad.items()}
    reasons["folder.png"] = "is a folder"
    reasons["missing.png"] = "no such file"
    return folder, reasons, sorted(good)


def _one_error_line(err):
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kmseg: error: "), err
    return lines[0]


def test_every_bad_file_is_one_line_naming_it(corpus, tmp_path, capsys):
    import re

    folder, reasons, _ = corpus
    for name, reason in reasons.items():
        out = tmp_path / name.replace(".", "_")
        start = time.perf_counter()
        code = main(["segment", str(folder / name), "-k", "2", "-o", str(out)])
        seconds = time.perf_counter() - start
        line = _one_error_line(capsys.readouterr().err)
        assert code == 1, name
        assert f"{name}'" in line and re.search(reason, line), line
        assert os.listdir(out) == [], name  # no output, not even a temporary
        assert seconds < 10, (name, seconds)


def test_bad_files_in_one_run_without_traceback(corpus, tmp_path):
    """The installed command, in a fresh process: one line per bad file, no output."""
    folder, reasons, _ = corpus
    stems = {}
    for name in sorted(reasons):  # one file a stem: two would write the same outputs
        stems.setdefault(os.path.splitext(name)[0], folder / name)
    paths = sorted(stems.values())
    proc = subprocess.run([sys.executable, "-m", "kmseg", "segment", *map(str, paths), "-k", "2",
                           "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == len(paths)
    assert all(line.startswith("kmseg: error: ") for line in lines)
    named = sorted(next(p.name for p in paths if f"{p.name}'" in line) for line in lines)
    assert named == sorted(p.name for p in paths)  # each bad file named once (a folder first, at once)
    assert os.listdir(tmp_path / "out") == []
    # two files of one stem are refused before any work, not written over each other
    same = [folder / "bomb.png", folder / "bomb.tif"]
    proc = subprocess.run([sys.executable, "-m", "kmseg", "segment", *map(str, same), "-o", str(tmp_path / "two")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "would both write" in proc.stderr
    assert not (tmp_path / "two").exists()


def test_every_valid_file_is_accepted(corpus, tmp_path):
    import skimage.io

    folder, _, good = corpus
    for name in good:
        path = folder / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Pillow's own, such as bad EXIF
            skimage.io.imread(path)  # a file scikit-image reads ...
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KmsegWarning)
            seg = kmseg.segment(path, 2)  # ... is accepted
            assert main(["segment", str(path), "-k", "2", "-o", str(tmp_path / name)]) == 0
        assert seg.labels.ndim == 2 and seg.counts.sum() > 0, name
        assert len(os.listdir(tmp_path / name)) == 3


def test_strict_refuses_what_only_warns(corpus, tmp_path):
    folder, _, good = corpus
    for name in sorted(WARNED):
        with pytest.warns(KmsegWarning, match=f"{name}'"):
            kmseg.read_image(folder / name)
        with kmseg.config_context(strict=True):
            with pytest.raises(ImageReadError, match=f"{name}'?: refused in strict mode"):
                kmseg.read_image(folder / name)
    proc = subprocess.run([sys.executable, "-m", "kmseg", "segment", "--strict", "-k", "2", "-o",
                           str(tmp_path), str(folder / "frames.gif")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert "frames.gif': refused in strict mode: has 3 frames" in _one_error_line(proc.stderr)
    with kmseg.config_context(strict=True):  # the rest pass strict mode too
        for name in sorted(set(good) - WARNED):
            kmseg.read_image(folder / name)


def _crc_cases():
    """``{name: (bytes, chunk, pixels)}``: PNG files with one chunk's CRC wrong that
    the decoders would read as if nothing were wrong, and the pixels they hold."""
    rgb = quadrants(12, 16)
    png = encoded(rgb, "PNG")
    rgb16 = png_bytes(RGB16)  # 16-bit colour: kmseg's own decoder
    frames = [np.full((8, 8, 3), c, np.uint8) for c in (10, 200)]
    return {
        "idat.png": (_bad_crc(png, b"IDAT"), "IDAT", rgb),
        "idat16.png": (_bad_crc(rgb16, b"IDAT"), "IDAT", RGB16),
        "text_after_idat.png": (_bad_crc(png, b"tEXt", b"Comment\x00hello"), "tEXt", rgb),
        "iend.png": (_bad_crc(png, b"IEND"), "IEND", rgb),
        "apng_fdat.png": (_bad_crc(_apng(), b"fdAT"), "fdAT", frames[0]),
    }


def test_png_crc_mismatch_is_refused_unless_lenient(tmp_path, capsys):
    for name, (data, chunk, pixels) in _crc_cases().items():
        path = tmp_path / name
        path.write_bytes(data)
        with Image.open(path) as im:  # what Pillow does: no error, no warning
            im.seek(getattr(im, "n_frames", 1) - 1)
            im.load()
        message = rf"{name}': corrupt \(CRC mismatch in {chunk}\)"
        with pytest.raises(ImageReadError, match=message + "$"):
            kmseg.read_image(path)
        with pytest.raises(ImageReadError, match=message + "$"):
            kmseg.io.read_bytes(data, name)  # an upload too
        with kmseg.config_context(lenient=True):
            with pytest.warns(KmsegWarning, match=message + r", read anyway \(lenient\)") as record:
                arr = kmseg.read_image(path, frames="all")[0]
            assert any("CRC" in str(w.message) for w in record)
            np.testing.assert_array_equal(arr, pixels)
            with kmseg.config_context(strict=True):  # strict mode: the warning is an error
                with pytest.raises(ImageReadError, match=rf"{name}': refused in strict mode: corrupt "
                                                         rf"\(CRC mismatch in {chunk}\)$"):
                    kmseg.read_image(path)
        out = tmp_path / (name + "_out")
        assert main(["segment", str(path), "-k", "2", "-o", str(out)]) == 1
        assert re.search(message + "$", _one_error_line(capsys.readouterr().err))
        assert os.listdir(out) == []
    path = tmp_path / "idat.png"
    assert main(["segment", "--lenient", str(path), "-k", "2", "-o", str(tmp_path / "lenient")]) == 0
    err = capsys.readouterr().err
    assert err == f"kmseg: warning: {str(path)!r}: corrupt (CRC mismatch in IDAT), read anyway (lenient)\n"
    assert len(os.listdir(tmp_path / "lenient")) == 3


def test_png_crc_mismatch_before_the_image_data_is_refused_even_leniently(tmp_path):
    """Pillow itself refuses a bad CRC in the chunks before the image data."""
    path = tmp_path / "text_first.png"
    path.write_bytes(_bad_crc(encoded(quadrants(8, 8), "PNG"), b"tEXt", b"Comment\x00hi", before=b"IDAT"))
    with pytest.raises(ImageReadError, match=r"text_first.png': corrupt \(CRC mismatch in tEXt\)$"):
        kmseg.read_image(path)
    with kmseg.config_context(lenient=True):
        with pytest.raises(ImageReadError, match=r"mismatch in tEXt; the decoder refuses it, even leniently"):
            kmseg.read_image(path)


@pytest.mark.parametrize("depth", [8, 16])
def test_png_adler32_mismatch_is_refused_by_zlib(tmp_path, depth):
    """The zlib stream's own checksum: the chunks' CRCs right, the stream's last byte wrong."""
    arr = quadrants(30, 40) if depth == 8 else RGB16
    chunks = _png_chunks(encoded(arr, "PNG") if depth == 8 else png_bytes(arr))
    stream = bytearray(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stream[-1] ^= 1
    rest = [c for c in chunks if c[0] != b"IDAT"]
    path = tmp_path / "adler.png"
    path.write_bytes(_png_of(rest[:1] + [(b"IDAT", bytes(stream))] + rest[1:]))
    for lenient in (False, True):
        with kmseg.config_context(lenient=lenient):
            with pytest.raises(ImageReadError, match="adler.png': corrupt"):
                kmseg.read_image(path)


def test_lenient_is_a_boolean():
    with pytest.raises(KmsegError, match="lenient='yes' must be True or False"):
        kmseg.set_config(lenient="yes")
    assert kmseg.get_config()["lenient"] is False


def test_strict_applies_pillows_bomb_warning(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((40, 50), np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert kmseg.read_image(path).shape == (40, 50)  # max_pixels alone decides
    with kmseg.config_context(strict=True):
        with pytest.raises(ImageReadError, match="possible decompression bomb .50x40 = 2,000 pixels"):
            kmseg.read_image(path)
    assert Image.MAX_IMAGE_PIXELS == 1000


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_max_pixels_alone_decides_for_tiff(tmp_path, monkeypatch, mode):
    """Pillow checks a TIFF's size again when it loads it (not only at open): an
    image under max_pixels but over Pillow's limit is still read, RGB or grey."""
    path = tmp_path / "big.tif"
    shape = (40, 50) if mode == "L" else (40, 50, 3)
    Image.fromarray(np.full(shape, 7, np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 300)  # 2,000 pixels: over twice the limit
    assert kmseg.read_image(path).shape == shape
    assert Image.MAX_IMAGE_PIXELS == 300
    with kmseg.config_context(max_pixels=1999):
        with pytest.raises(ImageReadError, match="too large"):
            kmseg.read_image(path)


def test_tiff_samples_count_towards_the_size_limit(tmp_path):
    """Every sample of a page is decoded before the extra ones are dropped: a small
    file of many samples per pixel must not decode into memory max_pixels allows not."""
    import tifffile

    path = tmp_path / "many.tif"
    tifffile.imwrite(path, np.zeros((200, 100, 100), np.float32), planarconfig="separate",
                     photometric="rgb", compression="zlib")  # RGB and 197 extra samples
    assert kmseg.read_image(path).shape == (100, 100, 4)  # extra samples beyond RGBA dropped
    with kmseg.config_context(max_pixels=100 * 100 * 10):
        with pytest.raises(ImageReadError, match="many.tif': too large .* 200 samples"):
            kmseg.read_image(path)


def test_strict_applies_pillows_bomb_warning_to_tiffs_pillow_cannot_open(tmp_path, monkeypatch):
    import tifffile

    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, np.zeros((3, 40, 50), np.float32), planarconfig="separate", photometric="rgb")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert kmseg.read_image(path).shape == (40, 50, 3)
    with kmseg.config_context(strict=True):
        with pytest.raises(ImageReadError, match="possible decompression bomb .50x40 = 2,000 pixels"):
            kmseg.read_image(path)


def test_modes_keep_their_precision(corpus):
    folder, _, _ = corpus
    read = kmseg.read_image
    np.testing.assert_array_equal(read(folder / "rgb16.png"), RGB16)
    np.testing.assert_array_equal(read(folder / "rgb16.tif"), RGB16)
    assert read(folder / "rgba16.png").dtype == np.uint16 and read(folder / "rgba16.png").shape == (6, 7, 4)
    assert read(folder / "grey16.png").dtype == np.uint16 and read(folder / "grey16.png").max() == 58000
    assert read(folder / "la.png").shape == (5, 6, 2)
    assert read(folder / "cmyk.jpg").shape == (24, 32, 3)
    assert set(np.unique(read(folder / "bilevel.png"))) == {0, 255}
    rotated = read(folder / "exif_rotated.jpg")
    assert rotated.shape == (40, 20, 3)  # EXIF orientation applied: the red half is now on top
    assert rotated[5, 10, 0] > 200 and rotated[35, 10, 0] < 50
    fl = read(folder / "float.tif")
    assert fl.dtype.kind == "f" and fl.min() == 0 and fl.max() == 1  # rescaled to [0, 1]
    assert read(folder / "int32.tif").max() == 1.0
    np.testing.assert_array_equal(read(folder / "planar_float.tif"), np.moveaxis(PLANAR, 0, -1))
    assert read(folder / "palette_alpha.png").shape == (12, 16, 4)
    with pytest.warns(KmsegWarning, match="has 3 frames; only the first"):
        assert read(folder / "frames.gif").shape == (10, 12, 3)
    frames = read(folder / "frames.gif", frames="all")
    assert [int(f[0, 0, 0]) for f in frames] == [0, 120, 240]
    assert len(read(folder / "pages.tif", frames="all")) == 2


def test_sixteen_bit_recolour_out(tmp_path, corpus):
    folder, _, _ = corpus
    seg = kmseg.segment(folder / "grey16.png", 3)
    out = seg.recolor()
    assert out.dtype == np.uint16 and out.ndim == 2
    assert len(np.unique(out)) == 3
    assert main(["quantize", str(folder / "rgb16.png"), "-n", "2", "-o", str(tmp_path / "q.png")]) == 0
    q = kmseg.read_image(tmp_path / "q.png")
    assert q.dtype == np.uint16 and len(np.unique(q.reshape(-1, 3), axis=0)) == 2
    assert kmseg.quantize(np.full((2, 2), 0.25), 1).image.dtype == np.float32


def test_grey_alpha_recolour_saved_to_any_format(tmp_path):
    la = np.dstack([np.arange(48, dtype=np.uint8).reshape(6, 8) * 5, np.full((6, 8), 255, np.uint8)])
    la[0, 0, 1] = 0
    for ext in ("png", "tif", "jpg", "webp", "bmp"):
        out = tmp_path / f"q.{ext}"
        assert main(["quantize", "--n-colors", "2", "-o", str(out), str(_saved(tmp_path, la))]) == 0
        back = kmseg.read_image(out)
        assert back.shape[:2] == (6, 8)
        assert (back.ndim == 3 and back.shape[2] in (2, 4)) == (ext in ("png", "tif", "webp"))


def _saved(folder, arr):
    path = folder / "la.png"
    Image.fromarray(arr).save(path)
    return path


@pytest.mark.parametrize("arr, key", [
    (np.array([[0, 7, 9]], np.uint8), 7),
    (np.array([[0, 700, 900]], np.uint16), 700),
    (np.array([[[0, 0, 0], [1, 2, 3], [9, 9, 9]]], np.uint8), (1, 2, 3)),
])
def test_colour_key_transparency_becomes_alpha(tmp_path, arr, key):
    path = tmp_path / "key.png"
    Image.fromarray(arr).save(path, transparency=key)
    seg = kmseg.segment(path, 2)
    assert seg.mask.tolist() == [[True, False, True]] and seg.labels[0, 1] == 2


@pytest.mark.parametrize("where", ["write", "replace"])
def test_full_disk_leaves_no_partial_file(tmp_path, monkeypatch, capsys, where):
    from kmseg.io import _write

    src = tmp_path / "in.png"
    Image.fromarray(quadrants()).save(src)
    out = tmp_path / "out"
    out.mkdir()
    (out / "in_labels.png").write_bytes(b"old")  # an earlier result stays whole
    enospc = OSError(errno.ENOSPC, "No space left on device")
    if where == "write":
        class FillingFile(io.FileIO):
            def write(self, data):  # half the file is on disk when the disk fills
                super().write(bytes(data)[: len(data) // 2])
                raise enospc

        def open_filling(path, mode="r", *args, **kwargs):
            return FillingFile(path, mode.replace("b", "")) if "w" in mode and "b" in mode else open(
                path, mode, *args, **kwargs)

        monkeypatch.setattr(_write, "open", open_filling, raising=False)
    else:
        def replace(a, b):
            raise enospc

        monkeypatch.setattr(_write.os, "replace", replace)
    code = main(["segment", str(src), "-k", "2", "-o", str(out)])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 1
    assert "in_labels.png': cannot write (No space left on device)" in line
    assert sorted(os.listdir(out)) == ["in_labels.png"] and (out / "in_labels.png").read_bytes() == b"old"


def test_unwritable_output_reported_before_any_work(tmp_path, monkeypatch, capsys):
    import tempfile

    src = tmp_path / "in.png"
    Image.fromarray(quadrants()).save(src)
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and os.path.abspath(dir) == str(locked):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    called = []
    from kmseg.pipeline import _prepare

    monkeypatch.setattr(_prepare.Prepared, "__init__", lambda *a, **k: called.append(1))
    for argv, message in [
        (["segment", str(src), "-o", str(locked)], "output folder"),
        (["quantize", str(src), "-o", str(locked / "q.png")], "is not writable (Permission denied)"),
        (["quantize", str(src), "-o", str(tmp_path)], "is a folder, not an output file"),
        (["palette", str(src), "-o", str(src)], "output exists and is not a folder"),
        (["elbow", str(src), "-o", str(locked / "e.png")], "is not writable"),
    ]:
        assert main(argv) == 1
        assert message in _one_error_line(capsys.readouterr().err)
    assert called == [] and os.listdir(locked) == []


BOMB_SCRIPT = """
import resource, sys, time
import kmseg
from kmseg.io._read import read_path
read_path(sys.argv[2])  # warm: imports and first decode
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    read_path(sys.argv[1])
except kmseg.ImageReadError as exc:
    print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, exc)
"""


def test_bomb_refused_fast_in_little_memory(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png())
    small = tmp_path / "small.png"
    Image.fromarray(quadrants()).save(small)
    proc = subprocess.run([sys.executable, "-c", BOMB_SCRIPT, str(bomb), str(small)],
                          capture_output=True, text=True, timeout=120)
    seconds, extra_kib, message = proc.stdout.split(" ", 2)
    assert "too large (100000x100000 = 10,000,000,000 pixels" in message
    assert float(seconds) < 1.0  # measured well under 0.01 s; the margin is for a shared machine
    assert int(extra_kib) < 200 * 1024  # peak resident memory grows by less than 200 MB


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP"])
def test_mutated_files_never_escape_as_other_errors(tmp_path, fmt):
    """Random bytes overwritten anywhere in a small file: decoded, or one KmsegError naming it."""
    from PIL import ImageFile

    data = encoded(quadrants(16, 20), fmt)
    rng = np.random.default_rng(sum(map(ord, fmt)))
    path = tmp_path / f"x.{fmt.lower()}"
    outcomes = {"read": 0, "refused": 0}
    for _ in range(60):
        broken = bytearray(data)
        at = int(rng.integers(0, len(broken)))
        broken[at:at + int(rng.integers(1, 9))] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()[:8]
        path.write_bytes(bytes(broken[:len(data)]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KmsegWarning)
            try:
                kmseg.read_image(path)
                outcomes["read"] += 1
            except KmsegError as exc:  # any other exception fails the test
                assert str(exc).startswith(repr(str(path))) and "\n" not in str(exc), exc
                outcomes["refused"] += 1
    assert sum(outcomes.values()) == 60
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
