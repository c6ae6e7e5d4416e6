"""segment_many() and fit_palette(): many images, in parallel, with a manifest and resume.

The driving loop (inputs, resume, manifest, progress) is written once; the work
of each image (``_tasks``) runs on an executor: local threads or processes
(``_local``), or a Dask cluster (``_dask``).
"""

import inspect
import json
import os
import sys
import time

from .._config import get_config
from .._params import (DEFAULT_MAX_ITER, DEFAULT_N_CLUSTERS, DEFAULT_N_INIT, DEFAULT_RANDOM_STATE,
                       DEFAULT_TOL, FitParams)
from .._validation import COLOR_SPACES, KmsegError, check_choice, check_int
from ..io._arrays import array_suffix, is_array_file
from ..io._write import output_paths, remove_leftovers
from ..pipeline._fit import check_n_clusters
from ..pipeline._large import segment_large
from ..pipeline._palette import PaletteFitter
from ..pipeline._segment import segment
from ..regions._pipeline import REGION_PARAMS, check_region_params
from ._inputs import expand_inputs
from ._local import WORKERS, LocalExecutor
from ._tasks import OUTPUTS, segment_task

MANIFEST = "manifest.jsonl"


def executor(jobs, scheduler, workers="threads"):
    """Local threads or processes when ``scheduler`` is None, else the Dask cluster it names."""
    workers = check_choice("workers", workers, WORKERS)
    if scheduler is None:
        return LocalExecutor(jobs, workers)
    from ._dask import DaskExecutor

    return DaskExecutor(scheduler, jobs)


def _mode(regions, bands, shared_palette, n_clusters, params):
    """What each image gets, its parameters checked once, before any image is read."""
    if regions and bands:
        raise KmsegError("regions=True reads the whole image: it takes no bands=True")
    if not regions:
        if bands and shared_palette:
            raise KmsegError("bands=True has no shared palette: each image is fitted in its own bands")
        function = segment_large if bands else segment
        per_image = {"recolor", "mask"}  # the batch gives each image its own
        allowed = {name for name, p in inspect.signature(function).parameters.items()
                   if p.kind == p.KEYWORD_ONLY} - per_image
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise KmsegError(f"segment_many takes no {', '.join(unknown)} (parameters of segment_regions: "
                             "pass regions=True)" if set(unknown) <= set(REGION_PARAMS) else
                             f"segment_many takes no {', '.join(unknown)}: not a parameter of "
                             f"{function.__name__}")
        if shared_palette:
            others = sorted(set(params) - set(PaletteFitter().get_params()))
            if others:
                raise KmsegError(f"shared_palette=True takes no {', '.join(others)}: the images are labelled "
                                 "with one palette's colours")
        # the values, once, before any image (each image's call checks them again, cheaply)
        check_n_clusters(n_clusters)
        FitParams.check(**{name: params[name] for name in FitParams._fields if name in params})
        if params.get("color_space") is not None:
            check_choice("color_space", params["color_space"], COLOR_SPACES)
        return "bands" if bands else "colors"
    if shared_palette:
        raise KmsegError("regions=True has no shared palette: each image's segments are its own")
    unknown = sorted(set(params) - set(REGION_PARAMS) - {"n_threads"})
    if unknown:
        raise KmsegError(f"regions=True takes no {', '.join(unknown)} (parameters of segment, not of "
                         "segment_regions)")
    if params.get("threshold") is None:  # a threshold chooses the number of segments instead
        check_int("n_clusters", n_clusters)
    check_region_params(n_clusters, **{k: value for k, value in params.items() if k != "n_threads"})
    return "regions"


class BatchSummary:
    """What a batch run did: records per image, and counts."""

    def __init__(self, records, manifest):
        self.records = records
        self.manifest = manifest

    def count(self, status):
        """Number of images with this status: 'ok', 'failed' or 'skipped'."""
        return sum(r["status"] == status for r in self.records)

    @property
    def failed(self):
        """Records of the images that failed."""
        return [r for r in self.records if r["status"] == "failed"]

    def __repr__(self):
        return (f"BatchSummary(ok={self.count('ok')}, failed={self.count('failed')}, "
                f"skipped={self.count('skipped')}, manifest={self.manifest!r})")


class _Progress:
    """One status line on standard error: done/total, rate and time left."""

    def __init__(self, total, enabled):
        self.total, self.enabled, self.done = total, enabled, 0
        self.start = time.perf_counter()
        self.tty = enabled and sys.stderr.isatty()

    def step(self, record):
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        text = (f"batch: {self.done}/{self.total} images, {rate:.2f}/s, {left:.0f} s left"
                f"{'' if record['status'] != 'failed' else ' (failed: ' + record['input'] + ')'}")
        print(("\r" + text) if self.tty else text, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def close(self):
        if self.tty:
            print(file=sys.stderr)


def segment_many(inputs, n_clusters=DEFAULT_N_CLUSTERS, output_dir=".", *,
                 outputs=("labels", "recolor", "palette"), jobs=None, workers="threads", resume=False,
                 recursive=False, shared_palette=False, progress=False, scheduler=None, regions=False,
                 bands=False, manifest=True, on_record=None, **segment_params):
    """Segment many images, in parallel or on a Dask cluster, writing a manifest as it goes.

    Parameters
    ----------
    inputs : iterable of str
        Image files, folders and glob patterns (see ``recursive``).
    n_clusters : int or 'auto', default=8
    output_dir : str, default='.'
        Outputs go to ``output_dir/<sub-folder>/<stem>_labels.png`` (and
        ``_recolor.png``, ``_palette.json``), sub-folders mirroring folder inputs.
    outputs : tuple of str, default=('labels', 'recolor', 'palette')
        Also 'figure': ``<stem>_figure.png``, the original, the segmentation and
        its boundaries side by side (:func:`plot_segmentation`); and with
        ``regions=True``, 'ucm': ``<stem>_ucm.png``, the merge hierarchy the
        segments were cut from as a 16-bit boundary map
        (:meth:`RegionHierarchy.save_ucm`).
    jobs : int or None, default=None
        Images processed at once: local workers, or the worker processes of
        ``scheduler='local'``; None uses every core. Each worker's kernels run
        on one thread, so the machine is not oversubscribed.
    workers : {'threads', 'processes'}, default='threads'
        Local workers are threads of this process (no start-up cost: the
        kernels, decoders and compression release the GIL) or spawned processes
        (each imports kmseg first).
    resume : bool, default=False
        Skip images whose outputs all exist (every file is written atomically,
        so an existing file is a complete one). Either way, the temporary
        files that a killed run left in the output folders (``.kmseg-tmp-*``,
        whose writing process has ended) are removed first.
    recursive : bool, default=False
        Descend into sub-folders.
    shared_palette : bool, default=False
        Fit one palette over all the images first (their colour histograms
        added, clustered once; see :func:`fit_palette`), then label every image
        with it: label i is the same colour in every output.
    progress : bool, default=False
        A status line on standard error.
    regions : bool, default=False
        Connected segments that follow objects (:func:`segment_regions`)
        instead of colour classes: ``n_clusters`` is the number of segments
        (unused with a ``threshold``, which chooses it), and
        ``segment_params`` are those of :func:`segment_regions` (``threshold``,
        ``min_size``, ...). Not with ``shared_palette``.
    bands : bool, default=False
        Read, label and write each image in bands of rows with bounded memory
        (:func:`segment_large`): the label map and recoloured image are TIFF
        files (``_labels.tif``, ``_recolor.tif``). Not with ``regions``,
        ``shared_palette`` or a 'figure' output.
    manifest : bool, default=True
        Append each image's record to ``output_dir/manifest.jsonl``.
    on_record : callable, optional
        Called with each image's record as the image ends (those skipped by
        ``resume`` first), in this thread: to show results as they come.
    scheduler : None, str or dask.distributed.Client, default=None
        Where the images are processed: None for local processes; 'local' for a
        Dask ``LocalCluster`` of ``jobs`` one-thread worker processes, started
        for this run; a Dask scheduler address such as 'tcp://10.0.0.5:8786'; or
        a ``Client``. Workers must see the files at the same paths (relative
        paths are taken from this process's working folder); results are the
        same as the local run's. Needs Dask (``pip install "dask[distributed]"``).
    **segment_params
        ``color_space``, ``n_init``, ``random_state``, ... as for :func:`segment`
        (with ``regions``: as for :func:`segment_regions`).

    Returns
    -------
    BatchSummary
        One record per image (input, outputs, k, inertia, seconds, status,
        reason; and ``knee``, why k was chosen, for ``n_clusters='auto'``), also
        appended to ``output_dir/manifest.jsonl`` as each image ends.

    Examples
    --------
    >>> import os, tempfile, numpy as np, kmseg
    >>> from PIL import Image
    >>> folder = tempfile.mkdtemp()
    >>> for i in range(2):
    ...     Image.fromarray(np.full((4, 4, 3), 60 * i, np.uint8)).save(os.path.join(folder, f"{i}.png"))
    >>> summary = kmseg.segment_many([folder], 1, os.path.join(folder, "out"), jobs=1)
    >>> summary.count("ok"), sorted(os.listdir(os.path.join(folder, "out")))[:2]
    (2, ['0_labels.png', '0_palette.json'])
    """
    jobs = (os.cpu_count() or 1) if jobs is None else check_int("jobs", jobs)
    unknown = sorted(set(outputs) - set(OUTPUTS))
    if unknown or not outputs:
        raise KmsegError(f"outputs={tuple(outputs)!r}: choose one or more of {', '.join(OUTPUTS)}")
    mode = _mode(regions, bands, shared_palette, n_clusters, segment_params)
    if mode == "bands" and "figure" in outputs:
        raise KmsegError("bands=True takes no 'figure' output: a figure draws the whole image")
    if "ucm" in outputs and mode != "regions":
        raise KmsegError("the 'ucm' output is the merge hierarchy of connected regions: it needs regions=True")
    files = expand_inputs(inputs, recursive=recursive)
    records, todo = [], []
    claimed = {}
    for path, rel in files:
        array = array_suffix(path) if is_array_file(path, segment_params.get("channel_axis", -1)) else None
        if array and (mode != "colors" or "figure" in outputs):
            raise KmsegError(f"{path!r}: an array file (a volume, a stack, a multi-band raster) is segmented "
                             "by its values alone: no regions, bands, shared palette or 'figure' output")
        targets = output_paths(path, rel, output_dir, outputs, tiff=mode == "bands", array=array)
        for target in targets.values():
            if target in claimed:
                raise KmsegError(f"{claimed[target]!r} and {path!r} would both write {target!r}; "
                                 "give them in separate runs or output folders")
            claimed[target] = path
        if resume and all(os.path.exists(t) for t in targets.values()):
            records.append(_record(path, targets, "skipped", "outputs exist"))
        else:
            todo.append((path, targets))
    fitter = _palette_fitter(n_clusters, **segment_params) if shared_palette else None
    if fitter is not None:
        fitter.check()  # before any image is read
    os.makedirs(output_dir, exist_ok=True)
    for folder in {output_dir} | {os.path.dirname(t) or "." for t in claimed}:
        remove_leftovers(folder)  # of a killed run: never taken for an output, never left
    config = get_config()  # settings are per thread: workers get the caller's
    log_path = os.path.join(output_dir, MANIFEST) if manifest else None
    with executor(jobs, scheduler, workers) as runner:
        palette = None
        if shared_palette and todo:
            fitter = runner.add_colors([p for p, _ in files], fitter, config,
                                       skip_bad=True)  # bad files fail in their own record
            palette = None if fitter is None else fitter.to_palette(stacklevel=3)
        params = dict(segment_params)
        if runner.task_threads is not None:
            params["n_threads"] = runner.task_threads
        bar = _Progress(len(todo), progress)
        with open(log_path or os.devnull, "a", encoding="utf-8") as log:
            for r in records:
                log.write(json.dumps(r) + "\n")
                if on_record is not None:
                    on_record(r)
            log.flush()
            tasks = [(path, targets, n_clusters, params, palette, mode, config, runner.base)
                     for path, targets in todo]
            for (path, targets, *_), record, lost in runner.run(segment_task, tasks):
                if lost is not None:
                    record = _record(path, targets, "failed", lost)
                records.append(record)
                log.write(json.dumps(record) + "\n")
                log.flush()
                bar.step(record)
                if on_record is not None:
                    on_record(record)
        bar.close()
    order = {p: i for i, (p, _) in enumerate(files)}
    records.sort(key=lambda r: order[r["input"]])
    return BatchSummary(records, log_path)


def _record(path, targets, status, reason):
    """The record of an image without a result: skipped, or lost with its workers."""
    return {"input": path, "outputs": sorted(targets.values()), "status": status, "reason": reason,
            "k": None, "inertia": None, "seconds": 0.0}


def _palette_fitter(n_colors, color_space=None, **params):
    """The :class:`~kmseg.PaletteFitter` of a shared palette: 'rgb' when no colour space is given."""
    return PaletteFitter(n_colors, color_space=color_space or "rgb", **params)


def fit_palette(images, n_colors=DEFAULT_N_CLUSTERS, *, jobs=1, workers="threads", scheduler=None, color_space=None,
                n_init=DEFAULT_N_INIT, max_iter=DEFAULT_MAX_ITER, tol=DEFAULT_TOL,
                random_state=DEFAULT_RANDOM_STATE, n_threads=None):
    """One palette for a set of images, fitted exactly on all their pixels.

    Each image's colour histogram is computed (by ``jobs`` local workers, or on
    a Dask cluster), the histograms are added, and k-means runs once on the
    merged histogram: the centres are those of clustering every pixel of every
    image together.

    Parameters
    ----------
    images : iterable
        Paths, PIL images or arrays.
    n_colors : int or 'auto', default=8
    jobs : int, default=1
        Workers computing histograms (local ones, or the processes of ``scheduler='local'``).
    workers : {'threads', 'processes'}, default='threads'
        Local workers: threads of this process or spawned processes, as for
        :func:`segment_many`.
    scheduler : None, str or dask.distributed.Client, default=None
        None for local workers; else a Dask cluster as for
        :func:`segment_many`: histograms are computed on its workers and added
        by a tree reduction, and the k-means runs once on a worker. The
        centres are the same as without it.
    color_space : str or None, default=None
        'rgb' when None.
    n_init, max_iter, tol, random_state, n_threads
        As for :func:`kmseg.segment`.

    Returns
    -------
    Palette
        ``apply(image)`` labels any image with the shared centres.

    Examples
    --------
    >>> import numpy as np, kmseg
    >>> a = np.zeros((4, 4, 3), np.uint8); a[:, 2:] = 200
    >>> b = np.full((4, 4, 3), 200, np.uint8); b[0, 0] = 0
    >>> palette = kmseg.fit_palette([a, b], 2)
    >>> palette.palette.tolist(), palette.counts.tolist()
    ([[200, 200, 200], [0, 0, 0]], [23, 9])
    >>> palette.apply(b).labels[0, :2].tolist()
    [1, 0]
    """
    fitter = _palette_fitter(n_colors, color_space=color_space, n_init=n_init, max_iter=max_iter, tol=tol,
                             random_state=random_state, n_threads=n_threads)
    fitter.check()  # before any image is read
    images = list(images)
    if not images:
        raise KmsegError("fit_palette: no image given")
    jobs = check_int("jobs", jobs)
    with executor(jobs, scheduler, workers) as runner:
        return runner.add_colors(images, fitter, get_config()).to_palette(stacklevel=3)
