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
