"""Stage 0 for palettes: the colour files people map images onto (``kmseg quantize --map``)."""

import json
import os

import numpy as np

from .._validation import KmsegError, check_colors

#: Most colours a palette file may hold (a palette image at most this many distinct colours).
MAX_PALETTE_COLORS = 4096


def read_palette(path):
    """The colours of a palette file, in its order, as an ``(n, 3)`` uint8 array.

    Parameters
    ----------
    path : str or os.PathLike
        A GIMP / Inkscape ``.gpl`` palette; a ``.json`` file, the palette record
        kmseg writes (its ``colors``, each with ``rgb``) or a list of
        ``"#rrggbb"`` strings or RGB triples; a ``.hex`` or ``.txt`` file of one
        ``rrggbb`` code a line (Lospec's format); or an image, whose distinct
        colours (at most :data:`MAX_PALETTE_COLORS`) in the order they first
        appear, row by row, are the palette.

    Raises
    ------
    KmsegError
        A file that cannot be read as a palette; the message names it and why.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.gpl"
    >>> _ = path.write_text("GIMP Palette\\nName: two\\n#\\n255   0   0\\tred\\n  0   0 255 blue\\n")
    >>> read_palette(path).tolist()
    [[255, 0, 0], [0, 0, 255]]
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext in (".gpl", ".json", ".hex", ".txt"):
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise KmsegError(f"{path!r}: cannot read the palette ({getattr(exc, 'strerror', None) or exc})") \
                from None
        parse = {".gpl": _gpl, ".json": _json, ".hex": _hex_lines, ".txt": _hex_lines}[ext]
        colors = parse(text, path)
    else:
        colors = _image_colors(path)
    if len(colors) == 0:
        raise KmsegError(f"{path!r}: the palette holds no colours")
    if len(colors) > MAX_PALETTE_COLORS:
        raise KmsegError(f"{path!r}: {len(colors)} colours is more than a palette holds "
                         f"({MAX_PALETTE_COLORS} at most)")
    return colors


def _colors(items, path, where):
    try:
        return check_colors("palette", items)
    except KmsegError as exc:
        raise KmsegError(f"{path!r}: {where}: {str(exc).removeprefix('palette: ')}") from None


def _gpl(text, path):
    lines = text.splitlines()
    if not lines or lines[0].strip() != "GIMP Palette":
        raise KmsegError(f"{path!r}: not a GIMP palette (its first line is not 'GIMP Palette')")
    items = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.strip()
        if not line or line.startswith("#") or line.split(":")[0] in ("Name", "Columns"):
            continue
        fields = line.split()
        try:
            items.append(tuple(int(f) for f in fields[:3]))
        except ValueError:
            raise KmsegError(f"{path!r}: line {number} is not 'R G B [name]': {line!r}") from None
        if len(fields) < 3:
            raise KmsegError(f"{path!r}: line {number} is not 'R G B [name]': {line!r}")
    return _colors(items, path, "a colour") if items else np.empty((0, 3), np.uint8)


def _json(text, path):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KmsegError(f"{path!r}: not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise KmsegError(f"{path!r}: not a palette (JSON nested too deeply)") from None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise KmsegError(f"{path!r}: not a palette (a number in it has thousands of digits)") from None
    if isinstance(data, dict) and isinstance(data.get("colors"), list):
        items = [c.get("rgb", c.get("hex")) if isinstance(c, dict) else c for c in data["colors"]]
    elif isinstance(data, list):
        items = data
    else:
        raise KmsegError(f"{path!r}: a JSON palette is a list of colours or kmseg's record with 'colors'")
    return _colors(items, path, "a colour") if items else np.empty((0, 3), np.uint8)


def _hex_lines(text, path):
    items = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith(";")]
    return _colors(items, path, "a line") if items else np.empty((0, 3), np.uint8)


def _image_colors(path):
    from ._read import read_image
    from ._write import display_image

    img = display_image(read_image(path))
    rgb = np.repeat(img[:, :, None], 3, axis=2) if img.ndim == 2 else img
    flat = rgb.reshape(-1, 3)
    colors, first = np.unique(flat, axis=0, return_index=True)
    if len(colors) > MAX_PALETTE_COLORS:
        raise KmsegError(f"{path!r}: an image of {len(colors)} distinct colours is not a palette "
                         f"({MAX_PALETTE_COLORS} at most)")
    return np.ascontiguousarray(colors[np.argsort(first)])
