"""Stage 5: files out, each written atomically."""

import os
import re
import tempfile
import time
from contextlib import contextmanager

import numpy as np

from .._validation import OutputError
from ._palette_files import json_text, palette_record

#: zlib level of the PNGs written (1: fastest that still compresses).
PNG_COMPRESS_LEVEL = 1


#: How kmseg's temporary files start: ``.kmseg-tmp-<host>-<pid>-<random>-<name>``.
TEMP_PREFIX = ".kmseg-tmp-"
#: A temporary file left unmodified this long (seconds) is removed whoever wrote it:
#: one of another machine, or of a writer whose process id has been reused.
STALE_SECONDS = 3600
#: The name of a temporary file of :func:`temporary_file`: host tag, process id.
_TEMP_NAME = re.compile(r"\.kmseg-tmp-([0-9a-f]{8})-([0-9]{1,10})-[a-z0-9_]{8}(-|$)")
_host = None


def _host_tag():
    """8 hex digits naming this machine (a process id means something on its own machine only)."""
    global _host
    if _host is None:
        import socket
        import zlib

        _host = f"{zlib.crc32(socket.gethostname().encode('utf-8', 'replace')):08x}"
    return _host


def is_temporary(name):
    """Whether a file name is one of kmseg's temporary files (never an input or an output)."""
    return _TEMP_NAME.match(name) is not None


def temporary_file(folder, name=""):
    """``(fd, path)`` of a new temporary file in ``folder`` whose name says it is kmseg's,
    which machine and process writes it, and what it is for (the end of ``name``)."""
    tail = name[-80:]  # well within a file name's 255 bytes, extension kept
    return tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{_host_tag()}-{os.getpid()}-",
                            suffix=f"-{tail}" if tail else "", dir=folder)


def _alive(pid):
    """Whether process ``pid`` of this machine is running (or may be: not ours to signal)."""
    if pid == os.getpid() or os.name == "nt":  # os.kill would end a process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):
        return False  # no such process id
    except OSError:  # PermissionError: another user's process
        return True
    return True


def remove_leftovers(folder):
    """Remove the temporary files that interrupted kmseg writes left in ``folder``.

    A kmseg temporary file (``.kmseg-tmp-<host>-<pid>-<random>-<name>``) is
    removed when the process that wrote it, on this machine, has ended, or
    when it has not been modified for :data:`STALE_SECONDS` (a file of another
    machine's process, or of a process id since reused); files being written
    by a live process are left alone, and so is every file whose name does
    not say it is kmseg's. Returns the paths removed.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            stale = now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS
        except OSError:
            continue
        if stale or (match[1] == _host_tag() and not _alive(int(match[2]))):
            try:
                os.remove(entry.path)
            except OSError:  # removed meanwhile (by another run), or not ours to remove
                continue
            removed.append(entry.path)
    return removed


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it into place on success.

    On any error the temporary file is removed, so ``path`` is either the old
    file or the complete new one, never a partial write; an operating-system
    error (a full disk, a read-only folder) becomes an :class:`OutputError`
    naming ``path``. The temporary file is ``.kmseg-tmp-<host>-<pid>-<random>-<name>``
    (see :func:`temporary_file`): one that a killed process leaves is removed
    by :func:`remove_leftovers`.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = temporary_file(folder, os.path.basename(path))
    except OSError as exc:
        raise OutputError(f"{path!r}: cannot write ({exc.strerror or exc})") from None
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"{path!r}: cannot write ({exc.strerror or exc})") from None
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Formats that hold an alpha channel; others get the colour channels only.
_ALPHA_FORMATS = ("PNG", "TIFF", "WEBP", "GIF", "TGA", "JPEG2000")


def image_format(path):
    """Pillow's format name for the extension of ``path`` ('PNG', 'JPEG', ...), or None.

    The common formats (PNG, JPEG, GIF, BMP, PPM) are looked up without loading
    every one of Pillow's plugins, which takes about 50 ms.
    """
    from PIL import Image

    ext = os.path.splitext(path)[1].lower()
    Image.preinit()
    return Image.EXTENSION.get(ext) or Image.registered_extensions().get(ext)


def display_image(img):
    """An image of any supported dtype as uint8 RGB, or grey, as it is shown: alpha dropped.

    Examples
    --------
    >>> import numpy as np
    >>> display_image(np.array([[[0.0, 1.0, 0.5, 1.0]]])).tolist()
    [[[0, 255, 128]]]
    """
    if img.dtype == np.uint8:
        out = img
    elif img.dtype == np.uint16:
        out = (img // 257).astype(np.uint8)
    else:
        out = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    if out.ndim == 3 and out.shape[2] == 2:  # grey + alpha
        return out[:, :, 0]
    return out[:, :, :3] if out.ndim == 3 else out


def save_image(path, array, transparency=None):
    """Save an image array atomically, in the format of the file extension.

    ``array`` is (H, W) grey, (H, W, 2) grey+alpha or (H, W, 3|4) RGB(A), of
    uint8, uint16 or float in [0, 1] (saved as 16 bits); see :func:`encode_image`.
    """
    data = encode_image(array, image_format(path), transparency)
    save_bytes(path, data)


def save_bytes(path, data):
    """Write bytes, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def encode_image(array, fmt, transparency=None, compress_level=None):
    """The bytes of an image file of format ``fmt`` (Pillow's name: 'PNG', 'TIFF', ...).

    PNG and TIFF keep 16 bits (colour 16-bit PNG is written here, as Pillow writes
    only grey at 16 bits); other formats get 8 bits, and formats without alpha
    lose the alpha channel. Float arrays in [0, 1] are written as 16 bits.
    ``transparency`` is a grey value shown transparent (a PNG tRNS chunk).
    PNGs are compressed at zlib level ``compress_level``, by default (None)
    :data:`PNG_COMPRESS_LEVEL`, 1 (OpenCV's
    default too): on BSDS photos' label maps and recoloured images about 3x faster
    to write than at Pillow's default level 6, for files about a quarter larger.
    """
    import io

    from PIL import Image

    array = np.asarray(array)
    if array.dtype.kind == "f":
        array = np.rint(np.clip(array, 0, 1) * 65535).astype(np.uint16)
    colour16 = array.dtype == np.uint16 and array.ndim == 3
    if colour16 and fmt == "PNG":
        from ._png import png_bytes

        return png_bytes(array)
    buf = io.BytesIO()
    if colour16 and fmt == "TIFF":
        import tifffile

        tifffile.imwrite(buf, array, photometric="minisblack" if array.shape[2] == 2 else "rgb")
        return buf.getvalue()
    if array.dtype == np.uint16 and (colour16 or fmt not in ("PNG", "TIFF")):
        array = (array // 257).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 2 and fmt not in ("PNG", "TIFF"):
        array = np.dstack([array[:, :, :1].repeat(3, axis=2), array[:, :, 1:]])  # as RGBA
    if array.ndim == 3 and array.shape[2] in (2, 4) and fmt not in _ALPHA_FORMATS:
        array = array[:, :, 0] if array.shape[2] == 2 else array[:, :, :3]
    im = Image.fromarray(np.ascontiguousarray(array))
    options = {} if transparency is None else {"transparency": int(transparency)}
    if fmt == "PNG":
        options["compress_level"] = PNG_COMPRESS_LEVEL if compress_level is None else compress_level
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


#: The most labels a label PNG holds: 24-bit RGB codes above 65,536 labels.
MAX_PNG_LABELS = 1 << 24


def label_image(labels, n_labels, transparent=None):
    """A label map as the array a PNG holds and the value to mark transparent:
    8-bit grey for up to 256 labels, 16-bit grey up to 65,536, and above that
    (up to 2**24) 8-bit RGB holding each label as ``R + 256 G + 65536 B`` (the
    encoding of the COCO panoptic format's segment PNGs), with no transparent
    value.

    ``transparent`` is the label of pixels left out of the clustering (the number
    of clusters); it is one more label, and PNG viewers show it transparent.

    Examples
    --------
    >>> import numpy as np
    >>> array, _ = label_image(np.array([[70_000, 1]]), 70_001)
    >>> codes = array.astype(np.int64)
    >>> array.tolist(), (codes[..., 0] + 256 * codes[..., 1] + 65536 * codes[..., 2]).tolist()
    ([[[112, 17, 1], [1, 0, 0]]], [[70000, 1]])
    """
    if transparent is not None:
        n_labels = max(n_labels, int(transparent) + 1)
    if n_labels > MAX_PNG_LABELS:
        raise ValueError(f"a PNG label map holds at most {MAX_PNG_LABELS} labels, not {n_labels}")
    if n_labels > 65536:
        codes = np.asarray(labels).astype(np.uint32, copy=False)
        rgb = np.stack([codes & 255, (codes >> 8) & 255, codes >> 16], axis=-1).astype(np.uint8)
        return rgb, None
    return np.asarray(labels).astype(np.uint8 if n_labels <= 256 else np.uint16, copy=False), transparent


def label_png(labels, n_labels, transparent=None, palette=None):
    """PNG file bytes of a label map (see :func:`label_image`): unfiltered rows
    deflated with zlib's run-length strategy, which suits the long runs of one
    label (on BSDS500 label maps about a third of the time of Pillow's level-1
    PNG, and about a quarter smaller).

    With ``palette`` (the ``(n_labels, 3)`` uint8 colours of the clusters) and at
    most 256 labels (the transparent one included), the PNG is indexed: its pixel
    values are still the labels (``np.asarray(PIL.Image.open(f))`` gives them), and
    a viewer shows each label in its cluster's colour, the left-out pixels
    transparent. Beyond 256 labels (a PNG palette holds no more) it is 16-bit grey,
    and beyond 65,536 24-bit RGB codes (see :func:`label_image`).

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> labels = np.array([[0, 1], [1, 2]], np.uint8)
    >>> im = Image.open(io.BytesIO(label_png(labels, 2, transparent=2, palette=[[9, 9, 9], [255, 0, 0]])))
    >>> im.mode, np.asarray(im).tolist(), np.asarray(im.convert("RGBA"))[1].tolist()
    ('P', [[0, 1], [1, 2]], [[255, 0, 0, 255], [0, 0, 0, 0]])
    """
    import zlib

    from ._png import palette_png_bytes, png_bytes

    array, transparent = label_image(labels, n_labels, transparent)
    if palette is not None and array.ndim == 2 and array.dtype == np.uint8:
        entries = n_labels if transparent is None else max(n_labels, int(transparent) + 1)
        table = np.zeros((entries, 3), np.uint8)
        table[:n_labels] = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)[:n_labels]
        alpha = None
        if transparent is not None:  # tRNS: the alphas of the entries up to the transparent one
            alpha = np.full(int(transparent) + 1, 255, np.uint8)
            alpha[int(transparent)] = 0
        return palette_png_bytes(array, table, alpha, level=1, strategy=zlib.Z_RLE)
    return png_bytes(array, transparent, level=1, strategy=zlib.Z_RLE)


def save_labels(path, labels, n_labels, transparent=None, palette=None):
    """Save a label map as PNG (see :func:`label_png`)."""
    save_bytes(path, label_png(labels, n_labels, transparent, palette))


#: The files of a segmentation, named after the image's stem plus these suffixes.
OUTPUT_SUFFIXES = {"labels": "_labels.png", "recolor": "_recolor.png", "palette": "_palette.json",
                   "figure": "_figure.png", "ucm": "_ucm.png"}


def output_paths(path, rel, out_dir, outputs, tiff=False, array=None):
    """Where the outputs of one image go: ``out_dir/rel/<stem><suffix>``, for each
    kind in ``outputs`` (keys of :data:`OUTPUT_SUFFIXES`), in that order; with
    ``tiff``, the label map and the recoloured image are TIFF files (written in bands);
    with ``array`` (an ending such as '.npy' or '.nii.gz': an array file's), they are
    files of that kind."""
    name = os.path.basename(path)
    stem = name[:-len(array)] if array and name.lower().endswith(array) else os.path.splitext(name)[0]
    folder = os.path.join(out_dir, rel)
    paths = {kind: os.path.join(folder, stem + OUTPUT_SUFFIXES[kind]) for kind in outputs}
    ending = ".tif" if tiff else array
    if ending:
        paths.update({kind: paths[kind][:-len(".png")] + ending for kind in ("labels", "recolor") if kind in paths})
    return paths


def save_segmentation(seg, targets, source=None):
    """Write a segmentation's outputs, each atomically.

    ``targets`` maps 'labels' (label PNG, indexed with the cluster colours up to 256
    clusters, left-out pixels transparent), 'recolor'
    (the recoloured image) and 'palette' (:func:`palette_record` as JSON, naming
    ``source``) to their paths; absent keys are not written.
    """
    if "labels" in targets:
        save_labels(targets["labels"], seg.labels, seg.n_clusters,
                    transparent=None if seg.mask is None else seg.n_clusters, palette=seg.palette)
    if "recolor" in targets:
        save_image(targets["recolor"], seg.recolor())
    if "palette" in targets:
        save_json(targets["palette"], palette_record(seg, source))


def save_json(path, obj):
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json_text(obj) + "\n")


def save_text(path, text):
    """Write text (UTF-8), atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)


def save_figure(path, fig, dpi=100):
    """Save a matplotlib figure (format from the extension), atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=os.path.splitext(path)[1][1:].lower() or "png")


#: Formats that hold a palette image (mode "P"): :func:`save_indexed` writes these indexed.
INDEXED_FORMATS = ("PNG", "GIF")


def palette_image(indices, palette):
    """A ``PIL.Image`` in mode "P" of an ``(H, W)`` index map and its ``(n, 3)`` RGB or
    ``(n, 4)`` RGBA uint8 palette.

    Indices equal to ``n`` (pixels left out) take one more entry, transparent.
    Transparency is in ``info["transparency"]``: the index of the transparent
    entry for an RGB palette, the bytes of each entry's alpha (PNG's tRNS) for an
    RGBA one. More than 256 entries: a :class:`~kmseg.KmsegError`.

    Examples
    --------
    >>> import numpy as np
    >>> im = palette_image(np.array([[0, 1, 2]], np.uint8), np.array([[0, 0, 0], [9, 9, 9]], np.uint8))
    >>> im.mode, im.info["transparency"], im.getpalette()[:9]
    ('P', 2, [0, 0, 0, 9, 9, 9, 0, 0, 0])
    """
    from PIL import Image

    from .._validation import KmsegError

    palette = np.asarray(palette, dtype=np.uint8)
    indices = np.asarray(indices)
    n, c = palette.shape
    left_out = indices.size > 0 and int(indices.max()) >= n
    entries = n + left_out
    if entries > 256:
        raise KmsegError(f"{n} colours{' and a transparent one' if left_out else ''} do not fit a palette "
                         "image, which holds 256 at most")
    im = Image.fromarray(np.ascontiguousarray(indices, dtype=np.uint8), "P")
    table = np.concatenate([palette, np.zeros((entries - n, c), np.uint8)])
    im.putpalette(table[:, :3].reshape(-1).tolist(), rawmode="RGB")
    if c == 4:
        im.info["transparency"] = bytes(table[:, 3].tolist())
    elif left_out:
        im.info["transparency"] = n
    return im


def encode_indexed(indices, palette, fmt):
    """The bytes of an indexed PNG or GIF of an index map and its palette (see
    :func:`palette_image`), made small.

    Entries that are not opaque go first (the transparent one, then partly
    transparent ones), so that the PNG's tRNS chunk is as short as it can be;
    PNGs get 1, 2 or 4 bits a pixel for palettes of up to 2, 4 or 16 colours,
    rows unfiltered and zlib's best compression (see
    :func:`~kmseg.io._png.palette_png_bytes`). A GIF holds one transparent
    entry and no partial transparency (a :class:`~kmseg.KmsegError`).
    """
    import io

    from .._validation import KmsegError

    indices = np.asarray(indices)
    palette = np.asarray(palette, dtype=np.uint8)
    n, c = palette.shape
    left_out = indices.size > 0 and int(indices.max()) >= n
    table = np.concatenate([palette if c == 4 else np.column_stack([palette, np.full(n, 255, np.uint8)]),
                            np.zeros((int(left_out), 4), np.uint8)])
    if fmt == "GIF" and np.any((table[:, 3] > 0) & (table[:, 3] < 255)):
        raise KmsegError("a GIF holds no partly transparent colours: write a PNG")
    order = np.argsort(table[:, 3] == 255, kind="stable")  # not opaque first, else as given
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    table = table[order]
    n_clear = int((table[:, 3] < 255).sum())
    if len(table) > 256:
        raise KmsegError(f"{len(table)} colours do not fit a palette image, which holds 256 at most")
    ordered = rank.astype(np.uint8)[indices]
    if fmt == "PNG":
        from ._png import palette_png_bytes

        return palette_png_bytes(ordered, table[:, :3], table[:n_clear, 3] if n_clear else None)
    im = palette_image(ordered, table[:, :3])
    buf = io.BytesIO()
    im.save(buf, format=fmt, optimize=False, **({"transparency": 0} if n_clear else {}))
    return buf.getvalue()


def save_indexed(path, indices, palette):
    """Save an index map and its palette as an indexed PNG or GIF (from the
    extension), atomically; see :func:`encode_indexed`."""
    fmt = image_format(path)
    if fmt not in INDEXED_FORMATS:
        from .._validation import KmsegError

        raise KmsegError(f"{path!r}: an indexed image is PNG or GIF, not {fmt or os.path.splitext(path)[1]!r}")
    save_bytes(path, encode_indexed(indices, palette, fmt))
