"""Build of kmseg's compiled kernels: every ``.pyx`` file under ``src/kmseg``
becomes one extension module of the same name, with OpenMP.

Project metadata lives in ``pyproject.toml``; this file only declares the
extensions (setuptools cannot list them there).
"""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

SRC = Path(__file__).parent / "src"

#: -O3 vectorises the inner loops; -fno-math-errno lets sqrt compile to one
#: instruction; -g0 leaves out debugging tables (a third of each module's size);
#: -ffp-contract=off keeps a*b+c two roundings (no fused
#: multiply-add), so results are the same bits on every x86-64 machine. No
#: -march=native: the same source install must run, and give the same answers,
#: on any machine of the architecture.
COMPILE_ARGS = ["-O3", "-g0", "-fopenmp", "-fno-math-errno", "-ffp-contract=off"]
LINK_ARGS = ["-fopenmp"]

#: Cython's checks, off in kernels: the Python layer hands them arrays of the
#: right shapes (see each kernel's docstring).
DIRECTIVES = {
    "language_level": "3",
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "embedsignature": True,
}


def extensions():
    out = []
    for pyx in sorted(SRC.rglob("*.pyx")):
        module = ".".join(pyx.relative_to(SRC).with_suffix("").parts)
        out.append(Extension(module, [str(pyx.relative_to(Path(__file__).parent))],
                             extra_compile_args=COMPILE_ARGS, extra_link_args=LINK_ARGS))
    return cythonize(out, compiler_directives=DIRECTIVES, include_path=[str(SRC)])


setup(ext_modules=extensions())
