"""Batch runs and shared palettes on a real Dask LocalCluster: the local run's bytes, no image lost."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

import kmseg
from kmseg.cli import main

from images import quadrants

distributed = pytest.importorskip("distributed", reason='Dask is not installed (pip install "dask[distributed]")')


@pytest.fixture(scope="module")
def client():
    import dask

    # workers must be fresh processes: forking one whose OpenMP threads run is unsafe
    assert dask.config.get("distributed.worker.multiprocessing-method") == "spawn"
    # dashboard_address=None would still serve HTTP on port 8787 (and warn if that one is taken)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask") / "photos"
    (root / "sub").mkdir(parents=True)
    for i in range(5):
        Image.fromarray(quadrants(seed=20 + i, noise=25)).save(root / f"p{i}.png")
    Image.fromarray(quadrants(seed=30)[:, :, 0]).save(root / "sub" / "grey.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return root


def _files(folder):
    """Every file under ``folder`` (relative path -> bytes), the manifest apart."""
    found = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = Path(dirpath, name)
            if name != "manifest.jsonl":
                found[os.path.relpath(path, folder)] = path.read_bytes()
    return found


def _manifest(folder):
    """Manifest records by input, without their timings."""
    records = [json.loads(line) for line in Path(folder, "manifest.jsonl").read_text().splitlines()]
    by_input = {}
    for r in records:
        assert r.pop("seconds") >= 0
        r["outputs"] = [os.path.relpath(p, folder) for p in r["outputs"]]
        by_input.setdefault(r["input"], []).append(r)
    return by_input


def _run_both(tmp_path, monkeypatch, client, photos, inputs, **params):
    """The same batch run locally and on the cluster, from paths relative to ``tmp_path``
    (the workers run elsewhere)."""
    monkeypatch.chdir(tmp_path)
    os.symlink(photos, tmp_path / "photos")
    local = kmseg.segment_many(inputs, 4, "local", jobs=1, recursive=True, **params)
    on_dask = kmseg.segment_many(inputs, 4, "dask", recursive=True, scheduler=client, **params)
    return local, on_dask


def test_batch_equals_local_run_byte_for_byte(photos, tmp_path, monkeypatch, client):
    local, on_dask = _run_both(tmp_path, monkeypatch, client, photos, ["photos"])
    assert (local.count("ok"), len(local.failed)) == (on_dask.count("ok"), len(on_dask.failed)) == (6, 1)
    files = _files(tmp_path / "local")
    assert len(files) == 18 and files == _files(tmp_path / "dask")
    assert _manifest(tmp_path / "local") == _manifest(tmp_path / "dask")  # reasons too: paths as given
    assert "broken.png" in on_dask.failed[0]["reason"] and tmp_path.as_posix() not in on_dask.failed[0]["reason"]

    os.remove(tmp_path / "dask" / "p3_recolor.png")
    again = kmseg.segment_many(["photos"], 4, "dask", recursive=True, resume=True, scheduler=client)
    assert (again.count("skipped"), again.count("ok"), len(again.failed)) == (5, 1, 1)
    assert _files(tmp_path / "dask") == files


def test_shared_palette_equals_local_run(photos, tmp_path, monkeypatch, client):
    local, on_dask = _run_both(tmp_path, monkeypatch, client, photos, ["photos/p*.png", "photos/broken.png"],
                               shared_palette=True, n_init=2)
    assert local.count("ok") == on_dask.count("ok") == 5  # the bad file is left out of the palette ...
    assert len(local.failed) == len(on_dask.failed) == 1  # ... and fails in its own record
    files = _files(tmp_path / "local")
    assert len(files) == 15 and files == _files(tmp_path / "dask")
    assert _manifest(tmp_path / "local") == _manifest(tmp_path / "dask")


def test_regions_equal_local_run(photos, tmp_path, monkeypatch, client):
    """Connected segments on the workers: the local run's bytes, k the number of segments."""
    local, on_dask = _run_both(tmp_path, monkeypatch, client, photos, ["photos/p0.png", "photos/broken.png"],
                               regions=True, threshold=0.5, n_superpixels=60)
    assert local.count("ok") == on_dask.count("ok") == 1 and len(on_dask.failed) == 1
    files = _files(tmp_path / "local")
    assert len(files) == 3 and files == _files(tmp_path / "dask")
    assert _manifest(tmp_path / "local") == _manifest(tmp_path / "dask")
    expected = kmseg.segment_regions("photos/p0.png", threshold=0.5, n_superpixels=60)
    assert on_dask.records[0]["k"] == expected.n_segments
    assert_array_equal(np.asarray(Image.open(tmp_path / "dask" / "p0_labels.png")), expected.labels)


def test_shared_palette_of_only_unreadable_files_reports_each(photos, tmp_path, monkeypatch, client):
    local, on_dask = _run_both(tmp_path, monkeypatch, client, photos, ["photos/broken.png"],
                               shared_palette=True)
    assert len(local.failed) == len(on_dask.failed) == 1 and local.count("ok") == on_dask.count("ok") == 0
    assert _manifest(tmp_path / "local") == _manifest(tmp_path / "dask")


def test_fit_palette_tree_reduction_gives_the_local_centres(photos, client, monkeypatch):
    from kmseg.batch import _dask

    images = [str(p) for p in sorted(photos.glob("p*.png"))]
    images += [quadrants(seed=40, noise=40), quadrants(seed=41).astype(np.uint16) * 257,  # arrays, 2 kinds
               str(photos / "sub" / "grey.png")]
    monkeypatch.setattr(_dask, "SPLIT_EVERY", 2)  # 8 histograms: a tree of three levels
    local = kmseg.fit_palette(images, 6, jobs=1, n_init=2)
    on_dask = kmseg.fit_palette(images, 6, scheduler=client, n_init=2)
    assert_array_equal(on_dask.centers, local.centers)
    assert_array_equal(on_dask.counts, local.counts)
    assert on_dask.inertia == local.inertia and on_dask.counts.sum() == 8 * 40 * 60

    with pytest.raises(kmseg.ImageReadError, match="broken.png"):  # as the local run raises
        kmseg.fit_palette(images + [str(photos / "broken.png")], 6, scheduler=client)
    with pytest.raises(kmseg.KmsegError, match="n_colors=0 must be >= 1"):  # raised in the k-means task
        kmseg.fit_palette(images, 0, scheduler=client)


def test_cli_scheduler_address_and_local_cluster(photos, tmp_path, client, capsys):
    args = ["batch", str(photos / "p*.png"), "-k", "3", "--outputs", "labels", "--quiet"]
    assert main(args + ["-o", str(tmp_path / "a"), "--scheduler", client.scheduler.address]) == 0
    assert main(args + ["-o", str(tmp_path / "b"), "--cluster", "local", "--jobs", "1"]) == 0
    assert main(args + ["-o", str(tmp_path / "c"), "--jobs", "1"]) == 0
    assert _files(tmp_path / "a") == _files(tmp_path / "b") == _files(tmp_path / "c")
    assert capsys.readouterr().out.count("5 segmented, 0 skipped") == 3

    assert main(["batch", str(photos), "-o", str(tmp_path / "d"), "--scheduler", client.scheduler.address,
                 "--quiet"]) == 1  # broken.png
    err = capsys.readouterr().err
    assert "broken.png" in err and "Traceback" not in err


def test_bad_or_unreachable_scheduler_is_one_line(photos, tmp_path, capsys):
    import dask

    with pytest.raises(kmseg.KmsegError, match="must be a dask.distributed.Client"):
        kmseg.segment_many([str(photos / "p0.png")], 3, str(tmp_path), scheduler=8786)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main(["batch", str(photos / "p0.png"), "-o", str(tmp_path), "--quiet",
                     "--scheduler", "tcp://127.0.0.1:1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kmseg: error: scheduler='tcp://127.0.0.1:1': cannot reach the Dask scheduler")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_killing_a_worker_loses_no_image_and_repeats_none(tmp_path, client):
    n = 24
    folder = tmp_path / "slow"
    folder.mkdir()
    for i in range(n):  # noisy photos: each takes a while to segment
        Image.fromarray(quadrants(400, 600, noise=60, seed=100 + i)).save(folder / f"s{i:02d}.png")
    out = tmp_path / "out"
    pids = client.run(os.getpid)
    seen = {}

    def kill_one_busy_worker():
        manifest = out / "manifest.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = len(manifest.read_text().splitlines()) if manifest.exists() else 0
            busy = [w for w, keys in client.processing().items() if keys and w in pids]
            if done >= 2 and busy:
                seen["done"] = done
                os.kill(pids[busy[0]], signal.SIGKILL)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_busy_worker)
    killer.start()
    summary = kmseg.segment_many([str(folder)], 8, str(out), outputs=("labels", "palette"), scheduler=client)
    killer.join()
    assert "done" in seen, "the run ended before a busy worker could be killed"
    assert 2 <= seen["done"] < n  # killed mid-run, while the worker held a task
    lines = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["input"] for r in lines) == sorted(str(p) for p in folder.glob("*.png"))  # once each
    assert {r["status"] for r in lines} == {"ok"} and summary.count("ok") == n
    for r in lines:
        assert all(os.path.exists(p) for p in r["outputs"])
    client.wait_for_workers(2, timeout=60)  # the nanny restarted the killed worker
    assert set(client.run(os.getpid).values()) != set(pids.values())


def test_an_image_whose_workers_all_die_is_reported_failed(photos, tmp_path, client, monkeypatch):
    from kmseg.batch import _run

    monkeypatch.setattr(client.cluster.scheduler, "allowed_failures", 0)  # the first death is final
    real = _run.segment_task
    # pickled by value, so it runs as is on the workers: p1 takes its worker down with it
    monkeypatch.setattr(_run, "segment_task",
                        lambda path, *rest: os._exit(1) if path.endswith("p1.png") else real(path, *rest))
    images = [str(photos / "p0.png"), str(photos / "p1.png")]  # one task per worker
    summary = kmseg.segment_many(images, 3, str(tmp_path), outputs=("labels",), scheduler=client)
    assert [r["status"] for r in summary.records] == ["ok", "failed"]
    assert summary.failed[0]["reason"].startswith("lost: every Dask worker that ran it died")
    assert len((tmp_path / "manifest.jsonl").read_text().splitlines()) == 2
    client.wait_for_workers(2, timeout=60)
