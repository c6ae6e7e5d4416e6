"""The ``kmseg`` command: a shell over the library.

It parses arguments, calls the public API, writes files and maps errors to exit
codes (0 success, 1 a failed input or output, 2 a usage error). No algorithm
lives here; defaults come from the library.
"""

import argparse
import os
import sys
import warnings

from . import __version__
from . import _segment as lib
from ._validation import COLOR_SPACES, KmsegError

OUTPUTS = ("labels", "recolor", "palette")


class _Failure(Exception):
    """An error already phrased for the user."""


def _outputs(text):
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in OUTPUTS]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"{text!r}: choose one or more of {', '.join(OUTPUTS)}, comma-separated"
        )
    return items


def _n_clusters(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def _add_kmeans_options(p):
    p.add_argument(
        "--color-space", choices=COLOR_SPACES, default=None,
        help="colour space to cluster in (default: gray for grey images, else rgb)",
    )
    p.add_argument("--seed", type=int, default=lib.DEFAULT_RANDOM_STATE,
                   help=f"random seed (default: {lib.DEFAULT_RANDOM_STATE})")
    p.add_argument("--n-init", type=int, default=lib.DEFAULT_N_INIT,
                   help=f"k-means++ restarts (default: {lib.DEFAULT_N_INIT})")
    p.add_argument("--threads", type=int, default=None,
                   help="threads to use (default: all cores)")


def build_parser():
    """The argument parser of the ``kmseg`` command."""
    parser = argparse.ArgumentParser(
        prog="kmseg",
        description="Exact k-means image segmentation and colour quantization, every pixel counted.",
    )
    parser.add_argument("--version", action="version", version=f"kmseg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("segment", help="segment images into k colour classes",
                       description="Segment images into k colour classes. For each IMAGE, writes "
                       "STEM_labels.png (8-bit, 16-bit for k > 256), STEM_recolor.png and "
                       "STEM_palette.json into DIR.")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-k", "--n-clusters", type=_n_clusters, default=lib.DEFAULT_N_CLUSTERS,
                   help=f"number of clusters (default: {lib.DEFAULT_N_CLUSTERS})")
    p.add_argument("-o", "--output", metavar="DIR", default=".",
                   help="output folder, created if missing (default: .)")
    p.add_argument("--outputs", type=_outputs, default=list(OUTPUTS),
                   help=f"which files to write (default: {','.join(OUTPUTS)})")
    _add_kmeans_options(p)

    p = sub.add_parser("quantize", help="reduce an image to n colours",
                       description="Reduce IMAGE to N colours and save it as FILE "
                       "(format from the extension); the palette goes to FILE's stem + "
                       "_palette.json with --palette.")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("-n", "--n-colors", type=_n_clusters, default=lib.DEFAULT_N_COLORS,
                   help=f"number of colours (default: {lib.DEFAULT_N_COLORS})")
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="output image file")
    p.add_argument("--palette", action="store_true", help="also write the palette as JSON")
    _add_kmeans_options(p)

    p = sub.add_parser("demo", help="segment a sample photo and say where the results are",
                       description="Segment and quantize scikit-learn's sample photo china.jpg.")
    p.add_argument("-o", "--output", metavar="DIR", default="kmseg-demo",
                   help="output folder (default: ./kmseg-demo)")
    p.add_argument("-k", "--n-clusters", type=_n_clusters, default=lib.DEFAULT_N_CLUSTERS,
                   help=f"number of clusters (default: {lib.DEFAULT_N_CLUSTERS})")
    return parser


def _prepare_dir(path):
    """Create the output folder, or fail before any work if it cannot be one."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise _Failure(f"{path!r}: output exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise _Failure(f"{path!r}: cannot create output folder ({exc.strerror})") from None
    if not os.access(path, os.W_OK):
        raise _Failure(f"{path!r}: output folder is not writable")


def _segment_one(source, args, out_dir, image=None):
    """Segment one image and write the requested outputs; returns the paths."""
    from .io._write import palette_record, save_image, save_json, save_labels

    seg = lib.segment(
        source if image is None else image, args.n_clusters,
        color_space=getattr(args, "color_space", None), n_init=getattr(args, "n_init", lib.DEFAULT_N_INIT),
        random_state=getattr(args, "seed", lib.DEFAULT_RANDOM_STATE), n_threads=getattr(args, "threads", None),
    )
    stem = os.path.splitext(os.path.basename(source))[0]
    written = []
    outputs = getattr(args, "outputs", OUTPUTS)
    if "labels" in outputs:
        written.append(os.path.join(out_dir, f"{stem}_labels.png"))
        save_labels(written[-1], seg.labels, seg.n_clusters)
    if "recolor" in outputs:
        written.append(os.path.join(out_dir, f"{stem}_recolor.png"))
        save_image(written[-1], seg.recolor())
    if "palette" in outputs:
        written.append(os.path.join(out_dir, f"{stem}_palette.json"))
        save_json(written[-1], palette_record(seg, source))
    return seg, written


def _cmd_segment(args):
    _prepare_dir(args.output)
    failed = 0
    for source in args.images:
        try:
            seg, written = _segment_one(source, args, args.output)
        except (KmsegError, OSError) as exc:
            _error(exc, source)
            failed += 1
            continue
        print(f"{source}: k={seg.n_clusters}, inertia={seg.inertia:.6g} -> {', '.join(written)}")
    return 1 if failed else 0


def _cmd_quantize(args):
    from .io._write import palette_record, save_image, save_json

    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        raise _Failure(f"{args.output!r}: folder {folder!r} does not exist")
    from PIL import Image

    ext = os.path.splitext(args.output)[1].lower()
    if ext not in Image.registered_extensions():
        raise _Failure(f"{args.output!r}: unknown image extension {ext!r}")
    seg = lib.segment(
        args.image, args.n_colors, color_space=args.color_space, n_init=args.n_init,
        random_state=args.seed, n_threads=args.threads,
    )
    save_image(args.output, seg.recolor())
    written = [args.output]
    if args.palette:
        written.append(os.path.splitext(args.output)[0] + "_palette.json")
        save_json(written[-1], palette_record(seg, args.image))
    print(f"{args.image}: {seg.n_clusters} colours -> {', '.join(written)}")
    return 0


def _cmd_demo(args):
    import numpy as np
    from sklearn.datasets import load_sample_image

    from .io._write import save_image

    _prepare_dir(args.output)
    photo = np.ascontiguousarray(load_sample_image("china.jpg"))
    original = os.path.join(args.output, "china.png")
    save_image(original, photo)
    seg, written = _segment_one(original, args, args.output, image=photo)
    quantized = os.path.join(args.output, "china_16colors.png")
    save_image(quantized, lib.quantize(photo, lib.DEFAULT_N_COLORS).image)
    h, w = seg.labels.shape
    print(f"Segmented china.jpg ({w}x{h}, {w * h:,} pixels, every one clustered) into "
          f"k={seg.n_clusters} colour classes; inertia {seg.inertia:.6g}.")
    print(f"Wrote to {os.path.abspath(args.output)}:")
    for path in [original] + written + [quantized]:
        print(f"  {os.path.basename(path)}")
    return 0


def _error(exc, source=None):
    message = str(exc)
    if source is not None and repr(source) not in message:
        message = f"{source!r}: {message}"
    print(f"kmseg: error: {message}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"kmseg: warning: {message}", file=sys.stderr)


def main(argv=None):
    """Run the ``kmseg`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"segment": _cmd_segment, "quantize": _cmd_quantize, "demo": _cmd_demo}
    with warnings.catch_warnings():
        warnings.simplefilter("default", lib.KmsegWarning)
        warnings.showwarning = _show_warning
        try:
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
