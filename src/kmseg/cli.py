"""The ``kmseg`` command: a shell over the library.

It parses arguments, calls the public API, writes files and maps errors to exit
codes (0 success, 1 a failed input or output, 2 a usage error, 99 a
``quantize --max-error`` that cannot be met). No algorithm
lives here; defaults come from the library.
"""

import argparse
import os
import sys
import warnings

from . import KmsegWarning, KneeWarning, __version__
from ._params import (AUTO_K_MAX, DEFAULT_EXCLUDE_DISTANCE, DEFAULT_N_CLUSTERS, DEFAULT_N_COLORS, DEFAULT_N_INIT,
                      DEFAULT_RANDOM_STATE)
from ._validation import COLOR_SPACES, DITHER_METHODS, PALETTE_SORTS, KmsegError

OUTPUTS = ("labels", "recolor", "palette")
#: Exit status of ``kmseg quantize --max-error`` when the error cannot be reached (pngquant's
#: for an unmet ``--quality``): nothing is written.
EXIT_QUALITY = 99
PALETTE_FORMATS = ("png", "json", "css", "gpl", "csv")


class _Failure(Exception):
    """An error already phrased for the user."""


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
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither an integer nor 'auto'") from None


def _add_kmeans_options(p):
    p.add_argument(
        "--color-space", choices=COLOR_SPACES, default=None,
        help="colour space to cluster in (default: gray for grey images, else rgb)",
    )
    p.add_argument("--seed", type=int, default=None,
                   help=f"random seed (default: {DEFAULT_RANDOM_STATE})")
    p.add_argument("--n-init", type=int, default=None,
                   help=f"k-means++ restarts (default: {DEFAULT_N_INIT})")
    p.add_argument("--threads", type=int, default=None,
                   help="threads to use (default: all cores)")


def _add_region_options(p):
    p.add_argument("--regions", action="store_true",
                   help="k connected segments that follow objects instead of colour classes "
                   "(kmseg.segment_regions: superpixels merged by the learned cost; -k: the number of segments)")
    p.add_argument("--threshold", type=float, default=None, metavar="P",
                   help="with --regions: as many segments as the image needs, merging stopped before "
                   "the first merge more likely than P to join two objects (0 to 1; 0.5 scores best "
                   "on BSDS500 PRI); instead of -k")
    p.add_argument("--min-size", type=int, default=None, metavar="PIXELS",
                   help="with --regions: merge segments smaller than this into a neighbour (default: 0)")


def _reading_options():
    """Options of every command that reads image files."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--max-pixels", type=int, default=None, metavar="N",
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

    p = sub.add_parser("segment", parents=[reading], help="segment images into k colour classes",
                       description="Segment images into k colour classes. For each IMAGE, writes "
                       "STEM_labels.png (8-bit, 16-bit for k > 256), STEM_recolor.png and "
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
    p.add_argument("--strips", action="store_true",
                   help="read, label and write in bands of rows, with bounded memory: writes "
                   "STEM_labels.tif and STEM_recolor.tif (TIFF inputs decoded a strip or tile at a "
                   "time; --max-pixels then bounds a band, not the image)")
    _add_kmeans_options(p)
    _add_region_options(p)

    p = sub.add_parser("quantize", parents=[reading], help="reduce an image to n colours",
                       description="Reduce IMAGE to N colours and save it as FILE "
                       "(format from the extension); the palette goes to FILE's stem + "
                       "_palette.json with --palette.")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("-n", "--n-colors", type=_n_clusters, default=None,
                   help=f"number of colours, or 'auto' (default: {DEFAULT_N_COLORS}; with "
                   "--max-error, the most colours tried, default 256)")
    p.add_argument("--max-error", type=float, default=None, metavar="E",
                   help="use the fewest colours whose mean CIEDE2000 error is at most E "
                   "(about 2.3 is just noticeable); clusters in CIELAB")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="output image file: .png and .gif are written indexed (a palette of at most "
                   "256 colours), other formats as full colour")
    p.add_argument("--dither", choices=DITHER_METHODS, default="none",
                   help="none (default: every pixel its cluster's colour), floyd-steinberg (error "
                   "diffusion, as pngquant), ordered (Bayer pattern) or adaptive (diffusion that "
                   "spares edges)")
    p.add_argument("--dither-strength", type=float, default=1.0, metavar="S",
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
    _add_kmeans_options(p)

    p = sub.add_parser("elbow", parents=[reading], help="WCSS and other scores against k, and the chosen k",
                       description="Fit k = K_MIN..K_MAX on every pixel, print the scores and the "
                       "k at the knee of the WCSS curve, and draw the elbow plot.")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--k-min", type=int, default=1, help="smallest k (default: 1)")
    p.add_argument("--k-max", type=int, default=AUTO_K_MAX,
                   help=f"largest k (default: {AUTO_K_MAX})")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="write the elbow plot here (.png, .svg or .pdf)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_kmeans_options(p)

    p = sub.add_parser("palette", parents=[reading],
                       help="extract a palette: swatches PNG, JSON, CSS, GIMP .gpl, CSV",
                       description="Find IMAGE's N main colours, print them as a table (with colour "
                       "swatches on a terminal, unless NO_COLOR is set) and write them as DIR/STEM_palette "
                       "with the chosen extensions. Every output states each colour's share of the "
                       "pixels clustered.")
    p.add_argument("image", metavar="IMAGE")
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
    p.add_argument("--jobs", type=int, default=None, help="images at once (default: one per core)")
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
                      "must see the same files (needs: pip install \"kmseg[dask]\")")
    dask.add_argument("--cluster", choices=["local"], default=None,
                      help="local: run on a Dask LocalCluster of --jobs worker processes, started for this run")
    _add_kmeans_options(p)
    _add_region_options(p)

    p = sub.add_parser("evaluate", parents=[reading], help="score a segmentation method against BSDS ground truth",
                       description="Run a method over a folder of images for each parameter value and "
                       "score it against BSDS .mat ground truths: prints the ODS / OIS table "
                       "(Covering, PRI, VOI).")
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
    p.add_argument("--limit", type=int, default=None, help="only the first N images")

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
                       'Needs the web extra: pip install "kmseg[web]".')
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
    return _given(args, color_space="color_space", n_init="n_init", random_state="seed", n_threads="threads")


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
            raise _Failure(f"{' and '.join(given)} go{'es' if len(given) == 1 else ''} with --regions")
    elif args.threshold is not None and k_given:
        raise _Failure(f"--threshold {args.threshold:g} and -k {args.n_clusters}: the threshold chooses "
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
    except KmsegError as exc:  # a parameter, before any image: named as the option given
        raise _Failure(_as_options(str(exc))) from None


#: The library's names of what the options set, as ``_as_options`` puts them back.
_OPTION_NAMES = [("bands=True", "--strips"), ("regions=True", "--regions"), ("shared palette", "--shared-palette"),
                 ("n_clusters=", "-k "), ("threshold=", "--threshold "), ("min_size=", "--min-size "),
                 ("color_space", "--color-space"), ("n_init", "--n-init"), ("random_state", "--seed"),
                 ("'figure' output", "--figure")]


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
    _prepare_dir(args.output, create=False)
    outputs = [kind for kind in OUTPUTS if kind in args.outputs] + (["figure"] if args.figure else [])
    ok = []
    _segment_images(args.images, args, args.output, outputs, lambda record: ok.append(_report(record, args.regions)))
    return 0 if all(ok) else 1


def _check_output_file(path):
    """Fail before any work if ``path`` cannot be written: a missing or read-only
    folder, or a folder where the file should be."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise _Failure(f"{path!r}: folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise _Failure(f"{path!r}: is a folder, not an output file")
    _check_writable(folder, path)


def _cmd_quantize(args):
    from . import quantize
    from .io import INDEXED_FORMATS, image_format, quantized_record, read_palette, save_image, save_indexed, save_json

    _check_output_file(args.output)
    if image_format(args.output) is None:
        ext = os.path.splitext(args.output)[1].lower()
        raise _Failure(f"{args.output!r}: unknown image extension {ext!r}")
    options = _given(args, max_error="max_error", dither="dither", dither_strength="dither_strength",
                     weights="importance")
    if args.fixed:
        options["fixed"] = [c for text in args.fixed for c in text.split(",") if c.strip()]
    if args.map is not None:
        if args.n_colors is not None or args.max_error is not None or args.fixed or args.importance:
            raise _Failure("--map maps onto the palette given: leave out -n, --max-error, --fixed "
                           "and --importance")
        options["palette"] = read_palette(args.map)
    with warnings.catch_warnings():  # an unmet --max-error is this command's error, below
        warnings.filterwarnings("ignore", message="max_error=", category=KmsegWarning)
        q = quantize(args.image, args.n_colors, **options, **_kmeans_params(args))
    seg = q.segmentation
    if q.mean_error is not None and q.mean_error > args.max_error:
        print(f"kmseg: error: {args.image!r}: --max-error {args.max_error:g} is not reached with "
              f"{len(q.palette)} colours (mean CIEDE2000 error {q.mean_error:.3g}); nothing written",
              file=sys.stderr)
        return EXIT_QUALITY
    fmt = image_format(args.output)
    if fmt in INDEXED_FORMATS and q.fits_palette:
        save_indexed(args.output, q.indices, q.palette)
    else:
        save_image(args.output, q.image)
    written = [args.output]
    if args.palette:
        written.append(os.path.splitext(args.output)[0] + "_palette.json")
        save_json(written[-1], quantized_record(q, args.image))
    if seg is not None:
        _report_auto(args.image, seg)
    error = "" if q.mean_error is None else f" (mean CIEDE2000 error {q.mean_error:.3g})"
    print(f"{args.image}: {len(q.palette)} colours{error} -> {', '.join(written)}")
    return 0


def _report_auto(source, seg):
    if seg.elbow is not None:
        print(f"{source}: k=auto chose k={seg.n_clusters}: {seg.elbow.knee.reason}")


def _cmd_elbow(args):
    from . import elbow

    if args.output is not None:
        _check_figure_path(args.output)
    curve = elbow(args.image, range(args.k_min, args.k_max + 1), kind="image", progress=not args.quiet,
                  **_kmeans_params(args))
    print(curve.table())
    print(f"chosen k={curve.best_k} ({curve.seconds:.2f} s for the sweep)")
    if args.output is not None:
        from .io import save_figure

        save_figure(args.output, curve.plot(title=os.path.basename(args.image)))
        print(f"elbow plot -> {args.output}")
    return 0


def _check_figure_path(path):
    _check_output_file(path)
    if os.path.splitext(path)[1].lower() not in (".png", ".svg", ".pdf"):
        raise _Failure(f"{path!r}: a figure must end in .png, .svg or .pdf")


def _cmd_palette(args):
    from . import mask_colors, palette_order, segment
    from .io import palette_table, palette_text, read_image, save_figure, save_text

    _prepare_dir(args.output)
    image, mask = args.image, None
    if args.exclude:  # the file read once: the mask is made of the same pixels that are clustered
        image = read_image(args.image)
        mask = mask_colors(image, [c for group in args.exclude for c in group], args.exclude_distance)
    seg = segment(image, args.n_colors, mask=mask, **_kmeans_params(args))
    order = palette_order(seg.palette, seg.counts, by=args.sort)
    stem = os.path.splitext(os.path.basename(args.image))[0]
    base = os.path.join(args.output, f"{stem}_palette")
    written = []
    for fmt in args.formats:
        path = f"{base}.{fmt}"
        if fmt == "png":
            from . import plot_palette

            save_figure(path, plot_palette(seg.palette[order], seg.counts[order]))
        else:
            save_text(path, palette_text(seg, fmt, args.image, stem, order=order))
        written.append(path)
    _report_auto(args.image, seg)
    if mask is not None:
        clustered = int(seg.counts.sum())
        print(f"{args.image}: {seg.labels.size - clustered:,} of {seg.labels.size:,} pixels left out "
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
    except KmsegError as exc:  # a parameter, before any image: named as the option given
        raise _Failure(_as_options(str(exc))) from None
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
                              limit=args.limit, progress=True)
    n_images = len(result.rows) // len(result.values)
    print(f"{args.method} on {n_images} images, {parameter} in {result.values}")
    print(result.table())
    print(f"{result.seconds:.3f} s per image and value")
    if args.csv:
        from .io import save_text

        lines = [f"image,{parameter},covering,pri,voi,seconds"]
        lines += [f"{r[0]},{r[1]},{r[2]:.6f},{r[3]:.6f},{r[4]:.6f},{r[5]:.4f}" for r in result.rows]
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
        raise _Failure(f'kmseg serve needs {", ".join(missing)}: pip install "kmseg[web]"')
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


def _error(exc, source=None):
    message = str(exc)
    if source is not None and repr(source) not in message and not message.startswith("'"):
        message = f"{source!r}: {message}"
    print(f"kmseg: error: {message}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"kmseg: warning: {message}", file=sys.stderr)


def main(argv=None):
    """Run the ``kmseg`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"segment": _cmd_segment, "quantize": _cmd_quantize, "elbow": _cmd_elbow,
                "palette": _cmd_palette, "batch": _cmd_batch, "evaluate": _cmd_evaluate,
                "compare": _cmd_compare, "demo": _cmd_demo, "serve": _cmd_serve}
    with warnings.catch_warnings():
        warnings.simplefilter("default", KmsegWarning)
        warnings.simplefilter("default", KneeWarning)
        warnings.showwarning = _show_warning
        try:
            from . import config_context

            reading = {key: getattr(args, key, None) for key in ("max_pixels", "strict", "lenient")}
            with config_context(**{k: val for k, val in reading.items() if val is not None}):
                return commands[args.command](args)
        except _Failure as exc:
            _error(exc)
        except (KmsegError, OSError) as exc:
            _error(exc, getattr(args, "image", None))
        except KeyboardInterrupt:
            print("kmseg: interrupted", file=sys.stderr)
            return 130
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
