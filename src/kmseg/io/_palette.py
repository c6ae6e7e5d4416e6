"""Stage 5: palettes as text, in the formats people paste into other tools."""


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
    """A segmentation's palette as text: 'json' (:func:`~kmseg.io._write.palette_record`,
    naming ``source``), 'css' or 'gpl' (a GIMP palette called ``name``)."""
    if fmt == "json":
        import json

        from ._write import palette_record

        return json.dumps(palette_record(seg, source), indent=2) + "\n"
    if fmt == "css":
        return palette_css(seg.palette, seg.counts)
    return palette_gpl(seg.palette, name=name)
