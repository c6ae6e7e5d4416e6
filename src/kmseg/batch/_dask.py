"""Batch runs and shared palettes on a Dask cluster (``pip install "dask[distributed]"``, or
``pip install ".[dask]"`` in a clone of kmseg).

The executor for :func:`kmseg.segment_many` and :func:`kmseg.fit_palette` when a
``scheduler`` is given: the same per-image task as local processes, submitted
to the cluster's workers, with the results coming back to this process, which
writes the manifest. For a shared palette, each worker computes image
histograms, the histograms are added by a tree reduction (they add exactly),
and the k-means runs once, on a worker.
"""

import os

from .._validation import KmsegError
from ..pipeline._palette import PaletteColors
from ._tasks import palette_colors_task

#: Histograms added by one reduction task: the fan-in of the tree.
SPLIT_EVERY = 8


class DaskMissingError(KmsegError, ImportError):
    """Dask is not installed."""


class SchedulerUnreachableError(KmsegError, ConnectionError):
    """The Dask scheduler named cannot be reached."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise DaskMissingError('a Dask scheduler needs Dask: pip install "dask[distributed]" '
                               '(or pip install ".[dask]" in a clone of kmseg)') from None
    return distributed


def _leaf(config, image, skip_bad=False):
    """A leaf of the reduction: :func:`~kmseg.batch._tasks.palette_colors_task`
    (``[]`` for an image left out with ``skip_bad``), or its error.

    Errors travel up the tree as values, not raised: Dask forgets an erred task
    whose future is released (the tree keeps only its root), and it rebuilds
    raised exceptions with tblib, which fails on ImageReadError (two builtin bases).
    """
    try:
        return palette_colors_task(config, image, skip_bad, n_threads=DaskExecutor.task_threads)
    except Exception as exc:
        return exc


def _merge(*parts):
    """Add lists of :class:`~kmseg.pipeline._palette.PaletteColors` into one (or pass an error on)."""
    for part in parts:
        if isinstance(part, Exception):
            return part
    colors = [c for part in parts for c in part]
    if not colors:
        return []
    try:
        total = PaletteColors()
        for more in colors:
            total += more
        return [total]
    except Exception as exc:  # MemoryError
        return exc


def _fit(merged, fitter):
    """The fitter, its k-means run on the merged colours; None when they are empty
    (every image was left out as unreadable). Its warnings are given where it comes back."""
    if isinstance(merged, Exception):
        return merged
    if not merged:
        return None
    try:
        fitter.partial_fit(merged[0])._fit()
        return fitter
    except Exception as exc:
        return exc


def _lost(exc):
    return f"lost: every Dask worker that ran it died ({type(exc).__name__}; see the workers' logs)"


class DaskExecutor:
    """Runs the batch tasks on a Dask cluster.

    Parameters
    ----------
    scheduler : str or dask.distributed.Client
        A ``Client`` (left open), a scheduler address, or 'local' for a
        ``LocalCluster`` of ``jobs`` one-thread worker processes (both closed
        at the end).
    jobs : int
    """

    #: Kernel threads per task: the workers' threads are the parallelism.
    task_threads = 1

    def __init__(self, scheduler, jobs):
        distributed = _distributed()
        self._owned = []
        if isinstance(scheduler, distributed.Client):
            self.client = scheduler
        elif scheduler == "local":
            # a free port for the scheduler's web server: even without a dashboard it
            # would take 8787, and warn when that one is in use
            cluster = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                               dashboard_address=":0")
            try:
                self.client = distributed.Client(cluster)
            except BaseException:
                cluster.close()  # __exit__ will not run: do not leave the workers behind
                raise
            self._owned += [cluster, self.client]
        elif isinstance(scheduler, str) and scheduler:
            try:
                self.client = distributed.Client(scheduler)
            except (OSError, ValueError) as exc:
                raise SchedulerUnreachableError(f"scheduler={scheduler!r}: cannot reach the Dask scheduler "
                                                f"({exc})") from None
            self._owned.append(self.client)
        else:
            raise KmsegError(f"scheduler={scheduler!r} must be a dask.distributed.Client, "
                             "a scheduler address or 'local'")
        self.base = os.getcwd()  # relative paths mean the same files on every worker

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        import logging

        # workers slow to exit are stopped: expected when closing a cluster of ours, not worth a warning
        nanny = logging.getLogger("distributed.nanny")
        level = nanny.level
        nanny.setLevel(logging.ERROR)
        try:
            for thing in reversed(self._owned):
                thing.close()
        finally:
            nanny.setLevel(level)

    def run(self, fn, tasks):
        """Yield ``(task, fn(*task), lost)`` as tasks end, each task once.

        A task whose workers all died (Dask's ``KilledWorker``) comes back with
        ``lost`` saying so; a task on a worker that dies once is run again elsewhere.
        """
        distributed = _distributed()
        if not tasks:
            return
        futures = self.client.map(fn, *zip(*tasks), pure=False)
        pending = {future.key: task for future, task in zip(futures, tasks)}
        try:
            for future in distributed.as_completed(futures):
                task = pending.pop(future.key, None)
                if task is None:
                    continue
                try:
                    yield task, future.result(), None
                except distributed.KilledWorker as exc:
                    yield task, None, _lost(exc)
        finally:
            self.client.cancel(futures)

    def add_colors(self, images, fitter, config, skip_bad=False):
        """Histograms on the workers, added by a tree reduction, then one k-means on a worker."""
        distributed = _distributed()
        if not images:
            return fitter
        items = [os.path.join(self.base, os.fspath(im)) if isinstance(im, (str, os.PathLike)) else im
                 for im in images]
        arrays = [i for i, im in enumerate(items) if not isinstance(im, str)]
        if arrays:  # data goes to the workers once, not inside the task graph
            for i, future in zip(arrays, self.client.scatter([items[i] for i in arrays], hash=False)):
                items[i] = future
        level = self.client.map(_leaf, [config] * len(items), items, skip_bad=skip_bad, pure=False)
        while len(level) > 1:  # each level's futures are dropped once the next one holds them
            level = [self.client.submit(_merge, *level[i:i + SPLIT_EVERY], pure=False)
                     for i in range(0, len(level), SPLIT_EVERY)]
        palette = self.client.submit(_fit, level[0], fitter, pure=False)
        del level, items
        try:
            result = palette.result()
        except (distributed.KilledWorker, distributed.CancelledError) as exc:
            raise KmsegError(f"shared palette {_lost(exc)}") from None
        finally:
            self.client.cancel([palette])
        if isinstance(result, Exception):
            raise result
        return result
