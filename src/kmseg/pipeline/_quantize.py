"""quantize(): an image reduced to a palette, the pipeline stage by stage, owning no maths.

image -> distinct colours -> palette (fitted, fitted around fixed colours, or given)
-> each pixel's entry (nearest, or dithered) -> the painted image and its indices
"""

import os
import warnings

import numpy as np

from .. import _validation as v
from .._params import (DEFAULT_MAX_ITER, DEFAULT_N_COLORS, DEFAULT_N_INIT, DEFAULT_RANDOM_STATE, DEFAULT_TOL,
                       FitParams)
from .._validation import KmsegWarning
from ..cluster._fit import fit
from ..cluster._held import fit_held
from ..cluster._lloyd import assign
from ..color._spaces import to_features, to_rgb8
from ..labels._dither import palette_indices, pattern_indices
from ._fit import FittedColors, check_n_clusters, fit_colors, order_clusters, warn_fit
from ._arrays import fit_values, is_image, painted_values, read_values
from ._prepare import as_prepared
from ._result import Quantized, Segmentation


def quantize(image, n_colors=None, *, max_error=None, dither="none", dither_strength=1.0, fixed=None,
             palette=None, weights=None, color_space=None, n_init=DEFAULT_N_INIT, max_iter=DEFAULT_MAX_ITER,
             tol=DEFAULT_TOL, random_state=DEFAULT_RANDOM_STATE, n_threads=None, mask=None, nan="raise",
             channel_axis=-1):
    """Reduce an image to ``n_colors`` colours by k-means over every pixel.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image, ndarray or Prepared
        As for :func:`segment`.
    n_colors : int, 'auto' or None, default=None
        Number of colours: 16 when None; 'auto' takes the knee of the elbow
        curve. With ``max_error``, the largest number of colours tried (256 when
        None). An image with at least ``n_colors`` distinct colours gets exactly
        that many distinct palette colours.
    max_error : float, optional
        Use the fewest colours whose mean colour error is at most this:
        CIEDE2000 (Delta E 2000, where about 2.3 is a just-noticeable difference)
        between each pixel's colour and its palette colour, averaged over all
        pixels. Colours are clustered in CIELAB unless ``color_space`` says otherwise.
    dither : {'none', 'floyd-steinberg', 'ordered', 'adaptive'}, default='none'
        How pixels take their palette colour. 'none': each pixel the colour of
        its cluster (the k-means answer; flat areas stay flat, smooth gradients
        band). 'floyd-steinberg': serpentine error diffusion in RGB, as pngquant
        and Pillow dither by default. 'ordered': each colour a fixed pattern of
        palette colours that average to it (Knoll's pattern dithering over an 8x8
        Bayer map; no error travels, so animations and tiles stay stable).
        'adaptive': error diffusion that passes on less error the steeper the
        image is, so gradients are dithered and edges stay clean. Dithering works
        in RGB (grey images: in grey values).
    dither_strength : float in [0, 1], default=1
        Share of the error carried on (diffused, or from one pick of a pattern to
        the next); 0 is no dithering.
    fixed : sequence of colours, optional
        Colours the palette must hold exactly (``'#rrggbb'`` strings or RGB
        triples, at most ``n_colors``): k-means learns the others with these
        centres held where they are.
    palette : sequence of colours, optional
        Map the image onto this palette instead of fitting one: every pixel
        takes its nearest palette colour in the working colour space (exactly;
        the lowest index of equals), or is dithered onto it. Not with
        ``n_colors``, ``max_error``, ``fixed`` or ``weights``.
    weights : (H, W) ndarray of non-negative numbers, or an image file, optional
        Importance of each pixel in the fit: a pixel of weight 2 counts as two
        (faces, a logo, the middle of the frame); a file's grey values (the mean
        of its colour channels) are the weights, 0 counting nothing. Counts,
        inertia and errors stay those of the pixels.
    color_space, n_init, max_iter, tol, random_state, n_threads, mask, nan, channel_axis
        As for :func:`segment`. An array that is not an image (a volume, a
        multi-band raster; see ``channel_axis``) gets its values replaced by their
        cluster's centre (rounded for integer types; left-out elements 0), in its
        own shape and dtype;
        ``palette`` then holds the display colours of the centres.

    Returns
    -------
    Quantized
        ``(image, palette)``: the recoloured image (the input's bit depth and
        alpha, see :meth:`Segmentation.recolor`) and its ``(n_colors, 3)`` uint8
        RGB palette, most used colour first; also ``.indices`` (each pixel's
        palette entry), ``.segmentation``, ``.mean_error`` (with ``max_error``)
        and :meth:`~Quantized.to_pil`, the palette image to save as PNG or GIF.

    Raises
    ------
    KmsegError
        A parameter out of range, or parameters that do not go together.

    Warns
    -----
    KmsegWarning
        ``max_error`` is not reached with the most colours allowed; fewer
        distinct colours in the image than ``n_colors``.

    See Also
    --------
    segment : the full result, labels and centres included.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> img = np.array([[[0, 0, 0], [10, 10, 10], [250, 250, 250]]], dtype=np.uint8)
    >>> out, palette = kmseg.quantize(img, 2)
    >>> palette.tolist()
    [[5, 5, 5], [250, 250, 250]]
    >>> out[0, :, 0].tolist()
    [5, 5, 250]

    Keep a colour exactly, or map onto a given palette:

    >>> kmseg.quantize(img, 2, fixed=["#000000"]).palette.tolist()
    [[0, 0, 0], [250, 250, 250]]
    >>> q = kmseg.quantize(img, palette=["#ffffff", "#000000"])
    >>> q.indices.tolist(), q.to_pil().mode
    ([[1, 1, 0]], 'P')

    Dither a grey ramp onto black and white:

    >>> ramp = np.repeat(np.linspace(0, 255, 8).astype(np.uint8)[None, :, None], 3, axis=2)
    >>> kmseg.quantize(ramp, palette=["#000", "#fff"], dither="floyd-steinberg").indices.tolist()
    [[0, 0, 0, 1, 0, 1, 1, 1]]
    """
    params = FitParams.check(n_init, max_iter, tol, random_state, n_threads)
    dither = v.check_choice("dither", dither, v.DITHER_METHODS)
    dither_strength = v.check_number("dither_strength", dither_strength)
    if dither_strength > 1:
        raise v.KmsegError(f"dither_strength={dither_strength} must be in [0, 1]")
    if palette is not None:
        given = [name for name, value in (("n_colors", n_colors), ("max_error", max_error), ("fixed", fixed),
                                          ("weights", weights)) if value is not None]
        if given:
            raise v.KmsegError(f"palette= maps onto the colours given: leave out {', '.join(given)}")
        palette = v.check_colors("palette", palette)
    if fixed is not None:
        fixed = np.unique(v.check_colors("fixed", fixed), axis=0)
    if max_error is None:
        n_colors = check_n_clusters(DEFAULT_N_COLORS if n_colors is None else n_colors, "n_colors")
    else:
        max_error = v.check_number("max_error", max_error)
        n_colors = 256 if n_colors is None else v.check_int("n_colors", n_colors)
        color_space = "lab" if color_space is None else color_space
    if fixed is not None and (n_colors == "auto" or len(fixed) > n_colors):
        raise v.KmsegError(f"fixed= holds {len(fixed)} colours: n_colors must be an integer >= {len(fixed)}")
    from ._lazy import lazy_values, quantize_dask  # Dask itself loads only for a Dask array

    if lazy_values(image, channel_axis):  # a Dask array of values: reduced and painted block by block
        return quantize_dask(image, n_colors, channel_axis, params, mask, nan, max_error=max_error, fixed=fixed,
                             palette=palette, weights=weights, color_space=color_space, dither=dither)
    if not is_image(image, channel_axis):
        given = [name for name, value in (("max_error", max_error), ("fixed", fixed), ("palette", palette),
                                          ("weights", weights), ("color_space", color_space))
                 if value is not None] + (["dither"] if dither != "none" else [])
        if given:
            raise v.KmsegError(f"{', '.join(given)} apply to images of 1 to 4 channels with channel_axis=-1; "
                               "the values of an array of another kind are clustered as they are")
        with v.thread_limit(params.n_threads):
            values = read_values(image, channel_axis, mask, nan)
            *fitted, note = fit_values(values, n_colors, params)
            seg = Segmentation.of_values(values, *fitted)
        if note is not None:
            warnings.warn(note.replace("n_clusters", "n_colors"), v.KmsegWarning, stacklevel=2)
        out = Quantized(painted_values(seg), seg.palette)
        out.indices, out.segmentation = seg.labels, seg
        return out
    with v.thread_limit(params.n_threads):
        prep = as_prepared(image, color_space, mask, nan)
        weights = None if weights is None else _check_weights(weights, prep)
        error = None
        partial = (None if palette is not None or max_error is not None or n_colors == "auto" or n_colors < 2
                   else _partly_transparent(prep))
        if partial is not None:  # the opaque pixels alone, then the partly transparent ones
            return _with_alpha(prep, partial, n_colors, params, fixed, weights, dither, dither_strength)
        if palette is not None:
            fitted = _onto(prep, palette)
        elif max_error is None:
            fitted = _fit(prep, n_colors, params, fixed, weights)
            warn_fit(fitted, stacklevel=2)
        else:
            fitted, error = _search_max_error(prep, max_error, min(n_colors, prep.n_distinct), params,
                                              fixed, weights)
        seg = Segmentation.of(prep, fitted)
        indices = seg.labels if dither == "none" else _dithered(prep, seg, dither, dither_strength)
        out = Quantized(seg.recolor() if indices is seg.labels else seg.painted(indices), seg.palette)
    out.indices = indices
    out.segmentation = seg
    out.mean_error = error
    return out


def _partly_transparent(prep):
    """``(H, W)`` bool of the clustered pixels of an 8-bit image with alpha strictly between
    0 and 255, or None when there are none (or the image is not 8-bit RGBA)."""
    img = prep.image
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 4 or prep.space == "gray":
        return None
    alpha = img[:, :, 3]
    partial = (alpha > 0) & (alpha < 255)
    if prep.keep is not None:
        partial &= prep.keep.reshape(alpha.shape)
    return partial if partial.any() else None


def _with_alpha(prep, partial, n_colors, params, fixed, weights, dither, strength):
    """Quantize an RGBA image whose edges are partly transparent: the opaque pixels get
    k-means colours of their own (transparency elsewhere never moves them), the partly
    transparent ones RGBA entries of their own, fitted on premultiplied colour and
    alpha, and the fully transparent ones share the entry after the palette.

    The entries are shared in proportion to the pixels, at least one each. Returns a
    :class:`Quantized` with an ``(n, 4)`` RGBA palette, opaque colours first.
    """
    img = prep.image
    h, w = img.shape[:2]
    kept = np.ones((h, w), bool) if prep.keep is None else prep.keep.reshape(h, w)
    opaque = kept & ~partial
    n_partial, n_opaque = int(partial.sum()), int(opaque.sum())
    colors, inverse, counts = np.unique(img[partial], axis=0, return_inverse=True, return_counts=True)
    solid = None
    if n_opaque:
        from ._prepare import Prepared

        solid = Prepared(img, prep.space, mask=opaque)
        solid.name = prep.name
    # entries in proportion to the pixels, at least one each, no more than either has colours
    n_solid = 0 if solid is None else solid.n_distinct
    k_opaque = 0
    if n_solid:
        k_partial = min(n_colors - 1, max(1, int(round(n_colors * n_partial / (n_partial + n_opaque)))))
        k_opaque = min(n_solid, max(n_colors - k_partial, 0 if fixed is None else len(fixed)))
    k_partial = min(len(colors), max(1, n_colors - k_opaque))
    k_opaque = min(n_solid, max(k_opaque, n_colors - k_partial))
    if k_opaque + k_partial < n_colors:
        warnings.warn(f"n_colors={n_colors} is more than the {n_solid + len(colors)} distinct colours of "
                      f"{prep.name} in {prep.space}; using n_colors={k_opaque + k_partial}", KmsegWarning,
                      stacklevel=3)
    # the partly transparent pixels: premultiplied colour and alpha, in 0..255 units
    feats = np.column_stack([colors[:, :3] * (colors[:, 3:] / 255.0), colors[:, 3]]).astype(np.float64)
    km = fit(feats, counts.astype(np.float64), k_partial, params)
    edge_labels = km.labels_[inverse.reshape(-1)]
    centers = km.cluster_centers_
    a = np.clip(centers[:, 3], 1.0, 254.0)
    edge_palette = np.column_stack([np.clip(centers[:, :3] * 255.0 / a[:, None], 0, 255), a])
    edge_palette = np.rint(edge_palette).astype(np.uint8)
    if k_opaque:
        solid_weights = None if weights is None else _check_weights(weights, solid)
        fitted = _fit(solid, k_opaque, params, fixed, solid_weights)
        seg = Segmentation.of(solid, fitted)
        indices = seg.labels if dither == "none" else _dithered(solid, seg, dither, strength)
        opaque_palette = np.column_stack([seg.palette, np.full(len(seg.palette), 255, np.uint8)])
    else:
        seg = None
        indices = np.zeros((h, w), np.uint16)
        opaque_palette = np.zeros((0, 4), np.uint8)
    k_o = len(opaque_palette)
    n = k_o + len(edge_palette)
    from ..labels._order import label_dtype

    out = np.full((h, w), n, dtype=label_dtype(n + 1))
    out[opaque] = indices[opaque]
    out[partial] = k_o + edge_labels
    palette = np.concatenate([opaque_palette, edge_palette])
    table = np.concatenate([palette, np.zeros((1, 4), np.uint8)])
    q = Quantized(table[out], palette)
    q.indices = out
    q.segmentation = seg
    q.mean_error = None
    return q


def _check_weights(weights, prep):
    """Per-pixel importance as float64 of the clustered pixels, checked against the image."""
    if isinstance(weights, (str, os.PathLike)):  # an image of the weights: its grey values
        from ..io._read import read_image

        w = read_image(weights)
        w = w if w.ndim == 2 else w[:, :, 0] if w.shape[2] == 2 else w[:, :, :3].mean(axis=2)
    else:
        w = np.asarray(weights)
    shape = prep.image.shape[:2]
    if w.shape != shape:
        raise v.KmsegError(f"weights of shape {w.shape} do not match the {shape[0]}x{shape[1]} image "
                           f"{prep.name}")
    if w.dtype.kind not in "biuf":
        raise v.KmsegError(f"weights must be numbers, not {w.dtype}")
    w = w.astype(np.float64).reshape(-1)
    if prep.keep is not None:
        w = w[prep.keep]
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise v.KmsegError("weights must be finite, >= 0 and not all 0 on the clustered pixels")
    return w


def _color_weights(prep, pixel_weights):
    """The importance of each distinct colour: the sum of its pixels' weights."""
    index = prep.hist.to_pixels(np.arange(len(prep.hist)), prep.pixels, np.dtype(np.uint32))
    return np.bincount(index.reshape(-1), weights=pixel_weights, minlength=len(prep.hist))


def _fit(prep, n_colors, params, fixed=None, weights=None):
    """The palette of ``n_colors`` of a prepared image: :func:`fit_colors`, or around
    ``fixed`` colours, or with per-pixel ``weights``; always distinct palette colours."""
    if fixed is None and weights is None:
        return _distinct(fit_colors(prep, n_colors, params, "n_colors"))
    note = None
    k = n_colors
    if k > prep.n_distinct:
        note = (f"n_colors={k} is more than the {prep.n_distinct} distinct colours of {prep.name} in "
                f"{prep.space}; using n_colors={prep.n_distinct}")
        k = prep.n_distinct
    fit_weights = prep.weights if weights is None else _color_weights(prep, weights)
    if fixed is None:
        centers = fit(prep.features, fit_weights, k, params).cluster_centers_
        n_held = 0
    else:
        held = to_features(fixed, prep.space)
        k = max(k, len(held))
        centers, n_held = fit_held(prep.features, fit_weights, held, k, params)[0], len(held)
    # counts and inertia of the pixels, whatever weighed in the fit
    labels, _, inertia = assign(prep.features, prep.weights, np.ascontiguousarray(centers))
    held_rgb = None if fixed is None else {i: fixed[i] for i in range(n_held)}
    centers, counts, color_labels = order_clusters(prep.features, prep.weights, centers, labels)
    palette = to_rgb8(centers, prep.space)
    if held_rgb:  # the fixed colours byte for byte, whatever the round trip through the space gives
        feats = to_features(fixed, prep.space)
        for rgb, f in zip(fixed, feats):
            palette[int(np.argmin(((centers - f) ** 2).sum(1)))] = rgb
    return _distinct(FittedColors(centers, palette, counts, color_labels, float(inertia), 0, note=note),
                     keep=fixed)


def _distinct(fitted, keep=None):
    """The fit with no two palette colours alike: a colour that rounds onto an earlier
    one moves to the nearest free RGB value (the ``keep`` colours never move)."""
    palette = fitted.palette
    if len(np.unique(palette, axis=0)) == len(palette):
        return fitted
    palette = palette.copy()
    fixed = set() if keep is None else {tuple(int(c) for c in rgb) for rgb in keep}
    taken = set(fixed)
    steps = sorted(((dr, dg, db) for dr in range(-3, 4) for dg in range(-3, 4) for db in range(-3, 4)),
                   key=lambda s: (s[0] ** 2 + s[1] ** 2 + s[2] ** 2, s))
    for i, rgb in enumerate(palette):
        key = tuple(int(c) for c in rgb)
        if key in fixed or key not in taken:
            taken.add(key)
            continue
        for step in steps:
            cand = tuple(min(255, max(0, c + s)) for c, s in zip(key, step))
            if cand not in taken:
                palette[i] = cand
                taken.add(cand)
                break
    return fitted._replace(palette=palette)


def _onto(prep, palette):
    """The fit of a given palette: each colour labelled with its nearest palette colour."""
    centers = to_features(palette, prep.space)
    labels, _, inertia = assign(prep.features, prep.weights, centers)
    counts = np.bincount(labels, weights=prep.weights, minlength=len(palette)).astype(np.int64)
    return FittedColors(centers, palette, counts, labels, float(inertia), 0)


def _dithered(prep, seg, dither, strength):
    """Each pixel's palette entry, dithered in RGB (grey: in grey values, 0..255)."""
    img = prep.image
    scale = np.float32(255.0 / 65535.0 if img.dtype == np.uint16 else 255.0 if img.dtype.kind == "f" else 1.0)
    entries = seg.palette[:, :1] if seg._grey else seg.palette
    keep = None if prep.keep is None else prep.keep.reshape(img.shape[:2])
    if dither == "ordered":  # a pattern per distinct colour
        colors = prep.hist.colors.reshape(len(prep.hist), -1).astype(np.float32) * scale
        if colors.shape[1] != entries.shape[1]:  # a grey image clustered in a colour space
            colors = np.repeat(colors, entries.shape[1], axis=1)
        index = prep.hist.to_pixels(np.arange(len(prep.hist)), prep.pixels, np.dtype(np.uint32))
        full = np.zeros(img.shape[0] * img.shape[1], np.uint32)
        full[slice(None) if prep.keep is None else prep.keep] = index.reshape(-1)
        return pattern_indices(colors, full.reshape(img.shape[:2]), keep, entries, strength)
    if seg._grey:
        values = (img if img.ndim == 2 else img[:, :, 0])[:, :, None]
    else:
        values = np.repeat(img[:, :, :1], 3, axis=2) if img.ndim == 2 or img.shape[2] == 2 else img[:, :, :3]
    values = values.astype(np.float32) * scale
    if img.dtype.kind == "f":
        values = np.nan_to_num(values)
    return palette_indices(values, keep, entries, dither, strength)


def _search_max_error(prep, max_error, n_max, params, fixed=None, weights=None):
    """Fewest colours whose mean CIEDE2000 error is at most ``max_error``.

    Doubles n until the target is met, then bisects, assuming the error falls as
    n grows. Returns ``(fitted, error)`` of the chosen n.
    """
    from ..color._error import lab_colors, mean_delta_e

    tried = {}
    # CIELAB of the distinct colours, once: in 'lab' space (the default here) they are the features
    colors_lab = prep.features if prep.space == "lab" else lab_colors(prep.hist.colors)
    n_min = 1 if fixed is None else len(fixed)

    def error_of(n):
        if n not in tried:
            fitted = _fit(prep, n, params, fixed, weights)
            tried[n] = (fitted, mean_delta_e(prep.hist.colors, prep.hist.counts, fitted.palette,
                                             fitted.color_labels, colors_lab))
        return tried[n][1]

    lo, hi = n_min - 1, n_min
    n_max = max(n_max, n_min)
    while error_of(hi) > max_error and hi < n_max:
        lo, hi = hi, min(2 * hi, n_max)
    if error_of(hi) > max_error:
        warnings.warn(
            f"max_error={max_error:g} is not reached with n_colors={n_max} "
            f"(mean error {error_of(hi):.3g}); using {n_max} colours",
            KmsegWarning,
            stacklevel=3,
        )
        return tried[hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if error_of(mid) <= max_error:
            hi = mid
        else:
            lo = mid
    return tried[hi]
