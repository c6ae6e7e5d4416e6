"""Inputs that fuzzing the readers (``benchmarks/fuzz_read.py``, issue 17) turned up, each
minimized and rebuilt here, and a few found reading the code beside it (their docstrings
say so): every one is now kmseg's own error naming the file and why, within bounded memory.
The TIFF files are written by hand (one IFD, entries as given), so that each keeps the
single fault the fuzzer found."""

import importlib.util
import os
import re
import struct
import subprocess
import sys
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest

import kmseg
from kmseg import ImageReadError, KmsegError
from kmseg.io import read_bytes, read_palette
from kmseg.io._bands import TiffBands
from kmseg.io._png import _SIGNATURE, PNGError, _chunk, read_png16

PIXELS = "pixels"  # an entry value standing for the offset of the pixel data

_FORMATS = {3: "H", 4: "I", 7: "B", 11: "f", 16: "Q"}  # SHORT, LONG, UNDEFINED, FLOAT, LONG8

#: A 2 x 2 8-bit grey image in one strip: tag -> (TIFF type, values).
GREY = {256: (3, [2]), 257: (3, [2]), 258: (3, [8]), 259: (3, [1]), 262: (3, [1]), 273: (4, [PIXELS]),
        277: (3, [1]), 278: (3, [2]), 279: (4, [4])}


def _peak_raising(call, error, match):
    """The peak traced memory (bytes) of ``call()``, which must raise ``error`` matching ``match``."""
    tracemalloc.start()
    try:
        with pytest.raises(error, match=match):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

def tiff_file(entries, pixels=b"\x00\x40\x80\xff", big=False):
    """A little-endian TIFF (BigTIFF with ``big``) of one IFD holding ``entries``, then the
    values that do not fit in an entry, then ``pixels``."""
    head, entry_size, inline = (16, 20, 8) if big else (8, 12, 4)
    tags = sorted(entries)
    ifd_size = (8 if big else 2) + entry_size * len(tags) + (8 if big else 4)
    sizes = [len(entries[t][1]) * struct.calcsize(_FORMATS[entries[t][0]]) for t in tags]
    at = head + ifd_size + sum(s for s in sizes if s > inline)  # where the pixels go
    ifd = struct.pack("<Q" if big else "<H", len(tags))
    extra = b""
    for tag, size in zip(tags, sizes):
        kind, values = entries[tag]
        blob = struct.pack(f"<{len(values)}{_FORMATS[kind]}", *(at if v == PIXELS else v for v in values))
        if size > inline:
            blob, extra = struct.pack("<Q" if big else "<I", head + ifd_size + len(extra)), extra + blob
        ifd += struct.pack("<HHQ" if big else "<HHI", tag, kind, len(values)) + blob.ljust(inline, b"\0")
    ifd += bytes(8 if big else 4)
    header = b"II+\x00\x08\x00\x00\x00" + struct.pack("<Q", head) if big else b"II*\x00" + struct.pack("<I", head)
    return header + ifd + extra + pixels


def _bands(tmp_path, data):
    path = tmp_path / "fuzz.tif"
    path.write_bytes(data)
    with TiffBands(path) as tb:
        return [band.copy() for _, band in tb.bands()]


def _refused(tmp_path, data, reason):
    """TiffBands refuses ``data`` with one error naming the file, once, and ``reason``."""
    with pytest.raises(ImageReadError, match=f"^{re.escape(repr(str(tmp_path / 'fuzz.tif')))}: {reason}") as info:
        _bands(tmp_path, data)
    assert str(info.value).count("fuzz.tif") == 1
    return str(info.value)


def test_hand_written_tiff_reads_back(tmp_path):
    """The builder's base file is a good TIFF: the tests below each change one thing."""
    np.testing.assert_array_equal(_bands(tmp_path, tiff_file(GREY))[0], [[0, 64], [128, 255]])
    np.testing.assert_array_equal(kmseg.read_image(tmp_path / "fuzz.tif"), [[0, 64], [128, 255]])
    big = tiff_file({**GREY, 273: (16, [PIXELS]), 279: (16, [4])}, big=True)
    np.testing.assert_array_equal(_bands(tmp_path, big)[0], [[0, 64], [128, 255]])


@pytest.mark.parametrize("entries,reason", [
    # fewer strips than rows of strips (was IndexError on the byte counts, then on the offsets)
    ({278: (3, [1]), 273: (4, [PIXELS]), 279: (4, [2])}, r"corrupt TIFF \(1 strip or tile offsets and 1 byte counts, "
                                                         r"for an image of 2 strips or tiles\)"),
    ({278: (3, [1]), 273: (4, [PIXELS]), 279: (4, [2, 2])}, r"corrupt TIFF \(1 strip or tile offsets and 2 byte"),
    # a strip's byte count far past the end of the file (was a read of 4 GB: a MemoryError under the
    # fuzzer's 1 GB bound, and without it the short strip read silently)
    ({279: (4, [0xFFFF_FFFF])}, r"truncated or corrupt TIFF \(strip or tile 0 of 4,294,967,295 bytes at 122 runs "
                                r"past the end of the file, 126 bytes\)"),
    # a photometric value tifffile does not name (was AttributeError: 'int' object has no attribute 'name')
    ({262: (3, [99])}, "strip reading handles 8-bit grey or RGB.A. TIFF, not photometric 99"),
    # the width stored as an undefined byte (was ValueError: invalid literal for int(): b'\x07')
    ({256: (7, [7])}, r"corrupt or unreadable TIFF \("),
    # samples per pixel given twice (was tifffile's TypeError comparing a tuple with an int)
    ({277: (3, [1, 1])}, r"corrupt or unreadable TIFF \("),
    ({256: (3, [0])}, r"corrupt TIFF \(an image of 0x2 pixels\)"),  # was refused too, as "empty image"
    # byte counts stored as floats (was TypeError: argument should be integer or None, not 'float')
    ({279: (11, [4.0])}, r"corrupt TIFF \(strip or tile 0 has offset 122 and byte count 4.0, not integers\)"),
    # no rows per strip (was ZeroDivisionError in tifffile's decoder, built as the first band was read)
    ({278: (3, [0])}, r"corrupt or unreadable TIFF \(division by zero\)"),
])
def test_tiff_bands_refuse_broken_layouts(tmp_path, entries, reason):
    _refused(tmp_path, tiff_file({**GREY, **entries}), reason)


def test_tiff_bands_refuse_a_bigtiff_byte_count_beyond_an_index(tmp_path):
    """A BigTIFF strip of 2**64 - 193 bytes: was OverflowError (cannot fit 'int' into an index-sized integer)."""
    data = tiff_file({**GREY, 273: (16, [PIXELS]), 279: (16, [2 ** 64 - 193])}, big=True)
    _refused(tmp_path, data, r"truncated or corrupt TIFF \(strip or tile 0 of 18,446,744,073,709,551,423 bytes")


def test_tiff_bands_refuse_a_file_cut_inside_its_header(tmp_path):
    """Seven bytes: was struct.error (unpack requires a buffer of 4 bytes) from tifffile."""
    _refused(tmp_path, b"II*\x00\x08\x00\x00", r"corrupt or unreadable TIFF \(")


def test_tiff_bands_refusal_names_the_file_once(tmp_path):
    """A layout the band reader does not handle is one refusal, not a 'corrupt' one wrapping another."""
    message = _refused(tmp_path, tiff_file({**GREY, 258: (3, [16]), 279: (4, [8])}, bytes(8)),
                       "strip reading handles 8-bit grey or RGB.A. TIFF, not 16-bit samples")
    assert "corrupt" not in message


def test_tiff_strip_starting_past_the_end_is_refused_before_pillow_reads_up_to_it():
    """Found as memory past the fuzzer's 1 GB bound: Pillow reads a TIFF strip up to the next
    strip's offset, so a second strip said to start at 1 GiB asked for a 1 GiB buffer (the
    file is 142 bytes), before failing as truncated."""
    data = tiff_file({**GREY, 278: (3, [1]), 273: (4, [PIXELS, 1 << 30]), 279: (4, [2, 2])})
    peak = _peak_raising(lambda: read_bytes(data), ImageReadError,
                         r"^'upload': truncated or corrupt \(a strip or tile starts "
                         r"past the end of the file\)$")
    assert peak < 16 << 20


@pytest.mark.parametrize("offset", [PIXELS, 1 << 20])
def test_tiff_strip_running_past_the_end_is_refused_before_tifffile_reads_its_byte_count(offset):
    """Found as memory past the fuzzer's 1 GB bound: tifffile (which reads 16-bit colour, float and
    planar TIFF here) asks for a strip's whole byte count, 1 GiB, from within the file or past it."""
    rgb16_zlib = {258: (3, [16, 16, 16]), 259: (3, [8]), 262: (3, [2]), 277: (3, [3])}
    data = tiff_file({**GREY, **rgb16_zlib, 273: (4, [offset]), 279: (4, [1 << 30])})
    peak = _peak_raising(lambda: read_bytes(data), ImageReadError,
                         r"^'upload': truncated or corrupt \(a strip or tile runs "
                         r"past the end of the file\)$")
    assert peak < 16 << 20


def test_tiff_of_many_strips_with_few_offsets_is_refused_before_tifffile_decodes_them():
    """Found as a run past 1 s (4.7 s for 206 bytes): tifffile decodes every strip an image's
    header implies, present or not (as zeros), some 30 us each; 100,000 rows of one-row strips
    with one strip offset (139 bytes) took 2 s, and max_pixels allows thousands of times more."""
    rgb16_zlib = {258: (3, [16, 16, 16]), 259: (3, [8]), 262: (3, [2]), 277: (3, [3])}
    strip = zlib.compress(bytes(12))  # the first row
    data = tiff_file({**GREY, **rgb16_zlib, 257: (4, [100_000]), 278: (3, [1]), 279: (4, [len(strip)])}, strip)
    with pytest.raises(ImageReadError, match=r"^'upload': corrupt \(1 strip or tile offsets and 1 byte counts, "
                                             r"for an image of 100,000 strips or tiles\)$"):
        read_bytes(data)


def bomb_gif(w=65535, h=65535):
    """A 37-byte GIF: a 6 x 6 screen, then a frame of ``w x h`` whose disposal is 'restore to background'."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 6, 6, 0, 0, 0)
    control = b"!\xf9\x04" + bytes([2 << 2]) + b"\x00\x00\x00\x00"
    frame = b"," + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02\x02\x44\x01\x00"
    return screen + control + frame + b";"


#: Read bytes (hex, argv[1]) with the address space capped at 1 GB over the child's size at start.
CAPPED_READ = """
import resource, sys
from kmseg.io import read_bytes
with open("/proc/self/statm") as fh:
    size = int(fh.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (size + (1 << 30),) * 2)
try:
    read_bytes(bytes.fromhex(sys.argv[1]))
except Exception as exc:
    print(exc)
"""


def test_gif_frame_beyond_its_screen_is_refused_before_pillow_fills_it():
    """Found as memory past the fuzzer's 1 GB bound (4 GB and 19 s for its 283-byte file): opening
    a GIF, Pillow grows the canvas to the first frame's extent and fills that frame's disposal area,
    checked only against its own limit, which kmseg lifted while it opened files. The child reports
    kmseg's 'too large', not 'out of memory'."""
    out = subprocess.run([sys.executable, "-c", CAPPED_READ, bomb_gif().hex()], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.startswith("'upload': too large (Image size (4294836225 pixels) exceeds limit of"), out
    config = kmseg.get_config()
    try:
        kmseg.set_config(max_pixels=1000)  # kmseg's limit is the one kept: Pillow refuses above twice it
        with pytest.raises(ImageReadError, match=r"too large \(Image size \(2500 pixels\) exceeds limit of 2000"):
            read_bytes(bomb_gif(50, 50))
    finally:
        kmseg.set_config(max_pixels=config["max_pixels"])


#: The fuzzer's 26-byte PNG: a signature and an IHDR chunk cut off after 6 of its 13 bytes.
SHORT_IHDR = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x00\x00\x00|y\x9cC"


def test_png16_decoder_refuses_a_header_cut_short():
    """Was struct.error (unpack requires a buffer of 13 bytes)."""
    with pytest.raises(PNGError, match=r"^truncated \(the file ends inside the IHDR chunk\)$"):
        read_png16(SHORT_IHDR)
    with pytest.raises(ImageReadError, match="^'upload': "):
        read_bytes(SHORT_IHDR)


@pytest.mark.parametrize("w,h", [(1, 0), (0, 1), (0, 0)])
def test_png16_decoder_refuses_an_empty_image_before_inflating(w, h):
    """Found reading the decoder beside the fuzzer: a header of zero pixels made zlib's bound
    ``max_length=0``, which is no bound; 64 MB of zeros in 64 kB of IDAT were inflated whole."""
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    data = _SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(bytes(64 << 20), 9)) \
        + _chunk(b"IEND", b"")
    peak = _peak_raising(lambda: read_png16(data), PNGError,
                         rf"^corrupt \(the IHDR chunk gives a {w}x{h} image\)$")
    assert peak < 4 << 20
    with pytest.raises(ImageReadError, match="^'upload': "):
        read_bytes(data)


def _two_headers(w, h):
    """A 16-bit RGB PNG whose pixels and first IHDR are ``w x h``, and whose second IHDR says 4 x 3."""
    first, second = (struct.pack(">IIBBBBB", *size, 16, 2, 0, 0, 0) for size in ((w, h), (4, 3)))
    raw = b"".join(b"\x00" + bytes(6 * w) for _ in range(h))
    return (_SIGNATURE + _chunk(b"IHDR", first) + _chunk(b"IHDR", second) + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b""))


def test_png16_a_second_header_cannot_pass_the_size_check():
    """Found as a timeout: Pillow takes a PNG's last IHDR, the 16-bit decoder its first. kmseg checked
    Pillow's size (4 x 3) against max_pixels, then decoded the first header's 600 x 600 (in 2 kB)."""
    data = _two_headers(600, 600)
    assert len(data) < 3000
    config = kmseg.get_config()
    try:
        kmseg.set_config(max_pixels=1000)
        with pytest.raises(ImageReadError, match=r"^'upload': corrupt \(a second IHDR chunk\)$"):
            read_bytes(data)  # the message names the upload, not the temporary file it was spilled to
    finally:
        kmseg.set_config(max_pixels=config["max_pixels"])
    with pytest.raises(PNGError, match="second IHDR"):
        read_png16(data)


@pytest.mark.parametrize("text,reason", [  # found reading the code, and fixed before the fuzzer ran
    ("[" * 100_000, r"not a palette \(JSON nested too deeply\)"),  # was RecursionError
    ("[[" + "1" * 5000 + ", 0, 0]]", r"not a palette \(a number in it has thousands of digits\)"),  # was ValueError
])
def test_json_palette_refuses_what_json_cannot_hold(tmp_path, text, reason):
    path = tmp_path / "fuzz.json"
    path.write_text(text)
    with pytest.raises(KmsegError, match=f"^{re.escape(repr(str(path)))}: {reason}$"):
        read_palette(path)


def _fuzz_read():
    path = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "fuzz_read.py")
    spec = importlib.util.spec_from_file_location("fuzz_read", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("target", ["read_bytes", "png16", "tiff_bands", "palette"])
def test_fuzz_harness_seeds_give_results_or_clean_errors(tmp_path, monkeypatch, target):
    """The fuzzer's seed corpus through its targets (without atheris): each seed is a result or kmseg's error."""
    fuzz = _fuzz_read()
    monkeypatch.setattr(fuzz, "ROOT", str(tmp_path))
    harness = fuzz.Harness(target, False, str(tmp_path), os.devnull)
    config = kmseg.get_config()
    try:
        kmseg.set_config(max_pixels=1 << 22)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # what the readers warn about is no finding
            for data in fuzz.SEEDS[target]().values():
                harness(data)
        assert harness.counts.get("result", 0) >= 4
    finally:
        kmseg.set_config(max_pixels=config["max_pixels"])
