"""Local workers of a batch run: this thread, threads of this process, or spawned processes."""

from functools import partial

from ._tasks import palette_colors_task

#: Where local work runs: threads of this process, or spawned processes.
WORKERS = ("threads", "processes")


def _spawn():
    """Fresh worker processes: forking a process whose kernels already run
    OpenMP threads is unsafe (GNU OpenMP refuses it)."""
    import multiprocessing

    return multiprocessing.get_context("spawn")


class LocalExecutor:
    """Runs tasks here (``jobs=1``) or on ``jobs`` local workers.

    Threads by default: the kernels, the decoders and zlib release the GIL
    (each thread records its own decoder warnings, see ``io._read.thread_warnings``),
    and threads share this process's imports, where every new process imports
    kmseg again. Processes (spawned) when asked.

    An executor gives ``task_threads`` (kernel threads per task, None for every
    core), ``base`` (folder for relative paths, None when tasks share ours),
    ``run(fn, tasks)`` yielding ``(task, fn(*task), lost)`` as tasks end, and
    ``add_colors(images, fitter, config, skip_bad=False)``, the fitter with the
    images' colours added (with ``skip_bad``, images that cannot be read are left
    out instead of stopping the fit, and None comes back when none can be read).
    It is a context manager.
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

    def add_colors(self, images, fitter, config, skip_bad=False):
        threads = fitter.n_threads if self.task_threads is None else self.task_threads
        work = partial(palette_colors_task, config, skip_bad=skip_bad, n_threads=threads)
        parts = self._workers().map(work, images) if self.jobs > 1 and len(images) > 1 else map(work, images)
        for part in parts:
            for colors in part:
                fitter.partial_fit(colors)
        if skip_bad and not getattr(fitter, "n_images_", 0):
            return None  # nothing readable: each image fails in its own record
        return fitter
