"""Stage 5: palettes as files: a JSON record, and the text formats people paste into other tools.

Every format lists the colours in the order given (a segmentation's: most used
first; :func:`kmseg.palette_order` gives others) and, where counts are given,
states each colour's share of the pixels clustered.
"""

import numpy as np

#: The palette text formats of :func:`palette_text`.
PALETTE_TEXT_FORMATS = ("json", "css", "gpl", "csv")
#: The columns of :func:`palette_csv`.
CSV_COLUMNS = ("index", "hex", "r", "g", "b", "share", "pixels")


def hex_color(rgb):
    """``#rrggbb`` of an RGB triple of 0..255 values."""
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb))


def json_text(obj):
    """``obj`` as JSON indented by two, each element of a list of objects on one
    line: a palette of 50,000 colours in a second, not ten (the C encoder writes the
    lines; ``json.dumps(indent=...)`` runs in Python)."""
    import json

    if not isinstance(obj, dict) or not obj:
        return json.dumps(obj, indent=2)
    lines = []
    for key, value in obj.items():
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            rows = json.dumps(value)[2:-2].split("}, {")  # one call of the C encoder
            if len(rows) != len(value):  # a string held "}, {": item by item
                rows = [json.dumps(x)[1:-1] for x in value]
            rows = ",\n".join("    {" + row + "}" for row in rows)
            lines.append(f"  {json.dumps(key)}: [\n{rows}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def _share(count, total):
    """A colour's share of the pixels, as the JSON record and the CSV state it."""
    return round(int(count) / total, 6) if total else 0.0


def palette_css(palette, counts=None, prefix="kmseg"):
    """CSS custom properties, one per colour, in the order given; with ``counts``,
    each colour's share in a comment.

    Examples
    --------
    >>> print(palette_css([[255, 0, 0], [0, 0, 0]], [3, 1]), end="")
    :root {
      --kmseg-0: #ff0000; /* 75.0% */
      --kmseg-1: #000000; /* 25.0% */
    }
    """
    total = sum(int(c) for c in counts) if counts is not None else 0
    lines = [":root {"]
    for i, rgb in enumerate(palette):
        note = f" /* {100 * int(counts[i]) / total:.1f}% */" if total else ""
        lines.append(f"  --{prefix}-{i}: {hex_color(rgb)};{note}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def palette_gpl(palette, name="kmseg", columns=8, counts=None):
    """A GIMP / Inkscape ``.gpl`` palette; with ``counts``, each colour's name
    (what GIMP shows beside it) holds its share.

    Examples
    --------
    >>> print(palette_gpl([[255, 0, 0]], name="red").replace("\\t", " <tab> "), end="")
    GIMP Palette
    Name: red
    Columns: 8
    #
    255   0   0 <tab> #ff0000
    >>> print(palette_gpl([[255, 0, 0], [0, 0, 0]], counts=[3, 1]).splitlines()[-1].replace("\\t", " <tab> "))
      0   0   0 <tab> #000000 25.0%
    """
    total = sum(int(c) for c in counts) if counts is not None else 0
    lines = ["GIMP Palette", f"Name: {name}", f"Columns: {columns}", "#"]
    for i, rgb in enumerate(palette):
        r, g, b = (int(c) for c in rgb)
        note = f" {100 * int(counts[i]) / total:.1f}%" if total else ""
        lines.append(f"{r:3d} {g:3d} {b:3d}\t{hex_color(rgb)}{note}")
    return "\n".join(lines) + "\n"


def palette_csv(palette, counts):
    """A palette as CSV: one header row, then ``index,hex,r,g,b,share,pixels``
    a colour, in the order given (``share``: of the pixels counted, as the JSON
    record's; ``index``: the row's place in the list).

    Examples
    --------
    >>> print(palette_csv([[255, 0, 0], [0, 0, 0]], [3, 1]), end="")
    index,hex,r,g,b,share,pixels
    0,#ff0000,255,0,0,0.75,3
    1,#000000,0,0,0,0.25,1
    """
    total = sum(int(c) for c in counts)
    lines = [",".join(CSV_COLUMNS)]
    for i, (rgb, count) in enumerate(zip(palette, counts)):
        r, g, b = (int(c) for c in rgb)
        lines.append(f"{i},{hex_color(rgb)},{r},{g},{b},{_share(count, total)!r},{int(count)}")
    return "\n".join(lines) + "\n"


def palette_table(palette, counts, color=False):
    """A palette as a table for a terminal: index, hex code, share and pixels a
    line, in the order given.

    Parameters
    ----------
    palette : (k, 3) uint8 array-like
    counts : (k,) array-like
    color : bool, default=False
        Start each colour's line with a swatch of it: a 24-bit ANSI background
        escape, ``\\x1b[48;2;R;G;Bm  \\x1b[0m``. Only for a terminal that shows
        them (the command line: stdout a terminal, and no ``NO_COLOR``).

    Returns
    -------
    str
        A header line and a line a colour, each ending in a newline.

    Examples
    --------
    >>> print(palette_table([[255, 0, 0], [0, 0, 0]], [3, 1]), end="")
      i  hex       share  pixels
      0  #ff0000   75.0%       3
      1  #000000   25.0%       1
    >>> palette_table([[255, 0, 0]], [3], color=True).splitlines()[1]
    '\\x1b[48;2;255;0;0m  \\x1b[0m   0  #ff0000  100.0%       3'
    """
    total = sum(int(c) for c in counts)
    width = max([len("pixels")] + [len(str(int(c))) for c in counts])
    lines = [("   " if color else "") + f"  i  hex       share  {'pixels':>{width}}"]
    for i, (rgb, count) in enumerate(zip(palette, counts)):
        r, g, b = (int(c) for c in rgb)
        swatch = f"\x1b[48;2;{r};{g};{b}m  \x1b[0m " if color else ""
        share = 100 * int(count) / total if total else 0.0
        lines.append(f"{swatch}{i:3d}  {hex_color(rgb)}  {share:5.1f}%  {int(count):>{width}d}")
    return "\n".join(lines) + "\n"


def palette_text(seg, fmt, source=None, name="kmseg", order=None):
    """A segmentation's palette as text.

    Parameters
    ----------
    seg : Segmentation
    fmt : {'json', 'css', 'gpl', 'csv'}
        'json': :func:`palette_record` (naming ``source``); 'css': custom
        properties; 'gpl': a GIMP palette called ``name``; 'csv':
        :func:`palette_csv`. Each states every colour's share.
    source : str, optional
    name : str, default='kmseg'
    order : (k,) int array-like, optional
        The order to list the colours in, as :func:`kmseg.palette_order` gives
        it; by default the segmentation's (most used first).

    Returns
    -------
    str
    """
    if fmt == "json":
        return json_text(palette_record(seg, source, order=order)) + "\n"
    palette, counts = seg.palette, seg.counts
    if order is not None:
        palette, counts = palette[order], counts[order]
    if fmt == "css":
        return palette_css(palette, counts)
    if fmt == "csv":
        return palette_csv(palette, counts)
    return palette_gpl(palette, name=name, counts=counts)


def palette_record(seg, source=None, order=None):
    """A JSON-ready description of a segmentation's palette.

    Parameters
    ----------
    seg : Segmentation
    source : str, optional
        The image it came from.
    order : (k,) int array-like, optional
        The order to list the colours in (:func:`kmseg.palette_order`); by
        default the labels' (most used first). Each keeps its ``label``.

    Returns
    -------
    dict
        ``n_clusters``, ``color_space``, ``inertia``, ``n_iter``, the image
        size (``height`` and ``width``; ``shape`` for the labels of a volume), the pixels left out of the clustering and their label (when any
        were), and per cluster its label, RGB colour, hex code, pixel count,
        share of the image and centre in the working colour space.
    """
    total = int(seg.counts.sum())
    if hasattr(seg, "labels"):
        shape = tuple(seg.labels.shape)
        left_out = 0 if getattr(seg, "mask", None) is None else int((~seg.mask).sum())
    else:  # a LargeSegmentation: its labels are in a file
        shape, left_out = tuple(seg.shape), seg.n_left_out
    size = {"height": int(shape[0]), "width": int(shape[1])} if len(shape) == 2 else {
        "shape": [int(n) for n in shape]}  # a volume's, or a stack's
    labels = np.arange(seg.n_clusters) if order is None else np.asarray(order, dtype=np.int64)
    palette = np.asarray(seg.palette)[labels].astype(np.int64)  # Python ints and floats, by tolist()
    counts = np.asarray(seg.counts)[labels].astype(np.int64)
    centers = np.asarray(seg.centers)[labels].astype(np.float64)
    labels = labels.tolist()
    record = {"image": source} if source is not None else {}
    record.update(
        {
            **size,
            "n_clusters": int(seg.n_clusters),
            "color_space": seg.color_space,
            "inertia": float(seg.inertia),
            "n_iter": int(seg.n_iter),
            **({} if not left_out else {"left_out": left_out, "left_out_label": int(seg.n_clusters)}),
            "colors": [
                {
                    "label": i,
                    "rgb": rgb,
                    "hex": "#{:02x}{:02x}{:02x}".format(*rgb),
                    "count": count,
                    "share": _share(count, total),
                    "center": center,
                }
                for i, rgb, count, center in zip(labels, palette.tolist(), counts.tolist(), centers.tolist())
            ],
        }
    )
    return record


def quantized_record(q, source=None):
    """The JSON-ready palette of a :class:`~kmseg.Quantized` image: :func:`palette_record`
    of its segmentation, and with an RGBA palette (partly transparent pixels) its
    ``entries``, each with ``rgba`` and ``hex`` (``#rrggbbaa``) in palette order."""
    seg = q.segmentation
    record = palette_record(seg, source) if seg is not None else ({"image": source} if source else {})
    if q.palette.shape[1] == 4:
        record["entries"] = [{"index": i, "rgba": [int(c) for c in rgba],
                              "hex": "#" + "".join(f"{int(c):02x}" for c in rgba)}
                             for i, rgba in enumerate(q.palette)]
    return record
