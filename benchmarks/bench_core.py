"""Core benchmark: kmseg against scikit-learn, OpenCV and Pillow on whole photos.

Run from the repository root::

    python benchmarks/bench_core.py             # full run: k = 4, 8, 16 on both images (10+ min)
    python benchmarks/bench_core.py --quick     # smoke run: k = 8, mosaic only, no slow methods
    python benchmarks/bench_core.py --k 8 16 --images mosaic --repeats 7
    python benchmarks/bench_core.py --vs OTHER/bin/python   # kmseg A/B against another install

What it measures, for each image, k and method, on the same input in the same run:

* time: median wall time of ``--repeats`` runs (default 5). The slow methods
  ``sklearn-10`` and ``cv2-10`` run once (marked in the table); ``sklearn-1``
  runs min(3, repeats) times. Each run includes the method's own input
  preparation (e.g. the float32 copy of the pixels) and producing a label per
  pixel.
* peak extra memory: every (method, k, image) runs in a fresh worker process
  (``bench_core.py --worker ...``). The worker loads the image and imports the
  libraries (and, for kmseg, makes one untimed warm-up call, so first-call
  costs such as page faults and thread starts stay out), then records its resident memory as the
  baseline, resets the kernel's peak counter (``/proc/self/clear_refs``) and
  runs; the peak is ``VmHWM`` of ``/proc/self/status``. Reported: peak minus
  baseline, in MB (2**20 bytes).
* exact inertia: the sum over ALL pixels of the squared RGB distance (0..255
  units) to the nearest of the method's centres (its palette, for Pillow),
  computed in float64 from the image's colour histogram. Every method is scored
  by this same nearest-centre assignment, so the numbers are comparable (Pillow's
  own pixel mapping, e.g. FASTOCTREE's, is not always the nearest palette
  entry). scikit-learn's own ``inertia_`` on float32 input is accumulated in
  float32 and is NOT exact; it is kept in core.json as ``own_inertia``.

Also measured: the command-line cold start, i.e. the wall time of a fresh
``python -m kmseg segment mosaic.png -k 8 -o DIR --outputs labels`` (interpreter
start, imports, cached-kernel load, PNG decode and encode; median of 3 after an
untimed priming run), and the same command's work inside a warm process.

With ``--vs PYTHON``, only kmseg runs: for each image and k, ``--rounds``
rounds each run one worker of this interpreter (A) and one of PYTHON (B, its
own kmseg install), in turn; printed are the medians of A and B and the median
of the round-by-round ratios A/B (the two installs' labels must agree: their
inertias are compared).

Output: a Markdown table per image, then a summary checking the targets on the
mosaic; printed and written, with the raw JSON records, to
``benchmarks/results/core.md`` and ``benchmarks/results/core.json``.
The reference machine has 2 noisy cores: compare medians and ratios, not
single timings.
"""

import argparse
import contextlib
import ctypes
import datetime
import gc
import io
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import _images

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = [
    "kmseg",
    "sklearn-1",
    "sklearn-10",
    "shortcut-1000",
    "shortcut-example",
    "cv2-10",
    "pil-mediancut",
    "pil-maxcoverage",
    "pil-fastoctree",
]
SLOW = {"sklearn-10", "cv2-10"}  # one timed run only
SHORTCUT_SAMPLES = 1_000
WORKER_TIMEOUT_S = 3600
MB = 2**20


# --------------------------------------------------------------------------- methods
# Each takes the (H, W, 3) uint8 image and k, and returns (centres as (k, 3)
# float64 RGB, the library's own inertia or None). Labels for every pixel are
# produced inside the timed call, then dropped.


def _pixels_f32(img):
    return img.reshape(-1, 3).astype(np.float32)


def run_kmseg(img, k):
    import kmseg

    seg = kmseg.segment(img, k)
    return seg.centers, seg.inertia


def _sklearn(img, k, n_init):
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, n_init=n_init, random_state=0).fit(_pixels_f32(img))
    labels = model.labels_.reshape(img.shape[:2])  # noqa: F841  (the per-pixel result)
    return model.cluster_centers_, float(model.inertia_)


def run_sklearn_1(img, k):
    return _sklearn(img, k, n_init=1)


def run_sklearn_10(img, k):
    return _sklearn(img, k, n_init=10)


def run_shortcut_1000(img, k):
    """The tutorial recipe: fit on 1,000 random pixels, predict all of them."""
    from sklearn.cluster import KMeans

    pixels = _pixels_f32(img)
    rng = np.random.default_rng(0)
    sample = pixels[rng.choice(len(pixels), SHORTCUT_SAMPLES, replace=False)]
    model = KMeans(n_clusters=k, n_init=1, random_state=0).fit(sample)
    labels = model.predict(pixels).reshape(img.shape[:2])  # noqa: F841
    return model.cluster_centers_, None


def run_shortcut_example(img, k):
    """scikit-learn's "Color Quantization using K-Means" example, as written:
    float64 pixels in [0, 1], 1,000 pixels drawn by ``shuffle``, default KMeans,
    ``predict`` on every pixel."""
    from sklearn.cluster import KMeans
    from sklearn.utils import shuffle

    pixels = np.array(img, dtype=np.float64).reshape(-1, 3) / 255
    sample = shuffle(pixels, random_state=0, n_samples=SHORTCUT_SAMPLES)
    model = KMeans(n_clusters=k, random_state=0).fit(sample)
    labels = model.predict(pixels).reshape(img.shape[:2])  # noqa: F841
    return model.cluster_centers_ * 255, None


def run_cv2_10(img, k):
    """The OpenCV tutorial call: 10 attempts, random centres, 10 iterations or eps 1."""
    import cv2

    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    compactness, labels, centers = cv2.kmeans(
        _pixels_f32(img), k, None, criteria, 10, cv2.KMEANS_RANDOM_CENTERS
    )
    return centers, float(compactness)


def _pillow(img, k, method_name):
    from PIL import Image

    quantized = Image.fromarray(img).quantize(k, method=getattr(Image.Quantize, method_name))
    labels = np.asarray(quantized)  # noqa: F841
    palette = quantized.getpalette()[: k * 3]
    return np.asarray(palette, dtype=np.float64).reshape(-1, 3), None


def run_pil_mediancut(img, k):
    return _pillow(img, k, "MEDIANCUT")


def run_pil_maxcoverage(img, k):
    return _pillow(img, k, "MAXCOVERAGE")


def run_pil_fastoctree(img, k):
    return _pillow(img, k, "FASTOCTREE")


RUNNERS = {
    "kmseg": run_kmseg,
    "sklearn-1": run_sklearn_1,
    "sklearn-10": run_sklearn_10,
    "shortcut-1000": run_shortcut_1000,
    "shortcut-example": run_shortcut_example,
    "cv2-10": run_cv2_10,
    "pil-mediancut": run_pil_mediancut,
    "pil-maxcoverage": run_pil_maxcoverage,
    "pil-fastoctree": run_pil_fastoctree,
}

# Libraries imported before the baseline is taken, so import cost is not counted.
IMPORTS = {
    "kmseg": ["kmseg"],  # its modules load at the untimed warm-up call
    "sklearn-1": ["sklearn.cluster"],
    "sklearn-10": ["sklearn.cluster"],
    "shortcut-1000": ["sklearn.cluster"],
    "shortcut-example": ["sklearn.cluster", "sklearn.utils"],
    "cv2-10": ["cv2"],
    "pil-mediancut": ["PIL.Image"],
    "pil-maxcoverage": ["PIL.Image"],
    "pil-fastoctree": ["PIL.Image"],
}


def n_repeats(method, repeats):
    if method in SLOW:
        return 1
    if method == "sklearn-1":
        return min(3, repeats)
    return repeats


def cv2_available():
    try:
        import cv2  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- measuring


def exact_inertia(img, centers):
    """Sum over all pixels of the squared distance to the nearest centre, in float64."""
    from kmseg.cluster._lloyd import assign
    from kmseg.histogram._histogram import ColorHistogram

    hist = ColorHistogram(img.reshape(-1, 3))
    X = np.ascontiguousarray(hist.colors, dtype=np.float64)
    weights = hist.counts.astype(np.float64)
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    _, _, inertia = assign(X, weights, centers)
    return inertia


def _status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _trim_heap():
    """Give freed heap memory back to the system so the baseline RSS is honest."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def reset_peak():
    """Collect garbage, reset the peak RSS to the current RSS; returns the baseline in bytes."""
    gc.collect()
    _trim_heap()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_kb("VmRSS") * 1024


def peak_rss():
    return _status_kb("VmHWM") * 1024


# --------------------------------------------------------------------------- workers


def worker_method(method, k, image_file, repeats):
    """Time one method in this (fresh) process; returns its JSON record."""
    import importlib

    img = np.ascontiguousarray(np.load(image_file))
    for name in IMPORTS[method]:
        importlib.import_module(name)
    runner = RUNNERS[method]
    if method == "kmseg":
        runner(img, k)  # untimed warm-up: first-call costs stay out of the timing
    n = n_repeats(method, repeats)

    baseline = reset_peak()
    times, centers, own = [], None, None
    for _ in range(n):
        t0 = time.perf_counter()
        centers, own = runner(img, k)
        times.append(time.perf_counter() - t0)
        centers = np.array(centers, dtype=np.float64)  # keep only the centres
        gc.collect()
    peak = peak_rss()

    return {
        "method": method,
        "k": k,
        "image_file": os.path.basename(image_file),
        "n_pixels": int(img.shape[0] * img.shape[1]),
        "times_s": times,
        "time_s": statistics.median(times),
        "runs": n,
        "slow": method in SLOW,
        "baseline_mb": baseline / MB,
        "peak_extra_mb": (peak - baseline) / MB,
        "n_centers": int(len(centers)),
        "centers": centers.tolist(),
        "inertia": exact_inertia(img, centers),
        "own_inertia": own,
    }


def worker_cli_warm(png, k, runs):
    """The CLI command's work inside a warm process: median of ``runs`` after a warm-up."""
    from kmseg.cli import main

    with tempfile.TemporaryDirectory() as out:
        argv = ["segment", str(png), "-k", str(k), "-o", out, "--outputs", "labels"]
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            main(argv)  # warm-up
        times = []
        for _ in range(runs):
            with contextlib.redirect_stdout(sink):
                t0 = time.perf_counter()
                main(argv)
                times.append(time.perf_counter() - t0)
    return {"method": "cli-warm", "k": k, "times_s": times, "time_s": statistics.median(times)}


def spawn_worker(args, python=None):
    """Run ``bench_core.py --worker ...`` in a fresh process of ``python`` (this
    interpreter by default); returns its JSON record."""
    cmd = [python or sys.executable, os.path.abspath(__file__), "--worker", *map(str, args)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {WORKER_TIMEOUT_S} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    return json.loads(lines[-1])


def cold_start(png, k, runs=3):
    """Wall time of fresh ``python -m kmseg segment`` processes: priming run, then ``runs`` timed."""
    times = []
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "kmseg", "segment", str(png), "-k", str(k), "-o", out,
               "--outputs", "labels"]
        for i in range(runs + 1):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            elapsed = time.perf_counter() - t0
            if proc.returncode != 0:
                return {"error": proc.stderr.strip()[-300:], "command": shlex.join(cmd)}
            if i:  # the first run may compile kernels into the cache; not timed
                times.append(elapsed)
    return {"command": shlex.join(cmd), "times_s": times, "time_s": statistics.median(times)}


# --------------------------------------------------------------------------- report


def environment():
    def version(module):
        try:
            return __import__(module).__version__
        except ImportError:
            return "not installed"

    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())
    return {
        "command": shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "versions": {m: version(m) for m in ("kmseg", "numpy", "sklearn", "numba", "cv2", "PIL")},
    }


def header_lines(env):
    v = env["versions"]
    return [
        "# kmseg core benchmark",
        "",
        f"- command: `{env['command']}`",
        f"- date: {env['date']}",
        f"- CPUs: {env['cpu_count']} ({env['cpus_usable']} usable), {env['cpu']}",
        f"- python {env['python']}; " + ", ".join(f"{m} {v[m]}" for m in v),
        "",
    ]


def _fmt_time(rec):
    mark = " †" if rec["slow"] else ""
    return f"{rec['time_s']:.3f}{mark}"


def image_table(title, records, ks, notes):
    """Markdown table of one image's records, grouped by k."""
    lines = [f"## {title}", "",
             "| method | k | time (s, median) | runs | peak extra mem (MB) | exact inertia "
             "| inertia / best | kmseg speed-up (t / t_kmseg) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for k in ks:
        group = [r for r in records if r["k"] == k and "error" not in r]
        if not group:
            continue
        best = min(r["inertia"] for r in group)
        km = next((r for r in group if r["method"] == "kmseg"), None)
        for r in group:
            speed = f"{r['time_s'] / km['time_s']:.2f}x" if km else "n/a"
            lines.append(
                f"| {r['method']} | {k} | {_fmt_time(r)} | {r['runs']} | {r['peak_extra_mb']:.0f} "
                f"| {r['inertia']:.6e} | {r['inertia'] / best:.4f} | {speed} |"
            )
    for r in records:
        if "error" in r:
            lines.append(f"\n- {r['method']} k={r['k']}: FAILED ({r['error']})")
    lines.append("")
    if any(r.get("slow") for r in records):
        lines.append("† one run only (slow method).")
    lines += ["Inertia: every method scored by nearest-centre assignment of all pixels "
              "to its centres/palette, exact, float64."]
    own = [r for r in records if r.get("own_inertia") and "error" not in r
           and r["method"].startswith(("sklearn", "kmseg"))]
    if own:
        lines.append("Library-reported inertia vs exact: " + "; ".join(
            f"{r['method']} k={r['k']}: {r['own_inertia'] / r['inertia'] - 1:+.2e}" for r in own))
    lines += [f"{n}" for n in notes]
    lines.append("")
    return lines


def _check(ok, text):
    return f"{'PASS' if ok else 'FAIL'} ({text})"


def summary_lines(records, ks):
    """Targets of the issue, on the mosaic, one column per k."""
    rows = {
        "kmseg inertia <= sklearn-1 inertia": [],
        "kmseg inertia within 0.5% of sklearn-10": [],
        "kmseg >= 10x faster than sklearn-1": [],
        "kmseg faster than shortcut-1000 (float32)": [],
        "kmseg faster than shortcut-example (float64)": [],
        "kmseg peak mem <= 1/2 of sklearn-1's": [],
        "stretch: kmseg time / FASTOCTREE time": [],
    }
    for k in ks:
        by = {r["method"]: r for r in records if r["k"] == k and "error" not in r}
        km, s1, s10 = by.get("kmseg"), by.get("sklearn-1"), by.get("sklearn-10")
        sc, oct_ = by.get("shortcut-1000"), by.get("pil-fastoctree")
        sce = by.get("shortcut-example")
        cells = list(rows.values())
        cells[0].append(_check(km["inertia"] <= s1["inertia"], f"ratio {km['inertia'] / s1['inertia']:.4f}")
                        if km and s1 else "n/a")
        cells[1].append(_check(km["inertia"] <= 1.005 * s10["inertia"],
                               f"ratio {km['inertia'] / s10['inertia']:.4f}") if km and s10 else "n/a")
        cells[2].append(_check(s1["time_s"] >= 10 * km["time_s"], f"{s1['time_s'] / km['time_s']:.1f}x")
                        if km and s1 else "n/a")
        cells[3].append(_check(sc["time_s"] > km["time_s"], f"{sc['time_s'] / km['time_s']:.2f}x")
                        if km and sc else "n/a")
        cells[4].append(_check(sce["time_s"] > km["time_s"], f"{sce['time_s'] / km['time_s']:.2f}x")
                        if km and sce else "n/a")
        cells[5].append(_check(km["peak_extra_mb"] <= 0.5 * s1["peak_extra_mb"],
                               f"{km['peak_extra_mb']:.0f} vs {s1['peak_extra_mb']:.0f} MB")
                        if km and s1 else "n/a")
        cells[6].append(f"{km['time_s'] / oct_['time_s']:.2f}" if km and oct_ else "n/a")
    lines = ["## Summary: targets on the 12 MP mosaic", "",
             "| target | " + " | ".join(f"k={k}" for k in ks) + " |",
             "|---|" + "---|" * len(ks)]
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows.items()]
    lines.append("")
    return lines


def cold_lines(cold, warm):
    lines = ["## Command-line start-up (mosaic PNG, k=8)", ""]
    if "error" in cold:
        lines.append(f"- cold: FAILED ({cold['error']})")
    else:
        lines.append(f"- cold (fresh process, median of {len(cold['times_s'])}): "
                     f"{cold['time_s']:.3f} s  [{', '.join(f'{t:.3f}' for t in cold['times_s'])}]")
        lines.append(f"  - `{cold['command']}`")
    if "error" in warm:
        lines.append(f"- warm: FAILED ({warm['error']})")
    else:
        lines.append(f"- same work in a warm process (`kmseg.cli.main`, median of "
                     f"{len(warm['times_s'])}): {warm['time_s']:.3f} s")
    if "error" not in cold and "error" not in warm:
        lines.append(f"- start-up overhead (cold - warm): {cold['time_s'] - warm['time_s']:.3f} s")
    lines.append("")
    return lines


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--k", type=int, nargs="+", default=[4, 8, 16], help="cluster counts (default: 4 8 16)")
    p.add_argument("--images", nargs="+", choices=["mosaic", "bsds"], default=["mosaic", "bsds"])
    p.add_argument("--bsds-name", default=None, help="BSDS500 val photo (default: first sorted)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs of fast methods (default: 5)")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=METHODS)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: k=8, mosaic only, repeats 3, no sklearn-10 / cv2-10")
    p.add_argument("--no-cold-start", action="store_true", help="skip the CLI start-up timing")
    p.add_argument("--vs", metavar="PYTHON", help="kmseg only: A/B against the kmseg of another interpreter")
    p.add_argument("--rounds", type=int, default=5, help="with --vs: A B rounds per image and k (default: 5)")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.k, args.images, args.repeats = [8], ["mosaic"], 3
        args.methods = [m for m in args.methods if m not in SLOW]
    return args


def prepare_images(args):
    """(key, title, .npy path) of each image to run; notes for the ones missing."""
    out, notes = [], []
    for key in args.images:
        if key == "mosaic":
            _images.mosaic_12mp()
            out.append((key, "12 MP mosaic (3000x4000, china/flower)", str(_images.MOSAIC_NPY)))
        else:
            img = _images.bsds_photo(args.bsds_name)
            if img is None:
                notes.append(f"BSDS500 photo not found under {_images.BSDS_VAL_DIR}; skipped.")
                continue
            name = args.bsds_name or _images.bsds_names()[0]
            path = _images.results_dir() / f"bsds_{os.path.splitext(name)[0]}.npy"
            np.save(path, img)
            out.append((key, f"BSDS500 val/{name} ({img.shape[1]}x{img.shape[0]})", str(path)))
    return out, notes


def ab_lines(images, args):
    """kmseg of this interpreter (A) against ``args.vs`` (B), worker by worker in turn."""
    lines = [f"## kmseg A/B: A = {sys.executable}, B = {args.vs}", "",
             f"{args.rounds} rounds per row, each one fresh worker of A and one of B (B first every other round), "
             f"each the median of {args.repeats} runs.", "",
             "| image | k | A: s | B: s | A/B (median of rounds) | same inertia |", "|---|---:|---:|---:|---:|---|"]
    for key, title, path in images:
        for k in args.k:
            a, b, ratios, same = [], [], [], True
            for r in range(args.rounds):
                print(f"[{key}] k={k} A/B ...", file=sys.stderr, flush=True)
                job = ["kmseg", k, path, args.repeats]
                if r % 2:  # B first in every other round: neither always runs on a warmer machine
                    rb = spawn_worker(job, python=args.vs)
                    ra = spawn_worker(job)
                else:
                    ra = spawn_worker(job)
                    rb = spawn_worker(job, python=args.vs)
                if "error" in ra or "error" in rb:
                    raise SystemExit(f"bench_core: worker failed: {ra.get('error') or rb.get('error')}")
                a.append(ra["time_s"])
                b.append(rb["time_s"])
                ratios.append(ra["time_s"] / rb["time_s"])
                same &= ra["inertia"] == rb["inertia"]
            lines.append(f"| {title} | {k} | {statistics.median(a):.4f} | {statistics.median(b):.4f} | "
                         f"{statistics.median(ratios):.2f} | {'yes' if same else 'NO'} |")
    return lines + [""]


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "cli-warm":
            rec = worker_cli_warm(rest[0], int(rest[1]), int(rest[2]))
        else:
            rec = worker_method(kind, int(rest[0]), rest[1], int(rest[2]))
        print(json.dumps(rec))
        return 0

    env = environment()
    report = header_lines(env)
    print("\n".join(report), flush=True)
    methods = list(args.methods)
    notes = []
    if "cv2-10" in methods and not cv2_available():
        methods.remove("cv2-10")
        notes.append("cv2-10 skipped: OpenCV (cv2) is not installed.")
    images, image_notes = prepare_images(args)
    notes += image_notes

    if args.vs:
        lines = ab_lines(images, args)
        print("\n".join(lines), flush=True)
        out = _images.results_dir()
        (out / "core_ab.md").write_text("\n".join(report + lines))
        print(f"Wrote {out / 'core_ab.md'}", file=sys.stderr)
        return 0

    results = {"environment": env, "args": vars(args), "images": {}, "notes": notes}
    for key, title, path in images:
        records = []
        for k in args.k:
            for method in methods:
                print(f"[{key}] k={k} {method} ...", file=sys.stderr, flush=True)
                rec = spawn_worker([method, k, path, args.repeats])
                rec.setdefault("method", method)
                rec.setdefault("k", k)
                records.append(rec)
        results["images"][key] = {"title": title, "records": records}
        lines = image_table(title, records, args.k, [])
        print("\n".join(lines), flush=True)
        report += lines

    if "mosaic" in results["images"]:
        lines = summary_lines(results["images"]["mosaic"]["records"], args.k)
        print("\n".join(lines), flush=True)
        report += lines
    if not args.no_cold_start:
        png = _images.mosaic_png()
        print("[cli] cold start ...", file=sys.stderr, flush=True)
        cold = cold_start(png, 8)
        warm = spawn_worker(["cli-warm", png, 8, 3])
        results["cli"] = {"cold": cold, "warm": warm}
        lines = cold_lines(cold, warm)
        print("\n".join(lines), flush=True)
        report += lines
    if notes:
        lines = ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
        print("\n".join(lines), flush=True)
        report += lines

    out = _images.results_dir()
    (out / "core.md").write_text("\n".join(report))
    (out / "core.json").write_text(json.dumps(results, indent=1))
    print(f"Wrote {out / 'core.md'} and {out / 'core.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
