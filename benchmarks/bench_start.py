"""Start-up benchmark: how long kmseg takes to answer in a fresh process.

Run from the repository root::

    python benchmarks/bench_start.py                       # this interpreter's kmseg
    python benchmarks/bench_start.py --vs /path/to/other/bin/python   # A/B, ratios pair by pair
    python benchmarks/bench_start.py --fresh-venv          # also: pip install . into a new venv, first demo

Every figure is the wall time of a whole new process (interpreter start,
imports, kernel loading, the work, exit), the median of ``--repeats`` runs
after one untimed run (so the operating system's file cache is warm, as it is
for a user's second command); with ``--vs`` the two interpreters run in turn,
A B A B, and the ratio A/B is taken pair by pair. Measured:

* ``floor``: ``python -c "import numpy, numpy.random, PIL.Image, PIL.JpegImagePlugin"``,
  what any tool reading a JPEG with NumPy and Pillow pays before its work;
* ``import``: ``python -c "import kmseg"``;
* ``import+segment``: ``import kmseg`` and the first ``kmseg.segment(photo, 8)``
  of a 481x321 photo, in Python; the process also reports whether numba was
  imported;
* ``cli segment``: ``kmseg segment PHOTO -k 8 -o DIR``;
* ``cli batch``: ``kmseg batch`` of ``--batch`` photos (default 100) with the
  default outputs, and its images per second;
* with ``--fresh-venv``: ``pip install .`` of this checkout into a new
  ``python -m venv`` (timed once), then the first ``kmseg demo`` there (the
  first time is what a new user meets, so it is timed once, and then the
  second run for comparison).

The photos are the BSDS500 val photos in ``../shared/data/bsds500/images/val``
(the first sorted for the single-photo figures); where that folder is missing,
scikit-image's astronaut resized to 481x321 (and copies of it for the batch).
"""

import argparse
import datetime
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _images import BSDS_VAL_DIR, REPO_ROOT, bsds_names  # noqa: E402

#: What any NumPy + Pillow tool pays before its first line of work: the floor.
FLOOR_CODE = "import numpy, numpy.random, PIL.Image, PIL.JpegImagePlugin"
SEGMENT_CODE = (
    "import sys, kmseg; seg = kmseg.segment({photo!r}, 8);"
    " print('numba' in sys.modules, seg.n_clusters)"
)


def photos(folder, n):
    """``n`` photo paths: BSDS500 val photos, or copies of a scikit-image photo."""
    names = bsds_names()
    if names:
        return [str(BSDS_VAL_DIR / name) for name in names[:n]]
    from PIL import Image
    from skimage import data

    path = Path(folder) / "astronaut.png"
    Image.fromarray(data.astronaut()).resize((481, 321)).save(path)
    out = [str(path)]
    for i in range(1, n):
        copy = Path(folder) / f"astronaut{i:03d}.png"
        shutil.copy(path, copy)
        out.append(str(copy))
    return out


def run(cmd, env=None):
    """Wall seconds of one run of ``cmd``, and what it printed; fails loudly."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bench_start: {shlex.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def commands(python, photo, batch_folder, out_dir):
    """The timed commands for one interpreter, by name."""
    kmseg = str(Path(python).parent / "kmseg")
    return {
        "floor: numpy+Pillow": [python, "-c", FLOOR_CODE],
        "import": [python, "-c", "import kmseg"],
        "import+segment": [python, "-c", SEGMENT_CODE.format(photo=photo)],
        "cli segment": [kmseg, "segment", photo, "-k", "8", "-o", str(out_dir / "one")],
        "cli batch": [kmseg, "batch", str(batch_folder), "-k", "8", "-o", str(out_dir / "batch"), "--quiet"],
    }


def measure(pythons, photo, batch_folder, repeats, out_root):
    """Median seconds per command and interpreter, and the pairwise ratios A/B."""
    cmds = [commands(p, photo, batch_folder, out_root / f"py{i}") for i, p in enumerate(pythons)]
    times = {name: [[] for _ in pythons] for name in cmds[0]}
    notes = {}
    for name in cmds[0]:
        for i in range(len(pythons)):  # untimed first run: file cache warm
            _, out = run(cmds[i][name])
            if name == "import+segment":
                notes[i] = out.split()[0] == "True"
        for _ in range(repeats):
            for i in range(len(pythons)):
                if name == "cli batch":
                    shutil.rmtree(out_root / f"py{i}" / "batch", ignore_errors=True)
                times[name][i].append(run(cmds[i][name])[0])
    return times, notes


def fresh_venv(python, root):
    """pip install . into a new venv; the first and second ``kmseg demo`` there."""
    venv = root / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    install, _ = run(pip + [str(REPO_ROOT)])
    demo = [str(venv / "bin" / "kmseg"), "demo"]
    cwd = os.getcwd()
    os.chdir(root)
    try:
        first, _ = run(demo)
        second, _ = run(demo)
    finally:
        os.chdir(cwd)
    return install, first, second


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable, help="interpreter A (default: this one)")
    p.add_argument("--vs", metavar="PYTHON", help="interpreter B, run in turn with A; ratios A/B")
    p.add_argument("--repeats", type=int, default=5, help="timed runs of each command (default: 5)")
    p.add_argument("--batch", type=int, default=100, help="photos in the batch run (default: 100)")
    p.add_argument("--fresh-venv", action="store_true", help="also time pip install . and the first demo")
    args = p.parse_args(argv)
    pythons = [args.python] + ([args.vs] if args.vs else [])

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "photos"
        folder.mkdir()
        paths = photos(folder, args.batch)
        for path in paths:  # the batch reads one folder
            target = folder / Path(path).name
            if not target.exists():
                os.symlink(path, target)
        photo = paths[0]
        times, numba = measure(pythons, photo, folder, args.repeats, tmp)
        venv = fresh_venv(args.python, tmp) if args.fresh_venv else None

    lines = [f"bench_start, {datetime.date.today()}: `{shlex.join([sys.executable, *sys.argv])}`", "",
             f"Photo: {Path(photo).name}; batch: {len(paths)} photos; median of {args.repeats} fresh processes.", ""]
    head = "| command | A: s |" + (" B: s | A/B (median of pairs) |" if args.vs else "")
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for name, per in times.items():
        row = f"| {name} | {statistics.median(per[0]):.3f} |"
        if args.vs:
            ratios = [a / b for a, b in zip(per[0], per[1])]
            row += f" {statistics.median(per[1]):.3f} | {statistics.median(ratios):.2f} |"
        lines.append(row)
    batch_rate = len(paths) / statistics.median(times["cli batch"][0])
    lines += ["", f"A: {args.python}; numba imported by import+segment: {numba[0]}; "
              f"batch {batch_rate:.1f} images/s"]
    if args.vs:
        lines.append(f"B: {args.vs}; numba imported by import+segment: {numba[1]}; "
                     f"batch {len(paths) / statistics.median(times['cli batch'][1]):.1f} images/s")
    if venv:
        lines.append(f"Fresh venv: pip install . {venv[0]:.1f} s; first kmseg demo {venv[1]:.2f} s, "
                     f"second {venv[2]:.2f} s")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
