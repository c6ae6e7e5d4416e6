"""Defaults of the image functions, and the k-means settings they share, checked once.

Every public function that fits colours (``segment``, ``quantize``,
``segment_large``, ``elbow``, ``PaletteFitter``, the web page) builds one
:class:`FitParams` at its boundary and passes it down; nothing below checks or
defaults these settings again.
"""

import numbers
from typing import NamedTuple

import numpy as np

from . import _validation as v

#: Colour classes of ``segment`` and the command line.
DEFAULT_N_CLUSTERS = 8
#: Colours of ``quantize``.
DEFAULT_N_COLORS = 16
#: k-means++ restarts of the image functions (run on a coarse pooling of the colours).
DEFAULT_N_INIT = 4
#: Seed of the image functions: results are reproducible, byte for byte.
DEFAULT_RANDOM_STATE = 0
#: Lloyd iterations at most, per run (also :class:`kmseg.KMeans`'s default).
DEFAULT_MAX_ITER = 300
#: Convergence tolerance, relative to the features' mean variance (also :class:`kmseg.KMeans`'s).
DEFAULT_TOL = 1e-4
#: ``n_clusters="auto"`` chooses k among 1..AUTO_K_MAX by the knee of the WCSS curve.
AUTO_K_MAX = 10
#: ``kmseg.mask_colors`` and ``kmseg palette --exclude``: pixels within this CIEDE2000
#: difference of an excluded colour are left out (2.3 is just noticeable; 5, plainly the same colour).
DEFAULT_EXCLUDE_DISTANCE = 5.0


class FitParams(NamedTuple):
    """The k-means settings of one call, checked: build it with :meth:`check`.

    ``n_threads`` is resolved to a count (None becomes every thread the kernels
    may use); ``random_state`` is kept as given, so that every fit of the call
    (each k of a sweep, say) starts from the same seed.
    """

    n_init: int = DEFAULT_N_INIT
    max_iter: int = DEFAULT_MAX_ITER
    tol: float = DEFAULT_TOL
    random_state: object = DEFAULT_RANDOM_STATE
    n_threads: int = 1

    @classmethod
    def check(cls, n_init=DEFAULT_N_INIT, max_iter=DEFAULT_MAX_ITER, tol=DEFAULT_TOL,
              random_state=DEFAULT_RANDOM_STATE, n_threads=None):
        """The settings checked, or a :class:`~kmseg.KmsegError` naming the first bad one.

        Examples
        --------
        >>> from kmseg._params import FitParams
        >>> FitParams.check(n_init=2, n_threads=1)
        FitParams(n_init=2, max_iter=300, tol=0.0001, random_state=0, n_threads=1)
        """
        return cls(v.check_int("n_init", n_init), v.check_int("max_iter", max_iter),
                   v.check_number("tol", tol), check_random_state(random_state),
                   v.resolve_n_threads(n_threads))


def check_random_state(random_state):
    """``random_state`` as given if it is None, an int >= 0, a RandomState or a Generator."""
    if random_state is None or isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)):
        return v.check_int("random_state", random_state, minimum=0)
    raise v.KmsegError(f"random_state={random_state!r} must be None, an integer >= 0, a "
                       "numpy.random.RandomState or a numpy.random.Generator")
