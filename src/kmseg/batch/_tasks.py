"""The work of one image, as a batch worker (a thread, a process, a Dask worker) runs it.

:func:`segment_file` is the one per-image dispatch of ``segment_many`` and of the
``kmseg segment`` command: colour classes, connected regions, a shared palette
or bands of rows, then the files asked for.
"""

import os
import time

from .. import _validation as v
from .._config import config_context
from ..io._arrays import save_array
from ..io._palette_files import palette_record
from ..io._write import OUTPUT_SUFFIXES, save_figure, save_json, save_segmentation
from ..pipeline._arrays import painted_values
from ..pipeline._large import segment_large
from ..pipeline._palette import PaletteColors
from ..pipeline._segment import segment
from ..regions._pipeline import regions_and_hierarchy

#: The files a segmentation can be written as (the figure: original, segmented, boundaries).
OUTPUTS = tuple(OUTPUT_SUFFIXES)


def segment_file(path, targets, n_clusters, params, palette=None, mode="colors", source=None):
    """Segment one image file and write ``targets`` (kind -> path); returns the result.

    ``source`` is the name the palette file and figure give the image (``path`` when None).

    ``mode``: 'colors' (:func:`~kmseg.segment` with ``params``), 'regions'
    (:func:`~kmseg.segment_regions`, ``n_clusters`` segments) or 'bands'
    (:func:`~kmseg.segment_large`: TIFF label and recoloured files, in bands of
    rows); with a ``palette``, the image is labelled with its colours instead.
    """
    if mode == "bands":
        if "figure" in targets:
            raise v.KmsegError(f"{path!r}: a figure draws the whole image, which is processed in bands here")
        _make_folders(targets)
        seg = segment_large(path, n_clusters, targets.get("labels"), recolor=targets.get("recolor"), **params)
        if "palette" in targets:
            save_json(targets["palette"], palette_record(seg, source or path))
        return seg
    if palette is not None:
        seg = palette.apply(path, n_threads=params.get("n_threads"))
    elif mode == "regions":
        regions, hierarchy = regions_and_hierarchy(path, n_clusters, **params)
        seg = regions.as_segmentation()
    else:
        seg = segment(path, n_clusters, **params)
    _make_folders(targets)
    if "ucm" in targets:  # the tree the segments were cut from, not a second one
        hierarchy.save_ucm(targets["ucm"])
    if seg.color_space is None:  # an array file's values: outputs of its kind
        _save_values(seg, targets, path, source)
        return seg
    save_segmentation(seg, targets, source or path)
    if "figure" in targets:
        from ..plot._figures import plot_segmentation

        save_figure(targets["figure"], plot_segmentation(path, seg))
    return seg


def _save_values(seg, targets, path, source):
    """The outputs of an array file's segmentation: labels and recoloured values as
    files of the input's kind (its georeferencing or affine kept), the palette JSON."""
    if "labels" in targets:
        save_array(targets["labels"], seg.labels, like=path)
    if "recolor" in targets:
        save_array(targets["recolor"], painted_values(seg), like=path)
    if "palette" in targets:
        save_json(targets["palette"], palette_record(seg, source or path))


def _make_folders(targets):
    for folder in {os.path.dirname(t) for t in targets.values()}:
        os.makedirs(folder or ".", exist_ok=True)


def segment_task(path, targets, n_clusters, params, palette, mode, config=None, base=None):
    """Segment one image and write its outputs, under the caller's ``config`` (see
    :func:`kmseg.get_config`), with relative paths taken from the folder ``base``
    when given (the caller's working folder, for workers on other machines).

    Returns a manifest record naming the paths as given; never raises for a bad image.
    """
    start = time.perf_counter()
    record = {"input": path, "outputs": sorted(targets.values())}
    given = path
    if base is not None:
        path = os.path.join(base, path)
        targets = {kind: os.path.join(base, t) for kind, t in targets.items()}
    try:
        with config_context(**(config or {})):
            seg = segment_file(path, targets, n_clusters, params, palette, mode, source=given)
        elbow = getattr(seg, "elbow", None)
        record.update(status="ok", reason="", k=int(seg.n_clusters), inertia=float(seg.inertia),
                      **({} if elbow is None else {"knee": elbow.knee.reason}))
    except v.IMAGE_ERRORS as exc:
        reason = str(exc) or type(exc).__name__
        if path != given:
            reason = reason.replace(path, given)
        record.update(status="failed", reason=reason, k=None, inertia=None)
    record["seconds"] = round(time.perf_counter() - start, 4)
    return record


def palette_colors_task(config, image, skip_bad=False, n_threads=None):
    """``[PaletteColors.of_image(image)]`` under the caller's settings, on ``n_threads``
    kernel threads (for workers). With ``skip_bad``, an image that cannot be read gives
    ``[]``: it adds nothing to a palette (a batch reports it in its own record); else
    its error is raised."""
    try:
        with config_context(**config), v.thread_limit(v.resolve_n_threads(n_threads)):
            return [PaletteColors.of_image(image)]
    except v.IMAGE_ERRORS:
        if skip_bad:
            return []
        raise
