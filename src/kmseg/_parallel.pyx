"""Threads of the compiled kernels (OpenMP) and their fixed chunking.

The thread count a kernel runs with is OpenMP's, set per calling thread: a
batch worker thread limiting itself to one thread leaves the others alone.

GNU OpenMP's threads do not survive ``fork``: a forked child whose parent had
run a parallel kernel would wait for them for ever. A child forked from a
process that imported this module therefore runs the kernels on one thread
(spawned processes, and threads, use as many as they are given).
"""

import os

cimport openmp

#: Threads the kernels may use at most: OpenMP's default team size when this
#: module loads (the machine's cores, or ``OMP_NUM_THREADS``).
MAX_THREADS = openmp.omp_get_max_threads()

cdef bint _forked = False


def _serial_after_fork():
    global _forked
    _forked = True
    openmp.omp_set_num_threads(1)


os.register_at_fork(after_in_child=_serial_after_fork)


def get_num_threads():
    """Threads the kernels launched from this thread run with."""
    return openmp.omp_get_max_threads()


def set_num_threads(int n):
    """Run the kernels launched from this thread with ``n`` threads (one in a
    forked child, see the module docstring)."""
    openmp.omp_set_num_threads(1 if _forked else n)


def team_for(double work):
    """Threads a parallel loop of ``work`` operations launched from this thread
    runs with (see ``team_size`` in ``_parallel.pxd``)."""
    return team_size(work)
