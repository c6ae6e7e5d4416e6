"""Stage 5: palettes as files: a JSON record, and the text formats people paste into other tools."""


def hex_color(rgb):
    """``#rrggbb`` of an RGB triple of 0..255 values."""
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb))


def palette_css(palette, counts=None, prefix="kmseg"):
    """CSS custom properties, one per colour, most used first.

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


def palette_gpl(palette, name="kmseg", columns=8):
    """A GIMP / Inkscape ``.gpl`` palette.

    Examples
    --------
    >>> print(palette_gpl([[255, 0, 0]], name="red").replace("\\t", " <tab> "), end="")
    GIMP Palette
    Name: red
    Columns: 8
    #
    255   0   0 <tab> #ff0000
    """
    lines = ["GIMP Palette", f"Name: {name}", f"Columns: {columns}", "#"]
    for rgb in palette:
        r, g, b = (int(c) for c in rgb)
        lines.append(f"{r:3d} {g:3d} {b:3d}\t{hex_color(rgb)}")
    return "\n".join(lines) + "\n"


def palette_text(seg, fmt, source=None, name="kmseg"):
    """A segmentation's palette as text: 'json' (:func:`palette_record`,
    naming ``source``), 'css' or 'gpl' (a GIMP palette called ``name``)."""
    if fmt == "json":
        import json

        return json.dumps(palette_record(seg, source), indent=2) + "\n"
    if fmt == "css":
        return palette_css(seg.palette, seg.counts)
    return palette_gpl(seg.palette, name=name)


def palette_record(seg, source=None):
    """A JSON-ready description of a segmentation's palette.

    Parameters
    ----------
    seg : Segmentation
    source : str, optional
        The image it came from.

    Returns
    -------
    dict
        ``n_clusters``, ``color_space``, ``inertia``, ``n_iter``, the image
        size, the pixels left out of the clustering and their label (when any
        were), and per cluster its label, RGB colour, hex code, pixel count,
        share of the image and centre in the working colour space.
    """
    total = int(seg.counts.sum())
    if hasattr(seg, "labels"):
        height, width = seg.labels.shape
        left_out = 0 if getattr(seg, "mask", None) is None else int((~seg.mask).sum())
    else:  # a LargeSegmentation: its labels are in a file
        (height, width), left_out = seg.shape, seg.n_left_out
    record = {"image": source} if source is not None else {}
    record.update(
        {
            "height": int(height),
            "width": int(width),
            "n_clusters": int(seg.n_clusters),
            "color_space": seg.color_space,
            "inertia": float(seg.inertia),
            "n_iter": int(seg.n_iter),
            **({} if not left_out else {"left_out": left_out, "left_out_label": int(seg.n_clusters)}),
            "colors": [
                {
                    "label": i,
                    "rgb": [int(c) for c in rgb],
                    "hex": hex_color(rgb),
                    "count": int(count),
                    "share": round(int(count) / total, 6) if total else 0.0,
                    "center": [float(c) for c in center],
                }
                for i, (rgb, count, center) in enumerate(zip(seg.palette, seg.counts, seg.centers))
            ],
        }
    )
    return record
