"""Colour quantization: kmseg against pngquant, libimagequant and Pillow, undithered and dithered.

Run from the repository root (``apt-get install pngquant`` for the pngquant rows;
``pip install -e ".[bench]"`` for libimagequant)::

    python benchmarks/bench_quantize.py                          # Kodak, 16, 64 and 256 colours
    python benchmarks/bench_quantize.py --set bsds-train --limit 24 --colors 16,256
    python benchmarks/bench_quantize.py --set skimage --colors 64 --verbose --repeat 3

Photo sets (``--set``; ``--limit N`` takes the first N, sorted by name):

* ``kodak``: the 24 Kodak photos (``../shared/data/kodak/*.png``, 768x512), the standard
  colour quantization set: the one to report;
* ``bsds-train``: BSDS500 *train* photos (``../shared/data/bsds500/images/train``,
  481x321 JPEGs, decoded and saved as PNG first), 24 unless ``--limit`` says otherwise;
* ``skimage``: scikit-image's sample photos (astronaut, chelsea, coffee, ...) saved as PNG.

Every method reads the photo's PNG file and writes an indexed PNG; its time is that, file
to file (the median of ``--repeat`` runs), in this process, or for programs the wall
time of the process:

* ``kmseg``: ``kmseg.quantize(PHOTO, K, dither=D)`` then ``kmseg.io.save_indexed``, as
  ``kmseg quantize PHOTO -n K -o OUT.png --dither D`` does; the command line itself is
  run too (its wall time, interpreter start included, is the ``CLI s`` column) and its
  file must be byte for byte the one written in process. Undithered, and dithered with
  ``floyd-steinberg`` (the target row), ``adaptive`` and ``ordered``.
* ``pngquant``: ``pngquant --nofs K --force --output OUT.png PHOTO`` undithered, without
  ``--nofs`` (its default Floyd-Steinberg dithering) dithered; skipped where absent.
* ``imagequant``: libimagequant through the ``imagequant`` package (GPL: a benchmark peer,
  imported here only), ``dithering_level=0`` and the default 1.0; saved by Pillow
  (``optimize=True``), its all-opaque RGBA palette written as RGB (no tRNS chunk).
* ``pil-mediancut``, ``pil-fastoctree``: Pillow's ``Image.quantize(K, method=...)``.
  Pillow ignores ``dither=`` when it builds the palette, so the dithered rows take that
  palette and map the photo onto it with ``quantize(palette=..., dither=FLOYDSTEINBERG)``
  (both steps timed). ``pil-libimagequant`` too where Pillow was built with it.

Measures of each output, decoded back to RGB: MSE (over pixels and R, G, B, 0-255 units,
as ``kmseg compare``), S-CIELAB (``kmseg.metrics.s_cielab``, default viewing condition:
mean Delta E*ab after the eye's blur, so a dither counts as the colour it averages to),
the file's size in bytes, and its number of distinct colours. The summary per (K,
undithered or dithered) gives the means over the photos, the median time, the ratios
kmseg / pngquant against the issue's targets, and whether each method gave exactly K
colours on every photo that has at least K.
"""

import argparse
import datetime
import filecmp
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _images  # noqa: E402

KODAK_DIR = _images.SHARED_DIR / "data" / "kodak"
BSDS_TRAIN_DIR = _images.SHARED_DIR / "data" / "bsds500" / "images" / "train"
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field",
                  "retina", "stereo_motorcycle")
KMSEG_DITHERS = ("floyd-steinberg", "adaptive", "ordered")
RETRY_WAIT = 60  # seconds before a failed kmseg run is tried again
RETRIES = 5
#: The issue's targets: (measure, kmseg row, pngquant row, highest kmseg / pngquant ratio)
TARGETS = {False: [("MSE", "kmseg", "pngquant --nofs", 0.95), ("size", "kmseg", "pngquant --nofs", 1.05)],
           True: [("S-CIELAB", "kmseg floyd-steinberg", "pngquant", 1.00),
                  ("size", "kmseg floyd-steinberg", "pngquant", 1.05)]}


# --------------------------------------------------------------------------- photos

def photos(which, limit, tmp):
    """(name, PNG path) of each photo of the set; JPEGs and arrays are saved as PNG in ``tmp``."""
    from PIL import Image

    if which == "kodak":
        paths = sorted(KODAK_DIR.glob("*.png"))[:limit]
        return [(p.name, str(p)) for p in paths]
    out = []
    if which == "bsds-train":
        for p in sorted(BSDS_TRAIN_DIR.glob("*.jpg"))[:24 if limit is None else limit]:
            dest = os.path.join(tmp, p.stem + ".png")
            with Image.open(p) as im:
                im.convert("RGB").save(dest)
            out.append((p.name, dest))
        return out
    import skimage.data

    for name in SKIMAGE_PHOTOS[:limit]:
        img = getattr(skimage.data, name)()
        img = img[0] if isinstance(img, tuple) else img  # stereo_motorcycle: (left, right, disparity)
        dest = os.path.join(tmp, name + ".png")
        Image.fromarray(np.ascontiguousarray(img[:, :, :3])).save(dest)
        out.append((name, dest))
    return out


def read_rgb(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def distinct_colours(img):
    flat = img.reshape(-1, 3).astype(np.uint32)
    return len(np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]))


# --------------------------------------------------------------------------- methods
# Each writes the indexed PNG of the photo at ``src`` with ``k`` colours to ``out``.

def kmseg_api(dither):
    def run(src, k, out):
        import kmseg
        from kmseg.io import save_image, save_indexed

        q = kmseg.quantize(src, k, dither=dither)
        if q.fits_palette:  # as the CLI writes an indexed format
            save_indexed(out, q.indices, q.palette)
        else:
            save_image(out, q.image)
    return run


def kmseg_cli(src, k, out, dither):
    proc = subprocess.run([sys.executable, "-m", "kmseg", "quantize", src, "-n", str(k), "-o", out,
                           "--dither", dither], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode:
        raise RuntimeError(f"kmseg quantize exited {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")


def pngquant(dithered):
    def run(src, k, out):
        subprocess.run(["pngquant"] + ([] if dithered else ["--nofs"]) + [str(k), "--force", "--output", out, src],
                       check=True)
    return run


def imagequant_run(dithered):
    def run(src, k, out):
        import imagequant
        from PIL import Image

        with Image.open(src) as im:
            q = imagequant.quantize_pil_image(im, dithering_level=1.0 if dithered else 0.0, max_colors=k)
        rgba = np.asarray(q.getpalette("RGBA"), dtype=np.uint8).reshape(-1, 4)
        used = int(np.asarray(q).max()) + 1
        if np.all(rgba[:used, 3] == 255):  # opaque entries in use: no tRNS chunk, as pngquant writes
            q.putpalette(rgba[:, :3].reshape(-1).tolist(), rawmode="RGB")
        q.save(out, optimize=True)
    return run


def pillow(method_name, dithered):
    def run(src, k, out):
        from PIL import Image

        method = getattr(Image.Quantize, method_name)
        with Image.open(src) as im:
            rgb = im.convert("RGB")
        q = rgb.quantize(k, method=method)
        if dithered:  # Pillow dithers only onto a given palette
            q = rgb.quantize(palette=q, dither=Image.Dither.FLOYDSTEINBERG)
        q.save(out, optimize=True)
    return run


def methods(dithered):
    """(row name, function) of each method available here, kmseg's first."""
    from PIL import features

    rows = [(f"kmseg {d}", kmseg_api(d)) for d in KMSEG_DITHERS] if dithered else [("kmseg", kmseg_api("none"))]
    if shutil.which("pngquant"):
        rows.append(("pngquant" if dithered else "pngquant --nofs", pngquant(dithered)))
    try:
        import imagequant  # noqa: F401

        rows.append(("imagequant" + (" 1.0" if dithered else " 0"), imagequant_run(dithered)))
    except ImportError:
        pass
    pil = ["MEDIANCUT", "FASTOCTREE"] + (["LIBIMAGEQUANT"] if features.check_feature("libimagequant") else [])
    rows += [(f"pil-{m.lower()}" + (" +fs" if dithered else ""), pillow(m, dithered)) for m in pil]
    return rows


def warm_up(tmp):
    """Untimed runs on a small image: imports, thread start, first-call costs."""
    from PIL import Image

    src, out = os.path.join(tmp, "warm.png"), os.path.join(tmp, "warm-out.png")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(src)
    for dithered in (False, True):
        for _, run in methods(dithered):
            run(src, 16, out)
    import kmseg.metrics

    kmseg.metrics.s_cielab(read_rgb(src), read_rgb(out))


def timed(fn, repeat, *args, retries=0):
    """Median seconds of ``repeat`` runs; with ``retries``, a failed run is tried again a
    minute later (kmseg's sources may be changing under a long run), up to that many times."""
    times = []
    for _ in range(repeat):
        for attempt in range(retries + 1):
            try:
                start = time.perf_counter()
                fn(*args)
                break
            except Exception as exc:  # noqa: BLE001 -- reported, then retried or raised
                if attempt == retries:
                    raise
                print(f"  {type(exc).__name__}: {exc}; trying again in {RETRY_WAIT} s", file=sys.stderr, flush=True)
                time.sleep(RETRY_WAIT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(original, path):
    from kmseg.metrics import s_cielab

    out = read_rgb(path)
    mse = float(np.mean((out.astype(np.float64) - original) ** 2))
    return {"mse": mse, "scielab": float(s_cielab(original, out)), "bytes": os.path.getsize(path),
            "colours": distinct_colours(out)}


# --------------------------------------------------------------------------- report

def summary(k, dithered, rows, names, n_in, cli):
    """The markdown table of one (k, dithered) and the lines of ratios and targets under it."""
    title = f"#### {k} colours, {'dithered' if dithered else 'undithered'} ({len(names)} photos)"
    lines = [title, "", "| method | mean MSE | mean S-CIELAB | mean bytes | median s | CLI s | colours out "
             "(min-max) | exactly K |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    eligible = [i for i, n in enumerate(n_in) if n >= k]
    means = {}
    for name, per in rows.items():
        means[name] = {m: statistics.fmean(r[m] for r in per) for m in ("mse", "scielab", "bytes")}
        colours = [r["colours"] for r in per]
        exact = sum(per[i]["colours"] == k for i in eligible)
        cli_s = f"{statistics.median(cli[name]):.3f}" if name in cli else ""
        lines.append(f"| {name} | {means[name]['mse']:.2f} | {means[name]['scielab']:.3f} | "
                     f"{means[name]['bytes']:,.0f} | {statistics.median(r['time'] for r in per):.3f} | {cli_s} | "
                     f"{min(colours)}-{max(colours)} | {exact}/{len(eligible)} |")
    lines.append("")
    peer = "pngquant" if dithered else "pngquant --nofs"
    label = {"mse": "MSE", "scielab": "S-CIELAB", "bytes": "size"}
    key = {"MSE": "mse", "S-CIELAB": "scielab", "size": "bytes"}
    for name in [r for r in rows if r.startswith("kmseg")]:
        for other in (peer, "imagequant 1.0" if dithered else "imagequant 0"):
            if other in means:
                lines.append(f"- {name} / {other}: " + ", ".join(
                    f"{label[m]} {means[name][m] / means[other][m]:.3f}" for m in ("mse", "scielab", "bytes")))
    for measure_name, ours, theirs, limit in TARGETS[dithered]:
        if ours in means and theirs in means:
            m = key[measure_name]
            ratio = means[ours][m] / means[theirs][m]
            worse = [(names[i], rows[ours][i][m] / rows[theirs][i][m]) for i in range(len(names))
                     if rows[ours][i][m] > limit * rows[theirs][i][m]]
            lines.append(f"- target {measure_name} {ours} / {theirs} <= {limit:.2f}: {ratio:.3f}, "
                         f"{'met' if ratio <= limit else 'NOT met'}; photos above {limit:.2f}: {len(worse)}"
                         + (" (" + ", ".join(f"{n} {r:.2f}" for n, r in worse) + ")" if worse else ""))
    for name in [r for r in rows if r.startswith("kmseg")]:
        exact = all(rows[name][i]["colours"] == k for i in eligible)
        lines.append(f"- {name}: exactly {k} distinct colours on every photo with >= {k}: "
                     f"{'yes' if exact else 'NO'} ({len(eligible)} such photos)")
    return "\n".join(lines)


def kmseg_source():
    """The commit kmseg's sources are at, and whether src/ has changes not committed."""
    try:
        head = subprocess.run(["git", "-C", str(_images.REPO_ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(_images.REPO_ROOT), "status", "--porcelain", "src"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f" (commit {head}{', src/ with uncommitted changes' if dirty else ''})"


def peer_versions():
    out = [f"kmseg {version('kmseg')}{kmseg_source()}", f"Pillow {version('pillow')}", f"NumPy {version('numpy')}",
           f"scikit-image {version('scikit-image')}"]
    try:
        out.append(f"imagequant {version('imagequant')}")
    except PackageNotFoundError:
        out.append("imagequant not installed: its rows skipped")
    if shutil.which("pngquant"):
        text = subprocess.run(["pngquant", "--version"], capture_output=True, text=True).stdout.strip()
        out.append(f"pngquant {text}")
    else:
        out.append("pngquant not installed (apt-get install pngquant): its rows skipped")
    from PIL import features

    out.append("Pillow built with libimagequant" if features.check_feature("libimagequant")
               else "Pillow built without libimagequant (no pil-libimagequant rows)")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", choices=["kodak", "bsds-train", "skimage"], default="kodak", help="photos (default: kodak)")
    p.add_argument("--colors", default="16,64,256", help="numbers of colours, comma-separated (default: 16,64,256)")
    p.add_argument("--limit", type=int, default=None,
                   help="first N photos of the set (default: all; 24 for bsds-train)")
    p.add_argument("--repeat", type=int, default=1, help="timed runs per method, median taken (default: 1)")
    p.add_argument("--no-cli", action="store_true", help="do not run kmseg's command line")
    p.add_argument("--verbose", action="store_true", help="print every photo's figures")
    args = p.parse_args(argv)
    ks = [int(x) for x in args.colors.split(",") if x.strip()]
    argv = sys.argv[1:] if argv is None else argv
    header = ["# Quantizer: kmseg against pngquant, libimagequant and Pillow", "",
              f"- command: `python {shlex.join(['benchmarks/bench_quantize.py'] + list(argv))}`",
              f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}; {os.cpu_count()} CPUs; "
              f"{platform.platform()}; Python {platform.python_version()}",
              "- versions: " + "; ".join(peer_versions()), ""]
    print("\n".join(header), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        todo = photos(args.set, args.limit, tmp)
        warm_up(tmp)
        groups = {(k, d): {name: [] for name, _ in methods(d)} for k in ks for d in (False, True)}
        cli = {(k, d): {} for k in ks for d in (False, True)}
        cli_mismatch = []
        names, n_in = [], []
        for name, src in todo:
            original = read_rgb(src)
            n = distinct_colours(original)
            names.append(name)
            n_in.append(n)
            print(f"{name}: {original.shape[1]}x{original.shape[0]}, {n:,} distinct colours", flush=True)
            for k in ks:
                for dithered in (False, True):
                    for row, run in methods(dithered):
                        out = os.path.join(tmp, "out.png")
                        seconds = timed(run, args.repeat, src, k, out,
                                        retries=RETRIES if row.startswith("kmseg") else 0)
                        r = measure(original, out)
                        r["time"] = seconds
                        groups[k, dithered][row].append(r)
                        if row.startswith("kmseg") and not args.no_cli:
                            dither = row.split(" ")[1] if " " in row else "none"
                            cli_out = os.path.join(tmp, "cli.png")
                            t = timed(kmseg_cli, args.repeat, src, k, cli_out, dither, retries=RETRIES)
                            cli[k, dithered].setdefault(row, []).append(t)
                            if not filecmp.cmp(out, cli_out, shallow=False):
                                cli_mismatch.append(f"{name} k={k} {row}")
                        if args.verbose:
                            print(f"  k={k} {row}: MSE {r['mse']:.2f}, S-CIELAB {r['scielab']:.3f}, "
                                  f"{r['bytes']:,} bytes, {r['colours']} colours, {seconds:.3f} s", flush=True)
    print()
    for k in ks:
        for dithered in (False, True):
            print(summary(k, dithered, groups[k, dithered], names, n_in, cli[k, dithered]) + "\n", flush=True)
    if not args.no_cli:
        print("kmseg CLI files byte for byte the in-process ones: "
              + ("all" if not cli_mismatch else f"NO, {len(cli_mismatch)} differ: {', '.join(cli_mismatch)}"))


if __name__ == "__main__":
    main()
