# Shared low-level pieces of the parallel kernels: the fixed chunk size and the
# chunk count. Every kernel file cimports these, so no stage borrows another
# stage's kernel helpers.

#: Samples per chunk of the parallel loops (fixed, so sums never depend on threads).
cdef enum:
    CHUNK = 2048


cdef inline Py_ssize_t n_chunks(Py_ssize_t n_samples) noexcept nogil:
    """Number of chunks the kernels split ``n_samples`` into (at least one)."""
    cdef Py_ssize_t nc = (n_samples + CHUNK - 1) // CHUNK
    return nc if nc > 1 else 1


cimport openmp

#: Operations (about one multiply-add each) a thread must have before another
#: one joins: waking a sleeping OpenMP thread costs tens of microseconds, so a
#: loop with a few chunks of little work runs on one.
cdef enum:
    MIN_TEAM_WORK = 1 << 14


cdef inline int team_size(double work) noexcept nogil:
    """Threads for a parallel loop of ``work`` operations: the calling thread's
    OpenMP count, fewer for small work (results never depend on it)."""
    cdef int t = openmp.omp_get_max_threads()
    cdef double per = work / MIN_TEAM_WORK
    if per < t:
        t = <int>per if per >= 1.0 else 1
    return t
