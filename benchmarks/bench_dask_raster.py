"""A Dask raster larger than the workers' memory: ``kmseg.segment`` on a lazily made uint16 volume.

Run from the repository root::

    python benchmarks/bench_dask_raster.py               # 4 GiB on two 1 GB workers
    python benchmarks/bench_dask_raster.py --gib 0.5     # a quick look
    python benchmarks/bench_dask_raster.py --bands 5 --gib 0.25   # floats: Lloyd passes over the blocks

The raster is made block by block by ``da.map_blocks`` of a deterministic
generator (four materials in a tiling pattern, plus noise; nothing in memory
beyond a block, nothing on disk): ``(planes, rows, 16384)`` uint16, one channel,
in blocks of ``--block`` rows by 4096 columns of one plane. It is segmented with
k=4 on a ``distributed.LocalCluster`` of two single-threaded worker processes of
``--memory-limit`` each (2 GB in all by default): the histogram by a tree
reduction over the blocks, the fit on it, then every label computed block by
block and reduced to per-label counts (which must equal the segmentation's).
``--bands N`` instead makes ``(N, rows, 16384)`` float32 bands with
``channel_axis=0``, which are clustered by exact Lloyd passes over the blocks.

Printed: the wall time of the fit and of the labels, each worker's peak
resident memory (sampled every 0.1 s by psutil), whether any worker was
restarted, and whether the run completed. The peer, in the same run, is the
in-memory ``kmseg.segment`` on a small crop of the same raster (what fits in
memory): its labels are checked equal to the lazy ones, byte for byte.
"""

import argparse
import threading
import time

import numpy as np

COLS = 16384
LEVELS = np.array([6000, 19000, 33000, 52000], np.uint16)


def _generate(seed, bands, block_info=None):
    """One block of the raster, from its position alone."""
    info = block_info[None]
    (p0, p1), (r0, r1), (c0, c1) = info["array-location"]
    rng = np.random.default_rng([seed, p0, r0, c0])
    rows = (np.arange(r0, r1) // 1024 % 4).astype(np.uint8)[:, None]
    cols = (np.arange(c0, c1) // 1536 % 4).astype(np.uint8)[None, :]
    shape = (p1 - p0, r1 - r0, c1 - c0)
    if bands:  # float bands: material means differ by band
        material = (rows + cols) % np.uint8(4)
        means = np.sin(np.arange(4)[:, None] * 1.7 + np.arange(p0, p1)[None, :]).astype(np.float32) * 3
        return np.moveaxis(means[material], -1, 0) + rng.standard_normal(shape, np.float32)
    planes = (np.arange(p0, p1) % 4).astype(np.uint8)[:, None, None]
    out = (LEVELS - 2500)[(rows + cols + planes) % np.uint8(4)]
    out += rng.integers(0, 5000, size=shape, dtype=np.uint16)  # noise in [-2500, 2500)
    return out


def raster(gib, block, bands=0, seed=0):
    import dask.array as da

    itemsize = 4 if bands else 2
    elements = int(gib * (1 << 30)) // itemsize
    planes = bands or max(1, elements // (COLS * COLS))
    rows = max(block, elements // (planes * COLS) // block * block)
    chunks = ((1,) * planes, (block,) * (rows // block), (4096,) * (COLS // 4096))
    dtype = np.float32 if bands else np.uint16
    return da.map_blocks(_generate, seed, bands, chunks=chunks, dtype=dtype, meta=np.empty((0, 0, 0), dtype))


class PeakMemory:
    """Each process's peak resident memory, sampled in a thread."""

    def __init__(self, pids, every=0.1):
        import psutil

        self.procs = {pid: psutil.Process(pid) for pid in pids}
        self.peak = dict.fromkeys(pids, 0)
        self.lost = set()
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid, proc in self.procs.items():
                try:
                    self.peak[pid] = max(self.peak[pid], proc.memory_info().rss)
                except Exception:  # the process is gone: the nanny restarted it
                    self.lost.add(pid)
            self._stop.wait(self._every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def label_counts(labels, k):
    """Per-label counts of a Dask label array, each block counted on its own."""
    import dask
    from dask import delayed

    parts = [delayed(np.bincount)(b.ravel(), minlength=k + 1) for b in labels.to_delayed().ravel()]
    while len(parts) > 1:
        parts = [delayed(sum)(parts[i:i + 8]) for i in range(0, len(parts), 8)]
    return dask.compute(parts[0])[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gib", type=float, default=4.0, help="raster size in GiB (default 4)")
    ap.add_argument("--block", type=int, default=2048, help="block rows (x 4096 columns; default 2048)")
    ap.add_argument("--bands", type=int, default=0, help="float32 bands clustered by Lloyd passes instead")
    ap.add_argument("--memory-limit", default="1GB", help="per worker (default 1GB, two workers)")
    ap.add_argument("-k", type=int, default=4)
    args = ap.parse_args()

    import dask
    import distributed

    import kmseg

    x = raster(args.gib, args.block, args.bands)
    axis = 0 if args.bands else None
    print(f"raster {x.shape} {x.dtype}: {x.nbytes / 2**30:.2f} GiB in {x.npartitions} blocks of "
          f"{x.nbytes / x.npartitions / 2**20:.0f} MiB; k={args.k}; 2 workers x {args.memory_limit}")

    crop = x[:, :128, :256] if args.bands else x[:1, :2048, :4096]  # floats: no more elements than the sample
    eager = kmseg.segment(crop.compute(scheduler="sync"), args.k, channel_axis=axis)
    lazy = kmseg.segment(crop, args.k, channel_axis=axis)
    same = lazy.labels.compute(scheduler="sync").tobytes() == eager.labels.tobytes()
    centres = lazy.centers.tobytes() == eager.centers.tobytes()
    print(f"peer, a {crop.shape} crop in memory: labels {'equal' if same else 'DIFFERENT'} byte for byte, "
          f"centres {'equal' if centres else 'DIFFERENT'}")

    completed = False
    with dask.config.set({"distributed.worker.memory.spill": False}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     memory_limit=args.memory_limit, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        pids = list(client.run(lambda: __import__("os").getpid()).values())
        with PeakMemory(pids) as mem:
            t0 = time.perf_counter()
            seg = kmseg.segment(x, args.k, channel_axis=axis)
            t1 = time.perf_counter()
            counts = label_counts(seg.labels, args.k)
            t2 = time.perf_counter()
        completed = bool(np.array_equal(counts[:args.k], seg.counts)) and counts[args.k] == 0
        workers = len(client.scheduler_info()["workers"])
    print(f"fit (reduction + k-means): {t1 - t0:.1f} s, n_iter {seg.n_iter}; labels of every block: {t2 - t1:.1f} s; "
          f"total {t2 - t0:.1f} s ({x.nbytes / 2**20 / (t2 - t0):.0f} MiB/s)")
    print("centres", np.round(seg.centers.ravel(), 1).tolist(), "counts", seg.counts.tolist())
    for pid in pids:
        print(f"worker {pid}: peak RSS {mem.peak[pid] / 2**20:.0f} MiB")
    print(f"workers restarted: {len(mem.lost)}; workers at the end: {workers}")
    print(f"completed: {completed} (label counts {'equal' if completed else 'NOT equal'} to the segmentation's)")


if __name__ == "__main__":
    main()
