"""scikit-learn's own k-means tests, run against kmseg's estimators.

Copies the installed scikit-learn's ``sklearn/cluster/tests/test_k_means.py`` to a
temporary folder with ``KMeans`` (and ``MiniBatchKMeans``, once kmseg has one) taken
from kmseg, runs it with pytest and scikit-learn's test fixtures, and prints how many
tests pass; ``--reference`` runs the unchanged file too, for the count scikit-learn's
own classes reach on this machine.

    python benchmarks/sklearn_tests.py [--reference] [-- extra pytest arguments]
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile


def _test_file():
    import sklearn

    return os.path.join(os.path.dirname(sklearn.__file__), "cluster", "tests", "test_k_means.py")


def _swapped(text, names):
    """The test file's text with ``names`` imported from kmseg instead of scikit-learn."""
    line = re.search(r"^from sklearn\.cluster import (.+)$", text, flags=re.M)
    if line is None:
        sys.exit("the test file no longer imports from sklearn.cluster on one line: update this script")
    kept = [n.strip() for n in line.group(1).split(",") if n.strip() not in names]
    new = f"from sklearn.cluster import {', '.join(kept)}\nfrom kmseg import {', '.join(names)}"
    return text[:line.start()] + new + text[line.end():]


def _run(path, extra):
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "sklearn.conftest",
           "-W", "ignore", path, *extra]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    tail = out.strip().splitlines()[-1] if out.strip() else ""
    counts = {key: int(n) for n, key in re.findall(r"(\d+) (passed|failed|skipped|error|errors)", tail)}
    counts["errors"] = counts.pop("error", 0) + counts.pop("errors", 0)
    return counts, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", action="store_true", help="also run the file unchanged")
    parser.add_argument("--show-failures", action="store_true", help="print the names of failing tests")
    parser.add_argument("extra", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)

    import kmseg
    import sklearn

    names = [n for n in ("KMeans", "MiniBatchKMeans") if n in kmseg.__all__]
    text = open(_test_file()).read()
    print(f"# scikit-learn {sklearn.__version__}'s test_k_means.py with {', '.join(names)} from kmseg "
          f"{kmseg.__version__} ({datetime.date.today()})")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "test_k_means_kmseg.py")
        with open(path, "w") as fh:
            fh.write(_swapped(text, names))
        counts, out = _run(path, args.extra)
        ran = counts.get("passed", 0) + counts.get("failed", 0) + counts["errors"]
        print(f"kmseg:        {counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed, "
              f"{counts['errors']} errors, {counts.get('skipped', 0)} skipped: "
              f"{100 * counts.get('passed', 0) / max(ran, 1):.1f}% of the tests that ran pass")
        if args.show_failures:
            for line in out.splitlines():
                if line.startswith(("FAILED", "ERROR")):
                    print("  " + line)
        if args.reference:
            ref, _ = _run(_test_file(), args.extra)
            print(f"scikit-learn: {ref.get('passed', 0)} passed, {ref.get('failed', 0)} failed, "
                  f"{ref['errors']} errors, {ref.get('skipped', 0)} skipped")


if __name__ == "__main__":
    main()
