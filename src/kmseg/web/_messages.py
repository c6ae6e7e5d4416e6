"""What the page says: messages worded for someone at the page, who can change the
image or restart ``kmseg serve`` with other options, but cannot call the library.

The library's messages tell a Python caller what to pass (``kmseg.set_config``,
``n_clusters=``); the ones that reach the page are reworded here, in one place.
"""

import math
import re

#: The library's advice on its pixel limit, for a caller of the library or the CLI.
_RAISE_PIXELS = "; raise it with kmseg.set_config(max_pixels=...) or --max-pixels)"
_TOO_MANY_PIXELS = re.compile(
    r"(?P<name>.*): too large \((?P<size>\d+x\d+(?: x \d+ frames)?) = (?P<total>[\d,]+) pixels, "
    r"more than max_pixels=(?P<limit>[\d,]+)" + re.escape(_RAISE_PIXELS))
_TOO_MANY_VALUES = re.compile(
    r"(?P<name>.*): too large \((?P<what>.*) = (?P<total>[\d,]+) values, more than "
    r"4 x max_pixels = [\d,]+" + re.escape(_RAISE_PIXELS))


def megapixels(n):
    """``n`` pixels in megapixels, for a person.

    Examples
    --------
    >>> megapixels(64_000_000), megapixels(25_000_000), megapixels(40_000), megapixels(10**10)
    ('64 megapixels', '25 megapixels', '0.04 megapixels', '10,000 megapixels')
    """
    value = n / 1e6
    return f"{value:,.0f} megapixels" if value >= 1000 else f"{value:.3g} megapixels"


def image_error(message, max_pixels):
    """A library message about an upload, worded for the page: the pixel limit is
    the page's (``kmseg serve --max-pixels``), not ``kmseg.set_config``'s.

    Examples
    --------
    >>> image_error("'big.png': too large (8000x8000 = 64,000,000 pixels, more than max_pixels="
    ...             "25,000,000; raise it with kmseg.set_config(max_pixels=...) or --max-pixels)", 25_000_000)
    "'big.png': too large: 8000x8000 = 64,000,000 pixels (64 megapixels), more than this page accepts \
(25,000,000 pixels, 25 megapixels); use a smaller image, or start the page with kmseg serve \
--max-pixels 64000000"
    >>> image_error("'notes.txt': not an image (no decoder recognises it)", 100)
    "'notes.txt': not an image (no decoder recognises it)"
    """
    found = _TOO_MANY_PIXELS.fullmatch(message)
    if found:
        total = int(found["total"].replace(",", ""))
        return (f"{found['name']}: too large: {found['size']} = {found['total']} pixels ({megapixels(total)}), "
                f"more than this page accepts ({max_pixels:,} pixels, {megapixels(max_pixels)}); "
                f"use a smaller image, or start the page with kmseg serve --max-pixels {total}")
    found = _TOO_MANY_VALUES.fullmatch(message)
    if found:
        needed = math.ceil(int(found["total"].replace(",", "")) / 4)
        return (f"{found['name']}: too large: {found['what']} = {found['total']} values, more than this page "
                f"accepts (4 values a pixel, {max_pixels:,} pixels); use a smaller image, or start the page "
                f"with kmseg serve --max-pixels {needed}")
    if _RAISE_PIXELS in message:  # another wording of the limit: the page's option all the same
        return message.replace(_RAISE_PIXELS, "; use a smaller image, or start the page with a larger "
                               "kmseg serve --max-pixels)")
    return message


def note(message):
    """A note of a fit, worded for the page: the library's ``n_clusters=`` is the page's k.

    Examples
    --------
    >>> note("n_clusters=5 is more than the 2 distinct colours of 'a.png' in rgb; using n_clusters=2")
    "k=5 is more than the 2 distinct colours of 'a.png' in rgb; using k=2"
    """
    return re.sub(r"\b(?:n_clusters|n_colors)=", "k=", message)


def upload_too_large(size, max_bytes):
    """413 for an upload over ``max_bytes`` (``size`` None: not known, only that it is more)."""
    what = f"{size:,} bytes ({mebibytes(size)}), more" if size is not None else "more"
    wanted = math.ceil(size / (1 << 20)) if size is not None else None
    option = f"kmseg serve --max-upload-mb {wanted}" if wanted else "a larger kmseg serve --max-upload-mb"
    return (f"upload too large: {what} than this page accepts, {max_bytes:,} bytes ({mebibytes(max_bytes)}); "
            f"use a smaller file, or start the page with {option}")


def mebibytes(n):
    """``n`` bytes in MiB, three figures."""
    return f"{n / (1 << 20):.3g} MiB"
