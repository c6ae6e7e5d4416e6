"""Cython kernels of the label stage: painting a label map with a colour per label, and
mapping pixels onto a palette with dithering (error diffusion, ordered patterns)."""

from kmseg import _parallel  # its fork handler must exist wherever a kernel can run (see _parallel.pyx)
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t

import numpy as np

from kmseg._parallel cimport CHUNK, n_chunks, team_size

ctypedef fused label_t:
    uint8_t
    uint16_t
    uint32_t

ctypedef fused value_t:
    uint8_t
    uint16_t
    float


cdef Py_ssize_t _paint_chunk(const label_t* labels, const value_t* table, Py_ssize_t m, Py_ssize_t c,
                             value_t* out, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """Paint pixels ``start..stop``; the number of labels that are not rows of the table."""
    cdef Py_ssize_t i, j, bad = 0
    cdef Py_ssize_t label
    for i in range(start, stop):
        label = labels[i]
        if label >= m:
            bad += 1
            continue
        for j in range(c):
            out[i * c + j] = table[label * c + j]
    return bad


def paint(const label_t[::1] labels, const value_t[:, ::1] table, value_t[:, ::1] out):
    """``out[i] = table[labels[i]]``, in parallel over fixed chunks.

    Parameters
    ----------
    labels : (n,) uint8, uint16 or uint32
    table : (m, c) uint8, uint16 or float32, a row per label
    out : (n, c) of the table's dtype, output

    Returns
    -------
    int
        Labels that are not rows of the table (their rows of ``out`` are left as they were).
    """
    cdef Py_ssize_t n = labels.shape[0], m = table.shape[0], c = table.shape[1]
    cdef Py_ssize_t chunk, start, bad = 0
    if n == 0 or c == 0:
        return 0
    cdef const label_t* lab = &labels[0]
    cdef const value_t* tab = &table[0, 0] if m > 0 else NULL
    cdef value_t* dst = &out[0, 0]
    cdef int team = team_size(<double>n * c)
    with nogil:
        for chunk in prange(n_chunks(n), num_threads=team, schedule="static"):
            start = chunk * CHUNK
            bad += _paint_chunk(lab, tab, m, c, dst, start, min(n, start + CHUNK))
    return bad


# --------------------------------------------------------------------------------------
# Nearest palette entry, and dithering onto a palette
#
# The palette reaches the kernels sorted by its first channel (``key``), so the
# search for the nearest entry walks outward from a guess (the previous pixel's
# entry) and stops on each side once the first channel alone is farther than the
# best distance found: exact, and a few entries per pixel on photos.

cdef inline Py_ssize_t _nearest(const float* x, const float* pal, const float* key, const int64_t* ids,
                                Py_ssize_t n, Py_ssize_t c, Py_ssize_t guess, float* best_d) noexcept nogil:
    """Index (in the sorted palette) of the entry nearest ``x``; of equals, the one of
    lowest ``ids`` (the caller's index)."""
    cdef Py_ssize_t j, lo, hi, best = guess
    cdef float d, t, dk
    d = 0
    for j in range(c):
        t = x[j] - pal[guess * c + j]
        d = d + t * t
    best_d[0] = d
    lo = guess - 1
    hi = guess + 1
    while lo >= 0 or hi < n:
        if lo >= 0:
            dk = x[0] - key[lo]
            if dk * dk > best_d[0]:
                lo = -1
            else:
                d = 0
                for j in range(c):
                    t = x[j] - pal[lo * c + j]
                    d = d + t * t
                if d < best_d[0] or (d == best_d[0] and ids[lo] < ids[best]):
                    best_d[0] = d
                    best = lo
                lo -= 1
        if hi < n:
            dk = key[hi] - x[0]
            if dk * dk > best_d[0]:
                hi = n
            else:
                d = 0
                for j in range(c):
                    t = x[j] - pal[hi * c + j]
                    d = d + t * t
                if d < best_d[0] or (d == best_d[0] and ids[hi] < ids[best]):
                    best_d[0] = d
                    best = hi
                hi += 1
    return best


def diffuse(const float[:, :, ::1] image, const uint8_t[:, ::1] keep, const float[:, ::1] palette,
            const int64_t[::1] ids, const float[:, ::1] strength, float lo, float hi, label_t[:, ::1] out):
    """Floyd-Steinberg error diffusion onto a palette, serpentine.

    Rows are scanned left to right, then right to left. Each pixel plus the error
    diffused into it (each channel clamped to ``[lo, hi]``) takes its nearest
    palette entry (squared Euclidean distance; the lowest index of equals); its
    error, times ``strength`` there, goes 7/16 ahead, 3/16 behind below, 5/16
    below and 1/16 ahead below. Pixels where ``keep`` is 0 get the label
    ``n`` (one past the palette), take no error and pass none on.

    Parameters
    ----------
    image : (H, W, c) float32, c <= 8
    keep : (H, W) uint8, 0 or 1
    palette : (n, c) float32, n >= 1, sorted by its first channel
    ids : (n,) int64, each sorted entry's index in the caller's palette (ties go to the lowest)
    strength : (H, W) float32, the share of each pixel's error passed on
    lo, hi : float
        Range of a channel.
    out : (H, W) uint8, uint16 or uint32, output: indices into ``palette``
    """
    cdef Py_ssize_t h = image.shape[0], w = image.shape[1], c = image.shape[2], n = palette.shape[0]
    if h == 0 or w == 0:
        return
    # two rows of carried error, with a pixel of margin on both sides
    cdef float[:, ::1] rows = np.zeros((2 * (w + 2), c), dtype=np.float32)
    cdef float[::1] key = np.ascontiguousarray(palette[:, 0])
    with nogil:
        _diffuse(&image[0, 0, 0], &keep[0, 0], &palette[0, 0], &key[0], &ids[0], &strength[0, 0], h, w, c, n,
                 lo, hi, &rows[0, 0], &out[0, 0])


cdef void _diffuse(const float* image, const uint8_t* keep, const float* pal, const float* key, const int64_t* ids,
                   const float* strength, Py_ssize_t h, Py_ssize_t w, Py_ssize_t c, Py_ssize_t n,
                   float lo, float hi, float* rows, label_t* out) noexcept nogil:
    cdef Py_ssize_t y, x, j, step, xs, xe, i, guess = 0, best
    cdef float e, s, d
    # Floyd and Steinberg's weights, exact in binary; float arithmetic throughout
    cdef float w7 = 7.0 / 16.0, w3 = 3.0 / 16.0, w5 = 5.0 / 16.0, w1 = 1.0 / 16.0
    cdef float value[8]
    cdef float* cur = rows
    cdef float* nxt = rows + (w + 2) * c
    cdef float* swap
    for y in range(h):
        if y % 2 == 0:
            xs, xe, step = 0, w, 1
        else:
            xs, xe, step = w - 1, -1, -1
        x = xs
        while x != xe:
            i = y * w + x
            if not keep[i]:
                out[i] = <label_t>n
                for j in range(c):
                    cur[(x + 1) * c + j] = 0
                x += step
                continue
            for j in range(c):
                e = image[i * c + j] + cur[(x + 1) * c + j]
                value[j] = lo if e < lo else (hi if e > hi else e)
            best = _nearest(value, pal, key, ids, n, c, guess, &d)
            guess = best
            out[i] = <label_t>best
            s = strength[i]
            for j in range(c):
                e = (value[j] - pal[best * c + j]) * s
                cur[(x + 1 + step) * c + j] += e * w7
                nxt[(x + 1 - step) * c + j] += e * w3
                nxt[(x + 1) * c + j] += e * w5
                nxt[(x + 1 + step) * c + j] += e * w1
            x += step
        swap = cur
        cur = nxt
        nxt = swap
        for j in range((w + 2) * c):
            nxt[j] = 0


def pattern(const float[:, ::1] colors, const float[:, ::1] palette, const int64_t[::1] ids,
            const float[::1] luma, float gain, int64_t[:, ::1] out):
    """Candidate mixes of palette entries for each colour (Knoll's pattern dithering).

    For each colour ``x`` the kernel picks ``m = out.shape[1]`` entries one after
    another: entry ``i`` is the nearest (as :func:`diffuse` finds it) to ``x`` plus
    ``gain`` times the error so far (``i * x`` less the entries picked), so the
    entries average to ``x`` as closely as the palette allows. They are then
    sorted by ``luma`` (stable), and the pixel whose threshold falls in level ``j``
    of ``m`` takes entry ``j``: each colour becomes a fixed pattern of nearby
    entries, and a colour of the palette stays itself.

    Parameters
    ----------
    colors : (n, c) float32, c <= 8, the distinct colours
    palette : (p, c) float32, sorted by its first channel
    ids : (p,) int64, each sorted entry's index in the caller's palette
    luma : (p,) float32, the key the candidates are ordered by (of the sorted palette)
    gain : float, the share of the error carried to the next pick (1: all)
    out : (n, m) int64, output: caller's palette indices, m <= 64
    """
    cdef Py_ssize_t n = colors.shape[0], c = colors.shape[1], p = palette.shape[0], m = out.shape[1]
    cdef Py_ssize_t i
    if n == 0 or m == 0:
        return
    cdef float[::1] key = np.ascontiguousarray(palette[:, 0])
    cdef int team = team_size(<double>n * m * c * 16)
    with nogil:
        for i in prange(n, num_threads=team, schedule="static"):
            _pattern_one(&colors[i, 0], &palette[0, 0], &key[0], &ids[0], &luma[0], p, c, m, gain, &out[i, 0])


cdef void _pattern_one(const float* x, const float* pal, const float* key, const int64_t* ids,
                       const float* luma, Py_ssize_t p, Py_ssize_t c, Py_ssize_t m, float gain,
                       int64_t* out) noexcept nogil:
    cdef Py_ssize_t i, j, guess = 0, best
    cdef float d, t
    cdef float err[8]
    cdef float attempt[8]
    cdef Py_ssize_t picked[64]
    for j in range(c):
        err[j] = 0
    for i in range(m):
        for j in range(c):
            attempt[j] = x[j] + err[j] * gain
        best = _nearest(attempt, pal, key, ids, p, c, guess, &d)
        guess = best
        for j in range(c):
            err[j] = err[j] + (x[j] - pal[best * c + j])
        # insertion by luma, stable: after every earlier pick of the same luma
        j = i
        while j > 0 and luma[picked[j - 1]] > luma[best]:
            picked[j] = picked[j - 1]
            j -= 1
        picked[j] = best
    for i in range(m):
        out[i] = ids[picked[i]]
