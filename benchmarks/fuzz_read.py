"""Fuzzing kmseg's readers with atheris (issue 17): coverage-guided, one target a run. Not run in CI.

    pip install atheris
    python benchmarks/fuzz_read.py --target read_bytes -atheris_runs=300000 -max_total_time=1800
    python benchmarks/fuzz_read.py --target png16 --keep-going -max_total_time=600
    python benchmarks/fuzz_read.py --target tiff_bands
    python benchmarks/fuzz_read.py --target palette
    python benchmarks/fuzz_read.py --target png16 --replay CRASH_FILE...   # rerun inputs, no fuzzing

Targets:

- ``read_bytes``: :func:`kmseg.io.read_bytes` on arbitrary bytes (the upload path: Pillow, tifffile,
  kmseg's checks); an input's CRC-32 picks strict mode and ``frames='all'`` for a quarter of them each,
  so that a saved input replays the same way (and ``lenient``, where kmseg has it, for half of them).
- ``png16``: :func:`kmseg.io._png.read_png16`, kmseg's own 16-bit PNG decoder and its unfilter kernel;
  Pillow must see the same size (kmseg checks Pillow's against ``max_pixels``) and, where it decodes
  the file, the same pixels (Pillow keeps the high byte of each sample).
- ``tiff_bands``: :class:`kmseg.io._bands.TiffBands` (the strip and tile reader of big images) on the
  bytes written to a file, every band read.
- ``palette``: :func:`kmseg.io.read_palette`; the first byte picks the extension (``.gpl``, ``.json``,
  ``.hex``, ``.txt``), the rest is the file.

Every input must give a result or kmseg's own error (:class:`~kmseg.KmsegError`, which
:class:`~kmseg.ImageReadError` subclasses; for ``png16`` the decoder's ``PNGError``, which the reader
turns into an ImageReadError). Anything else is a finding: another exception, a crash of a compiled
decoder, a run past ``-timeout`` (1 s here unless told), or memory past the bound: the address space
is capped at the process's size at start plus ``--memory-mb`` (1024) with ``resource.setrlimit``, and
an allocation past it (a MemoryError, or the reader's "out of memory" error) is a finding. The harness
sets ``max_pixels`` to ``--max-pixels`` (4 Mi), so that what a header may ask for is bounded and
memory past the bound means a size check was missed.

The corpus is ``/tmp/kmseg-fuzz/corpus/TARGET`` (``--corpus``), seeded with small generated files when
empty: PNG at 8 and 16 bits, grey, grey+alpha, RGB, RGBA, palette, interlaced, every filter type; JPEG,
GIF, BMP, TIFF (strips, tiles, planar, compressed, several pages) and a few broken ones; palettes of each
format. PNG inputs are mutated structure-aware (the pixel stream inflated, mutated and deflated again,
header fields, chunks dropped or repeated, CRCs mended) as well as byte by byte. Arguments that start
with ``-`` and are not the ones above go to libFuzzer (``-atheris_runs=N``, ``-max_total_time=S``,
``-timeout=S``, ``-max_len=N``...). libFuzzer writes crash and timeout inputs to
``/tmp/kmseg-fuzz/findings/TARGET/``; with ``--keep-going`` an unexpected exception is saved there with
its traceback (one file per distinct exception and place) and fuzzing goes on. Every 10 s
``/tmp/kmseg-fuzz/TARGET-stats.json`` holds the executions, exec/s and the outcomes
(results, kmseg's errors, and which decoder exceptions kmseg's errors wrapped); libFuzzer's
final ``stat::`` lines give the totals.
"""

import argparse
import hashlib
import importlib
import io
import json
import os
import random
import struct
import sys
import tempfile
import time
import traceback
import warnings
import zlib

if __name__ == "__main__":  # one thread on a shared machine, and a smaller address space (not on import)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402  (loaded before instrumenting: NumPy is not fuzzed)

ROOT = "/tmp/kmseg-fuzz"
TARGETS = ("read_bytes", "png16", "tiff_bands", "palette")
PALETTE_EXTS = (".gpl", ".json", ".hex", ".txt")
_PNG_SIG = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- seeds
def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(arr, depth, ctype, interlace=False, rng=None, extra=()):
    """PNG bytes of ``arr`` (H, W, C) with random filter types per row (any bytes are a valid
    filtered stream; the pixels decoded are then not ``arr``, which seeds do not need)."""
    h, w, c = arr.shape
    rng = rng or random.Random(0)
    passes = [(0, 0, 1, 1)] if not interlace else [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4),
                                                   (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]
    raw = b""
    for r0, c0, dr, dc in passes:
        sub = arr[r0::dr, c0::dc]
        for row in sub if sub.size else ():
            raw += bytes([rng.randrange(5)]) + row.astype(">u2" if depth == 16 else np.uint8).tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, int(interlace))
    return (_PNG_SIG + _chunk(b"IHDR", ihdr) + b"".join(extra) + _chunk(b"IDAT", zlib.compress(raw))
            + _chunk(b"IEND", b""))


def _pil(arr, fmt, **options):
    from PIL import Image

    buf = io.BytesIO()
    im = arr if isinstance(arr, Image.Image) else Image.fromarray(arr)
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


def _tiff(arr, **options):
    import tifffile

    buf = io.BytesIO()
    tifffile.imwrite(buf, arr, **options)
    return buf.getvalue()


def png_seeds():
    rng = np.random.default_rng(0)
    out = {}
    for depth in (8, 16):
        for ctype, c in ((0, 1), (4, 2), (2, 3), (6, 4)):
            for interlace in (False, True):
                arr = rng.integers(0, 2 ** depth, (5, 7, c))
                out[f"png{depth}-c{ctype}-i{int(interlace)}.png"] = _png(arr, depth, ctype, interlace,
                                                                        random.Random(depth + ctype))
    out["png16-c2-1x1.png"] = _png(rng.integers(0, 65536, (1, 1, 3)), 16, 2)
    out["png16-c2-trns.png"] = _png(rng.integers(0, 65536, (3, 4, 3)), 16, 2,
                                    extra=[_chunk(b"tRNS", struct.pack(">HHH", 1, 2, 3))])
    two = _png(rng.integers(0, 65536, (4, 4, 3)), 16, 2)
    pos, length, _ = _walk_chunks(two)[1]  # the IDAT chunk, split in two
    stream = two[pos + 8:pos + 8 + length]
    out["png16-two-idat.png"] = (two[:pos] + _chunk(b"IDAT", stream[:10]) + _chunk(b"IDAT", stream[10:])
                                 + _chunk(b"IEND", b""))
    out["png8-palette.png"] = _png(rng.integers(0, 4, (6, 6, 1)), 8, 3, extra=[
        _chunk(b"PLTE", bytes(range(12))), _chunk(b"tRNS", b"\x00\x80")])
    out["png-pil-rgb.png"] = _pil(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8), "PNG")
    out["png-pil-grey16.png"] = _pil(rng.integers(0, 65536, (6, 5)).astype(np.uint16), "PNG")
    return out


def image_seeds():
    from PIL import Image

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (8, 10, 3), dtype=np.uint8)
    out = png_seeds()
    out["jpeg.jpg"] = _pil(rgb, "JPEG", quality=80)
    out["jpeg-progressive.jpg"] = _pil(rgb, "JPEG", progressive=True)
    out["jpeg-grey.jpg"] = _pil(rgb[:, :, 0], "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6
    out["jpeg-exif.jpg"] = _pil(rgb, "JPEG", exif=exif.tobytes())
    frames = [Image.fromarray(np.full((6, 6, 3), v, np.uint8)) for v in (0, 128, 255)]
    out["gif.gif"] = _pil(rgb, "GIF")
    out["gif-anim.gif"] = _pil(frames[0], "GIF", save_all=True, append_images=frames[1:])
    out["apng.png"] = _pil(frames[0], "PNG", save_all=True, append_images=frames[1:])
    out["bmp24.bmp"] = _pil(rgb, "BMP")
    out["bmp8.bmp"] = _pil(Image.fromarray(rgb).convert("P"), "BMP")
    out["webp.webp"] = _pil(rgb, "WEBP")
    out.update(tiff_seeds())
    out["tiff-rgb16.tif"] = _tiff(rng.integers(0, 65536, (4, 5, 3)).astype(np.uint16), photometric="rgb")
    out["tiff-float.tif"] = _tiff(rng.random((4, 5, 3)).astype(np.float32), photometric="rgb")
    out["tiff-pages.tif"] = _tiff(rng.integers(0, 256, (3, 4, 5), dtype=np.uint8), photometric="minisblack")
    good = out["png-pil-rgb.png"]
    out["broken-truncated.png"] = good[:-20]
    out["broken-crc.png"] = good[:40] + bytes([good[40] ^ 0xFF]) + good[41:]
    out["broken-trailing.jpg"] = out["jpeg.jpg"] + b"garbage"
    out["broken-huge-header.png"] = _PNG_SIG + _chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)) \
        + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"")
    out["broken-text.txt"] = b"not an image at all\n"
    return out


def tiff_seeds():
    from kmseg.io._bands import write_tiff

    rng = np.random.default_rng(2)
    grey = rng.integers(0, 256, (9, 7), dtype=np.uint8)
    rgb = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, (9, 7, 4), dtype=np.uint8)
    la = rng.integers(0, 256, (9, 7, 2), dtype=np.uint8)
    out = {
        "tiff-grey.tif": _tiff(grey, rowsperstrip=2),
        "tiff-rgb.tif": _tiff(rgb, photometric="rgb", rowsperstrip=4),
        "tiff-rgba.tif": _tiff(rgba, photometric="rgb", extrasamples=["unassalpha"], rowsperstrip=3),
        "tiff-la.tif": _tiff(la, photometric="minisblack", extrasamples=["unassalpha"]),
        "tiff-planar.tif": _tiff(np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate",
                                 rowsperstrip=4),
        "tiff-tiled.tif": _tiff(np.pad(rgb, ((0, 7), (0, 9), (0, 0))), photometric="rgb", tile=(16, 16)),
        "tiff-zlib.tif": _tiff(rgb, photometric="rgb", compression="zlib", rowsperstrip=3),
        "tiff-lzw.tif": _pil(grey, "TIFF", compression="tiff_lzw"),  # by Pillow: tifffile needs imagecodecs
        "tiff-packbits.tif": _pil(rgb, "TIFF", compression="packbits"),
        "tiff-jpeg.tif": _pil(rgb, "TIFF", compression="jpeg"),
        "tiff-bigtiff.tif": _tiff(grey, bigtiff=True),
        "tiff-be.tif": _tiff(rgb, photometric="rgb", byteorder=">"),
        "tiff-grey16.tif": _tiff(grey.astype(np.uint16) * 257),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "kmseg.tif")
        write_tiff(path, iter([rgb[:4], rgb[4:]]), rgb.shape, np.uint8, rows_per_strip=3)
        with open(path, "rb") as fh:
            out["tiff-kmseg.tif"] = fh.read()
    return out


def palette_seeds():
    def seed(ext, text):
        return bytes([PALETTE_EXTS.index(ext)]) + text.encode()

    record = {"n_clusters": 2, "colors": [{"label": 0, "rgb": [255, 0, 0], "hex": "#ff0000"},
                                          {"label": 1, "hex": "#00f"}]}
    return {
        "gpl.bin": seed(".gpl", "GIMP Palette\nName: two\nColumns: 4\n#\n255   0   0\tred\n  0 0 255 blue\n"),
        "gpl-bad.bin": seed(".gpl", "GIMP Palette\n1 2\n"),
        "json-record.bin": seed(".json", json.dumps(record)),
        "json-list.bin": seed(".json", '["#ff0000", [0, 0, 255], "#abc"]'),
        "json-nested.bin": seed(".json", '{"colors": [[1, 2, 3], {"rgb": [4, 5, 6]}, 7]}'),
        "hex.bin": seed(".hex", "ff0000\n00ff00\n; a comment\n0000ff\n"),
        "txt.bin": seed(".txt", "#ffffff\n#000\n"),
        "latin1.bin": seed(".hex", "") + b"\xff\xfe\x00",
    }


SEEDS = {"read_bytes": image_seeds, "png16": png_seeds, "tiff_bands": tiff_seeds, "palette": palette_seeds}


# ---------------------------------------------------------------- PNG-aware mutation
def _walk_chunks(data):
    """``[(start, length, kind)]`` of a PNG's chunks that fit in ``data``, or None if not a PNG."""
    if not data.startswith(_PNG_SIG):
        return None
    out, pos = [], 8
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if pos + 12 + length > len(data):
            break
        out.append((pos, length, kind))
        pos += 12 + length
    return out


def mend_crcs(data):
    """``data`` with every whole chunk's CRC recomputed."""
    data = bytearray(data)
    for pos, length, kind in _walk_chunks(bytes(data)) or ():
        end = pos + 8 + length
        data[end:end + 4] = struct.pack(">I", zlib.crc32(data[pos + 4:end]))
    return bytes(data)


_INTERESTING = (0, 1, 2, 3, 4, 6, 7, 8, 9, 15, 16, 17, 255, 256, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1)


def mutate_png(data, max_size, seed):
    """A custom libFuzzer mutator: PNG inputs mutated by structure (then CRCs mended), anything else
    (and a quarter of PNGs, CRCs left as they fall) by libFuzzer's byte mutations."""
    import atheris

    rng = random.Random(seed)
    chunks = _walk_chunks(data)
    if not chunks or rng.random() < 0.25:
        return atheris.Mutate(data, max_size)
    how = rng.randrange(4)
    if how == 0:  # bytes mutated, checksums mended
        return mend_crcs(atheris.Mutate(data, max_size))
    body = [(kind, data[pos + 8:pos + 8 + length]) for pos, length, kind in chunks]
    if how == 1:  # the pixel stream inflated, mutated, deflated again
        stream = b"".join(b for k, b in body if k == b"IDAT")
        try:
            raw = zlib.decompressobj().decompress(stream, 1 << 20)
        except zlib.error:
            raw = b""
        raw = atheris.Mutate(raw, max(2 * len(raw), 64))
        comp = zlib.compress(raw, rng.choice((0, 1, 9)))
        cut = rng.randrange(len(comp) + 1) if rng.random() < 0.3 else len(comp)
        idat = [(b"IDAT", comp[:cut]), (b"IDAT", comp[cut:])] if 0 < cut < len(comp) else [(b"IDAT", comp)]
        at = next((i for i, (k, _) in enumerate(body) if k == b"IDAT"), len(body) - 1)
        body = [c for c in body[:at] if c[0] != b"IDAT"] + idat + [c for c in body[at:] if c[0] != b"IDAT"]
    elif how == 2 and body and body[0][0] == b"IHDR" and len(body[0][1]) == 13:  # a header field
        fields = list(struct.unpack(">IIBBBBB", body[0][1]))
        i = rng.randrange(7)
        value = rng.choice(_INTERESTING) if rng.random() < 0.7 else rng.randrange(1, 64)
        fields[i] = value % (2 ** 32 if i < 2 else 256)
        body[0] = (b"IHDR", struct.pack(">IIBBBBB", *fields))
    else:  # a chunk dropped, repeated, moved, or a new one
        i = rng.randrange(len(body))
        op = rng.randrange(4)
        if op == 0 and len(body) > 1:
            del body[i]
        elif op == 1:
            body.insert(rng.randrange(len(body) + 1), body[i])
        elif op == 2:
            body.insert(rng.randrange(len(body) + 1), body.pop(i))
        else:
            kind = rng.choice((b"tRNS", b"PLTE", b"acTL", b"fcTL", b"fdAT", b"gAMA", b"iCCP", b"eXIf", b"sBIT"))
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
            body.insert(rng.randrange(len(body) + 1), (kind, junk))
    out = _PNG_SIG + b"".join(_chunk(k, b) for k, b in body)
    return out[:max_size]


# ---------------------------------------------------------------- targets
class Finding(Exception):
    """An outcome that is not a result nor kmseg's clean error."""


class Harness:
    def __init__(self, target, keep_going, findings_dir, stats_path):
        self.target, self.keep_going = target, keep_going
        self.findings_dir, self.stats_path = findings_dir, stats_path
        self.counts, self.wrapped, self.seen = {}, {}, set()
        self.runs, self.start = 0, time.time()
        self.saved = self.start
        self.work = os.path.join(ROOT, "work", target)
        os.makedirs(self.work, exist_ok=True)

    def _count(self, table, key):
        table[key] = table.get(key, 0) + 1

    def __call__(self, data):
        self.runs += 1
        try:
            getattr(self, "_" + self.target)(data)
            self._count(self.counts, "result")
        except Exception as exc:
            self._judge(exc, data)
        if time.time() - self.saved > 10:
            self.save_stats()

    def _judge(self, exc, data):
        from kmseg import KmsegError
        from kmseg.io._png import PNGError

        clean = isinstance(exc, KmsegError) or (self.target == "png16" and isinstance(exc, PNGError))
        if clean and "out of memory" not in str(exc):
            self._count(self.counts, type(exc).__name__)
            cause = exc.__cause__ or exc.__context__
            if cause is not None:  # a decoder exception that kmseg reported as its own error
                self._count(self.wrapped, f"{type(cause).__module__}.{type(cause).__qualname__}")
            return
        self._count(self.counts, "FINDING " + type(exc).__name__)
        if not self.keep_going:
            raise exc
        inner = exc.__context__ if clean else None  # kmseg's error wrapping the decoder's MemoryError
        frames = traceback.extract_tb((inner or exc).__traceback__)
        where = next((f"{f.filename}:{f.lineno}" for f in reversed(frames) if "kmseg" in f.filename or inner),
                     f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?")
        key = f"{type(exc).__name__}{f' ({type(inner).__name__})' if inner else ''} at {where}"
        if key in self.seen:
            return
        self.seen.add(key)
        name = hashlib.sha1(key.encode()).hexdigest()[:12]
        with open(os.path.join(self.findings_dir, f"finding-{name}"), "wb") as fh:
            fh.write(data)
        with open(os.path.join(self.findings_dir, f"finding-{name}.txt"), "w") as fh:
            fh.write(key + "\n" + "".join(traceback.format_exception(inner or exc)))
        print(f"\nFINDING {key} (input saved as finding-{name})", file=sys.stderr, flush=True)

    def save_stats(self):
        self.saved = time.time()
        elapsed = self.saved - self.start
        stats = {"target": self.target, "executions": self.runs, "seconds": round(elapsed, 1),
                 "exec_per_s": round(self.runs / elapsed, 1) if elapsed else None,
                 "outcomes": self.counts, "wrapped_decoder_exceptions": self.wrapped,
                 "distinct_findings": sorted(self.seen)}
        with open(self.stats_path, "w") as fh:
            json.dump(stats, fh, indent=1)

    def _file(self, data, ext):
        path = os.path.join(self.work, "input" + ext)
        with open(path, "wb") as fh:
            fh.write(data)
        return path

    def _read_bytes(self, data):
        import kmseg
        from kmseg.io import read_bytes
        from kmseg.io._read import check_array, decode

        mode = zlib.crc32(data)
        kmseg.set_config(strict=mode & 3 == 1)
        if "lenient" in kmseg.get_config():  # read PNGs whose CRCs do not match, warning
            kmseg.set_config(lenient=bool(mode & 4))
        try:
            if mode & 3 == 2:
                for arr in decode(io.BytesIO(data), "'fuzz'", frames="all"):
                    check_array(arr, "'fuzz'")
            else:
                read_bytes(data, "fuzz")
        finally:
            kmseg.set_config(strict=False)
            if "lenient" in kmseg.get_config():
                kmseg.set_config(lenient=False)

    def _png16(self, data):
        from PIL import Image

        from kmseg import get_config
        from kmseg.io._png import _CHANNELS, header, read_png16

        if len(data) >= 29 and data.startswith(_PNG_SIG) and data[12:16] == b"IHDR":
            w, h = struct.unpack(">II", data[16:24])
            if w * h > get_config()["max_pixels"]:
                return  # the caller checks the header's size before it calls the decoder
        pixels = read_png16(data)
        w, h, _, ctype, _ = header(data)
        shape = (h, w) if _CHANNELS[ctype] == 1 else (h, w, _CHANNELS[ctype])
        if pixels.shape != shape or pixels.dtype != np.uint16:
            raise Finding(f"decoded {pixels.shape} {pixels.dtype}, the header says {shape} uint16")
        try:  # a second opinion: Pillow decodes 16-bit samples to their high byte (grey: all 16 bits)
            with Image.open(io.BytesIO(data)) as im:
                if im.size != (w, h):  # the size kmseg checks is Pillow's
                    raise Finding(f"read_png16 decoded a {w}x{h} image, Pillow sees {im.size[0]}x{im.size[1]}")
                im.load()
                theirs = np.asarray(im)
        except Finding:
            raise
        except Exception:
            return
        ours = pixels if ctype == 0 else (pixels >> 8).astype(np.uint8)
        if theirs.shape == ours.shape and not np.array_equal(theirs.astype(ours.dtype), ours):
            raise Finding("read_png16 and Pillow decode the same file to different pixels")

    def _tiff_bands(self, data):
        from kmseg.io._bands import TiffBands

        with TiffBands(self._file(data, ".tif")) as tb:
            h, w = tb.shape
            rows = 0
            for row0, band in tb.bands():
                if row0 != rows or band.shape[1] != w or band.dtype != np.uint8 or not band.flags.c_contiguous:
                    raise Finding(f"band at row {row0} of shape {band.shape}, {band.dtype}, expected row {rows}")
                rows += band.shape[0]
            if rows != h:
                raise Finding(f"bands cover {rows} rows of {h}")

    def _palette(self, data):
        from kmseg.io import read_palette

        if not data:
            return
        colors = read_palette(self._file(data[1:], PALETTE_EXTS[data[0] % len(PALETTE_EXTS)]))
        if colors.ndim != 2 or colors.shape[1] != 3 or colors.dtype != np.uint8:
            raise Finding(f"palette of shape {colors.shape}, {colors.dtype}")


def _import_instrumented():
    """Import what is fuzzed with atheris's coverage instrumentation (kmseg, Pillow, tifffile)."""
    import atheris

    with atheris.instrument_imports(include=["kmseg", "PIL", "tifffile"]):
        for module in ("tifffile", "kmseg.io._read", "kmseg.io._png", "kmseg.io._bands", "kmseg.io._palette_read"):
            importlib.import_module(module)
        from PIL import Image

        Image.init()  # every Pillow plugin, now rather than on first use


def _cap_memory(megabytes):
    """Cap the address space at the current size plus ``megabytes``."""
    import resource

    with open("/proc/self/statm") as fh:
        size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = size + megabytes * (1 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return limit


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", choices=TARGETS, required=True)
    parser.add_argument("--corpus", help="corpus folder (default /tmp/kmseg-fuzz/corpus/TARGET)")
    parser.add_argument("--keep-going", action="store_true", help="save unexpected exceptions and go on")
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--max-pixels", type=int, default=1 << 22)
    parser.add_argument("--seed-only", action="store_true", help="write the seed corpus and stop")
    parser.add_argument("--replay", nargs="+", metavar="FILE", help="run the target on these inputs once each")
    ours = [a for a in argv if not (a.startswith("-") and not a.startswith("--"))]
    fuzzer_args = [a for a in argv if a.startswith("-") and not a.startswith("--")]
    args = parser.parse_args(ours)
    warnings.simplefilter("ignore")
    import logging

    logging.getLogger("tifffile").setLevel(logging.CRITICAL)  # it logs each broken tag it skips

    corpus = args.corpus or os.path.join(ROOT, "corpus", args.target)
    findings = os.path.join(ROOT, "findings", args.target)
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(findings, exist_ok=True)
    if not os.listdir(corpus):
        for name, data in SEEDS[args.target]().items():
            with open(os.path.join(corpus, name), "wb") as fh:
                fh.write(data)
    if args.seed_only:
        print(f"{len(os.listdir(corpus))} inputs in {corpus}")
        return 0

    if args.replay:
        import kmseg

        kmseg.set_config(max_pixels=args.max_pixels)
        harness = Harness(args.target, False, findings, os.devnull)
        status = 0
        for path in args.replay:
            with open(path, "rb") as fh:
                data = fh.read()
            t0 = time.perf_counter()
            try:
                harness(data)
                outcome = "ok: " + ", ".join(harness.counts)
            except Exception:
                outcome, status = "FINDING\n" + traceback.format_exc(), 1
            print(f"{path} ({len(data)} bytes, {time.perf_counter() - t0:.3f} s): {outcome}")
            harness.counts.clear()
        return status

    try:
        import atheris
    except ImportError:
        sys.exit("fuzz_read.py needs atheris: pip install atheris")
    _import_instrumented()
    import kmseg

    kmseg.set_config(max_pixels=args.max_pixels)
    harness = Harness(args.target, args.keep_going, findings,
                      os.path.join(ROOT, f"{args.target}-stats.json"))
    for path in sorted(os.listdir(corpus))[:3]:  # first calls (lazy imports) outside the timeout
        with open(os.path.join(corpus, path), "rb") as fh:
            harness(fh.read())
    harness.runs, harness.start = 0, time.time()
    harness.counts.clear()
    harness.wrapped.clear()
    defaults = {"-timeout": "1", "-rss_limit_mb": str(args.memory_mb + 1024), "-max_len": "8192",
                "-print_final_stats": "1", "-artifact_prefix": findings + os.sep}
    for flag, value in defaults.items():
        if not any(a.split("=")[0] == flag for a in fuzzer_args):
            fuzzer_args.append(f"{flag}={value}")
    _cap_memory(args.memory_mb)
    mutator = {"custom_mutator": mutate_png} if args.target in ("read_bytes", "png16") else {}
    atheris.Setup([sys.argv[0], *fuzzer_args, corpus], harness, **mutator)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
