"""``import kmseg`` stays cheap: heavy modules load on first use."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["kmseg", "kmseg.metrics"])
def test_import_is_lazy(module):
    code = (
        f"import sys, {module}; heavy = [m for m in ('numba', 'sklearn', 'skimage', 'matplotlib', 'scipy',"
        " 'dask', 'distributed')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_resolve():
    import kmseg

    for name in kmseg.__all__:
        assert getattr(kmseg, name) is not None
    assert "KMeans" in dir(kmseg)


@pytest.mark.parametrize("preset, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_openmp_threads_wait_passively_unless_told(preset, expected):
    """Spinning OpenMP threads slowed fits in the main thread 5-10x on a busy
    machine: kmseg asks for passive waiting, but keeps a value the user set."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset is not None:
        env["OMP_WAIT_POLICY"] = preset
    code = "import os, kmseg; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == expected


def test_segmenting_does_not_import_scikit_learn():
    """Worker processes and command-line calls do not pay scikit-learn's import
    time (about a second) to segment an image."""
    code = (
        "import sys, numpy as np, kmseg; img = np.arange(300, dtype=np.uint8).reshape(10, 10, 3);"
        " seg = kmseg.segment(img, 3); q = kmseg.quantize(img, 2); print(seg.n_clusters, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "False"]
