"""The ``kmseg`` command: a shell over the library.

It parses arguments, calls the public API, writes files and maps errors to exit
codes (0 success, 1 a failed input or output, 2 a usage error, 99 a
``quantize --max-error`` that cannot be met). No algorithm
lives here; defaults come from the library.
"""

import argparse
import logging
import os
import sys
import threading
import time
import warnings

from . import KmsegWarning, KneeWarning, __version__
from ._params import (AUTO_K_MAX, DEFAULT_EXCLUDE_DISTANCE, DEFAULT_N_CLUSTERS, DEFAULT_N_COLORS, DEFAULT_N_INIT,
                      DEFAULT_RANDOM_STATE)
from ._validation import COLOR_SPACES, DITHER_METHODS, PALETTE_SORTS, KmsegError, resolve_n_threads

OUTPUTS = ("labels", "recolor", "palette")
#: Exit status of ``kmseg quantize --max-error`` when the error cannot be reached (pngquant's
#: for an unmet ``--quality``): nothing is written.
EXIT_QUALITY = 99
PALETTE_FORMATS = ("png", "json", "css", "gpl", "csv")
#: IMAGE ``-`` reads standard input, ``-o -`` writes standard output.
STDIO = "-"
#: How messages and records name standard input.
STDIN_NAME = "<stdin>"
#: The commands whose -o is a folder (removed on Ctrl+C when the run created it and left it empty).
FOLDER_OUTPUTS = ("segment", "palette", "batch", "demo")
#: The most colours a GIF holds (``kmseg quantize -o FILE.gif`` refuses more).
GIF_COLORS = 256


class _Failure(Exception):
    """An error already phrased for the user."""


class _Usage(Exception):
    """A usage error found after parsing (options that do not go together, a value the
    library refuses before any image is read): exit 2, under the sub-command's usage."""


def _int_option(minimum=1, check=None):
    """An argparse type: an integer >= ``minimum``, or one that the library's ``check``
    takes (its message, less the parameter's name: argparse names the option)."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be >= {minimum}")
        if check is not None:
            try:
                check(value)
            except KmsegError as exc:
                raise argparse.ArgumentTypeError(str(exc).partition("=")[2] or str(exc)) from None
        return value

    return parse


def _fraction(what):
    """An argparse type: a number from 0 to 1 (``what`` it is, for the message)."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
        if not 0 <= value <= 1:
            raise argparse.ArgumentTypeError(f"{value:g} must be {what}, 0 to 1")
        return value

    return parse


def _comma_list(choices):
    """An argparse type: a comma-separated list of some of ``choices``."""

    def parse(text):
        items = [t.strip() for t in text.split(",") if t.strip()]
        if not items or any(t not in choices for t in items):
            raise argparse.ArgumentTypeError(
                f"{text!r}: choose one or more of {', '.join(choices)}, comma-separated"
            )
        return items

    return parse


def _exclude_colors(text):
    """An argparse type: one or more colours, comma-separated (``kmseg palette --exclude``)."""
    from ._validation import check_colors

    items = [t.strip() for t in text.split(",") if t.strip()]
    for item in items or [text]:
        try:
            check_colors("--exclude", [item])
        except KmsegError:
            raise argparse.ArgumentTypeError(f"{item!r}: not a colour (#rrggbb)") from None
    return items


def _distance(text):
    """An argparse type: a finite number >= 0 (``kmseg palette --exclude-distance``)."""
    from ._validation import check_number

    try:
        return check_number("--exclude-distance", float(text))
    except (ValueError, KmsegError):
        raise argparse.ArgumentTypeError(f"{text!r}: not a number >= 0") from None


def _n_clusters(text):
    if text.lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither an integer nor 'auto'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def _add_kmeans_options(p):
    p.add_argument(
        "--color-space", choices=COLOR_SPACES, default=None,
        help="colour space to cluster in (default: gray for grey images, else rgb)",
    )
    p.add_argument("--seed", type=_int_option(0), default=None,
                   help=f"random seed (default: {DEFAULT_RANDOM_STATE})")
    p.add_argument("--n-init", type=_int_option(), default=None,
                   help=f"k-means++ restarts (default: {DEFAULT_N_INIT})")
    p.add_argument("--threads", type=_int_option(check=resolve_n_threads), default=None,
                   help="threads to use (default: all cores)")


def _channel_axis(text):
    """--channel-axis: an axis (an integer, negative from the end) or 'none'."""
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: an axis (an integer such as -1 or 0) or 'none'") from None


def _add_channel_axis_option(p):
    p.add_argument("--channel-axis", type=_channel_axis, default=-1, metavar="AXIS",
                   help="the axis of the channels, or 'none' for a volume of one channel (every axis spatial); "
                   "other than -1, or for .npy and NIfTI (.nii, .nii.gz) files, the input is read as an array "
                   "(a TIFF as its stack of pages) and its values are clustered as they are, the labels "
                   "written as a file of its kind (default: -1, the channels of an image)")


def _add_json_option(p, fields):
    p.add_argument("--json", action="store_true",
                   help=f"print one JSON record instead of the lines for people ({fields}); an error "
                   '(not a usage error) is a record too, {"status": "failed", "error": ...}, with the exit status')


def _add_region_options(p):
    p.add_argument("--regions", action="store_true",
                   help="k connected segments that follow objects instead of colour classes "
                   "(kmseg.segment_regions: superpixels merged by the learned cost; -k: the number of segments)")
    p.add_argument("--threshold", type=_fraction("a probability"), default=None, metavar="P",
                   help="with --regions: as many segments as the image needs, merging stopped before "
                   "the first merge more likely than P to join two objects (0 to 1; 0.5 scores best "
                   "on BSDS500 PRI); instead of -k")
    p.add_argument("--min-size", type=_int_option(0), default=None, metavar="PIXELS",
                   help="with --regions: merge segments smaller than this into a neighbour (default: 0)")


def _reading_options():
    """Options of every command that reads image files."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--max-pixels", type=_int_option(), default=None, metavar="N",
                        help="refuse images of more than N pixels, from their header (default: 2**28)")
    common.add_argument("--strict", action="store_true", default=None,
                        help="also refuse files the decoder only warns about (extra frames, a missing "
                        "end marker, corrupt metadata, Pillow's bomb warning)")
    common.add_argument("--lenient", action="store_true", default=None,
                        help="read files whose checksums do not match (a PNG chunk's CRC), with a "
                        "warning, instead of refusing them")
    return common


def build_parser():
    """The argument parser of the ``kmseg`` command."""
    parser = argparse.ArgumentParser(
        prog="kmseg",
        description="Exact k-means image segmentation and colour quantization, every pixel counted.",
    )
    parser.add_argument("--version", action="version", version=f"kmseg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    reading = _reading_options()
    sub.required = True
    parser.commands = sub.choices  # each sub-command's parser, for its usage errors (main)

    p = sub.add_parser("segment", parents=[reading], help="segment images into k colour classes",
                       description="Segment images into k colour classes. For each IMAGE, writes "
                       "STEM_labels.png (indexed with the cluster colours: values 0..k-1 that a viewer shows as the "
                       "segmentation; 16-bit grey for k > 256, 24-bit R + 256 G + 65536 B codes for k > 65536), "
                       "STEM_recolor.png and "
                       "STEM_palette.json into DIR.")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-k", "--n-clusters", type=_n_clusters, default=None,
                   help=f"number of clusters, or 'auto' for the knee of the elbow curve over "
                   f"k=1..{AUTO_K_MAX} (default: {DEFAULT_N_CLUSTERS})")
    p.add_argument("-o", "--output", metavar="DIR", default=".",
                   help="output folder, created if missing (default: .)")
    p.add_argument("--outputs", type=_comma_list(OUTPUTS), default=list(OUTPUTS),
                   help=f"which files to write (default: {','.join(OUTPUTS)})")
    p.add_argument("--figure", action="store_true",
                   help="also write STEM_figure.png: original | segmented | boundaries")
    _add_json_option(p, "one per image: input, outputs, k, inertia, seconds, status, reason")
    p.add_argument("--quiet", action="store_true", help="no progress line on a terminal when a fit takes long")
    p.add_argument("--strips", action="store_true",
                   help="read, label and write in bands of rows, with bounded memory: writes "
                   "STEM_labels.tif and STEM_recolor.tif (TIFF inputs decoded a strip or tile at a "
                   "time; --max-pixels then bounds a band, not the image)")
    _add_kmeans_options(p)
    _add_channel_axis_option(p)
    _add_region_options(p)
    p.add_argument("--ucm", action="store_true",
                   help="with --regions: also write STEM_ucm.png, the merge hierarchy as a boundary map "
                   "(RegionHierarchy.ucm): 16-bit grey of (2H+1) x (2W+1), BSDS's inter-pixel grid, where a "
                   "boundary's value v is the chance round(65535 p) at which the segments on its sides merge; "
                   "the pixels joined across values <= 65535 t are the segments of --threshold t")

    p = sub.add_parser("quantize", parents=[reading], help="reduce an image to n colours",
                       description="Reduce IMAGE to N colours and save it as FILE "
                       "(format from the extension); the palette goes to FILE's stem + "
                       "_palette.json with --palette.")
    p.add_argument("image", metavar="IMAGE", help="image file, or - for standard input")
    p.add_argument("-n", "--n-colors", type=_n_clusters, default=None,
                   help=f"number of colours, or 'auto' (default: {DEFAULT_N_COLORS}; with "
                   "--max-error, the most colours tried, default 256)")
    p.add_argument("--max-error", type=float, default=None, metavar="E",
                   help="use the fewest colours whose mean CIEDE2000 error is at most E "
                   "(about 2.3 is just noticeable); clusters in CIELAB")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="output image file, or - for standard output (see --format): .png and .gif are "
                   "written indexed (a palette of at most 256 colours; a .gif refuses -n above 256), other "
                   "formats as full colour")
    p.add_argument("--dither", choices=DITHER_METHODS, default="none",
                   help="none (default: every pixel its cluster's colour), floyd-steinberg (error "
                   "diffusion, as pngquant), ordered (Bayer pattern) or adaptive (diffusion that "
                   "spares edges)")
    p.add_argument("--dither-strength", type=_fraction("a share"), default=1.0, metavar="S",
                   help="share of the error diffused, 0..1 (default: 1)")
    p.add_argument("--fixed", action="append", default=None, metavar="COLOURS",
                   help="colours the palette keeps exactly, e.g. '#ffffff,#d52b1e' (repeatable); "
                   "k-means learns the rest")
    p.add_argument("--map", metavar="PALETTE", default=None,
                   help="map onto this palette instead of fitting one: a .gpl, .json (as kmseg "
                   "writes), .hex/.txt file, or an image whose colours are the palette")
    p.add_argument("--importance", metavar="MAP", default=None,
                   help="an image of the same size whose grey values weigh each pixel in the fit "
                   "(0: does not count)")
    p.add_argument("--palette", action="store_true", help="also write the palette as JSON")
    p.add_argument("--format", default=None, metavar="EXT",
                   help="with -o -: the format of the image written to standard output, as an extension "
                   "(default: png)")
    _add_json_option(p, "input, outputs, n_colors, the palette with shares, inertia, seconds")
    p.add_argument("--quiet", action="store_true", help="no progress line on a terminal when a fit takes long")
    _add_kmeans_options(p)
    _add_channel_axis_option(p)

    p = sub.add_parser("elbow", parents=[reading], help="WCSS and other scores against k, and the chosen k",
                       description="Fit k = K_MIN..K_MAX on every pixel, print the scores and the "
                       "k at the knee of the WCSS curve, and draw the elbow plot.")
    p.add_argument("image", metavar="IMAGE", help="image file, or - for standard input")
    p.add_argument("--k-min", type=_int_option(), default=1, help="smallest k (default: 1)")
    p.add_argument("--k-max", type=_int_option(), default=AUTO_K_MAX,
                   help=f"largest k (default: {AUTO_K_MAX})")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="write the elbow plot here (.png, .svg or .pdf)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_json_option(p, "input, outputs, chosen_k, knee, and k, wcss and the other scores as lists")
    _add_kmeans_options(p)
    _add_channel_axis_option(p)

    p = sub.add_parser("palette", parents=[reading],
                       help="extract a palette: swatches PNG, JSON, CSS, GIMP .gpl, CSV",
                       description="Find IMAGE's N main colours, print them as a table (with colour "
                       "swatches on a terminal, unless NO_COLOR is set) and write them as DIR/STEM_palette "
                       "with the chosen extensions. Every output states each colour's share of the "
                       "pixels clustered.")
    p.add_argument("image", metavar="IMAGE", help="image file, or - for standard input")
    p.add_argument("-n", "--n-colors", type=_n_clusters, default=DEFAULT_N_CLUSTERS,
                   help=f"number of colours, or 'auto' (default: {DEFAULT_N_CLUSTERS})")
    p.add_argument("-o", "--output", metavar="DIR", default=".",
                   help="output folder, created if missing (default: .)")
    p.add_argument("--formats", type=_comma_list(PALETTE_FORMATS), default=list(PALETTE_FORMATS),
                   help=f"which files to write (default: {','.join(PALETTE_FORMATS)}; csv: "
                   "index,hex,r,g,b,share,pixels)")
    p.add_argument("--sort", choices=PALETTE_SORTS, default="share",
                   help="list the colours by share (default: most used first), lightness (darkest "
                   "first, CIELAB L*) or hue (CIELAB hue angle from red through yellow, green, blue; "
                   "greys last)")
    p.add_argument("--exclude", type=_exclude_colors, action="append", default=None, metavar="COLOUR",
                   help="leave pixels near this colour out of the palette, e.g. a white background: "
                   "'#ffffff' (repeatable, or comma-separated); shares are then of the other pixels")
    p.add_argument("--exclude-distance", type=_distance, default=DEFAULT_EXCLUDE_DISTANCE, metavar="D",
                   help=f"with --exclude: pixels within this CIEDE2000 difference of an excluded colour "
                   f"are left out (default: {DEFAULT_EXCLUDE_DISTANCE:g}; 0: that colour only; about 2.3 "
                   "is just noticeable)")
    p.add_argument("--no-color", action="store_true",
                   help="no colour swatches in the table (also when NO_COLOR is set or stdout is no terminal)")
    _add_json_option(p, "input, outputs, the palette with shares (in --sort order), inertia")
    p.add_argument("--quiet", action="store_true", help="no progress line on a terminal when a fit takes long")
    _add_kmeans_options(p)

    p = sub.add_parser("batch", parents=[reading], help="segment many images in parallel, with a manifest and resume",
                       description="Segment every image named by INPUT (files, folders, glob patterns) "
                       "into DIR, in parallel (threads of one process by default), with a progress line and "
                       "DIR/manifest.jsonl "
                       "(one JSON record per image: input, outputs, k, inertia, seconds, status, reason). "
                       "Bad files are reported and skipped; the exit status is 1 if any failed.")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", metavar="DIR", required=True, help="output folder")
    p.add_argument("-k", "--n-clusters", type=_n_clusters, default=None,
                   help=f"number of clusters, or 'auto' (default: {DEFAULT_N_CLUSTERS})")
    p.add_argument("--outputs", type=_comma_list(OUTPUTS), default=list(OUTPUTS),
                   help=f"which files to write (default: {','.join(OUTPUTS)})")
    p.add_argument("--jobs", type=_int_option(), default=None, help="images at once (default: one per core)")
    p.add_argument("--resume", action="store_true", help="skip images whose outputs all exist")
    p.add_argument("-r", "--recursive", action="store_true", help="descend into sub-folders")
    p.add_argument("--shared-palette", action="store_true",
                   help="fit one palette over all images first: label i is the same colour everywhere")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    dask = p.add_mutually_exclusive_group()
    dask.add_argument("--processes", action="store_true",
                      help="local worker processes instead of threads (each loads kmseg first, about 1.5 s)")
    dask.add_argument("--scheduler", metavar="ADDRESS", default=None,
                      help="run on the Dask cluster of this scheduler, e.g. tcp://10.0.0.5:8786; its workers "
                      "must see the same files (needs Dask: pip install \".[dask]\" in a clone of kmseg)")
    dask.add_argument("--cluster", choices=["local"], default=None,
                      help="local: run on a Dask LocalCluster of --jobs worker processes, started for this run")
    _add_kmeans_options(p)
    _add_channel_axis_option(p)
    _add_region_options(p)

    p = sub.add_parser("evaluate", parents=[reading], help="score a segmentation method against BSDS ground truth",
                       description="Run a method over a folder of images for each parameter value and "
                       "score it against BSDS .mat ground truths: prints the ODS / OIS table "
                       "(Covering, PRI, VOI, boundary F_b; and boundary AP).")
    p.add_argument("--images", required=True, metavar="DIR", help="folder of images")
    p.add_argument("--ground-truth", required=True, metavar="DIR",
                   help="folder of BSDS .mat files named after the images")
    p.add_argument("--method", default="regions-threshold", choices=list(_methods()),
                   help="segmentation method (default: regions-threshold, kmseg's best pipeline: "
                   "connected segments merged by the learned cost, stopped at a chance of joining two objects)")
    p.add_argument("--param", default=None, metavar="NAME=VALUES",
                   help="parameter values, e.g. n_segments=2..12 (a range of integers), k=4,8,16 or "
                   "threshold=0.4,0.5,0.6 (default: the method's sweep)")
    p.add_argument("--csv", metavar="FILE", help="write per-image scores as CSV")
    p.add_argument("--save", metavar="DIR", help="write every label map as DIR/<image stem>/<value>.png")
    p.add_argument("--limit", type=_int_option(), default=None, help="only the first N images")
    p.add_argument("--boundaries", action=argparse.BooleanOptionalAction, default=True,
                   help="also score boundaries (BSDS500): F_b at ODS and OIS and the average precision over "
                   "the values, pixel counts summed over the images; the CSV gets precision, recall and the "
                   "four counts per image and value (default: on; --no-boundaries saves about 0.05 s per "
                   "image and value)")

    from .metrics import SAMPLES_PER_DEGREE

    p = sub.add_parser("compare", parents=[reading], help="how far an image is from its original: MSE, PSNR, "
                       "CIEDE2000, S-CIELAB",
                       description="Compare IMAGE (quantized or dithered, say) with ORIGINAL, of the same size, "
                       "and print MSE (RGB, 0-255), PSNR (dB), mean CIEDE2000 and S-CIELAB (mean Delta E*ab "
                       "after blurring both as the eye does, so that a fine dither counts as the colour it "
                       "averages to).")
    p.add_argument("reference", metavar="ORIGINAL", help="the original image")
    p.add_argument("test", metavar="IMAGE", help="the image judged against it")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: mse, psnr (null when the images are equal), ciede2000, s_cielab")
    p.add_argument("--samples-per-degree", type=float, default=SAMPLES_PER_DEGREE, metavar="N",
                   help=f"S-CIELAB's viewing condition, pixels per degree of visual angle "
                   f"(default: {SAMPLES_PER_DEGREE:g}, a 96 dpi screen seen from 50 cm)")

    p = sub.add_parser("demo", help="segment a sample photo and say where the results are",
                       description="Segment and quantize scikit-learn's sample photo china.jpg.")
    p.add_argument("-o", "--output", metavar="DIR", default="kmseg-demo",
                   help="output folder (default: ./kmseg-demo)")
    p.add_argument("-k", "--n-clusters", type=_n_clusters, default=DEFAULT_N_CLUSTERS,
                   help=f"number of clusters (default: {DEFAULT_N_CLUSTERS})")

    from . import web

    p = sub.add_parser("serve", help="open a web page: upload an image, move k, download the results",
                       description="Serve kmseg's web page and its JSON API (OpenAPI page: /docs). "
                       'Needs the web extra: pip install ".[web]" in a clone of kmseg (fastapi, uvicorn, '
                       'python-multipart).')
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--max-upload-mb", type=float, default=web.DEFAULT_MAX_BYTES / (1 << 20), metavar="MB",
                   help=f"largest upload in MiB (default: {web.DEFAULT_MAX_BYTES / (1 << 20):g})")
    p.add_argument("--max-pixels", type=int, default=web.DEFAULT_MAX_PIXELS, metavar="N",
                   help=f"refuse images of more than N pixels, from their header "
                   f"(default: {web.DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--cache-mb", type=float, default=web.DEFAULT_CACHE_MB, metavar="MB",
                   help="memory for the uploads kept, in MiB; the least recently used are dropped first "
                   f"(default: {web.DEFAULT_CACHE_MB:g})")
    p.add_argument("--threads", type=int, default=None, help="threads to use (default: all cores)")
    return parser


def _methods():
    from .metrics import METHODS

    return METHODS


def _parse_values(text, expected):
    """'name=2..12' or 'name=1,2,5' -> list of numbers; name must be the method's parameter."""
    name, sep, values = text.partition("=")
    if not sep or name.strip() != expected:
        raise _Failure(f"--param {text!r}: expected {expected}=VALUES, e.g. {expected}=2..12")
    try:
        if ".." in values:
            lo, hi = values.split("..")
            return list(range(int(lo), int(hi) + 1))
        return [float(x) if "." in x else int(x) for x in values.split(",")]
    except ValueError:
        raise _Failure(f"--param {text!r}: values must be numbers, as 2..12 (integers) or 0.4,0.5,0.6") from None


def _prepare_dir(path, create=True):
    """Create the output folder, or fail before any work if it cannot be one. With
    ``create=False`` (the batch functions create it once they have checked their
    parameters), the folder, or the nearest one above it that exists, is only
    tried for writing."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise _Failure(f"{path!r}: output exists and is not a folder")
    _check_no_file_above(path)
    if not create:
        existing = os.path.abspath(path)
        while not os.path.isdir(existing):
            existing = os.path.dirname(existing)
        _check_writable(existing, path)
        return
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise _Failure(f"{path!r}: cannot create output folder ({exc.strerror})") from None
    _check_writable(path, path)


def _check_no_file_above(path):
    """Fail if a file (not a folder) stands where a folder of ``path`` should be:
    ``/dev/full/out`` or ``notes.txt/out``."""
    above = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(above):
        above = os.path.dirname(above)
    if not os.path.isdir(above):
        raise _Failure(f"{path!r}: {above!r} is a file, not a folder")


def _check_writable(folder, target):
    """Fail if a file cannot be created in ``folder``: tried with a temporary file,
    as permission bits do not tell (for root, or on a read-only file system)."""
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(prefix=".kmseg-", dir=folder)
    except OSError as exc:
        raise _Failure(f"{target!r}: output folder {folder!r} is not writable "
                       f"({exc.strerror or exc})") from None
    os.close(fd)
    os.remove(probe)


def _given(args, **names):
    """The k-means options the user gave, as keyword arguments of the library
    (left out when not given, so that the library's defaults apply)."""
    return {param: getattr(args, option) for param, option in names.items()
            if getattr(args, option, None) is not None}


def _kmeans_params(args):
    params = _given(args, color_space="color_space", n_init="n_init", random_state="seed", n_threads="threads")
    if getattr(args, "channel_axis", -1) != -1:  # None (every axis spatial) is a value given
        params["channel_axis"] = args.channel_axis
    return params


def _check_region_options(args):
    """``kmseg segment`` and ``batch``: the options that go with --regions only, and -k
    beside a --threshold, before any image (their values are the library's to check)."""
    k_given = args.n_clusters is not None
    if not k_given:
        args.n_clusters = DEFAULT_N_CLUSTERS
    if not args.regions:
        given = [name for name, value in (("--threshold", args.threshold is not None),
                                          ("--min-size", args.min_size is not None)) if value]
        if given:
            raise _Usage(f"{' and '.join(given)} go{'es' if len(given) == 1 else ''} with --regions")
    elif args.threshold is not None and k_given:
        raise _Usage(f"--threshold {args.threshold:g} and -k {args.n_clusters}: the threshold chooses "
                       "the number of segments; give one of them")


def _segment_images(images, args, out_dir, outputs, on_record):
    """``kmseg segment`` and ``demo``: every image through the batch's per-image work, one
    at a time, every core on each, ``on_record`` called with each image's record as it
    ends. A folder is no image: it fails at once, in a record of its own."""
    from . import segment_many

    folders = [source for source in images if os.path.isdir(source)]
    for source in folders:
        on_record({"input": source, "status": "failed",
                   "reason": f"{source!r}: is a folder, not an image (kmseg batch segments a folder's images)"})
    params = _kmeans_params(args)  # the library refuses what --regions does not take, by name
    if getattr(args, "regions", False):
        params.update(_given(args, threshold="threshold", min_size="min_size"))
    try:
        segment_many([source for source in images if source not in folders], args.n_clusters, out_dir,
                     outputs=tuple(outputs), jobs=1, regions=getattr(args, "regions", False),
                     bands=getattr(args, "strips", False), manifest=False, on_record=on_record, **params)
    except KmsegError as exc:  # before any image: a parameter, named as the option given, or the files
        raise _before_work(exc) from None


#: The library's names of what the options set, as ``_as_options`` puts them back.
_OPTION_NAMES = [("bands=True", "--strips"), ("regions=True", "--regions"), ("shared palette", "--shared-palette"),
                 ("n_clusters=", "-k "), ("threshold=", "--threshold "), ("min_size=", "--min-size "),
                 ("color_space", "--color-space"), ("n_init", "--n-init"), ("random_state", "--seed"),
                 ("channel_axis", "--channel-axis"),
                 ("'figure' output", "--figure")]


def _before_work(exc):
    """The library's refusal before any image is read, as this command's error: a
    message naming files (it starts with one, quoted: two inputs that would write the
    same outputs), a missing extra (an ImportError) or an unreachable scheduler (an
    OSError) fails the run (exit 1); one about a parameter is a usage error."""
    message = str(exc)
    if message.startswith("'") or isinstance(exc, (ImportError, OSError)):  # files, a missing extra, a network
        return _Failure(message)
    return _Usage(_as_options(message))


def _as_options(message):
    """A library's message about its parameters, in the words of the command's options."""
    for name, option in _OPTION_NAMES:
        message = message.replace(name, option)
    return message


def _report(record, regions=False):
    """The lines of one image's record: its result and files, or its error."""
    if record["status"] != "ok":
        _error(record["reason"], record["input"])
        return False
    if "knee" in record:
        print(f"{record['input']}: k=auto chose k={record['k']}: {record['knee']}")
    what = f"{record['k']} connected segments" if regions else f"k={record['k']}"
    print(f"{record['input']}: {what}, inertia={record['inertia']:.6g} -> {', '.join(record['outputs'])}",
          flush=True)
    return True


def _cmd_segment(args):
    _check_region_options(args)
    if args.ucm and not args.regions:
        raise _Usage("--ucm goes with --regions")
    _prepare_dir(args.output, create=False)
    outputs = ([kind for kind in OUTPUTS if kind in args.outputs] + (["figure"] if args.figure else [])
               + (["ucm"] if args.ucm else []))
    if STDIO in args.images:
        raise _Usage("IMAGE '-': kmseg segment names its outputs after the image files; for standard "
                     "input use kmseg quantize - or kmseg palette -")
    ok = []
    if args.json:  # one JSON record per image (its outputs, k, inertia, seconds, status, reason)
        def report(record):
            ok.append(record["status"] == "ok")
            _print_json(record)
    else:
        def report(record):
            ok.append(_report(record, args.regions))
    _segment_images(args.images, args, args.output, outputs, report)
    return 0 if all(ok) else 1


def _check_output_file(path):
    """Fail before any work if ``path`` cannot be written: a missing or read-only
    folder, or a folder where the file should be."""
    folder = os.path.dirname(os.path.abspath(path))
    _check_no_file_above(path)
    if not os.path.isdir(folder):
        raise _Failure(f"{path!r}: folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise _Failure(f"{path!r}: is a folder, not an output file")
    _check_writable(folder, path)


def _cmd_quantize(args):
    import time

    from . import quantize
    from .io import (INDEXED_FORMATS, encode_image, encode_indexed, image_format, is_array_file, quantized_record,
                     read_palette, save_image, save_indexed, save_json)

    if args.image != STDIO and is_array_file(args.image, args.channel_axis):
        return _quantize_array(args)
    to_stdout = args.output == STDIO
    if to_stdout:
        fmt = image_format(f"out.{args.format or 'png'}")
        if fmt is None:
            raise _Usage(f"--format {args.format!r}: not an image format (png, gif, jpg, tif, webp, bmp, ...)")
        if args.palette:
            raise _Usage("--palette writes FILE's stem + _palette.json: give -o FILE, not -o -")
        if args.json:
            raise _Usage("--json prints to standard output, where -o - writes the image: give one of them")
    else:
        if args.format is not None:
            raise _Usage(f"--format {args.format} goes with -o - (a file's format is its extension)")
        _check_output_file(args.output)
        fmt = image_format(args.output)
        if fmt is None:
            ext = os.path.splitext(args.output)[1].lower()
            raise _Failure(f"{args.output!r}: unknown image extension {ext!r}")
    if fmt == "GIF" and isinstance(args.n_colors, int) and args.n_colors > GIF_COLORS:
        raise _Usage(f"-n {args.n_colors}: a GIF holds at most {GIF_COLORS} colours; give -n {GIF_COLORS} "
                     "or fewer, or write a .png (full colour beyond 256)")
    options = _given(args, max_error="max_error", dither="dither", dither_strength="dither_strength",
                     weights="importance")
    if args.fixed:
        options["fixed"] = [c for text in args.fixed for c in text.split(",") if c.strip()]
    if args.map is not None:
        if args.n_colors is not None or args.max_error is not None or args.fixed or args.importance:
            raise _Usage("--map maps onto the palette given: leave out -n, --max-error, --fixed "
                         "and --importance")
        options["palette"] = read_palette(args.map)
    name, started = _name(args.image), time.perf_counter()
    with warnings.catch_warnings():  # an unmet --max-error is this command's error, below
        warnings.filterwarnings("ignore", message="max_error=", category=KmsegWarning)
        q = quantize(_source(args.image), args.n_colors, **options, **_kmeans_params(args))
    seg = q.segmentation
    if q.mean_error is not None and q.mean_error > args.max_error:
        _error(f"{name!r}: --max-error {args.max_error:g} is not reached with {len(q.palette)} colours "
               f"(mean CIEDE2000 error {q.mean_error:.3g}); nothing written", as_json=args.json)
        return EXIT_QUALITY
    if fmt == "GIF" and not q.fits_palette:  # a --map palette of more colours than a GIF holds
        raise _Failure(f"{args.output!r}: {len(q.palette)} colours do not fit a GIF, which holds at most "
                       f"{GIF_COLORS}; nothing written (write a .png)")
    indexed = fmt in INDEXED_FORMATS and q.fits_palette
    if to_stdout:
        data = encode_indexed(q.indices, q.palette, fmt) if indexed else encode_image(q.image, fmt)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    elif indexed:
        save_indexed(args.output, q.indices, q.palette)
    else:
        save_image(args.output, q.image)
    written = [args.output]
    if args.palette:
        written.append(os.path.splitext(args.output)[0] + "_palette.json")
        save_json(written[-1], quantized_record(q, name))
    if args.json:
        record = {"input": name, "outputs": written, "n_colors": len(q.palette)}
        if seg is not None and seg.elbow is not None:
            record["knee"] = seg.elbow.knee.reason
        if q.mean_error is not None:
            record["mean_error"] = float(q.mean_error)
        record.update(quantized_record(q))
        record["seconds"] = round(time.perf_counter() - started, 4)
        _print_json(record)
        return 0
    out = sys.stderr if to_stdout else sys.stdout  # standard output holds the image
    if seg is not None:
        _report_auto(name, seg, out)
    error = "" if q.mean_error is None else f" (mean CIEDE2000 error {q.mean_error:.3g})"
    shown = ["<stdout>" if path == STDIO else path for path in written]
    print(f"{name}: {len(q.palette)} colours{error} -> {', '.join(shown)}", file=out)
    return 0


def _quantize_array(args):
    """``kmseg quantize`` of an array file: its values replaced by their cluster's
    centre, written as a file of its kind."""
    import time

    from . import quantize
    from .io import array_suffix, is_array_file, save_array, save_json

    if args.output == STDIO or not is_array_file(args.output, None):
        raise _Usage(f"-o {args.output}: the values of an array file are written as an array file "
                     "(.npy, .tif, .tiff, .nii, .nii.gz)")
    given = [option for option, value in (("--max-error", args.max_error), ("--fixed", args.fixed),
                                          ("--map", args.map), ("--importance", args.importance),
                                          ("--color-space", args.color_space)) if value]
    if args.dither not in (None, "none"):
        given.append("--dither")
    if given:
        raise _Usage(f"{', '.join(given)}: for images; the values of an array file are clustered as they are")
    started = time.perf_counter()
    q = quantize(args.image, args.n_colors, **_kmeans_params(args))
    save_array(args.output, q.image, like=args.image)
    written = [args.output]
    if args.palette:
        from .io import palette_record

        written.append(args.output[:-len(array_suffix(args.output))] + "_palette.json")
        save_json(written[-1], palette_record(q.segmentation, args.image))
    if args.json:
        from .io import palette_record

        _print_json({"input": args.image, "outputs": written, "n_colors": len(q.palette),
                     **palette_record(q.segmentation), "seconds": round(time.perf_counter() - started, 4)})
    else:
        _report_auto(args.image, q.segmentation)
        print(f"{args.image}: {len(q.palette)} values -> {', '.join(written)}")
    return 0


def _report_auto(source, seg, out=None):
    if seg.elbow is not None:
        print(f"{source}: k=auto chose k={seg.n_clusters}: {seg.elbow.knee.reason}", file=out or sys.stdout)


def _source(image):
    """What the library reads for an IMAGE argument: the path, or for ``-`` the image
    decoded from standard input (with the checks of a file's, named '<stdin>')."""
    if image != STDIO:
        return image
    from .io import read_bytes

    return read_bytes(sys.stdin.buffer.read(), STDIN_NAME)


def _name(image):
    """An IMAGE argument as messages and records name it."""
    return STDIN_NAME if image == STDIO else image


def _print_json(record):
    """One JSON record on a line of standard output (NaN and infinities as null)."""
    import json
    import math

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: clean(v) for key, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    print(json.dumps(clean(record)), flush=True)


def _cmd_elbow(args):
    from . import elbow

    if args.k_min > args.k_max:
        raise _Usage(f"--k-min {args.k_min} must be <= --k-max {args.k_max}")
    if args.output is not None:
        _check_figure_path(args.output)
    name = _name(args.image)
    curve = elbow(_source(args.image), range(args.k_min, args.k_max + 1), kind="image",
                  progress=not args.quiet, **_kmeans_params(args))
    if args.output is not None:
        from .io import save_figure

        save_figure(args.output, curve.plot(title=os.path.basename(name)))
    if args.json:
        _print_json({"input": name, "outputs": [] if args.output is None else [args.output],
                     "chosen_k": int(curve.best_k), "knee": curve.knee.reason,
                     "color_space": curve.color_space, "k": curve.k.tolist(), "wcss": curve.wcss.tolist(),
                     "calinski_harabasz": curve.calinski_harabasz.tolist(),
                     "davies_bouldin": curve.davies_bouldin.tolist(), "silhouette": curve.silhouette.tolist(),
                     "n_iter": curve.n_iter.tolist(), "seconds": round(float(curve.seconds), 4)})
        return 0
    print(curve.table())
    print(f"chosen k={curve.best_k} ({curve.seconds:.2f} s for the sweep)")
    if args.output is not None:
        print(f"elbow plot -> {args.output}")
    return 0


def _check_figure_path(path):
    _check_output_file(path)
    if os.path.splitext(path)[1].lower() not in (".png", ".svg", ".pdf"):
        raise _Failure(f"{path!r}: a figure must end in .png, .svg or .pdf")


def _cmd_palette(args):
    from . import mask_colors, palette_order, segment
    from .io import palette_table, palette_text, read_image, save_figure, save_text

    from .io import is_array_file

    if args.image != STDIO and is_array_file(args.image):
        raise _Failure(f"{args.image!r}: an array file; kmseg palette extracts an image's colours (kmseg segment "
                       "--channel-axis clusters an array's values)")
    _prepare_dir(args.output)
    name, image, mask = _name(args.image), _source(args.image), None
    if args.exclude:  # the file read once: the mask is made of the same pixels that are clustered
        image = read_image(image)
        mask = mask_colors(image, [c for group in args.exclude for c in group], args.exclude_distance)
    seg = segment(image, args.n_colors, mask=mask, **_kmeans_params(args))
    order = palette_order(seg.palette, seg.counts, by=args.sort)
    stem = "stdin" if args.image == STDIO else os.path.splitext(os.path.basename(args.image))[0]
    base = os.path.join(args.output, f"{stem}_palette")
    written = []
    for fmt in args.formats:
        path = f"{base}.{fmt}"
        if fmt == "png":
            from . import plot_palette

            save_figure(path, plot_palette(seg.palette[order], seg.counts[order]))
        else:
            save_text(path, palette_text(seg, fmt, name, stem, order=order))
        written.append(path)
    if args.json:
        from .io import palette_record

        record = {"input": name, "outputs": written}
        if seg.elbow is not None:
            record["knee"] = seg.elbow.knee.reason
        record.update(palette_record(seg, order=order))
        _print_json(record)
        return 0
    _report_auto(name, seg)
    if mask is not None:
        clustered = int(seg.counts.sum())
        print(f"{name}: {seg.labels.size - clustered:,} of {seg.labels.size:,} pixels left out "
              f"(--exclude); shares are of the other {clustered:,}")
    print(palette_table(seg.palette[order], seg.counts[order], color=_swatches(args)), end="")
    print(f"-> {', '.join(written)}")
    return 0


def _swatches(args):
    """Colour swatches in a table: only on a terminal, and not with NO_COLOR set
    (https://no-color.org: any value but the empty string) or --no-color."""
    isatty = getattr(sys.stdout, "isatty", None)
    return not args.no_color and not os.environ.get("NO_COLOR") and callable(isatty) and isatty()


def _cmd_demo(args):
    import numpy as np
    from sklearn.datasets import load_sample_image

    from . import quantize
    from .io import save_image

    _prepare_dir(args.output)
    photo = np.ascontiguousarray(load_sample_image("china.jpg"))
    original = os.path.join(args.output, "china.png")
    save_image(original, photo)
    args.regions, args.strips, args.threads = False, False, None
    args.color_space = args.n_init = args.seed = None
    records = []
    _segment_images([original], args, args.output, OUTPUTS, records.append)
    record, = records
    if record["status"] != "ok":
        raise _Failure(record["reason"])
    quantized = os.path.join(args.output, f"china_{DEFAULT_N_COLORS}colors.png")
    save_image(quantized, quantize(photo, DEFAULT_N_COLORS).image)
    h, w = photo.shape[:2]
    print(f"Segmented china.jpg ({w}x{h}, {w * h:,} pixels, every one clustered) into "
          f"k={record['k']} colour classes; inertia {record['inertia']:.6g}.")
    print(f"Wrote to {os.path.abspath(args.output)}:")
    for path in [original] + record["outputs"] + [quantized]:
        print(f"  {os.path.basename(path)}")
    return 0


def _cmd_batch(args):
    from . import segment_many

    _check_region_options(args)
    _prepare_dir(args.output, create=False)
    params = _kmeans_params(args)
    if args.regions:
        params.update(_given(args, threshold="threshold", min_size="min_size"))
    try:
        summary = segment_many(
            args.inputs, args.n_clusters, args.output, outputs=tuple(args.outputs), jobs=args.jobs,
            workers="processes" if args.processes else "threads", resume=args.resume, recursive=args.recursive,
            shared_palette=args.shared_palette, regions=args.regions,
            progress=not args.quiet, scheduler=args.scheduler or args.cluster, **params,
        )
    except KmsegError as exc:  # before any image: a parameter, named as the option given, or the files
        raise _before_work(exc) from None
    for record in summary.failed:
        _error(record["reason"], record["input"])
    print(f"{summary.count('ok')} segmented, {summary.count('skipped')} skipped (outputs exist), "
          f"{summary.count('failed')} failed; manifest: {summary.manifest}")
    return 1 if summary.failed else 0


def _cmd_evaluate(args):
    from .metrics import METHODS, evaluate_dataset

    parameter = METHODS[args.method][0]
    values = None if args.param is None else _parse_values(args.param, parameter)
    if args.save:
        _prepare_dir(args.save)
    if args.csv:
        _check_output_file(args.csv)
    result = evaluate_dataset(args.images, args.ground_truth, args.method, values, save=args.save,
                              limit=args.limit, progress=True, boundaries=args.boundaries)
    n_images = len(result.rows) // len(result.values)
    print(f"{args.method} on {n_images} images, {parameter} in {result.values}")
    print(result.table())
    print(f"{result.seconds:.3f} s per image and value segmenting; {result.wall_seconds:.3f} s with reading "
          "and scoring")
    if args.csv:
        from .io import save_text

        head = f"image,{parameter},covering,pri,voi,seconds"
        if args.boundaries:
            head += ",precision,recall,seg_matched,seg_total,gt_matched,gt_total"

        def line(r):
            text = f"{r[0]},{r[1]},{r[2]:.6f},{r[3]:.6f},{r[4]:.6f},{r[5]:.4f}"
            if len(r) > 6:  # boundary counts: precision and recall from them, then the counts
                p, rc = (r[6] / r[7] if r[7] else 0.0), (r[8] / r[9] if r[9] else 0.0)
                text += f",{p:.6f},{rc:.6f}," + ",".join(str(c) for c in r[6:10])
            return text

        lines = [head] + [line(r) for r in result.rows]
        save_text(args.csv, "\n".join(lines) + "\n")
        print(f"per-image scores -> {args.csv}")
    return 0


def _cmd_compare(args):
    import json
    import math

    from .metrics import color_errors

    errors = color_errors(args.reference, args.test, samples_per_degree=args.samples_per_degree)
    if args.json:
        record = {key: (None if math.isinf(value) else value) for key, value in errors._asdict().items()}
        print(json.dumps(record))
    else:
        print(errors.table())
    return 0


def _cmd_serve(args):
    from importlib.util import find_spec

    missing = [m for m in ("fastapi", "uvicorn", "python_multipart") if find_spec(m) is None]
    if missing:
        packages = " ".join(m.replace("_", "-") for m in missing)
        raise _Failure(f'kmseg serve needs {", ".join(missing)}: pip install {packages} '
                       '(or pip install ".[web]" in a clone of kmseg)')
    if not 0 < args.max_upload_mb <= 1 << 20:
        raise _Failure(f"--max-upload-mb {args.max_upload_mb:g} must be in (0, 1048576]")
    if not 0 < args.cache_mb <= 1 << 30:
        raise _Failure(f"--cache-mb {args.cache_mb:g} must be in (0, 1073741824]")
    import uvicorn

    from .web import create_app

    app = create_app(max_bytes=int(args.max_upload_mb * (1 << 20)), max_pixels=args.max_pixels,
                     cache_mb=args.cache_mb, n_threads=args.threads)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"kmseg: serving on http://{shown}:{args.port}/ (API: /docs; Ctrl+C stops)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _new_folder(path):
    """The outermost folder that writing into ``path`` (which does not exist) creates."""
    path = os.path.abspath(path)
    while not os.path.exists(os.path.dirname(path)):
        path = os.path.dirname(path)
    return path


def _remove_if_empty(folder):
    """Remove a folder this run created, and the folders it created inside, where
    they hold nothing (a run stopped with Ctrl+C before it wrote a file)."""
    if not os.path.isdir(folder):
        return
    for here, _, _ in sorted(os.walk(folder), key=lambda entry: -len(entry[0])):  # deepest first
        try:
            os.rmdir(here)  # only an empty folder goes
        except OSError:
            pass


def _usage_error(command_parser, message):
    """argparse's usage error of a sub-command (its usage, then ``kmseg CMD: error: ...``),
    returned as exit code 2 rather than raised."""
    command_parser.print_usage(sys.stderr)
    print(f"{command_parser.prog}: error: {message}", file=sys.stderr)
    return 2


def _unrecognized(command_parser, extra):
    """The message for arguments a sub-command does not take, with the short option
    meant by a long-looking one (``--k`` for ``-k``)."""
    known = {o for action in command_parser._actions for o in action.option_strings}
    meant = [f"-{a[2:]}" for a in extra if a.startswith("--") and f"-{a[2:]}" in known]
    hint = f" (did you mean {', '.join(meant)}?)" if meant else ""
    return f"unrecognized arguments: {' '.join(extra)}{hint}"


def _error(exc, source=None, as_json=False):
    """An error in one line on standard error; with ``as_json`` (``--json``) one JSON
    record on standard output, ``{"status": "failed", "error": ...}``."""
    message = str(exc)
    if source is not None and repr(source) not in message and not message.startswith("'"):
        message = f"{source!r}: {message}"
    if as_json:
        _print_json({"status": "failed", "error": message})
    else:
        print(f"kmseg: error: {message}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"kmseg: warning: {message}", file=sys.stderr)


class _Ticker(logging.Handler):
    """A progress line for work that takes long: after ``delay`` seconds, one line on
    a terminal's standard error saying what the library last announced (its INFO
    records on the ``kmseg`` logger: the image being fitted, the k-means restart) and
    for how long the command has worked, updated every ``interval`` seconds. The line
    is cleared before anything else is printed (standard output and error pass
    through it meanwhile) and when the work ends. Nothing is written when ``stream``
    is not a terminal."""

    def __init__(self, enabled, stream=None, delay=2.0, interval=0.5):
        super().__init__(logging.INFO)
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = enabled and callable(isatty) and isatty()
        self.delay, self.interval = delay, interval
        self.what, self.shown = "working", 0
        self.start = time.perf_counter()
        self._done = threading.Event()
        self._lock = threading.RLock()

    def emit(self, record):
        self.what = record.getMessage()

    def clear(self):
        """Take the line off the terminal (it comes back at the next update)."""
        with self._lock:
            self._clear()

    def _clear(self):
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0

    def write_through(self, stream, text):
        """``text`` written to ``stream`` with the line cleared first, with no update between."""
        with self._lock:
            self._clear()
            return stream.write(text)

    def _run(self):
        if self._done.wait(self.delay):
            return
        while True:
            line = f"kmseg: {self.what} ({time.perf_counter() - self.start:.0f} s)"
            with self._lock:
                self.stream.write("\r" + line.ljust(self.shown))
                self.stream.flush()
                self.shown = len(line)
            if self._done.wait(self.interval):
                return

    def __enter__(self):
        if self.enabled:
            self.logger = logging.getLogger("kmseg")
            self._saved_level = self.logger.level  # not self.level: the handler's own
            self.logger.setLevel(logging.INFO)
            self.logger.addHandler(self)
            self.streams = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = (_Clearing(stream, self) for stream in self.streams)
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self._done.set()
            self.thread.join()
            self.clear()
            sys.stdout, sys.stderr = self.streams
            self.logger.removeHandler(self)
            self.logger.setLevel(self._saved_level)
        return False


class _Clearing:
    """A text stream that clears a :class:`_Ticker`'s line before each write."""

    def __init__(self, stream, ticker):
        self._stream, self._ticker = stream, ticker

    def write(self, text):
        return self._ticker.write_through(self._stream, text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


#: Commands that show a progress line (:class:`_Ticker`) while one image takes long;
#: batch, elbow and evaluate print progress of their own.
TICKING = ("segment", "quantize", "palette")


def main(argv=None):
    """Run the ``kmseg`` command; returns the exit code."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # argparse's usage error (2), --help or --version (0): returned, as any code
        return 0 if exc.code is None else exc.code
    if extra:  # reported by the sub-command, under its usage, not the top level's
        return _usage_error(parser.commands[args.command], _unrecognized(parser.commands[args.command], extra))
    commands = {"segment": _cmd_segment, "quantize": _cmd_quantize, "elbow": _cmd_elbow,
                "palette": _cmd_palette, "batch": _cmd_batch, "evaluate": _cmd_evaluate,
                "compare": _cmd_compare, "demo": _cmd_demo, "serve": _cmd_serve}
    folders = [getattr(args, "output", None) if args.command in FOLDER_OUTPUTS else None, getattr(args, "save", None)]
    new_folders = [_new_folder(path) for path in folders if path and not os.path.exists(path)]
    with warnings.catch_warnings():
        warnings.simplefilter("default", KmsegWarning)
        warnings.simplefilter("default", KneeWarning)
        warnings.showwarning = _show_warning
        try:
            from . import config_context

            reading = {key: getattr(args, key, None) for key in ("max_pixels", "strict", "lenient")}
            ticking = args.command in TICKING and not getattr(args, "quiet", False)
            with config_context(**{k: val for k, val in reading.items() if val is not None}), _Ticker(ticking):
                return commands[args.command](args)
        except _Usage as exc:
            return _usage_error(parser.commands[args.command], str(exc))
        except _Failure as exc:
            _error(exc, as_json=getattr(args, "json", False))
        except (KmsegError, OSError) as exc:
            image = getattr(args, "image", None)
            _error(exc, None if image is None else _name(image), as_json=getattr(args, "json", False))
        except KeyboardInterrupt:
            for folder in new_folders:
                _remove_if_empty(folder)
            print("kmseg: interrupted", file=sys.stderr)
            return 130
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
