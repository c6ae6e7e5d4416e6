"""segment_many(): many images, in parallel, with a manifest and resume.

The driving loop (inputs, resume, manifest, progress) is written once; the work
runs on an executor: local threads or processes here, a Dask cluster in ``_dask``.
"""

import json
import os
import sys
import time

from .._validation import KmsegError, check_choice, check_int
from ..io._write import output_paths
from ._inputs import expand_inputs
from ._palette import IMAGE_ERRORS

MANIFEST = "manifest.jsonl"


def _spawn():
    """Fresh worker processes: forking a process whose kernels already run
    OpenMP threads is unsafe (GNU OpenMP refuses it)."""
    import multiprocessing

    return multiprocessing.get_context("spawn")


def _process_one(path, targets, n_clusters, params, palette, config=None, base=None):
    """Segment one image (or label it with a shared palette) and write its outputs.

    Runs in a worker process, under the caller's ``config`` (see :func:`kmseg.get_config`),
    with relative paths taken from the folder ``base`` when given (the caller's
    working folder, for workers on other machines); returns a manifest record
    naming the paths as given, never raises for a bad image.
    """
    from .._config import config_context

    with config_context(**(config or {})):
        return _process(path, targets, n_clusters, params, palette, base)


def _process(path, targets, n_clusters, params, palette, base=None):
    from .._segment import segment
    from ..io._write import save_segmentation

    start = time.perf_counter()
    record = {"input": path, "outputs": sorted(targets.values())}
    given = path
    if base is not None:
        path = os.path.join(base, path)
        targets = {kind: os.path.join(base, t) for kind, t in targets.items()}
    try:
        if palette is not None:
            seg = palette.apply(path, n_threads=params.get("n_threads"))
        elif params.get("regions"):
            from ..regions._pipeline import _regions_segmentation

            seg = _regions_segmentation(path, n_clusters, **{k: v for k, v in params.items() if k != "regions"})
        else:
            seg = segment(path, n_clusters, **params)
        for folder in {os.path.dirname(t) for t in targets.values()}:
            os.makedirs(folder, exist_ok=True)
        save_segmentation(seg, targets, given)
        record.update(status="ok", reason="", k=int(seg.n_clusters), inertia=float(seg.inertia))
    except IMAGE_ERRORS as exc:
        reason = str(exc) or type(exc).__name__
        if path != given:
            reason = reason.replace(path, given)
        record.update(status="failed", reason=reason, k=None, inertia=None)
    record["seconds"] = round(time.perf_counter() - start, 4)
    return record


def _check_region_params(n_segments, shared_palette, params):
    """``segment_many(regions=True)``: its parameters, checked once before any image."""
    import inspect

    from ..regions._pipeline import _cut_params, _hierarchy_params, segment_regions

    if shared_palette:
        raise KmsegError("regions=True has no shared palette: each image's segments are its own")
    signature = inspect.signature(segment_regions)
    allowed = set(signature.parameters) - {"image", "n_segments"}
    unknown = sorted(set(params) - allowed - {"n_threads"})
    if unknown:
        raise KmsegError(f"regions=True takes no {', '.join(unknown)} (parameters of segment, not of "
                         "segment_regions)")
    if params.get("threshold") is None:
        check_int("n_clusters", n_segments)
    given = signature.bind(None, n_segments, **{k: value for k, value in params.items() if k != "n_threads"})
    given.apply_defaults()
    p = given.arguments
    _cut_params(p["n_segments"], p["threshold"], p["min_size"], p["cost"])
    _hierarchy_params(p["n_superpixels"], p["compactness"], p["cost"], p["edge_weight"], p["texture_weight"],
                      p["hist_weight"])


def _record(path, targets, status, reason):
    """The record of an image without a result: skipped, or lost with its workers."""
    return {"input": path, "outputs": sorted(targets.values()), "status": status, "reason": reason,
            "k": None, "inertia": None, "seconds": 0.0}


#: Where local work runs: threads of this process, or spawned processes.
WORKERS = ("threads", "processes")


class _Local:
    """Runs tasks here (``jobs=1``) or on ``jobs`` local workers.

    Threads by default: the kernels, the decoders and zlib release the GIL
    (each thread records its own decoder warnings, see ``io._read.thread_warnings``),
    and threads share this process's imports, where every new process imports
    kmseg again. Processes (spawned) when asked.

    An executor gives ``task_threads`` (kernel threads per task, None for every
    core), ``base`` (folder for relative paths, None when tasks share ours),
    ``run(fn, tasks)`` yielding ``(task, fn(*task), lost)`` as tasks end, and
    ``fit_palette(images, fitter, config, skip_bad=False)`` (with ``skip_bad``,
    images that cannot be read are left out of the palette instead of stopping
    the fit, and None comes back when none can be read). It is a context manager.
    """

    base = None

    def __init__(self, jobs, workers="threads"):
        self.jobs = jobs
        self.task_threads = 1 if jobs > 1 else None
        self.workers = workers
        self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def _workers(self):
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

            if self.workers == "threads":
                self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="kmseg")
            else:
                self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=_spawn())
        return self._pool

    def run(self, fn, tasks):
        if self.jobs == 1:
            for task in tasks:
                yield task, fn(*task), None
            return
        from concurrent.futures import as_completed

        futures = {self._workers().submit(fn, *task): task for task in tasks}
        for future in as_completed(futures):
            yield futures[future], future.result(), None

    def fit_palette(self, images, fitter, config, skip_bad=False):
        from functools import partial

        from ._palette import _image_histograms

        work = partial(_image_histograms, config, skip_bad=skip_bad)
        parts = self._workers().map(work, images) if self.jobs > 1 and len(images) > 1 else map(work, images)
        for part in parts:
            for hist in part:
                fitter.partial_fit(histogram=hist)
        if skip_bad and fitter.n_images == 0:
            return None  # nothing readable: each image fails in its own record
        return fitter.fit()


def _executor(jobs, scheduler, workers="threads"):
    """Local threads or processes when ``scheduler`` is None, else the Dask cluster it names."""
    workers = check_choice("workers", workers, WORKERS)
    if scheduler is None:
        return _Local(jobs, workers)
    from ._dask import DaskExecutor

    return DaskExecutor(scheduler, jobs)


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


def segment_many(inputs, n_clusters=8, output_dir=".", *, outputs=("labels", "recolor", "palette"),
                 jobs=None, workers="threads", resume=False, recursive=False, shared_palette=False,
                 progress=False, scheduler=None, regions=False, **segment_params):
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
        so an existing file is a complete one).
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
    scheduler : None, str or dask.distributed.Client, default=None
        Where the images are processed: None for local processes; 'local' for a
        Dask ``LocalCluster`` of ``jobs`` one-thread worker processes, started
        for this run; a Dask scheduler address such as 'tcp://10.0.0.5:8786'; or
        a ``Client``. Workers must see the files at the same paths (relative
        paths are taken from this process's working folder); results are the
        same as the local run's. Needs ``pip install "kmseg[dask]"``.
    **segment_params
        ``color_space``, ``n_init``, ``random_state``, ... as for :func:`segment`
        (with ``regions``: as for :func:`segment_regions`).

    Returns
    -------
    BatchSummary
        One record per image (input, outputs, k, inertia, seconds, status,
        reason), also appended to ``output_dir/manifest.jsonl`` as each image ends.

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
    if regions:
        _check_region_params(n_clusters, shared_palette, segment_params)
        segment_params["regions"] = True
    files = expand_inputs(inputs, recursive=recursive)
    manifest = os.path.join(output_dir, MANIFEST)
    records, todo = [], []
    claimed = {}
    for path, rel in files:
        targets = output_paths(path, rel, output_dir, outputs)
        for target in targets.values():
            if target in claimed:
                raise KmsegError(f"{claimed[target]!r} and {path!r} would both write {target!r}; "
                                 "give them in separate runs or output folders")
            claimed[target] = path
        if resume and all(os.path.exists(t) for t in targets.values()):
            records.append(_record(path, targets, "skipped", "outputs exist"))
        else:
            todo.append((path, targets))
    os.makedirs(output_dir, exist_ok=True)
    from .._config import get_config

    config = get_config()  # settings are per thread: workers get the caller's
    with _executor(jobs, scheduler, workers) as executor:
        palette = None
        if shared_palette and todo:
            from ._palette import _fitter

            palette = executor.fit_palette([p for p, _ in files], _fitter(n_clusters, **segment_params),
                                           config, skip_bad=True)  # bad files fail in their own record
        params = dict(segment_params)
        if executor.task_threads is not None:
            params["n_threads"] = executor.task_threads
        bar = _Progress(len(todo), progress)
        with open(manifest, "a", encoding="utf-8") as log:
            for r in records:
                log.write(json.dumps(r) + "\n")
            log.flush()
            tasks = [(path, targets, n_clusters, params, palette, config, executor.base)
                     for path, targets in todo]
            for (path, targets, *_), record, lost in executor.run(_process_one, tasks):
                if lost is not None:
                    record = _record(path, targets, "failed", lost)
                records.append(record)
                log.write(json.dumps(record) + "\n")
                log.flush()
                bar.step(record)
        bar.close()
    order = {p: i for i, (p, _) in enumerate(files)}
    records.sort(key=lambda r: order[r["input"]])
    return BatchSummary(records, manifest)
