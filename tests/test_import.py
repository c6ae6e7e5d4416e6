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
