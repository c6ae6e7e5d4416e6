"""The PNG reader and writers (kmseg.io._png, the label maps of kmseg.io._write): the
unfilter kernel against its twin, 16-bit and interlaced files, IDAT chunks, and label
maps read back exactly by other readers."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import kmseg
from kmseg.io._png import _chunk, png_bytes, read_png16, unfilter_rows

from images import RGB16
from naive import naive_unfilter


def test_png_unfilter_kernel_matches_naive_twin():
    rng = np.random.default_rng(3)
    h, stride, bpp = 9, 24, 6
    raw = rng.integers(0, 256, h * (stride + 1)).astype(np.uint8)
    raw[:: stride + 1] = rng.integers(0, 5, h)  # every filter type
    out = np.empty((h, stride), np.uint8)
    assert unfilter_rows(raw, h, stride, bpp, out) == -1
    np.testing.assert_array_equal(out, naive_unfilter(raw.tolist(), h, stride, bpp))
    raw[stride + 1] = 7
    assert unfilter_rows(raw, h, stride, bpp, out) == 1  # the row of a bad filter type


def _interlaced_png16(arr):
    """A naive Adam7 encoder: each pass's pixels, row by row, filter type 0."""
    h, w, c = arr.shape
    raw = b""
    for r0, c0, dr, dc in [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2),
                           (0, 1, 2, 2), (1, 0, 2, 1)]:
        sub = arr[r0::dr, c0::dc]
        if sub.size:
            for row in sub:
                raw += b"\x00" + row.astype(">u2").tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, 16, {3: 2, 4: 6}[c], 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw))
            + _chunk(b"IEND", b""))


@pytest.mark.parametrize("shape", [(6, 7, 3), (1, 1, 4), (9, 2, 3), (17, 13, 4)])
def test_interlaced_png16_is_read_at_16_bits(tmp_path, shape):
    arr = np.random.default_rng(1).integers(0, 65536, shape).astype(np.uint16)
    path = tmp_path / "adam7.png"
    path.write_bytes(_interlaced_png16(arr))
    with Image.open(path) as im:
        assert im.info.get("interlace") == 1  # Pillow reads it too (at 8 bits)
    np.testing.assert_array_equal(kmseg.read_image(path), arr)


def test_png_split_into_idat_chunks_reads_back(monkeypatch):
    from kmseg.io import _png

    monkeypatch.setattr(_png, "IDAT_BYTES", 100)  # many chunks, one zlib stream
    data = png_bytes(RGB16)
    assert data.count(b"IDAT") >= 3
    np.testing.assert_array_equal(read_png16(data), RGB16)
    labels = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    with Image.open(io.BytesIO(png_bytes(labels))) as im:
        np.testing.assert_array_equal(np.asarray(im), labels)


def test_png16_round_trip_and_checks():
    data = png_bytes(RGB16)
    np.testing.assert_array_equal(read_png16(data), RGB16)
    with pytest.raises(ValueError, match="truncated"):
        read_png16(data[:-20])
    broken = bytearray(data)
    broken[60] ^= 0xFF
    with pytest.raises(ValueError, match="corrupt"):
        read_png16(bytes(broken))


@pytest.mark.parametrize("n_labels,transparent", [(5, None), (5, 5), (300, None), (300, 300)])
def test_label_png_is_read_back_exactly(tmp_path, n_labels, transparent):
    """Label maps (8 or 16 bits, with a transparent label or not), written by the
    run-length PNG writer, read back equal by Pillow and by scikit-image."""
    from skimage.io import imread

    from kmseg.io._write import label_png, save_labels

    rng = np.random.default_rng(8)
    labels = np.repeat(rng.integers(0, n_labels + (transparent is not None), size=(37, 9)), 7, axis=1)
    path = tmp_path / "labels.png"
    save_labels(path, labels, n_labels, transparent)
    assert path.read_bytes() == label_png(labels, n_labels, transparent)
    with Image.open(path) as im:
        assert im.mode == ("L" if n_labels <= 256 else "I;16")
        assert im.info.get("transparency") == transparent
        np.testing.assert_array_equal(np.asarray(im), labels)
    assert label_png(labels.T, n_labels, transparent) == label_png(labels.T.copy(), n_labels, transparent)
    with Image.open(path) as im:
        assert im.info.get("transparency") == transparent
        np.testing.assert_array_equal(np.asarray(im), labels)
    np.testing.assert_array_equal(imread(path), labels)
